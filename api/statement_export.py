"""Every line behind a published statement: reading it, listing its money lines, writing files.

``published_statement`` reads the ``statement.published`` entry of a period from the log
(never recomputes it). ``statement_lines`` lists each money movement in the statement's
covered range ``[start, end)`` with the category the fold files it under
(``ledger.core.statement_rules.category``), so per fund the lines sum exactly to the
statement's inflows and outflows; ``check_lines`` asserts that before anything is written.
``write_xlsx`` (two sheets: summary and lines) and ``write_csv`` (lines, UTF-8 with BOM so
Excel reads Chinese) write atomically.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.notice_labels import category_label, fund_label
from ledger.core.effects import Effect
from ledger.core.entry import Entry, parse_logged_entry
from ledger.core.errors import LedgerError, MalformedError, NotFoundError
from ledger.core.money import shanghai_date, yuan
from ledger.core.money_rules import is_money_type
from ledger.core.state import CommunityState
from ledger.core.statement_rules import category
from ledger.core.statements import statement_at
from ledger.store.service import LedgerService


class StatementNotPublishedError(NotFoundError):
    """The period has no ``statement.published`` entry in the log (yet)."""

    code = "statement_not_published"


class LinesMismatchError(LedgerError):
    """The lines do not add up to the statement's figures (a bug or a forged statement)."""

    code = "lines_mismatch"
    status = 500


@dataclass(frozen=True)
class PublishedStatement:
    """A ``statement.published`` entry as the log holds it, with its committee approvals."""

    community: str
    name: str
    period: str
    index: int
    entry_id: str
    signer: str
    at: str
    start: int
    end: int
    covered_root: str
    figures: dict[str, Any]
    approvals: tuple[str, ...]


@dataclass(frozen=True)
class Line:
    """One money movement on one fund (a transfer is two lines)."""

    index: int
    entry_id: str
    date: str
    type: str
    fund: str
    category: str
    unit: str
    counterparty: str
    memo: str
    amount_fen: int  # signed: positive into the fund, negative out of it
    signer: str

    @property
    def direction(self) -> str:
        return "in" if self.amount_fen > 0 else "out"


def published_statement(service: LedgerService, community: str, period: str) -> PublishedStatement:
    """The published statement of ``period``; a clear error when the period has none."""
    statement_at(period)  # a malformed period is refused with its own message
    state = service.state(community)
    record = state.statements.published.get(period)
    if record is None:
        raise StatementNotPublishedError(
            f"community {community} has no published statement for {period}; "
            f"publish it first: glasspocket statement publish {period}",
            f"小区 {community} 尚未发布 {period} 的报表；"
            f"请先发布：glasspocket statement publish {period}",
        )
    entry = parse_logged_entry(service.entries(community, record.index, record.index + 1)[0])
    body = entry.body
    return PublishedStatement(
        community=community,
        name=state.name or community,
        period=period,
        index=record.index,
        entry_id=entry.id,
        signer=entry.signer,
        at=entry.at,
        start=body["start"],
        end=body["end"],
        covered_root=body["covered_root"],
        figures=body["figures"],
        approvals=tuple(sorted(record.approvals)),
    )


def statement_lines(
    service: LedgerService, statement: PublishedStatement, state: CommunityState | None = None
) -> list[Line]:
    """Every money movement the statement's flows are made of, in log order."""
    state = state or service.state(statement.community)
    lines: list[Line] = []
    raw = service.iter_entries(statement.community, statement.start, statement.end)
    for offset, data in enumerate(raw):
        entry = parse_logged_entry(data)
        if is_money_type(entry.type) and entry.type != "bank.balance_asserted":
            lines.extend(_entry_lines(state, statement.start + offset, entry))
    return lines


def _effect(state: CommunityState, index: int, entry: Entry) -> Effect | None:
    if entry.type == "entry.reversed":
        cited = state.index_of(entry.body["entry_id"])
        return None if cited is None else state.effects[cited].negated()
    return state.effects.get(index)


def _entry_lines(state: CommunityState, index: int, entry: Entry) -> Iterator[Line]:
    effect = _effect(state, index, entry)
    if effect is None:
        return
    body = entry.body
    for fund, delta in effect.funds.items():
        if delta == 0:
            continue
        yield Line(
            index=index,
            entry_id=entry.id,
            date=shanghai_date(entry.at_datetime()),
            type=entry.type,
            fund=fund,
            category=category(entry, fund, delta),
            unit=str(body.get("unit", "")),
            counterparty=_counterparty(body),
            memo=_memo(body),
            amount_fen=delta,
            signer=entry.signer,
        )


