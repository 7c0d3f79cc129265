"""``glasspocket import FILE``: a bank statement or ledger (CSV, XLSX) into signed entries.

The work is ``api.importer``'s (docs/import.md); this command reads the file, shows a
progress bar while it checks the rows and records them, and prints the report. Exit
status: 0 when every row is good (recorded, or would be in a dry run), 1 when a row is
bad or the key cannot sign here (nothing is recorded), 2 when the file (or the mapping
file) cannot be read at all.
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
    fail,
    guard,
    lang,
    out,
    print_json,
    progress_bar,
)
from api.importer import (
    ImportFileError,
    ImportReport,
    Mapping,
    load_rows,
    plan_import,
    prepare_rows,
    run_import,
)
from api.settings import Settings
from ledger.core.gcpause import gc_paused
from ledger.core.keys import SigningKey

UNREADABLE = 2


def import_file(
    file: Annotated[Path, typer.Argument(help="a .csv or .xlsx file, one row per payment")],
    community: CommunityOpt,
    key: KeyFileOpt,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="check every row and list them; record nothing")
    ] = False,
    mapping: Annotated[
        Path | None, typer.Option("--mapping", help="a column mapping file (JSON, docs/import.md)")
    ] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="XLSX: the sheet to read")] = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import a bank statement or ledger (CSV, XLSX): all rows or none. 导入银行流水或台账。"""
    with gc_paused():
        report = _import(file, community, key, dry_run, mapping, sheet, db, keys)
    if as_json:
        print_json(report_json(report))
    else:
        for line in report.lines(lang()):
            out.print(line, highlight=False, markup=False)
    if not report.ok:
        raise typer.Exit(1)


def _import(
    file: Path,
    community: str,
    key: Path,
    dry_run: bool,
    mapping: Path | None,
    sheet: str | None,
    db: str | None,
    keys: str | None,
) -> ImportReport:
    try:
        columns = Mapping.load(mapping) if mapping is not None else Mapping()
        rows = load_rows(file, sheet, columns)
    except ImportFileError as exc:
        raise fail(exc, UNREADABLE) from None
    signer = guard(lambda: SigningKey.load(key))
    # the rows are read and signed (on another core) while the ledger opens
    with prepare_rows(rows, community, signer, columns) as prepared:
        service = guard(Settings.resolve(db, keys).open_service)
        with progress_bar("importing 导入") as bar:
            task = bar.add_task("rows", total=len(rows))

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            plan = guard(
                lambda: plan_import(service, community, rows, signer, columns, advance, prepared)
            )
            report = guard(lambda: run_import(service, plan, dry_run, advance))
    return report


def report_json(report: ImportReport) -> dict[str, Any]:
    """The report for scripts: every row to record (or recorded), every bad row with its code."""
    return {
        "community": report.community,
        "ok": report.ok,
        "dry_run": report.dry_run,
        "total_rows": report.total_rows,
        "already_recorded": report.already_recorded,
        "to_record": [
            {
                "row": row.number,
                "id": row.entry.id,
                "type": row.entry.type,
                "at": row.entry.at,
                "body": row.entry.body,
            }
            for row in report.to_record
        ],
        "recorded": [{"index": a.index, "id": a.entry_id} for a in report.recorded],
        "errors": [
            {"row": e.row, "column": e.column, "code": e.code, "zh": e.zh, "en": e.en}
            for e in report.errors
        ],
    }
