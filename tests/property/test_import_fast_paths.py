"""The import's fast paths give exactly what the plain functions give.

Reading and signing a row is on the import's critical path, so ``api.import_rows`` and
``api.import_files`` take shortcuts: the C JSON encoder for RFC 8785, a hand-built
UUIDv5, integer arithmetic for a plain amount, a plain ISO date without the regex of
every date format, ``sign_row`` signing without ``sign_entry``'s repeated work, and a
quicker reading of CSV cells and rows.
Each must agree with the reference byte for byte, or error for error.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from api.import_files import (
    _PLAIN_AMOUNT,
    SUBTOTAL,
    CellError,
    _csv_cell,
    _decimal_text,
    _rows,
    cell_text,
    to_date,
    to_fen,
)
from api.import_rows import (
    IMPORT_NAMESPACE,
    ParsedRow,
    canonical_bytes,
    identity_bytes,
    import_uuid,
    sign_row,
)
from ledger.core.entry import sign_entry
from ledger.core.errors import LedgerError
from ledger.core.keys import SigningKey

KEY = SigningKey.generate("estate/treasurer")

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=8) | st.sampled_from(
    ["\U0001f600", "\ufb01", "\ue000", "a\U00010000", "é", "\x7f", "\u2028", "停车 1"]
)
ODD_TEXT = st.sampled_from(["\ud800", "a\udfffb", '"\\\b\f\n\r\t\x00\x1f'])
SCALARS = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | TEXT | ODD_TEXT
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


def _jcs(value: Any) -> bytes | None:
    try:
        return bytes(rfc8785.dumps(value))
    except (TypeError, ValueError):
        return None


def _fast(value: dict[str, Any]) -> bytes | None:
    try:
        return canonical_bytes(value)
    except LedgerError:
        return None


@given(st.dictionaries(TEXT, VALUES, max_size=6))
@settings(max_examples=400)
def test_canonical_bytes_are_rfc8785(value: dict[str, Any]) -> None:
    """Given any JSON object of strings, booleans, nulls and safe integers,
    then the fast canonical form is RFC 8785's, or both refuse it."""
    assert _fast(value) == _jcs(value)


@given(st.lists(TEXT | ODD_TEXT | st.integers(-(2**60), 2**60), max_size=9))
def test_identity_bytes_are_rfc8785(key: list[Any]) -> None:
    """Given a row's identity (strings and integers), its bytes are RFC 8785's."""
    try:
        expected: bytes | None = identity_bytes(tuple(key))
    except LedgerError:
        expected = None
    assert expected == _jcs(key)


