"""``glasspocket import FILE``: bank statements and legacy ledgers (CSV, XLSX) into entries.

This module owns the column mapping (documented in ``docs/import.md``), the reading of
spreadsheet cells into exact values (fen, dates, months) and the import plan:

1. ``load_rows(path)`` reads a CSV (UTF-8, UTF-8 with BOM, UTF-16 or GB18030) or the
   first (or a named) sheet of an XLSX; row numbers are the ones the user sees.
2. ``plan_import(service, community, rows, key, mapping)`` turns each row into a signed
   entry, deterministically (id from the row's content, ``at`` = its date at noon,
   Asia/Shanghai), and checks every row with the rules on a copy of the community's
   state, collecting every bad row with its row number and column.
3. ``run_import(service, plan, dry_run)`` records nothing if any row is bad or in a dry
   run; otherwise it submits the new entries in one atomic batch. Importing the same
   file again produces the same bytes, which the write side reports as already recorded.

Money is never float arithmetic: an Excel number is read as the decimal Excel shows
(at most 15 significant digits) and refused if it has more than two decimals.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ledger.core.entry import Entry, jcs, sign_entry
from ledger.core.errors import LedgerError, UnknownSignerError
from ledger.core.keys import SigningKey
from ledger.core.money import yuan
from ledger.core.money_bodies import EXPENSE_CATEGORIES, FUNDS
from ledger.core.rules import apply, check_not_future
from ledger.core.state import CommunityState
from ledger.store.service import Appended, LedgerService

Progress = Callable[[int, int], None]
IMPORT_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "glasspocket/import")
HEADER_SCAN_ROWS = 20
EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 is 1900-01-01 (past 1900-03-01, as Excel counts)

# --- the mapping ---------------------------------------------------------------------------

DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("日期", "交易日期", "记账日期", "入账日期", "date"),
    "amount": ("金额", "发生额", "交易金额", "amount"),
    "income": ("收入", "收入金额", "贷方发生额", "贷方金额", "income", "credit"),
    "expense": ("支出", "支出金额", "借方发生额", "借方金额", "expense", "debit"),
    "unit": ("房号", "房屋", "户号", "unit"),
    "kind": ("类型", "科目", "款项类型", "kind"),
    "month": ("所属月份", "月份", "month"),
    "counterparty": ("对方户名", "对方名称", "收款人", "付款人", "counterparty", "payee", "donor"),
    "description": ("摘要", "用途", "说明", "description"),
    "reference": ("流水号", "凭证号", "交易流水号", "reference"),
    "fund": ("基金", "账户", "fund"),
    "category": ("支出类别", "费用类别", "category"),
    "purpose": ("定向用途", "限定用途", "purpose"),
    "donor_consent": ("同意署名", "署名", "donor_consent"),
    "method": ("支付方式", "收款方式", "method"),
}


@dataclass(frozen=True)
class Kind:
    """What a row of this kind records: the entry type and its fixed body fields."""

    type: str
    fixed: tuple[tuple[str, str], ...] = ()


KINDS: dict[str, Kind] = {
    "property_fee": Kind("contribution.received", (("fund", "property"),)),
    "maintenance_initial": Kind(
        "contribution.received", (("fund", "maintenance"), ("deposit", "initial"))
    ),
    "maintenance_top_up": Kind(
        "contribution.received", (("fund", "maintenance"), ("deposit", "top_up"))
    ),
    **{
        source: Kind("revenue.received", (("source", source),))
        for source in ("parking", "advertising", "venue", "locker", "telecom")
    },
    "other_revenue": Kind("revenue.received", (("source", "other"),)),
    **{k: Kind("donation.received", (("kind", k),)) for k in ("donation", "sponsorship", "grant")},
    "interest": Kind("interest.credited"),
    "expense": Kind("expense.paid"),
}

KIND_ALIASES: dict[str, str] = {
    **{name: name for name in KINDS},
    **dict.fromkeys(("物业费", "物业服务费", "property", "property_fees"), "property_fee"),
    **dict.fromkeys(
        ("维修资金", "首期", "维修资金首期", "首期维修资金", "maintenance"), "maintenance_initial"
    ),
    **dict.fromkeys(("续筹", "维修资金续筹", "top_up", "maintenance_topup"), "maintenance_top_up"),
    **dict.fromkeys(("停车", "停车费", "车位", "车位租金"), "parking"),
    **dict.fromkeys(("广告", "广告费", "ads"), "advertising"),
    **dict.fromkeys(("场地", "场地租赁", "场地费", "rental"), "venue"),
    **dict.fromkeys(("储物", "储物柜", "快递柜", "lockers"), "locker"),
    **dict.fromkeys(("通信", "基站", "通信基站"), "telecom"),
    **dict.fromkeys(("公共收益", "其他收益", "revenue"), "other_revenue"),
    **dict.fromkeys(("捐赠", "捐款", "gift"), "donation"),
    **dict.fromkeys(("赞助",), "sponsorship"),
    **dict.fromkeys(("补助", "补贴", "拨款", "政府补助", "subsidy"), "grant"),
    **dict.fromkeys(("利息", "结息", "利息收入"), "interest"),
    **dict.fromkeys(("支出", "费用", "付款", "expenses", "payment"), "expense"),
}

FUND_ALIASES: dict[str, str] = {
    **{f: f for f in FUNDS},
    **dict.fromkeys(("物业", "物业费", "物业费信托账户", "信托账户"), "property"),
    **dict.fromkeys(("维修", "维修资金", "专项维修资金"), "maintenance"),
    **dict.fromkeys(("公共收益", "公共"), "public_revenue"),
    **dict.fromkeys(("社区", "社区基金", "捐赠", "专项经费"), "community"),
}

CATEGORY_ALIASES: dict[str, str] = {
    **{c: c for c in EXPENSE_CATEGORIES},
    **dict.fromkeys(("保洁", "清洁", "环卫"), "cleaning"),
    **dict.fromkeys(("安保", "保安", "秩序维护"), "security"),
    **dict.fromkeys(("绿化",), "greening"),
    **dict.fromkeys(("维修", "维修养护", "维保"), "repairs"),
    **dict.fromkeys(("电梯",), "elevator"),
    **dict.fromkeys(("消防",), "fire_safety"),
    **dict.fromkeys(("水电", "公共水电", "能耗"), "utilities"),
    **dict.fromkeys(("保险",), "insurance"),
    **dict.fromkeys(("管理", "管理费用"), "management"),
    **dict.fromkeys(("办公", "办公费"), "office"),
    **dict.fromkeys(("活动", "社区活动"), "events"),
    **dict.fromkeys(("经营成本", "收益成本"), "revenue_cost"),
    **dict.fromkeys(("其他",), "other"),
}

METHOD_ALIASES: dict[str, str] = {
    **{m: m for m in ("bank", "cash", "wechat", "alipay", "other")},
    **dict.fromkeys(("银行", "银行转账", "转账", "对公转账"), "bank"),
    **dict.fromkeys(("现金",), "cash"),
    **dict.fromkeys(("微信", "微信支付"), "wechat"),
    **dict.fromkeys(("支付宝",), "alipay"),
    **dict.fromkeys(("其他",), "other"),
}

YES = frozenset({"是", "同意", "y", "yes", "true", "1", "√", "✓"})
SUBTOTAL = re.compile(r"^(合计|总计|小计|本页合计|total|subtotal)", re.IGNORECASE)


def _norm(text: str) -> str:
    """Compare names loosely: full-width to half-width, case, spaces and hyphens."""
    folded = unicodedata.normalize("NFKC", text).strip().casefold()
    return re.sub(r"[\s\-]+", "_", folded)


def _norm_header(text: str) -> str:
    """A header without spaces and a trailing unit like "(元)": "金额（元）" → "金额"."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"\s+", "", re.sub(r"\([^)]*\)\s*$", "", folded))


