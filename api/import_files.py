"""Reading a statement file: CSV or XLSX rows, and spreadsheet cells as exact values.

``load_rows(path)`` reads a CSV (UTF-8, UTF-8 with BOM, UTF-16 or GB18030) or the first
(or a named) sheet of an XLSX into ``Row``s numbered as the user sees them, below the
header row. ``to_fen``, ``to_date`` and ``to_month`` read one cell each, raising
``CellError`` (a stable code and the reason in both languages) for a cell that does not
hold what its column needs.

Money is never float arithmetic: an Excel number is read as the decimal Excel shows
(at most 15 significant digits) and refused if it has more than two decimals.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

from ledger.core.errors import LedgerError
from ledger.core.gcpause import gc_paused

HEADER_SCAN_ROWS = 20
EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 is 1900-01-01 (past 1900-03-01, as Excel counts)
SUBTOTAL = re.compile(r"^(合计|总计|小计|本页合计|total|subtotal)", re.IGNORECASE)

# The columns that identify the header row: a date, and an amount (or income/expense).
HEADER_COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("日期", "交易日期", "记账日期", "入账日期", "date"),
    "amount": ("金额", "发生额", "交易金额", "amount"),
    "income": ("收入", "收入金额", "贷方发生额", "贷方金额", "income", "credit"),
    "expense": ("支出", "支出金额", "借方发生额", "借方金额", "expense", "debit"),
}


def norm_header(text: str) -> str:
    """A header without spaces and a trailing unit like "(元)": "金额（元）" → "金额"."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"\s+", "", re.sub(r"\([^)]*\)\s*$", "", folded))


def locate_columns(
    columns: Mapping[str, tuple[str, ...]], headers: Iterable[str]
) -> dict[str, str]:
    """Field → the header in the file that feeds it (the first of its names found)."""
    by_norm: dict[str, str] = {}
    for header in headers:
        by_norm.setdefault(norm_header(header), header)
    found: dict[str, str] = {}
    for name, names in columns.items():
        for candidate in names:
            if norm_header(candidate) in by_norm:
                found[name] = by_norm[norm_header(candidate)]
                break
    return found


class HeaderMap(Protocol):
    """What reading a file needs of a column mapping (``api.import_mapping.Mapping``)."""

    @property
    def sheet(self) -> str | None: ...

    def locate(self, headers: Iterable[str]) -> dict[str, str]: ...


class ImportFileError(LedgerError):
    """A file that cannot be read as a statement at all (format, encoding, sheet)."""

    code = "import_file"
    status = 400


@dataclass(frozen=True)
class Row:
    """One data row: its number as the user sees it, and its cells by header."""

    number: int
    cells: dict[str, Any]
    header_row: int = 1


def load_rows(
    path: str | Path, sheet: str | None = None, mapping: HeaderMap | None = None
) -> list[Row]:
    """The data rows of a CSV or XLSX file, below its header row.

    The header row is the first of the top 20 rows that names a date column and an amount
    column (so a title line above it is fine); empty rows and "合计/total" rows are skipped.
    """
    with gc_paused():
        return _load_rows(Path(path), sheet, mapping)


def _load_rows(file: Path, sheet: str | None, mapping: HeaderMap | None) -> list[Row]:
    suffix = file.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        table = _xlsx_table(file, sheet or (mapping.sheet if mapping is not None else None))
    elif suffix in (".csv", ".txt", ".tsv"):
        table = _csv_table(file)
    else:
        raise ImportFileError(
            f"{file.name}: only .csv and .xlsx files can be imported (save .xls as .xlsx)",
            f"{file.name}：只能导入 .csv 和 .xlsx 文件（.xls 请另存为 .xlsx）",
        )
    return _rows(table, mapping)


