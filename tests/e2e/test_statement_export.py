"""``glasspocket statement export PERIOD --out FILE.xlsx|.csv``: every line behind the figures.

The demo is built by the real command line; each export is read back as a treasurer's
spreadsheet would read it (openpyxl, csv with its BOM) and its lines are summed: per fund
and category they must equal the published statement's inflows and outflows exactly, and
opening + lines = closing. The statement's figures come from its bundle, not the exporter.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl  # type: ignore[import-untyped]
import pytest
from conftest import run_command
from forgery import DemoExport

from ledger.core.entry import parse_logged_entry

PERIODS = ("2025Q1", "2025Q2", "2025Q3", "2025Q4")
FEN, YUAN, FUND, DIRECTION, CATEGORY = (
    "金额(分) Amount (fen)",
    "金额(元) Amount (yuan)",
    "资金 Fund",
    "收支 In/out",
    "科目 Category",
)


def _glasspocket(demo: DemoExport, *args: str | Path, lang: str = "en") -> Any:
    common = ("--community", "demo", "--db", demo.db_url, "--keys", demo.keys)
    return run_command("glasspocket", *args, *common, lang=lang)


def _figures(demo: DemoExport, period: str, folder: Path) -> dict[str, Any]:
    bundle = folder / f"{period}.json"
    proc = _glasspocket(demo, "statement", "bundle", period, "--out", bundle)
    assert proc.returncode == 0, proc.stderr
    entry = json.loads(bundle.read_text(encoding="utf-8"))["entry"]
    figures: dict[str, Any] = parse_logged_entry(base64.b64decode(entry)).body["figures"]
    return figures


def _export(demo: DemoExport, period: str, out: Path, lang: str = "en") -> dict[str, Any]:
    proc = _glasspocket(demo, "statement", "export", period, "--out", out, "--json", lang=lang)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def _assert_lines_make_the_figures(rows: list[dict[str, Any]], figures: dict[str, Any]) -> None:
    sums: Counter[tuple[str, str, str]] = Counter()
    net: Counter[str] = Counter()
    for row in rows:
        fen = int(row[FEN])
        assert _yuan_text(fen) == row[YUAN]  # the yuan text is the exact fen
        fund = str(row[FUND]).split()[0]
        direction = "in" if str(row[DIRECTION]).endswith("in") else "out"
        assert (fen > 0) == (direction == "in")
        sums[(fund, direction, str(row[CATEGORY]))] += abs(fen)
        net[fund] += fen
    stated = Counter(
        {
            (fund, direction, name): fen
            for fund, f in figures["funds"].items()
            for direction, flows in (("in", f["inflows"]), ("out", f["outflows"]))
            for name, fen in flows.items()
        }
    )
    assert sums == stated
    for fund, f in figures["funds"].items():
        assert f["opening_fen"] + net[fund] == f["closing_fen"]


def _yuan_text(fen: int) -> str:
    whole, cents = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}{whole}.{cents:02d}"


@pytest.mark.parametrize("period", PERIODS)
def test_the_xlsx_lines_sum_exactly_to_the_statement(
    demo: DemoExport, tmp_path: Path, period: str
) -> None:
    out = tmp_path / f"{period}.xlsx"
    result = _export(demo, period, out)
    book = openpyxl.load_workbook(out, read_only=True)
    assert book.sheetnames == ["汇总 Summary", "明细 Lines"]
    lines = list(book["明细 Lines"].iter_rows(values_only=True))
    header = [str(cell) for cell in lines[0]]
    assert header[:3] == ["序号 Index", "条目ID Entry id", "日期 Date"]
    assert FEN in header and YUAN in header and "签名人 Signer" in header
    rows = [dict(zip(header, row, strict=True)) for row in lines[1:]]
    assert len(rows) == result["lines"] > 0
    figures = _figures(demo, period, tmp_path)
    _assert_lines_make_the_figures(rows, figures)
    summary = [row for row in book["汇总 Summary"].iter_rows(values_only=True) if any(row)]
    closing = {str(row[0]).split()[0]: row[4] for row in summary if row[1] == "期末余额 Closing"}
    assert closing == {fund: f["closing_fen"] for fund, f in figures["funds"].items()}


def test_the_csv_opens_in_excel_with_chinese_and_sums_exactly(
    demo: DemoExport, tmp_path: Path
) -> None:
    out = tmp_path / "q2.csv"
    result = _export(demo, "2025Q2", out, lang="zh_CN.UTF-8")
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads it as UTF-8
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == result["lines"]
    assert {row["日期 Date"][:7] for row in rows} <= {"2025-04", "2025-05", "2025-06"}
    assert any(row["科目名称 Category name"] == "物业费" for row in rows)
    _assert_lines_make_the_figures(rows, _figures(demo, "2025Q2", tmp_path))
    assert result["in_fen"] == sum(int(r[FEN]) for r in rows if int(r[FEN]) > 0)


def test_the_export_is_repeatable(demo: DemoExport, tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    _export(demo, "2025Q3", first)
    _export(demo, "2025Q3", second)
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize(
    ("period", "name", "code", "zh_words"),
    [
        ("2030Q1", "x.xlsx", "statement_not_published", "尚未发布"),
        ("2025Q5", "x.csv", "malformed", "季度"),
        ("2025Q2", "x.pdf", "malformed", ".xlsx"),
    ],
)
def test_errors_are_clear_and_write_nothing(
    demo: DemoExport, tmp_path: Path, period: str, name: str, code: str, zh_words: str
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / name
    for lang in ("en", "zh_CN.UTF-8"):
        proc = _glasspocket(demo, "statement", "export", period, "--out", out, lang=lang)
        assert proc.returncode == 1
        assert f"[{code}]" in proc.stderr
        if lang != "en":
            assert zh_words in proc.stderr
    assert list(folder.iterdir()) == []