@dataclass(frozen=True)
class Mapping:
    """Which header names feed which field, extra kind names, and defaults (docs/import.md).

    ``columns`` maps each field to the header names it accepts (the first one found in the
    file is used); ``kinds`` adds names for kinds (e.g. {"管理费": "property_fee"}).
    """

    columns: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_COLUMNS))
    kinds: dict[str, str] = field(default_factory=dict)
    sheet: str | None = None
    default_kind: str | None = None
    default_fund: str | None = None
    default_category: str | None = None

    @classmethod
    def load(cls, path: str | Path) -> Mapping:
        """A mapping file (JSON): its ``columns`` replace the defaults field by field."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
            columns = dict(DEFAULT_COLUMNS)
            for name, headers in data.get("columns", {}).items():
                if name not in DEFAULT_COLUMNS:
                    raise ValueError(f"unknown field {name!r}")
                columns[name] = (headers,) if isinstance(headers, str) else tuple(headers)
            kinds = {str(k): str(v) for k, v in data.get("kinds", {}).items()}
            for target in [*kinds.values(), data.get("default_kind") or "expense"]:
                if target not in KINDS:
                    raise ValueError(f"unknown kind {target!r} (kinds: {', '.join(KINDS)})")
            return cls(
                columns,
                kinds,
                data.get("sheet"),
                data.get("default_kind"),
                data.get("default_fund"),
                data.get("default_category"),
            )
        except (OSError, ValueError, AttributeError, TypeError) as exc:
            raise ImportFileError(
                f"mapping file {path}: {exc}", f"列映射文件 {path} 有误：{exc}"
            ) from None

    def locate(self, headers: Iterable[str]) -> dict[str, str]:
        """Field → the header in the file that feeds it."""
        by_norm: dict[str, str] = {}
        for header in headers:
            by_norm.setdefault(_norm_header(header), header)
        found: dict[str, str] = {}
        for name, names in self.columns.items():
            for candidate in names:
                if _norm_header(candidate) in by_norm:
                    found[name] = by_norm[_norm_header(candidate)]
                    break
        return found

    def kind_of(self, text: str) -> str | None:
        extra = {_norm(k): v for k, v in self.kinds.items()}
        kind = extra.get(_norm(text)) or KIND_ALIASES.get(_norm(text))
        return kind if kind in KINDS else None

    def label(self, name: str) -> str:
        """How to name a field's column when the file lacks it: its first header name."""
        return self.columns[name][0] if self.columns.get(name) else name


