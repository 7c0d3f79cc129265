"""One row of a statement read through the mapping: the entry it records, or what is wrong.

``RowCells`` reads a row's cells by field and turns every problem into a ``RowError``
(the row number as the user sees it, the column's header, a stable code, why in both
languages). ``parse_row`` gives the row's entry type and body (``ParsedRow``), with the
content that identifies the bank transaction, from which the entry's id derives
(``entry_id``); ``sign_row`` signs the row's entry.
"""

from __future__ import annotations

import json
import re
import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from api.import_files import CellError, Row, cell_text, to_date, to_fen, to_month
from api.import_mapping import (
    CATEGORY_ALIASES,
    FUND_ALIASES,
    KINDS,
    METHOD_ALIASES,
    YES,
    Mapping,
    norm,
)
from ledger.core.entry import MAX_SAFE_INTEGER, Entry, jcs, sign_entry
from ledger.core.errors import LedgerError
from ledger.core.keys import SigningKey


@dataclass(frozen=True)
class RowError:
    """A bad row: its number as the user sees it, the column (header), a stable code, why."""

    row: int
    column: str | None
    code: str
    zh: str
    en: str

    def message(self, lang: str = "zh") -> str:
        zh = lang.lower().startswith("zh")
        where = (f"第 {self.row} 行" if zh else f"row {self.row}") + (
            f"「{self.column}」"
            if zh and self.column
            else f" [{self.column}]"
            if self.column
            else ""
        )
        return f"{where}：{self.zh}" if zh else f"{where}: {self.en}"


class RowCells:
    """One row's cells read through the mapping; every problem becomes a ``RowError``."""

    def __init__(
        self,
        row: Row,
        located: dict[str, str],
        mapping: Mapping,
        errors: list[RowError],
        reported: set[str],
    ) -> None:
        self.row, self.located, self.mapping = row, located, mapping
        self.errors, self.reported = errors, reported
        self.failed: set[str] = set()

    def column(self, name: str) -> str:
        return self.located.get(name) or self.mapping.label(name)

    def raw(self, name: str) -> Any:
        header = self.located.get(name)
        return None if header is None else self.row.cells.get(header)

    def fail(self, name: str | None, code: str, en: str, zh: str) -> None:
        if name is not None:
            self.failed.add(name)
        column = self.column(name) if name is not None else None
        self.errors.append(RowError(self.row.number, column, code, zh, en))

    def parse(self, name: str, reader: Callable[[Any], Any]) -> Any:
        raw = self.raw(name)
        if cell_text(raw) is None:
            return None
        try:
            return reader(raw)
        except CellError as exc:
            self.fail(name, exc.code, exc.en, exc.zh)
            return None

    def text(self, name: str) -> str | None:
        return cell_text(self.raw(name))

    def require(self, name: str, value: Any, why_en: str = "", why_zh: str = "") -> Any:
        if value is not None or name in self.failed:
            return value
        if name not in self.located:
            if name not in self.reported:  # once per file, at the header row
                self.reported.add(name)
                names = self.mapping.columns.get(name, ())
                self.errors.append(
                    RowError(
                        self.row.header_row,
                        self.mapping.label(name),
                        "missing_column",
                        f"文件中没有「{'/'.join(names)}」列{why_zh}",
                        f"the file has no {name} column ({', '.join(names)}){why_en and ' ' + why_en}",
                    )
                )
            self.failed.add(name)
            return None
        self.fail(name, "missing_value", f"required{why_en and ' ' + why_en}", f"不能为空{why_zh}")
        return None

    def alias(self, name: str, table: dict[str, str], default: str | None = None) -> str | None:
        text = self.text(name)
        if text is None:
            return default
        value = table.get(norm(text))
        if value is None:
            known = ", ".join(sorted({v for v in table.values()}))
            self.fail(
                name,
                f"unknown_{name}",
                f"{text!r} is not a known {name} ({known})",
                f"无法识别的{self.column(name)} {text!r}（可用：{known}）",
            )
        return value


@dataclass(frozen=True)
class ParsedRow:
    day: date
    kind: str
    fen: int
    entry_type: str
    body: dict[str, Any]
    key: tuple[Any, ...]


def amount_and_kind(c: RowCells) -> tuple[int | None, str | None]:
    """The row's amount in fen (positive) and its kind; an outflow infers ``expense``."""
    from_income = False
    if cell_text(c.raw("amount")) is not None:
        fen = c.parse("amount", to_fen)
    else:
        income = c.parse("income", to_fen) or None
        outflow = c.parse("expense", to_fen) or None
        if income and outflow:
            c.fail(
                "income",
                "two_amounts",
                "both income and expense are filled",
                "收入与支出不能同时填写",
            )
            return None, None
        from_income = income is not None
        fen = income if income is not None else (-abs(outflow) if outflow is not None else None)
        if fen is None and not c.failed & {"income", "expense"}:
            name = next((n for n in ("amount", "income", "expense") if n in c.located), "amount")
            c.require(name, None)
    kind_text = c.text("kind")
    kind = c.mapping.kind_of(kind_text) if kind_text is not None else None
    if kind_text is not None and kind is None:
        c.fail(
            "kind",
            "unknown_kind",
            f"{kind_text!r} is not a known kind (see docs/import.md)",
            f"无法识别的类型 {kind_text!r}（见 docs/import.md）",
        )
    elif kind_text is None:
        inferred = "expense" if fen is not None and fen < 0 else c.mapping.default_kind
        kind = c.require("kind", inferred)
    if fen is None or kind is None:
        return None, kind
    outgoing = KINDS[kind].type == "expense.paid"
    if fen == 0:
        c.fail("amount", "zero_amount", "the amount is zero", "金额为零")
    elif (fen < 0 and not outgoing) or (from_income and outgoing):
        name = "expense" if fen < 0 and "expense" in c.located and not from_income else "amount"
        c.fail(
            name,
            "wrong_direction",
            f"money {'out' if fen < 0 else 'in'} does not fit kind {kind}",
            f"{'支出' if fen < 0 else '收入'}与类型 {kind} 不符",
        )
    else:
        return abs(fen), kind
    return None, kind


