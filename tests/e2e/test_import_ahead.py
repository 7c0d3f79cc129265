"""Rows read and signed ahead, in a forked process, plan exactly as rows read here.

``plan_import`` has a file's rows read and signed by ``PreparedRows``: in a forked
process (Linux) while this one judges them, or here. Whichever way, and if the forked
process stops half-way, the plan is the same: the same errors with the same row numbers,
the same entries byte for byte; and the CLI still records all rows or none.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_import import HEADER, C, Estate, write_csv
from typer.testing import CliRunner

import api.import_rows
from api.cli import app
from api.import_rows import PreparedRows, RowPreparer, can_prepare_ahead
from api.importer import ImportPlan, Mapping, load_rows, plan_import, prepare_rows, run_import

pytestmark = pytest.mark.skipif(not can_prepare_ahead(), reason="needs fork (Linux)")

# Good rows of every kind, and rows each wrong in its own way (a bad date, amount or
# kind, a missing unit or month, a future date, spending without funds, a reference too
# long for an entry: refused when it is signed, before it is judged).
ROWS = (
    "2025-04-08,256.25,物业费,1-1-102,2025-04,张**,4月物业费,B001,,",
    '2025/4/9,"1,800.00",停车,,,某停车公司,4月车位租金,B002,,',
    "2025年4月20日,100.50,支出,,,某保洁公司,4月保洁,B003,物业,保洁",
    "20250421,0.07,利息,,2025-04,,结息,B004,,",
    "2025-04-10,88.00,广告,,,,电梯广告,,,",
    "2025-04-31,10.00,停车,,,,x,B005,,",
    "2025-04-11,abc,停车,,,,x,B006,,",
    "2025-04-12,10.00,魔法,,,,x,B007,,",
    "2025-04-13,10.00,物业费,,2025-04,,x,B008,,",
    "2025-04-14,10.00,物业费,1-1-101,,,x,B009,,",
    "2099-01-01,10.00,停车,,,,x,B010,,",
    "2025-04-15,9999999.00,支出,,,某公司,大额支出,B011,物业,保洁",
    "2025-04-16,10.001,停车,,,,x,B012,,",
    f"2025-04-17,12.00,停车,,,,x,{'R' * 120},,",
)


@pytest.fixture
def estate(sqlite_url: str) -> Iterator[Estate]:
    built = Estate(sqlite_url)
    yield built
    built.service.close()


def _outcome(plan: ImportPlan) -> tuple[object, ...]:
    entries = [(r.number, r.entry.entry_bytes(), r.recorded) for r in plan.rows]
    return plan.errors, entries, plan.total_rows


def _plan(estate: Estate, path: Path, ahead: bool) -> tuple[object, ...]:
    rows = load_rows(path)
    with prepare_rows(rows, C, estate.treasurer, None, ahead=ahead) as prepared:
        return _outcome(
            plan_import(estate.service, C, rows, estate.treasurer, None, None, prepared)
        )


@given(st.lists(st.sampled_from(ROWS), min_size=1, max_size=40), st.integers(1, 7))
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_forked_and_here_plan_alike(
    estate: Estate, tmp_path: Path, lines: list[str], chunk: int
) -> None:
    """Given any mix of good, bad and repeated rows, in chunks of any size,
    when the file is planned with its rows read and signed in a forked process, and here,
    then both plans have the same errors (rows, columns, codes) and the same entries."""
    path = write_csv(tmp_path / "mixed.csv", HEADER, *lines)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api.import_rows, "CHUNK_ROWS", chunk)
        assert _plan(estate, path, ahead=True) == _plan(estate, path, ahead=False)


def test_a_forked_process_that_stops_is_finished_here(
    estate: Estate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a forked process that dies after its second chunk,
    when the file is planned,
    then the rest is read and signed here and the plan is the one made without it."""
    path = write_csv(tmp_path / "mixed.csv", HEADER, *(ROWS * 3))
    expected = _plan(estate, path, ahead=False)
    monkeypatch.setattr(api.import_rows, "CHUNK_ROWS", 4)
    parent, prepare = os.getpid(), RowPreparer.prepare

    def dies_in_the_child(
        self: RowPreparer, start: int, stop: int, sign: bool = True, verify: bool = False
    ) -> object:
        if os.getpid() != parent and start >= 8 and sign:
            os._exit(3)
        return prepare(self, start, stop, sign, verify)

    monkeypatch.setattr(RowPreparer, "prepare", dies_in_the_child)
    rows = load_rows(path)
    for forks in (1, 2, 3):
        with PreparedRows(rows, C, estate.treasurer, Mapping(), ahead=True, forks=forks) as ahead:
            assert ahead.ahead  # it did fork
            plan = plan_import(estate.service, C, rows, estate.treasurer, None, None, ahead)
        assert _outcome(plan) == expected