# --- reading files ----------------------------------------------------------------------------


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
    path: str | Path, sheet: str | None = None, mapping: Mapping | None = None
) -> list[Row]:
    """The data rows of a CSV or XLSX file, below its header row.

    The header row is the first of the top 20 rows that names a date column and an amount
    column (so a title line above it is fine); empty rows and "合计/total" rows are skipped.
    """
    mapping = mapping or Mapping()
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        table = _xlsx_table(file, sheet or mapping.sheet)
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


def _csv_cell(cell: str) -> str | None:
    text = cell.strip()
    quoted = re.fullmatch(r'="(.*)"', text)  # a bank's way of keeping digits as text
    text = (quoted.group(1) if quoted else text).strip()
    return text or None


def _rows(table: list[list[Any]], mapping: Mapping) -> list[Row]:
    header_index = _header_index(table, mapping)
    if header_index is None:
        return []
    headers: list[str] = []
    for position, value in enumerate(table[header_index]):
        name = _text(value) or f"#{position + 1}"
        headers.append(name if name not in headers else f"{name} ({position + 1})")
    rows: list[Row] = []
    for index in range(header_index + 1, len(table)):
        values = table[index]
        present = [v for v in values if _text(v) is not None]
        if not present or SUBTOTAL.match(_text(present[0]) or ""):
            continue
        cells = {h: (values[i] if i < len(values) else None) for i, h in enumerate(headers)}
        rows.append(Row(index + 1, cells, header_index + 1))
    return rows


def _header_index(table: list[list[Any]], mapping: Mapping) -> int | None:
    first: int | None = None
    for index, values in enumerate(table[:HEADER_SCAN_ROWS]):
        texts = [t for t in (_text(v) for v in values) if t is not None]
        if not texts:
            continue
        first = index if first is None else first
        found = mapping.locate(texts)
        if "date" in found and found.keys() & {"amount", "income", "expense"}:
            return index
    return first


# --- cells into values ----------------------------------------------------------------------


class CellError(Exception):
    """A cell that does not hold what its column needs."""

    def __init__(self, code: str, en: str, zh: str) -> None:
        super().__init__(en)
        self.code, self.en, self.zh = code, en, zh


def _text(value: Any) -> str | None:
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
    text = unicodedata.normalize("NFKC", _text(value) or "").strip()
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
    text = unicodedata.normalize("NFKC", _text(value) or "").strip()
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


# --- rows into entries ------------------------------------------------------------------------


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


class _Cells:
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
        if _text(raw) is None:
            return None
        try:
            return reader(raw)
        except CellError as exc:
            self.fail(name, exc.code, exc.en, exc.zh)
            return None

    def text(self, name: str) -> str | None:
        return _text(self.raw(name))

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
        value = table.get(_norm(text))
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
class _Parsed:
    day: date
    kind: str
    fen: int
    entry_type: str
    body: dict[str, Any]
    key: tuple[Any, ...]


