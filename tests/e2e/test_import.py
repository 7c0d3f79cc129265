"""``glasspocket import FILE``: bank statements and ledgers (CSV, XLSX) become signed entries.

Each test founds a small community on its own SQLite file (committee, treasurer, three
units with maintenance deposits) and imports files written the way a treasurer's Excel
or bank would write them.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.demo import build_demo
from api.importer import (
    CellError,
    ImportReport,
    Mapping,
    load_rows,
    plan_import,
    run_import,
    to_fen,
)
from ledger.core.entry import Entry, parse_logged_entry, sign_entry
from ledger.core.errors import LedgerError
from ledger.core.keys import SigningKey
from ledger.core.policy import build_policy
from ledger.store.service import LedgerService

C = "estate"
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
HEADER = "日期,金额,类型,房号,所属月份,对方户名,摘要,流水号,基金,支出类别"


class Estate:
    """A founded community with a treasurer, three units and their first deposits."""

    def __init__(self, url: str) -> None:
        self.service = LedgerService(url)
        self.committee = SigningKey.generate(f"{C}/committee")
        self.treasurer = SigningKey.generate(f"{C}/treasurer")
        log_key = SigningKey.generate(f"localhost/c/{C}/log")
        self.service.add_log_key(log_key)
        founded = self.sign(
            self.committee,
            "community.founded",
            {
                "name": "测试小区",
                "origin": f"localhost/c/{C}/log",
                "keys": [{"vkey": str(self.committee.verifier()), "role": "committee"}],
            },
        )
        self.service.found(founded, str(build_policy(log_key.verifier(), [], "none")))
        setup = [
            self.sign(
                self.committee,
                "key.registered",
                {"vkey": str(self.treasurer.verifier()), "role": "treasurer"},
            )
        ]
        for code, area in (("1-1-101", 890_000), ("1-1-102", 1_080_000), ("2-1-503", 1_210_000)):
            setup.append(
                self.sign(
                    self.treasurer,
                    "unit.registered",
                    {"unit": code, "building": code[0], "area_cm2": area, "owner": f"o-{code}"},
                )
            )
            setup.append(
                self.sign(
                    self.treasurer,
                    "contribution.received",
                    {
                        "fund": "maintenance",
                        "unit": code,
                        "amount_fen": 500_000,
                        "deposit": "initial",
                    },
                )
            )
        self.service.submit_batch(C, setup)

    def sign(self, key: SigningKey, entry_type: str, body: dict[str, Any]) -> Entry:
        return sign_entry(
            key, community=C, type=entry_type, body=body, at="2025-01-03T09:00:00+08:00"
        )

    @property
    def size(self) -> int:
        return self.service.size(C)

    def logged(self, start: int) -> list[Entry]:
        return [parse_logged_entry(b) for b in self.service.entries(C, start, self.size)]

    def run(
        self, path: Path, dry_run: bool = False, mapping: Mapping | None = None
    ) -> ImportReport:
        rows = load_rows(path, mapping=mapping)
        plan = plan_import(self.service, C, rows, self.treasurer, mapping)
        return run_import(self.service, plan, dry_run)


@pytest.fixture
def estate(sqlite_url: str) -> Iterator[Estate]:
    built = Estate(sqlite_url)
    yield built
    built.service.close()


def write_csv(path: Path, *lines: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


GOOD = (
    "2025-04-08,256.25,物业费,1-1-102,2025-04,张**,4月物业费,B001,,",
    '2025/4/9,"1,800.00",停车,,,某停车公司,4月车位租金,B002,,',
    "2025年4月20日,100.50,支出,,,某保洁公司,4月保洁,B003,物业,保洁",
    "20250421,0.07,利息,,2025-04,,结息,B004,,",
)


def test_import_records_each_row_with_exact_fen(estate: Estate, tmp_path: Path) -> None:
    """Given a CSV of a fee, a parking rent, an expense and interest,
    when it is imported,
    then one entry per row is recorded, with the amounts in exact fen and the date at noon."""
    start = estate.size
    report = estate.run(write_csv(tmp_path / "q2.csv", HEADER, *GOOD))
    assert report.ok and len(report.recorded) == 4 and report.already_recorded == 0
    entries = estate.logged(start)
    assert [(e.type, e.body["amount_fen"], e.at) for e in entries] == [
        ("contribution.received", 25625, "2025-04-08T12:00:00+08:00"),
        ("revenue.received", 180000, "2025-04-09T12:00:00+08:00"),
        ("expense.paid", 10050, "2025-04-20T12:00:00+08:00"),
        ("interest.credited", 7, "2025-04-21T12:00:00+08:00"),
    ]
    assert entries[0].body == {
        "fund": "property", "unit": "1-1-102", "month": "2025-04", "amount_fen": 25625,
        "reference": "B001",
    }  # fmt: skip
    assert entries[2].body["payee"] == "某保洁公司" and entries[2].body["category"] == "cleaning"
    assert all(e.signer == estate.treasurer.name for e in entries)
    funds = estate.service.state(C).funds
    assert funds["property"] == 25625 - 10050
    assert funds["public_revenue"] == 180000
    assert funds["maintenance"] == 3 * 500_000 + 7


def test_the_same_file_twice_records_nothing_new(estate: Estate, tmp_path: Path) -> None:
    """Given a file already imported,
    when it is imported again (even by a freshly started service),
    then every row counts as already recorded and the log does not grow."""
    path = write_csv(tmp_path / "q2.csv", HEADER, *GOOD)
    first = estate.run(path)
    size = estate.size
    again = estate.run(path)
    assert len(first.recorded) == 4
    assert again.ok and again.recorded == [] and again.to_record == []
    assert again.already_recorded == 4 and estate.size == size
    fresh = LedgerService(estate.service.database_url)
    try:
        plan = plan_import(fresh, C, load_rows(path), estate.treasurer)
        assert plan.already_recorded == 4 and plan.new == []
    finally:
        fresh.close()


def test_identical_rows_in_one_file_are_distinct_payments(estate: Estate, tmp_path: Path) -> None:
    """Given two identical rows (the same unit paid the same sum twice on one day),
    when the file is imported twice,
    then both payments are recorded once each."""
    row = "2025-04-08,256.25,物业费,1-1-102,2025-04,张**,物业费,,,"
    path = write_csv(tmp_path / "twice.csv", HEADER, row, row)
    assert len(estate.run(path).recorded) == 2
    assert estate.run(path).already_recorded == 2


@pytest.mark.parametrize(
    ("bad_row", "column", "code"),
    [
        ("2025-04-08,256.25,物业费,9-9-909,2025-04,张**,物业费,B9,,", "房号", "unknown_unit"),
        ("2025-04-08,12.345,物业费,1-1-101,2025-04,张**,物业费,B9,,", "金额", "too_many_decimals"),
        ("下周二,256.25,物业费,1-1-101,2025-04,张**,物业费,B9,,", "日期", "bad_date"),
        ("2025-02-30,256.25,物业费,1-1-101,2025-04,张**,物业费,B9,,", "日期", "bad_date"),
        # within the routine limit (5,000 yuan: no proposal needed), above the property balance
        ("2025-04-22,4999.00,支出,,,某公司,大修,B9,物业,维修", "金额", "insufficient_funds"),
        ("2025-04-22,80.00,物业费,1-1-101,,张**,物业费,B9,,", "所属月份", "missing_value"),
        ("2025-04-22,80.00,管理费,1-1-101,2025-04,张**,物业费,B9,,", "类型", "unknown_kind"),
        ("2025-04-22,-80.00,物业费,1-1-101,2025-04,张**,退款,B9,,", "金额", "wrong_direction"),
    ],
)
def test_a_bad_row_records_nothing_from_the_file(
    estate: Estate, tmp_path: Path, bad_row: str, column: str, code: str
) -> None:
    """Given a file whose fourth row is bad and whose other rows are good,
    when it is imported,
    then nothing is recorded, and the report names row 4, its column and why."""
    size = estate.size
    path = write_csv(tmp_path / "bad.csv", HEADER, *GOOD[:2], bad_row, *GOOD[2:])
    report = estate.run(path)
    assert not report.ok and report.recorded == []
    assert [(e.row, e.column, e.code) for e in report.errors] == [(4, column, code)]
    assert estate.size == size
    assert report.lines("zh")[0].startswith("1 行有误")
    assert "第 4 行" in report.lines("zh")[1] and column in report.lines("zh")[1]
    assert report.lines("en")[1].startswith(f"  row 4 [{column}]: ")


def test_every_bad_row_is_reported_at_once(estate: Estate, tmp_path: Path) -> None:
    """Given a file with four different bad rows,
    when it is planned,
    then all four are reported, by row number, and nothing is recorded."""
    size = estate.size
    path = write_csv(
        tmp_path / "bad.csv",
        HEADER,
        GOOD[0],
        "2025-04-08,256.25,物业费,9-9-909,2025-04,张**,物业费,B5,,",
        "2025-04-08,12.345,物业费,1-1-101,2025-04,张**,物业费,B6,,",
        "not a date,256.25,物业费,1-1-101,2025-04,张**,物业费,B7,,",
        "2025-04-22,4999.00,支出,,,某公司,大修,B8,物业,维修",
    )
    report = estate.run(path)
    assert [(e.row, e.code) for e in report.errors] == [
        (3, "unknown_unit"), (4, "too_many_decimals"), (5, "bad_date"), (6, "insufficient_funds"),
    ]  # fmt: skip
    assert estate.size == size


def test_spending_that_needs_a_proposal_is_refused(estate: Estate, tmp_path: Path) -> None:
    """Given funds to pay from, and rows spending above the routine limit from the property
    fund (5,000.01 yuan) and from the common revenue (not a cost of earning it),
    when the file is imported (a row cites no proposal),
    then both rows are refused as not authorised and nothing is recorded."""
    funding = write_csv(
        tmp_path / "in.csv",
        HEADER,
        "2025-04-08,6000.00,物业费,1-1-102,2025-04,张**,预交物业费,B1,,",
        '2025/4/9,"1,800.00",停车,,,某停车公司,4月车位租金,B2,,',
    )
    assert estate.run(funding).ok
    size = estate.size
    path = write_csv(
        tmp_path / "out.csv",
        HEADER,
        "2025-04-22,5000.01,支出,,,某公司,大修,B3,物业,维修",
        "2025-04-22,100.00,支出,,,某公司,活动,B4,公共收益,其他",
    )
    report = estate.run(path)
    assert [(e.row, e.code) for e in report.errors] == [
        (2, "not_authorised"),
        (3, "not_authorised"),
    ]
    assert estate.size == size


def test_dry_run_lists_what_would_be_recorded_and_records_nothing(
    estate: Estate, tmp_path: Path
) -> None:
    """Given a good file,
    when it is imported with --dry-run,
    then the report lists each entry that would be recorded and the log does not grow."""
    size = estate.size
    path = write_csv(tmp_path / "q2.csv", HEADER, *GOOD)
    progress: list[tuple[int, int]] = []
    plan = plan_import(
        estate.service,
        C,
        load_rows(path),
        estate.treasurer,
        progress=lambda done, total: progress.append((done, total)),
    )
    report = run_import(estate.service, plan, dry_run=True)
    assert progress[-1] == (4, 4)  # a chunk of rows at a time, up to every row
    assert [done for done, _ in progress] == sorted({done for done, _ in progress})
    assert report.ok and report.recorded == [] and estate.size == size
    assert [row.number for row in report.to_record] == [2, 3, 4, 5]
    lines = report.lines("zh")
    assert (
        lines[0]
        == "  第 2 行  2025-04-08  contribution.received  property 1-1-102 2025-04  256.25 元"
    )
    assert lines[-1] == "共 4 行：将记录 4 条，此前已记录 0 条（试运行，未写入）"
    assert (
        report.lines("en")[-1]
        == "4 rows: would record 4, already recorded 0 (dry run: nothing written)"
    )


def test_gb18030_csv_with_chinese_bank_headers(estate: Estate, tmp_path: Path) -> None:
    """Given a bank export in GB18030 with separate 收入/支出 columns, a title line and a total,
    when it is imported,
    then the headers are found and the income and expense rows recorded."""
    path = write_csv(
        tmp_path / "bank.csv",
        "某银行对公账户交易明细",
        "交易日期,收入金额,支出金额,对方户名,摘要,交易流水号,类型,房号,所属月份,基金,支出类别",
        '2025-04-08,"1,215.40",0.00,某文化公司,活动室租金,="0001",场地,,,,',
        "2025-04-09,356.25,,张**,物业费,0002,物业费,1-1-101,2025年4月,,",
        "2025-04-10,0.00,300.00,某绿化公司,补种草坪,0003,,,,物业费,绿化",
        "合计,1571.65,300.00,,,,,,,,",
        encoding="gb18030",
    )
    rows = load_rows(path)
    assert [row.number for row in rows] == [3, 4, 5]
    start = estate.size
    report = estate.run(path)
    assert report.ok, report.lines("en")
    entries = estate.logged(start)
    assert [(e.type, e.body["amount_fen"]) for e in entries] == [
        ("revenue.received", 121540),
        ("contribution.received", 35625),
        ("expense.paid", 30000),
    ]
    assert entries[0].body["reference"] == "0001" and entries[0].body["source"] == "venue"
    assert entries[1].body["month"] == "2025-04"
    assert entries[2].body["fund"] == "property" and entries[2].body["category"] == "greening"
    assert estate.service.state(C).funds["property"] == 35625 - 30000


def test_xlsx_numbers_become_exact_fen(estate: Estate, tmp_path: Path) -> None:
    """Given an XLSX with Excel dates and float amounts (215.4, 0.1+0.2, 1234.56, 80),
    when it is imported,
    then each amount is the fen Excel shows: 21540, 30, 123456, 8000."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["日期", "金额", "类型", "房号", "所属月份"])
    amounts = (215.4, 0.1 + 0.2, 1234.56, 80)
    for day, amount in enumerate(amounts, start=1):
        sheet.append([datetime.datetime(2025, 4, day), amount, "物业费", "1-1-101", "2025-04"])
    sheet.append([datetime.date(2025, 4, 9), "12.3", "停车", None, None])
    path = tmp_path / "ledger.xlsx"
    book.save(path)
    start = estate.size
    report = estate.run(path)
    assert report.ok, report.lines("en")
    entries = estate.logged(start)
    assert [e.body["amount_fen"] for e in entries] == [21540, 30, 123456, 8000, 1230]
    assert [e.at[:10] for e in entries] == [f"2025-04-0{d}" for d in (1, 2, 3, 4, 9)]


