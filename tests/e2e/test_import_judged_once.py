"""An import is judged once, and judged again only when the log moved since its plan.

``run_import`` stores the plan's draft (every row already judged on it) while the log
still has the size the plan started from; when another writer appended meanwhile, every
row is judged again on the newer state, so a row the new entry made invalid is refused
and nothing from the file is recorded. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_import import GOOD, HEADER, C, Estate, write_csv

from api.importer import load_rows, plan_import, run_import
from ledger.core.entry import parse_logged_entry
from ledger.core.rules import evolve
from ledger.core.state import CommunityState
from ledger.store.service import LedgerService


@pytest.fixture
def estate(database_url: str) -> Iterator[Estate]:
    built = Estate(database_url)
    yield built
    built.service.close()


def _fold_of_store(url: str) -> CommunityState:
    """The rules' fold of every stored entry, read by a fresh service."""
    fresh = LedgerService(url)
    try:
        state = CommunityState()
        for data in fresh.entries(C, 0, fresh.size(C)):
            evolve(state, parse_logged_entry(data))
        return state
    finally:
        fresh.close()


def test_the_stored_import_equals_the_fold_of_the_log(estate: Estate, tmp_path: Path) -> None:
    """Given a plan judged on the current log,
    when it is run with nothing appended in between,
    then every row is stored, and both the service's state and a fresh service's agree
    with the fold of the stored log."""
    before = estate.size
    report = estate.run(write_csv(tmp_path / "q2.csv", HEADER, *GOOD))
    assert report.ok and [a.index for a in report.recorded] == list(range(before, before + 4))
    folded = _fold_of_store(estate.service.database_url)
    assert estate.service.state(C) == folded
    fresh = LedgerService(estate.service.database_url)
    try:
        assert fresh.state(C) == folded
    finally:
        fresh.close()


def test_a_plan_is_judged_again_when_the_log_moved(estate: Estate, tmp_path: Path) -> None:
    """Given a plan, and then another writer recording an entry,
    when the plan is run,
    then its rows are judged again on the newer log and appended after that entry."""
    plan = plan_import(
        estate.service, C, load_rows(write_csv(tmp_path / "a.csv", HEADER, *GOOD)), estate.treasurer
    )
    other = LedgerService(estate.service.database_url)
    try:
        other.submit(
            C,
            estate.sign(
                estate.treasurer,
                "revenue.received",
                {"source": "parking", "amount_fen": 100, "description": "x"},
            ),
        )
    finally:
        other.close()
    size = estate.size
    report = run_import(estate.service, plan, dry_run=False)
    assert report.ok and [a.index for a in report.recorded] == list(range(size, size + 4))
    assert estate.service.state(C) == _fold_of_store(estate.service.database_url)


def test_a_row_the_newer_log_refuses_records_nothing(estate: Estate, tmp_path: Path) -> None:
    """Given a plan spending money that another writer spends first,
    when the plan is run,
    then the spending row is refused on the newer log and nothing from the file is recorded."""
    fee = "2025-04-08,300.00,物业费,1-1-102,2025-04,张**,4月物业费,B7,,"
    assert estate.run(write_csv(tmp_path / "fee.csv", HEADER, fee)).ok
    spend = "2025-04-22,200.00,支出,,,某保洁公司,4月保洁,B9,物业,保洁"
    path = write_csv(tmp_path / "s.csv", HEADER, spend)
    plan = plan_import(estate.service, C, load_rows(path), estate.treasurer)
    assert not plan.errors
    other = LedgerService(estate.service.database_url)
    try:
        first = write_csv(tmp_path / "first.csv", HEADER, spend.replace("B9", "B8"))
        assert run_import(
            other, plan_import(other, C, load_rows(first), estate.treasurer), False
        ).ok
    finally:
        other.close()
    size = estate.size
    report = run_import(estate.service, plan, dry_run=False)
    assert [e.code for e in report.errors] == ["insufficient_funds"]
    assert report.recorded == [] and estate.size == size