@pytest.mark.parametrize("forks", [1, 2, 3])
def test_forked_processes_verify_what_they_sign(
    estate: Estate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forks: int
) -> None:
    """Given a file read and signed by 1, 2 or 3 forked processes,
    when it is planned, then every good row's signature was checked there (none here),
    and the plan is the one made without them."""
    path = write_csv(tmp_path / "mixed.csv", HEADER, *(ROWS * 4))
    expected = _plan(estate, path, ahead=False)
    monkeypatch.setattr(api.import_rows, "CHUNK_ROWS", 5)
    rows = load_rows(path)
    with PreparedRows(rows, C, estate.treasurer, Mapping(), ahead=True, forks=forks) as ahead:
        plan = plan_import(estate.service, C, rows, estate.treasurer, None, None, ahead)
    assert _outcome(plan) == expected
    # every signature the fold looked at (good rows, and rows the rules refused after it)
    assert plan.verifier.inline == 0 and plan.verifier.ahead >= len(plan.rows) > 0


def test_prepared_rows_must_be_the_file_planned(estate: Estate, tmp_path: Path) -> None:
    """Given rows prepared for one file, when another file is planned with them, it fails."""
    one = load_rows(write_csv(tmp_path / "one.csv", HEADER, ROWS[0]))
    other = load_rows(write_csv(tmp_path / "other.csv", HEADER, ROWS[1]))
    with prepare_rows(one, C, estate.treasurer) as prepared, pytest.raises(ValueError):
        plan_import(estate.service, C, other, estate.treasurer, None, None, prepared)


def _statement(path: Path, count: int, bad: int | None = None) -> Path:
    lines = [
        f"2025-04-{1 + i % 28:02d},{10 + i % 90}.{i % 100:02d},停车,,,,车位 {i},P{i:06d},,"
        for i in range(count)
    ]
    if bad is not None:
        lines[bad] = f"2025-04-02,1O.00,停车,,,,车位 {bad},P{bad:06d},,"
    return write_csv(path, HEADER, *lines)


def test_the_cli_imports_a_large_file_all_or_nothing(estate: Estate, tmp_path: Path) -> None:
    """Given a statement of 1,500 rows (read and signed in a forked process),
    when it is imported with one bad row, nothing is recorded and that row is reported;
    when the good file is imported, every row is recorded in file order."""
    key = tmp_path / "treasurer.key"
    estate.treasurer.save(key)
    keys = tmp_path / "keys"
    keys.mkdir()
    url = estate.service.database_url
    estate.service.close()
    common = ["--community", C, "--key", str(key), "--db", url, "--keys", str(keys), "--json"]
    runner = CliRunner()
    size = LedgerSize(url)

    bad = runner.invoke(app, ["import", str(_statement(tmp_path / "bad.csv", 1500, 1234)), *common])
    assert bad.exit_code == 1, bad.output
    report = json.loads(bad.stdout)
    assert [(e["row"], e["column"], e["code"]) for e in report["errors"]] == [
        (1236, "金额", "bad_amount")
    ]
    assert size() == size.before

    good = runner.invoke(app, ["import", str(_statement(tmp_path / "good.csv", 1500)), *common])
    assert good.exit_code == 0, good.output
    report = json.loads(good.stdout)
    assert [r["index"] for r in report["recorded"]] == list(range(size.before, size.before + 1500))
    assert [r["row"] for r in report["to_record"]] == list(range(2, 1502))
    assert size() == size.before + 1500


class LedgerSize:
    """The community's size, read by a fresh service each time."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.before = self()

    def __call__(self) -> int:
        from ledger.store.service import LedgerService

        service = LedgerService(self.url)
        try:
            return service.size(C)
        finally:
            service.close()


def test_a_large_plan_forked_after_the_ledger_opened_is_stored_once(
    database_url: str, tmp_path: Path
) -> None:
    """Given a ledger already open (SQLite or PostgreSQL) when the rows are forked off,
    when a 700-row file is planned and run,
    then every row is stored once, and a fresh service reads the same log."""
    estate = Estate(database_url)
    try:
        before = estate.size
        rows = load_rows(_statement(tmp_path / "big.csv", 700))
        plan = plan_import(estate.service, C, rows, estate.treasurer)
        report = run_import(estate.service, plan, dry_run=False)
        assert report.ok and len(report.recorded) == 700
        assert [a.index for a in report.recorded] == list(range(before, before + 700))
        fresh = LedgerSize(database_url)
        assert fresh.before == estate.size == before + 700
    finally:
        estate.service.close()