def parse_row(c: RowCells, community: str) -> ParsedRow | None:
    day = c.require("date", c.parse("date", to_date))
    fen, kind = amount_and_kind(c)
    if kind is None:
        return None
    spec = KINDS[kind]
    body: dict[str, Any] = dict(spec.fixed)
    unit = month = None
    payee = published_text = None
    if spec.type == "contribution.received":
        unit = c.require(
            "unit", _unit(c.text("unit")), "for a payment from a unit", "（住户缴款须注明房号）"
        )
        if kind == "property_fee":
            month = c.require(
                "month",
                c.parse("month", to_month),
                "for a property fee",
                "（物业费须注明所属月份）",
            )
            body["month"] = month
        body["unit"] = unit
        if (method := c.alias("method", METHOD_ALIASES)) is not None:
            body["method"] = method
    elif spec.type == "revenue.received":
        published_text = c.text("description")
        if published_text is not None:
            body["description"] = published_text
    elif spec.type == "donation.received":
        if (purpose := c.text("purpose")) is not None:
            body["purpose"] = purpose
        if norm(c.text("donor_consent") or "") in YES:
            payee = c.require(
                "counterparty",
                c.text("counterparty"),
                "to name a consenting donor",
                "（同意署名须填写捐赠人）",
            )
            body.update(donor=payee, donor_consent=True)
    elif spec.type == "interest.credited":
        body["fund"] = c.alias("fund", FUND_ALIASES, "maintenance")
        month = c.parse("month", to_month)
        if month is not None:
            body["period"] = month
    else:  # expense.paid
        body["fund"] = c.require("fund", c.alias("fund", FUND_ALIASES, c.mapping.default_fund))
        body["category"] = c.require(
            "category", c.alias("category", CATEGORY_ALIASES, c.mapping.default_category)
        )
        payee = c.require("counterparty", c.text("counterparty"), "(the payee)", "（收款方）")
        published_text = c.require("description", c.text("description"))
        body.update(payee=payee, description=published_text)
        if (purpose := c.text("purpose")) is not None:
            body["purpose"] = purpose
    reference = c.text("reference")
    if reference is not None and spec.type != "expense.paid":
        body["reference"] = reference
    if c.failed or day is None or fen is None:
        return None
    body["amount_fen"] = fen
    # The id hashes what identifies the bank transaction, never an unpublished name.
    key = (
        community,
        day.isoformat(),
        fen,
        kind,
        unit or "",
        month or "",
        reference or "",
        payee or "",
        published_text or "",
    )
    return ParsedRow(day, kind, fen, spec.type, body, key)


def _unit(text: str | None) -> str | None:
    return None if text is None else re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


IMPORT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "glasspocket/import")


def entry_id(parsed: ParsedRow, seen: dict[bytes, int]) -> str:
    """The row's entry id: from its identifying content and its occurrence in the file."""
    identity = identity_bytes(parsed.key)
    occurrence = seen.get(identity, 0)
    seen[identity] = occurrence + 1
    return str(uuid.uuid5(IMPORT_NAMESPACE, f"{identity.decode()}#{occurrence}"))


def identity_bytes(key: tuple[Any, ...]) -> bytes:
    """``jcs(list(key))``: the C JSON encoder gives the same bytes for strings and safe ints.

    (An array has no member order to differ in; RFC 8785 escapes exactly what ``json``
    escapes.) Anything else, or a string that is not valid Unicode, goes through ``jcs``.
    """
    plain = all(isinstance(v, str) or (type(v) is int and abs(v) <= MAX_SAFE_INTEGER) for v in key)
    if plain:
        try:
            return json.dumps(list(key), ensure_ascii=False, separators=(",", ":")).encode()
        except UnicodeEncodeError:
            pass
    return jcs(list(key))


def sign_row(
    community: str, key: SigningKey, parsed: ParsedRow, entry_id: str
) -> Entry | LedgerError:
    """The row's signed entry (``at`` = its date at noon), or why it cannot be signed."""
    try:
        return sign_entry(
            key,
            community=community,
            type=parsed.entry_type,
            body=parsed.body,
            at=f"{parsed.day.isoformat()}T12:00:00+08:00",
            entry_id=entry_id,
        )
    except LedgerError as exc:
        return exc