def test_the_csv_and_the_xlsx_of_one_statement_are_one_import(tmp_path: Path) -> None:
    """Given the demo community and the shipped example statement in CSV and in XLSX,
    when the CSV is imported and then the XLSX,
    then the CSV records all nine rows and the XLSX finds them already recorded."""
    service = LedgerService(f"sqlite:///{tmp_path / 'demo.db'}")
    try:
        treasurer = build_demo(service).key("treasurer")
        for name, recorded, already in (("bank-2025Q2.csv", 9, 0), ("bank-2025Q2.xlsx", 0, 9)):
            plan = plan_import(service, "demo", load_rows(EXAMPLES / name), treasurer)
            report = run_import(service, plan, dry_run=False)
            assert report.ok, report.lines("en")
            assert (len(report.recorded), report.already_recorded) == (recorded, already)
    finally:
        service.close()


def test_a_changed_row_is_refused_not_recorded_twice(estate: Estate, tmp_path: Path) -> None:
    """Given an imported expense,
    when the file is edited to give that row another category and imported again,
    then the row is refused as already recorded with other content (a reversal corrects it)."""
    path = write_csv(tmp_path / "q2.csv", HEADER, *GOOD)
    estate.run(path)
    size = estate.size
    write_csv(path, HEADER, *GOOD[:2], GOOD[2].replace(",物业,保洁", ",物业,绿化"), GOOD[3])
    report = estate.run(path)
    assert [(e.row, e.code) for e in report.errors] == [(4, "duplicate_id")]
    assert estate.size == size


