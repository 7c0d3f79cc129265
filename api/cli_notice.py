"""``glasspocket notice PERIOD --community ID --out FILE.pdf|.html``: the paper notice (公示).

The notice shows the published statement's figures, proposals, open objections, the
fingerprint (root) of the newest checkpoint that meets the community's policy, and QR
codes carrying the policy and the statement bundle's URL (``api.notice``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli_common import CommunityOpt, DbOpt, JsonOpt, KeysOpt, guard, out, print_json, usage
from api.notice import write_notice
from api.settings import Settings


def notice(
    period: Annotated[str, typer.Argument(help="the quarter, e.g. 2025Q3")],
    community: CommunityOpt,
    out_file: Annotated[Path, typer.Option("--out", help="the .pdf or .html file to write")],
    db: DbOpt = None,
    keys: KeysOpt = None,
    notice_lang: Annotated[
        str, typer.Option("--lang", help="language of the notice: zh (default) or en")
    ] = "zh",
    bundle_url: Annotated[
        str | None,
        typer.Option(
            "--bundle-url",
            help="URL the bundle QR code carries "
            "(default http://<public host>/c/<community>/statements/<period>/bundle)",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The paper notice (公示) of a published quarterly statement, as PDF (A4) or HTML."""
    if notice_lang not in ("zh", "en"):
        raise usage(f"--lang must be zh or en, not {notice_lang!r}", "--lang 须为 zh 或 en")
    settings = Settings.resolve(db, keys)
    zh = notice_lang == "zh"
    result = guard(
        lambda: write_notice(
            settings.open_service(),
            community,
            period,
            out_file,
            zh,
            settings.public_host,
            bundle_url,
        )
    )
    if as_json:
        print_json(result)
        return
    out.print(f"{out_file}  {period}  root {result['root'][:16]}…", highlight=False)