def _amount_and_kind(c: _Cells) -> tuple[int | None, str | None]:
    """The row's amount in fen (positive) and its kind; an outflow infers ``expense``."""
    from_income = False
    if _text(c.raw("amount")) is not None:
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


def _parse_row(c: _Cells, community: str) -> _Parsed | None:
    day = c.require("date", c.parse("date", to_date))
    fen, kind = _amount_and_kind(c)
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
        if _norm(c.text("donor_consent") or "") in YES:
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
    return _Parsed(day, kind, fen, spec.type, body, key)


def _unit(text: str | None) -> str | None:
    return None if text is None else re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


# --- the plan -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedRow:
    """A good row's entry; ``recorded`` when the log already holds exactly these bytes."""

    number: int
    entry: Entry
    recorded: bool

    def summary(self, lang: str = "zh") -> str:
        body = self.entry.body
        what = [
            body.get(k) for k in ("fund", "source", "kind", "deposit", "category", "unit", "month")
        ]
        detail = " ".join(str(v) for v in what if v is not None)
        day = self.entry.at[:10]
        amount = yuan(body["amount_fen"])
        if lang.lower().startswith("zh"):
            return f"第 {self.number} 行  {day}  {self.entry.type}  {detail}  {amount} 元"
        return f"row {self.number}  {day}  {self.entry.type}  {detail}  {amount} yuan"


