"""The statement export as an Excel workbook: "汇总 Summary" and "明细 Lines" (openpyxl).

The summary repeats the published statement's figures per fund (opening, each inflow and
outflow category, closing) with the statement's identity; the lines sheet holds every
money movement behind them. Amounts are exact: yuan as text ("1234.50") and fen as
integers, never floats.
"""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Font  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]
from openpyxl.worksheet.worksheet import Worksheet  # type: ignore[import-untyped]

from api.notice_labels import category_label, fund_label, period_label
from api.statement_export import LINE_HEADERS, Line, PublishedStatement, line_row
from ledger.core.money import yuan

SUMMARY_HEADERS = (
    "资金 Fund",
    "项目 Item",
    "科目 Category",
    "金额(元) Amount (yuan)",
    "金额(分) Amount (fen)",
)
BOLD = Font(bold=True)
RIGHT = Alignment(horizontal="right")


def summary_rows(statement: PublishedStatement, zh: bool) -> list[list[str | int]]:
    """Per fund: opening, each inflow, total in, each outflow, total out, closing."""
    rows: list[list[str | int]] = []
    for fund, figures in statement.figures["funds"].items():
        name = f"{fund} {fund_label(fund, zh)}"

        def row(item: str, cat: str, fen: int, fund_name: str = name) -> list[str | int]:
            return [fund_name, item, cat, yuan(fen).replace(",", ""), fen]

        rows.append(row("期初余额 Opening", "", figures["opening_fen"]))
        for cat, fen in figures["inflows"].items():
            rows.append(row("收入 In", f"{cat} {category_label(cat, zh)}", fen))
        rows.append(row("收入合计 Total in", "", figures["in_fen"]))
        for cat, fen in figures["outflows"].items():
            rows.append(row("支出 Out", f"{cat} {category_label(cat, zh)}", fen))
        rows.append(row("支出合计 Total out", "", figures["out_fen"]))
        rows.append(row("期末余额 Closing", "", figures["closing_fen"]))
    return rows


def _identity(statement: PublishedStatement, zh: bool, count: int) -> list[tuple[str, Any]]:
    return [
        ("小区 Community", f"{statement.name} ({statement.community})"),
        ("期间 Period", f"{statement.period} {period_label(statement.period, zh)}"),
        ("报表条目 Statement entry", f"#{statement.index} {statement.entry_id}"),
        ("覆盖范围 Covered log range", f"[{statement.start}, {statement.end})"),
        ("覆盖根哈希 Covered root (base64)", statement.covered_root),
        ("签名人 Signed by", statement.signer),
        ("业委会批准 Approved by", ", ".join(statement.approvals) or "—"),
        ("明细行数 Lines", count),
    ]


def _widths(sheet: Worksheet, widths: list[int]) -> None:
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width


def _summary_sheet(sheet: Worksheet, statement: PublishedStatement, zh: bool, count: int) -> None:
    for label, value in _identity(statement, zh, count):
        sheet.append([label, value])
        sheet.cell(sheet.max_row, 1).font = BOLD
    sheet.append([])
    sheet.append(list(SUMMARY_HEADERS))
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = BOLD
    for values in summary_rows(statement, zh):
        sheet.append(values)
        sheet.cell(sheet.max_row, 4).alignment = RIGHT
        if str(values[1]).startswith(("期初", "期末", "收入合计", "支出合计")):
            for cell in sheet[sheet.max_row]:
                cell.font = BOLD
    _widths(sheet, [34, 22, 36, 24, 20])


def _lines_sheet(sheet: Worksheet, lines: list[Line], zh: bool) -> None:
    sheet.append(list(LINE_HEADERS))
    for cell in sheet[1]:
        cell.font = BOLD
    for line in lines:
        sheet.append(line_row(line, zh))
        sheet.cell(sheet.max_row, 12).alignment = RIGHT
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(LINE_HEADERS))}{max(1, sheet.max_row)}"
    _widths(sheet, [8, 38, 12, 22, 26, 10, 24, 20, 10, 28, 40, 18, 16, 22])


def xlsx_bytes(statement: PublishedStatement, lines: list[Line], zh: bool) -> bytes:
    """The workbook: "汇总 Summary" first, then "明细 Lines"."""
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "汇总 Summary"
    _summary_sheet(summary, statement, zh, len(lines))
    _lines_sheet(book.create_sheet("明细 Lines"), lines, zh)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