def test_a_mapping_file_renames_columns_and_kinds(estate: Estate, tmp_path: Path) -> None:
    """Given a ledger with its own header names and a kind called 管理费,
    when it is imported with a mapping file naming them,
    then the rows are read through that mapping."""
    mapping_path = tmp_path / "mapping.json"
    mapping_path.write_text(
        json.dumps(
            {
                "columns": {"date": ["记账日"], "amount": "实收"},
                "kinds": {"管理费": "property_fee"},
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    mapping = Mapping.load(mapping_path)
    path = write_csv(
        tmp_path / "old.csv",
        "记账日,实收,类型,房号,所属月份",
        "2025-04-03,99.9,管理费,2-1-503,2025-04",
    )
    start = estate.size
    assert estate.run(path, mapping=mapping).ok
    assert estate.logged(start)[0].body["amount_fen"] == 9990
    missing = estate.run(path)  # the default mapping finds no date column
    assert [(e.row, e.column, e.code) for e in missing.errors] == [
        (1, "日期", "missing_column"),
        (1, "金额", "missing_column"),
        (2, "类型", "unknown_kind"),
    ]


@given(st.integers(0, 10**11), st.integers(0, 10**11))
def test_spreadsheet_floats_of_cents_are_exact(a: int, b: int) -> None:
    """For all amounts a and b in fen below a billion yuan, a float cell holding a/100 + b/100
    (as a spreadsheet sum computes it) reads as a + b fen exactly."""
    assert to_fen(a / 100) == a
    assert to_fen(a / 100 + b / 100) == a + b


@pytest.mark.parametrize("text", ["12.345", "0.001", "1e-3"])
def test_more_than_two_decimals_is_refused(text: str) -> None:
    with pytest.raises(CellError):
        to_fen(text)
    with pytest.raises(CellError):
        to_fen(float(text))


def test_future_rows_and_foreign_keys_are_refused(estate: Estate, tmp_path: Path) -> None:
    """Given a row dated next year, and a key the community never registered,
    when they are planned,
    then the row is refused on its date column, and the key before any row is read."""
    next_year = datetime.date.today().year + 1
    path = write_csv(tmp_path / "f.csv", HEADER, f"{next_year}-01-05,10.00,停车,,,某公司,租金,,,")
    report = estate.run(path)
    assert [(e.row, e.column, e.code) for e in report.errors] == [(2, "日期", "future_at")]
    stranger = SigningKey.generate(f"{C}/stranger")
    with pytest.raises(LedgerError) as refused:
        plan_import(estate.service, C, load_rows(path), stranger)
    assert refused.value.code == "unknown_signer"
