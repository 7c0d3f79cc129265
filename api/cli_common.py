"""What every ``glasspocket`` command shares: its options, errors, signing and submitting.

Errors print the ledger's stable code and a message in the user's language (LANG) on
stderr and exit 1. Every command that records something signs on this machine with
``--key FILE`` and submits through ``record``/``submit_signed``, the same write path
(and checks) as the HTTP service. Money on the command line is yuan (``--amount
1234.50``, read exactly) or fen (``--amount-fen``), never a float.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from api.settings import Settings
from ledger.core.entry import Entry, sign_entry
from ledger.core.errors import LedgerError, MalformedError
from ledger.core.keys import SigningKey
from ledger.store.service import Appended
from verify.report import language

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db", help="database URL (default: $GLASSPOCKET_DATABASE_URL or sqlite:///glasspocket.db)"
    ),
]
KeysOpt = Annotated[
    str | None,
    typer.Option(
        "--keys",
        help="folder of keys the service holds (log keys); default $GLASSPOCKET_KEYS or ./glasspocket-keys",
    ),
]
CommunityOpt = Annotated[str, typer.Option("--community", "-c", help="community id")]
KeyFileOpt = Annotated[Path, typer.Option("--key", help="your private key file (mode 0600)")]
AtOpt = Annotated[
    str | None, typer.Option("--at", help="when it happened, RFC 3339 (default: now)")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]
AmountOpt = Annotated[
    str | None, typer.Option("--amount", help="amount in yuan, e.g. 1234.50 (exact)")
]
AmountFenOpt = Annotated[int | None, typer.Option("--amount-fen", help="amount in fen")]


def lang() -> str:
    return language()


def is_zh() -> bool:
    return lang() == "zh"


def fail(exc: LedgerError, code: int = 1) -> typer.Exit:
    """Print ``error [code] message`` on stderr; the caller raises the returned Exit."""
    # Escaped: rich would take "[code]" (and brackets in messages) for markup and drop it.
    detail = escape(f"[{exc.code}] {exc.message(lang())}")
    err.print(f"[red]error[/red] {detail}", highlight=False, markup=True)
    return typer.Exit(code)


def guard(action: Callable[[], T]) -> T:
    """Run ``action``; a ``LedgerError`` becomes its message and exit status 1."""
    try:
        return action()
    except LedgerError as exc:
        raise fail(exc) from None


def usage(en: str, zh: str) -> typer.Exit:
    """A mistake in the command's options: printed like any refusal, with code ``malformed``."""
    return fail(MalformedError(en, zh))


def now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_amount_fen(text: str) -> int:
    """'1234.5' yuan → 123450 fen, exactly (no floats); at most two decimals."""
    match = re.fullmatch(r"(\d{1,13})(?:\.(\d{1,2}))?", text.strip())
    if match is None:
        raise MalformedError(
            f"amount {text!r} must be yuan with at most two decimals, e.g. 1234.50",
            f"金额 {text!r} 应以元为单位、最多两位小数，例如 1234.50",
        )
    return int(match[1]) * 100 + int((match[2] or "0").ljust(2, "0"))


def amount_of(amount: str | None, amount_fen: int | None, name: str = "amount") -> int:
    """Exactly one of ``--amount`` (yuan) and ``--amount-fen``, as fen."""
    if (amount is None) == (amount_fen is None):
        raise usage(
            f"give exactly one of --{name} and --{name}-fen",
            f"请且只给出 --{name} 或 --{name}-fen 之一",
        )
    if amount_fen is not None:
        return amount_fen
    return guard(lambda: parse_amount_fen(amount or ""))


def with_optional(body: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """``body`` plus each field whose value was given (not None)."""
    return {**body, **{name: value for name, value in fields.items() if value is not None}}


def progress_bar(label: str) -> Progress:
    """A progress bar on stderr, shown only when stderr is a terminal."""
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
        disable=not sys.stderr.isatty(),
    )


def print_json(data: Any) -> None:
    out.print_json(json.dumps(data, ensure_ascii=False))


# --- signing and submitting ----------------------------------------------------------------------


def submit_signed(entry: Entry, db: str | None, keys: str | None, as_json: bool) -> None:
    """Submit a signed entry and print where it went: community, index, id."""
    settings = Settings.resolve(db, keys)

    def go() -> tuple[Appended, bool]:
        service = settings.open_service()
        appended = service.submit(entry.community, entry)
        signed = service.latest_checkpoint(entry.community)
        return appended, signed is not None and signed[0] > appended.index

    appended, checkpointed = guard(go)
    result: dict[str, Any] = {
        "community": appended.community,
        "index": appended.index,
        "id": appended.entry_id,
        "created": appended.created,
        "checkpointed": checkpointed,
    }
    if as_json:
        print_json(result)
        return
    zh = is_zh()
    verb = (
        ("已记录" if appended.created else "已存在（相同条目）")
        if zh
        else ("recorded" if appended.created else "already recorded (identical entry)")
    )
    out.print(
        f"{verb}: {appended.community} #{appended.index} {appended.entry_id} ({entry.type})",
        highlight=False,
    )
    if not checkpointed:
        err.print(
            "检查点待签名：本机没有此日志的日志密钥"
            if zh
            else "checkpoint pending: the log key is not in the keys folder here",
            highlight=False,
        )


def record(
    key: Path,
    community: str,
    entry_type: str,
    at: str | None,
    body: dict[str, Any],
    db: str | None,
    keys: str | None,
    as_json: bool,
) -> None:
    """Sign ``body`` as an entry of ``entry_type`` with ``key`` (a fresh id) and submit it."""
    entry = guard(
        lambda: sign_entry(
            SigningKey.load(key),
            community=community,
            type=entry_type,
            at=at or now(),
            body=body,
            entry_id=str(uuid.uuid4()),
        )
    )
    submit_signed(entry, db, keys, as_json)