def _xlsx_table(file: Path, sheet: str | None) -> list[list[Any]]:
    import openpyxl  # type: ignore[import-untyped]  # no stubs; the server extra's dependency

    try:
        book = openpyxl.load_workbook(file, read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl errors alike
        raise ImportFileError(
            f"{file.name} is not a readable .xlsx file: {exc}",
            f"{file.name} 不是可读取的 .xlsx 文件：{exc}",
        ) from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise ImportFileError(
                f"{file.name} has no sheet {sheet!r} (it has {', '.join(book.sheetnames)})",
                f"{file.name} 中没有工作表 {sheet!r}（现有：{'、'.join(book.sheetnames)}）",
            )
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        return [list(values) for values in ws.iter_rows(values_only=True)]
    finally:
        book.close()


def _decode(data: bytes, name: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(
        f"{name} is neither UTF-8 nor GB18030 text", f"{name} 既不是 UTF-8 也不是 GB18030 编码"
    )


def _csv_table(file: Path) -> list[list[Any]]:
    try:
        text = _decode(file.read_bytes(), file.name)
    except OSError as exc:
        raise ImportFileError(f"cannot read {file}: {exc}", f"无法读取 {file}：{exc}") from None
    first = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first.count)
    table: list[list[Any]] = []
    for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        table.append([_csv_cell(cell) for cell in record])
    return table


_EXCEL_TEXT = re.compile(r'="(.*)"')  # ="0012": a bank's way of keeping digits as text


def _csv_cell(cell: str) -> str | None:
    text = cell.strip()
    if text.startswith('="') and (quoted := _EXCEL_TEXT.fullmatch(text)):
        text = quoted.group(1).strip()
    return text or None


def _rows(table: list[list[Any]], mapping: HeaderMap | None) -> list[Row]:
    header_index = _header_index(table, mapping)
    if header_index is None:
        return []
    headers: list[str] = []
    for position, value in enumerate(table[header_index]):
        name = cell_text(value) or f"#{position + 1}"
        headers.append(name if name not in headers else f"{name} ({position + 1})")
    rows: list[Row] = []
    width = len(headers)
    for index in range(header_index + 1, len(table)):
        values = table[index]
        first = next((text for text in map(cell_text, values) if text is not None), None)
        if first is None or SUBTOTAL.match(first):
            continue
        if len(values) < width:
            values = [*values, *[None] * (width - len(values))]
        rows.append(Row(index + 1, dict(zip(headers, values, strict=False)), header_index + 1))
    return rows


def _header_index(table: list[list[Any]], mapping: HeaderMap | None) -> int | None:
    first: int | None = None
    for index, values in enumerate(table[:HEADER_SCAN_ROWS]):
        texts = [t for t in (cell_text(v) for v in values) if t is not None]
        if not texts:
            continue
        first = index if first is None else first
        found = (
            mapping.locate(texts) if mapping is not None else locate_columns(HEADER_COLUMNS, texts)
        )
        if "date" in found and found.keys() & {"amount", "income", "expense"}:
            return index
    return first


# --- cells into values ----------------------------------------------------------------------


class CellError(Exception):
    """A cell that does not hold what its column needs."""

    def __init__(self, code: str, en: str, zh: str) -> None:
        super().__init__(en)
        self.code, self.en, self.zh = code, en, zh


def cell_text(value: Any) -> str | None:
    """A cell as trimmed text (an Excel date as ISO, a whole float without ".0"); empty: None."""
    if type(value) is str:  # most cells
        return value.strip() or None
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def to_fen(value: Any) -> int:
    """A cell's amount in integer fen, exactly; more than two decimals is refused."""
    if isinstance(value, bool):
        raise _bad_amount(value)
    if isinstance(value, int):
        return value * 100
    if type(value) is str and (plain := _PLAIN_AMOUNT.fullmatch(value)):
        return int(plain[1]) * 100 + int((plain[2] or "").ljust(2, "0"))  # as Decimal would
    if isinstance(value, float):
        amount = _shown_decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        amount = _decimal_text(value)
    else:
        raise _bad_amount(value)
    if not amount.is_finite():
        raise _bad_amount(value)
    if amount != amount.quantize(Decimal("0.01"), rounding="ROUND_DOWN"):
        raise CellError(
            "too_many_decimals",
            f"amount {value} has more than two decimals (fen are the smallest unit)",
            f"金额 {value} 超过两位小数（最小单位为分）",
        )
    return int(amount * 100)


_PLAIN_AMOUNT = re.compile(r"([0-9]{1,15})(?:\.([0-9]{1,2}))?")  # 1234.5: read without Decimal


def _shown_decimal(value: float) -> Decimal:
    """The decimal a spreadsheet shows for a float: its shortest repr, else 15 digits."""
    if value != value or value in (float("inf"), float("-inf")):
        raise _bad_amount(value)
    exact = Decimal(repr(value))
    if exact == exact.quantize(Decimal("0.01"), rounding="ROUND_DOWN"):
        return exact
    return Decimal(format(value, ".15g"))  # 0.1+0.2 → 0.3, as Excel displays it


def _decimal_text(text: str) -> Decimal:
    cleaned = unicodedata.normalize("NFKC", text).strip()
    negative = cleaned.startswith("(") and cleaned.endswith(")")
    cleaned = re.sub(r"[\s,¥$()]|元|rmb|cny", "", cleaned.strip("()"), flags=re.IGNORECASE)
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", cleaned):
        raise _bad_amount(text)
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise _bad_amount(text) from None
    return -amount if negative else amount


def _bad_amount(value: Any) -> CellError:
    return CellError("bad_amount", f"{value!r} is not an amount", f"{value!r} 不是金额")


_DATE_TEXT = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})(?:[ T].*)?")
_ISO_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def to_date(value: Any) -> date:
    """An Excel date, an Excel serial number, or text: 2025-04-08, 2025/4/8, 2025年4月8日, 20250408."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and float(value).is_integer()
        and 20_000 <= value <= 80_000
    ):
        return EXCEL_EPOCH + timedelta(days=int(value))  # an Excel serial date (1900 system)
    if type(value) is str and (iso := _ISO_DAY.fullmatch(value)):  # 2025-04-08: most cells
        with contextlib.suppress(ValueError):
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
    text = unicodedata.normalize("NFKC", cell_text(value) or "").strip()
    match = _DATE_TEXT.fullmatch(text) or _COMPACT_DATE.fullmatch(text)
    try:
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        pass
    raise CellError(
        "bad_date",
        f"{value!r} is not a date (write 2025-04-08 or use an Excel date)",
        f"{value!r} 不是日期（请写作 2025-04-08 或使用 Excel 日期格式）",
    )


def to_month(value: Any) -> str:
    """A month: an Excel date, or text 2025-04, 2025/4, 2025年4月, 202504."""
    if isinstance(value, date):
        return f"{value.year:04d}-{value.month:02d}"
    text = unicodedata.normalize("NFKC", cell_text(value) or "").strip()
    match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?", text) or re.fullmatch(
        r"(\d{4})(\d{2})", text
    )
    if match and 1 <= int(match[2]) <= 12:
        return f"{int(match[1]):04d}-{int(match[2]):02d}"
    try:
        day = to_date(value)
    except CellError:
        raise CellError(
            "bad_month",
            f"{value!r} is not a month (write 2025-04)",
            f"{value!r} 不是月份（请写作 2025-04）",
        ) from None
    return f"{day.year:04d}-{day.month:02d}"