def _counterparty(body: Mapping[str, Any]) -> str:
    if body.get("payee"):
        return str(body["payee"])
    if body.get("donor") and body.get("donor_consent"):
        return str(body["donor"])
    return ""


def _memo(body: Mapping[str, Any]) -> str:
    parts = [
        str(body[name])
        for name in ("month", "description", "purpose", "period", "reason", "reference")
        if body.get(name)
    ]
    if "entry_id" in body:
        parts.append(f"reverses {body['entry_id']}")
    return "; ".join(parts)


def check_lines(statement: PublishedStatement, lines: list[Line]) -> None:
    """Per fund and category, the lines add up to the statement's inflows and outflows."""
    sums: dict[tuple[str, str, str], int] = {}
    for line in lines:
        key = (line.fund, line.direction, line.category)
        sums[key] = sums.get(key, 0) + abs(line.amount_fen)
    stated: dict[tuple[str, str, str], int] = {}
    for fund, figures in statement.figures["funds"].items():
        for direction, flows in (("in", figures["inflows"]), ("out", figures["outflows"])):
            for name, fen in flows.items():
                stated[(fund, direction, name)] = fen
    if sums != stated:
        wrong = sorted(k for k in sums.keys() | stated.keys() if sums.get(k) != stated.get(k))
        raise LinesMismatchError(
            f"the lines do not add up to the statement's figures: {wrong}",
            f"明细合计与报表数字不符：{wrong}",
        )


def export_statement(
    service: LedgerService, community: str, period: str, out_file: Path, zh: bool
) -> dict[str, Any]:
    """Write the lines behind ``period``'s statement to ``out_file`` (.xlsx or .csv)."""
    suffix = out_file.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise MalformedError(
            f"--out must end in .xlsx or .csv, not {out_file.name!r}",
            f"--out 须以 .xlsx 或 .csv 结尾，而不是 {out_file.name!r}",
        )
    statement = published_statement(service, community, period)
    lines = statement_lines(service, statement)
    check_lines(statement, lines)
    if suffix == ".csv":
        write_atomically(out_file, lambda f: f.write(csv_bytes(lines, zh)))
    else:
        from api.statement_xlsx import xlsx_bytes

        write_atomically(out_file, lambda f: f.write(xlsx_bytes(statement, lines, zh)))
    return {
        "path": str(out_file),
        "community": community,
        "period": period,
        "statement_id": statement.entry_id,
        "lines": len(lines),
        "in_fen": sum(line.amount_fen for line in lines if line.amount_fen > 0),
        "out_fen": -sum(line.amount_fen for line in lines if line.amount_fen < 0),
    }


LINE_HEADERS = (
    "序号 Index",
    "条目ID Entry id",
    "日期 Date",
    "类型 Type",
    "资金 Fund",
    "收支 In/out",
    "科目 Category",
    "科目名称 Category name",
    "房号 Unit",
    "对方 Counterparty",
    "摘要 Memo",
    "金额(元) Amount (yuan)",
    "金额(分) Amount (fen)",
    "签名人 Signer",
)


def line_row(line: Line, zh: bool) -> list[str | int]:
    """A line as the cells of LINE_HEADERS: codes for filtering, words for reading."""
    return [
        line.index,
        line.entry_id,
        line.date,
        line.type,
        f"{line.fund} {fund_label(line.fund, zh)}",
        ("收入 in" if line.direction == "in" else "支出 out"),
        line.category,
        category_label(line.category, zh),
        line.unit,
        line.counterparty,
        line.memo,
        yuan(line.amount_fen).replace(",", ""),
        line.amount_fen,
        line.signer,
    ]


def csv_bytes(lines: list[Line], zh: bool) -> bytes:
    """The lines as CSV, UTF-8 with a byte-order mark (Excel then reads Chinese correctly)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(LINE_HEADERS)
    for line in lines:
        writer.writerow(line_row(line, zh))
    return buffer.getvalue().encode("utf-8-sig")


def write_atomically(path: Path, write: Callable[[io.BufferedWriter], object]) -> None:
    """Write through a temporary file in the same folder, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as f:
            write(f)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