@given(st.binary(max_size=80) | TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")))
@settings(max_examples=400)
def test_import_uuid_is_uuid5(name: bytes) -> None:
    """Given any name, the hand-built id is ``uuid5(IMPORT_NAMESPACE, name)``."""
    text = name.decode("latin-1")  # uuid5 encodes a str as UTF-8: compare on those bytes
    assert import_uuid(text.encode("utf-8")) == str(uuid.uuid5(IMPORT_NAMESPACE, text))


AMOUNT_TEXT = st.from_regex(r"[0-9]{1,17}(\.[0-9]{0,3})?", fullmatch=True) | st.sampled_from(
    ["0", "00.00", "1.5", "12.", ".5", "1,800.00", "¥12.00", "(3.20)", "-4.00", "+4", "١٢"]
)


@given(AMOUNT_TEXT)
def test_a_plain_amount_reads_as_the_decimal_it_shows(text: str) -> None:
    """Given an amount as text, its fen are exactly the Decimal's, or it is refused."""
    try:
        fen: int | str = to_fen(text)
    except CellError as exc:
        fen = exc.code
    cleaned = text.replace(",", "").replace("¥", "").strip("()")
    try:
        amount = Decimal(cleaned) * (-1 if text.startswith("(") else 1)
    except ArithmeticError:
        amount = None
    if _PLAIN_AMOUNT.fullmatch(text):  # the shortcut: as the general reading gives it
        assert fen == int(_decimal_text(text) * 100)
    if isinstance(fen, int):
        assert amount is not None and fen == amount * 100
    else:
        assert amount is None or fen == "too_many_decimals" or not cleaned.isascii()


@given(st.dates(date(1000, 1, 1), date(9999, 12, 31)))
def test_an_iso_date_reads_as_that_day(day: date) -> None:
    """Given a day written as 2025-04-08 (and the other ways), each reads as that day."""
    assert to_date(day.isoformat()) == day
    assert to_date(f" {day.isoformat()}") == day  # not the shortcut: the general reading
    assert to_date(f"{day.year}/{day.month}/{day.day}") == day
    assert to_date(f"{day.year}年{day.month}月{day.day}日") == day


@given(st.sampled_from(["2025-02-30", "2025-13-01", "2025-00-10", "0000-01-01", "2025-1-1"]))
def test_impossible_iso_dates_are_refused_as_before(text: str) -> None:
    """Given a date that does not exist, it is refused (or read the slower way: 2025-1-1)."""
    try:
        assert to_date(text) == date(2025, 1, 1) and text == "2025-1-1"
    except CellError as exc:
        assert exc.code == "bad_date"


BODY_VALUES = (
    st.integers(-(2**60), 2**60)
    | TEXT
    | ODD_TEXT
    | st.booleans()
    | st.floats(allow_nan=False, allow_infinity=False)
)


@given(
    st.sampled_from(["revenue.received", "expense.paid", "interest.credited"]),
    st.dictionaries(st.sampled_from(["amount_fen", "source", "description", "x"]), BODY_VALUES),
    st.dates(date(2020, 1, 1), date(2030, 12, 31)),
    st.uuids(),
)
@settings(max_examples=300)
def test_sign_row_signs_what_sign_entry_signs(
    entry_type: str, body: dict[str, Any], day: date, entry_id: uuid.UUID
) -> None:
    """Given any row (good, or with a body the schema or the format refuses),
    then ``sign_row`` gives the entry ``sign_entry`` gives, byte for byte, or its error."""
    parsed = ParsedRow(day, "k", 1, entry_type, body, ())
    ours = sign_row("estate", KEY, parsed, str(entry_id))
    try:
        reference: Any = sign_entry(
            KEY,
            community="estate",
            type=entry_type,
            body=body,
            at=f"{day.isoformat()}T12:00:00+08:00",
            entry_id=str(entry_id),
        )
    except LedgerError as exc:
        reference = exc
    if isinstance(reference, LedgerError):
        assert isinstance(ours, LedgerError)
        assert (type(ours), ours.en, ours.zh) == (type(reference), reference.en, reference.zh)
    else:
        assert not isinstance(ours, LedgerError)
        assert ours.entry_bytes() == reference.entry_bytes()
        assert ours == reference


def _csv_cell_reference(cell: str) -> str | None:
    """How a CSV cell was read before its shortcut (``="0012"`` keeps a bank's digits)."""
    text = cell.strip()
    quoted = re.fullmatch(r'="(.*)"', text)
    text = (quoted.group(1) if quoted else text).strip()
    return text or None


CELL_TEXT = st.text(alphabet=st.sampled_from(' ="0a\n\t合计'), max_size=8)


@given(CELL_TEXT)
def test_a_csv_cell_reads_as_before(cell: str) -> None:
    """Given any CSV cell (spaces, quotes, ="…" text), it reads as it always did."""
    assert _csv_cell(cell) == _csv_cell_reference(cell)


def _rows_reference(table: list[list[Any]], header_index: int) -> list[tuple[Any, ...]]:
    """The data rows below the header as they were built before (cells padded with None)."""
    headers = [str(v) for v in table[header_index]]
    rows = []
    for index in range(header_index + 1, len(table)):
        values = table[index]
        present = [v for v in values if cell_text(v) is not None]
        if not present or SUBTOTAL.match(cell_text(present[0]) or ""):
            continue
        cells = {h: (values[i] if i < len(values) else None) for i, h in enumerate(headers)}
        rows.append((index + 1, cells, header_index + 1))
    return rows


@given(
    st.lists(
        st.lists(st.none() | CELL_TEXT.map(_csv_cell) | st.sampled_from(["合计", "Total 3"])),
        max_size=8,
    )
)
def test_a_table_gives_the_rows_it_gave(body: list[list[Any]]) -> None:
    """Given any cells below a header (short rows, long rows, empty and total rows),
    then the rows are what they were before: numbers, cells by header, None for a gap."""
    table: list[list[Any]] = [["日期", "金额", "摘要"], *body]
    rows = [(r.number, r.cells, r.header_row) for r in _rows(table, None)]
    assert rows == _rows_reference(table, 0)
