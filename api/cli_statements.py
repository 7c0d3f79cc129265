"""``glasspocket statement``: publish a quarter's statement, write its bundle.

``publish PERIOD`` computes the statement from the log (``ledger.store.bundles``), signs it
with the treasurer's key and appends it; running it again prints the same entry.
``bundle PERIOD`` writes the statement bundle (SPEC §5) that ``glasspocket-verify
statement`` checks. ``export PERIOD`` writes every line behind the published figures
(``api.statement_export``) as .xlsx or .csv. Committee approvals are ``glasspocket approve --subject <statement id>``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli_common import (
    CommunityOpt,
    DbOpt,
    JsonOpt,
    KeyFileOpt,
    KeysOpt,
    guard,
    is_zh,
    out,
    print_json,
)
from api.settings import Settings
from api.statement_export import export_statement
from ledger.core.keys import SigningKey
from ledger.store.bundles import bundle_text, publish_statement, statement_bundle

statement_app = typer.Typer(
    help="Quarterly statements: publish, bundle, export. 季度资金公开报表。", no_args_is_help=True
)
PeriodArg = Annotated[str, typer.Argument(help="the quarter, e.g. 2025Q3")]


@statement_app.command("publish")
def publish(
    period: PeriodArg,
    community: CommunityOpt,
    key: KeyFileOpt,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The treasurer publishes the statement of an ended quarter (statement.published)."""
    settings = Settings.resolve(db, keys)
    appended = guard(
        lambda: publish_statement(settings.open_service(), community, period, SigningKey.load(key))
    )
    result: dict[str, Any] = {
        "community": appended.community,
        "period": period,
        "index": appended.index,
        "id": appended.entry_id,
        "created": appended.created,
    }
    if as_json:
        print_json(result)
        return
    if is_zh():
        verb = "已发布" if appended.created else "已存在（相同报表）"
    else:
        verb = "published" if appended.created else "already published (identical statement)"
    out.print(
        f"{verb}: {community} {period} #{appended.index} {appended.entry_id}", highlight=False
    )


@statement_app.command("bundle")
def bundle(
    period: PeriodArg,
    community: CommunityOpt,
    out_file: Annotated[Path, typer.Option("--out", help="the .statement.json file to write")],
    db: DbOpt = None,
    keys: KeysOpt = None,
) -> None:
    """Write the statement bundle of a period for glasspocket-verify statement."""
    settings = Settings.resolve(db, keys)
    data = guard(lambda: statement_bundle(settings.open_service(), community, period))
    out_file.write_text(bundle_text(data), encoding="utf-8")
    out.print(f"{out_file}", highlight=False)


@statement_app.command("export")
def export(
    period: PeriodArg,
    community: CommunityOpt,
    out_file: Annotated[Path, typer.Option("--out", help="the .xlsx or .csv file to write")],
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every money line behind a published statement, as Excel (.xlsx) or CSV. 报表明细导出。"""
    settings = Settings.resolve(db, keys)
    result = guard(
        lambda: export_statement(settings.open_service(), community, period, out_file, is_zh())
    )
    if as_json:
        print_json(result)
        return
    what = "笔明细" if is_zh() else "lines"
    out.print(f"{out_file} ({result['lines']} {what})", highlight=False)