@dataclass
class ImportPlan:
    """Every row of a file checked against the community's state: entries, or errors."""

    community: str
    rows: list[PlannedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    total_rows: int = 0

    @property
    def new(self) -> list[PlannedRow]:
        return [row for row in self.rows if not row.recorded]

    @property
    def already_recorded(self) -> int:
        return sum(1 for row in self.rows if row.recorded)


ERROR_COLUMNS = {
    "unknown_unit": "unit",
    "insufficient_funds": "amount",
    "future_at": "date",
    "unit": "unit",
    "month": "month",
    "amount_fen": "amount",
    "reference": "reference",
    "payee": "counterparty",
    "donor": "counterparty",
    "description": "description",
    "purpose": "purpose",
    "fund": "fund",
    "category": "category",
    "period": "month",
}
_ENTRY_PREFIX = re.compile(r"^(entry [0-9a-f-]{36}: |条目 [0-9a-f-]{36}：)")


def plan_import(
    service: LedgerService,
    community: str,
    rows: Sequence[Row],
    key: SigningKey,
    mapping: Mapping | None = None,
    progress: Progress | None = None,
) -> ImportPlan:
    """Sign one entry per row and check every row with the rules on a copy of the state.

    Deterministic: the same rows give byte-identical entries (ids from the rows' content
    plus an occurrence counter for identical rows, ``at`` = the date at 12:00 +08:00).
    """
    mapping = mapping or Mapping()
    state = copy.deepcopy(service.state(community))
    _check_signer(state, key)
    plan = ImportPlan(community, total_rows=len(rows))
    headers = list(rows[0].cells) if rows else []
    located, reported = mapping.locate(headers), set[str]()
    seen: dict[bytes, int] = {}
    now = service.clock()
    for done, row in enumerate(rows, start=1):
        cells = _Cells(row, located, mapping, plan.errors, reported)
        parsed = _parse_row(cells, community)
        if parsed is not None:
            _plan_row(service, state, plan, cells, parsed, key, seen, now)
        if progress is not None:
            progress(done, len(rows))
    plan.errors.sort(key=lambda e: e.row)
    return plan


def _check_signer(state: CommunityState, key: SigningKey) -> None:
    """Refuse the whole file at once, not row by row, when the key cannot sign in this log."""
    record = state.keys.get(key.name)
    if record is None or not record.live or record.vkey.key_id_hex != key.verifier().key_id_hex:
        raise UnknownSignerError(
            f"key {key.name} is not a live key of community {state.community}",
            f"密钥 {key.name} 不是小区 {state.community} 的有效密钥",
        )


def _plan_row(
    service: LedgerService,
    state: CommunityState,
    plan: ImportPlan,
    cells: _Cells,
    parsed: _Parsed,
    key: SigningKey,
    seen: dict[bytes, int],
    now: datetime,
) -> None:
    identity = jcs(list(parsed.key))
    occurrence = seen.get(identity, 0)
    seen[identity] = occurrence + 1
    entry_id = str(uuid.uuid5(IMPORT_NAMESPACE, f"{identity.decode()}#{occurrence}"))
    at = f"{parsed.day.isoformat()}T12:00:00+08:00"
    try:
        entry = sign_entry(
            key,
            community=plan.community,
            type=parsed.entry_type,
            body=parsed.body,
            at=at,
            entry_id=entry_id,
        )
        index = state.index_of(entry.id)
        if index is not None:
            if service.entries(plan.community, index, index + 1)[0] != entry.entry_bytes():
                cells.fail(
                    None,
                    "duplicate_id",
                    f"this row was already recorded (index {index}) with other content; "
                    "correct it with a reversal, not by editing the file",
                    f"此行已于第 {index} 条记录，但内容不同；更正请用冲正条目，不要修改文件后重新导入",
                )
                return
            plan.rows.append(PlannedRow(cells.row.number, entry, recorded=True))
            return
        check_not_future(entry, now)
        apply(state, entry)
    except LedgerError as exc:
        _row_refused(cells, exc)
        return
    plan.rows.append(PlannedRow(cells.row.number, entry, recorded=False))


def _row_refused(cells: _Cells, exc: LedgerError) -> None:
    field_match = re.search(r"body field '(\w+)", exc.en)
    name = ERROR_COLUMNS.get(field_match[1] if field_match else exc.code)
    if name is None and "month" in exc.en:
        name = "month"
    if name == "amount":  # the column that held it: 金额, or 收入 / 支出
        filled = (n for n in ("amount", "income", "expense") if _text(cells.raw(n)) is not None)
        name = next(filled, "amount")
    en, zh = _ENTRY_PREFIX.sub("", exc.en), _ENTRY_PREFIX.sub("", exc.zh)
    if exc.code == "future_at":  # the row's date at 12:00 Beijing time is still ahead
        en = "the date is in the future (rows count at 12:00 Beijing time that day)"
        zh = "日期在未来（导入的行按当天北京时间 12:00 计）"
    cells.fail(name, exc.code, en, zh)


# --- running it -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportReport:
    """What an import did (or, in a dry run or with bad rows, would do)."""

    community: str
    dry_run: bool
    total_rows: int
    errors: list[RowError]
    to_record: list[PlannedRow]
    already_recorded: int
    recorded: list[Appended]

    @property
    def ok(self) -> bool:
        return not self.errors

    def lines(self, lang: str = "zh") -> list[str]:
        """The report as the command line prints it."""
        zh = lang.lower().startswith("zh")
        if self.errors:
            head = (
                f"{len({e.row for e in self.errors})} 行有误，本文件未记录任何内容："
                if zh
                else f"{len({e.row for e in self.errors})} bad row(s); nothing from this file was recorded:"
            )
            return [head, *(f"  {e.message(lang)}" for e in self.errors)]
        rows = [f"  {row.summary(lang)}" for row in self.to_record] if self.dry_run else []
        count, seen = len(self.to_record), self.already_recorded
        if zh:
            verb = "将记录" if self.dry_run else "已记录"
            tail = "（试运行，未写入）" if self.dry_run else ""
            return [
                *rows,
                f"共 {self.total_rows} 行：{verb} {count} 条，此前已记录 {seen} 条{tail}",
            ]
        verb = "would record" if self.dry_run else "recorded"
        tail = " (dry run: nothing written)" if self.dry_run else ""
        return [*rows, f"{self.total_rows} rows: {verb} {count}, already recorded {seen}{tail}"]


def run_import(
    service: LedgerService, plan: ImportPlan, dry_run: bool, progress: Progress | None = None
) -> ImportReport:
    """Record the plan's new entries in one atomic batch, unless a row is bad or it is a dry run."""
    new = plan.new

    def report(errors: list[RowError], recorded: list[Appended]) -> ImportReport:
        return ImportReport(
            plan.community, dry_run, plan.total_rows, errors, new, plan.already_recorded, recorded
        )

    if plan.errors or dry_run or not new:
        return report(plan.errors, [])
    if progress is not None:
        progress(0, len(new))
    try:
        results = service.submit_batch(plan.community, [row.entry for row in new])
    except LedgerError as exc:  # the log changed since the plan was made
        number = next((r.number for r in new if r.entry.id == exc.entry_id), 0)
        en, zh = _ENTRY_PREFIX.sub("", exc.en), _ENTRY_PREFIX.sub("", exc.zh)
        return report([RowError(number, None, exc.code, zh, en)], [])
    if progress is not None:
        progress(len(new), len(new))
    return report([], [a for a in results if a.created])
