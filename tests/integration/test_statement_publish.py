"""Publishing quarterly statements on the demo's year (DOMAIN.md "Statements")."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from api.demo import DemoCast, build_demo
from ledger.core.entry import Entry, sign_entry
from ledger.core.errors import DuplicateIdError, FutureTimestampError, RuleViolation
from ledger.core.statement_rules import StatementMismatchError, approved, expected_body
from ledger.core.statements import statement_at, statement_id
from ledger.store.bundles import publish_statement
from ledger.store.service import LedgerService

# 2026Q1 and Q2 have ended by then; the demo itself published the four quarters of 2025.
AFTER_THE_YEAR = datetime(2026, 7, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LedgerService, DemoCast]]:
    folder: Path = tmp_path_factory.mktemp("statements")
    service = LedgerService(f"sqlite:///{folder / 'demo.db'}")
    cast = build_demo(service)
    publish_statement(service, "demo", "2026Q1", cast.key("treasurer"), lambda: AFTER_THE_YEAR)
    yield service, cast
    service.close()


def _statement(cast: DemoCast, period: str, body: dict[str, object], entry_id: str) -> Entry:
    return sign_entry(
        cast.key("treasurer"),
        community="demo",
        type="statement.published",
        body=body,
        at=statement_at(period),
        entry_id=entry_id,
    )


def test_publishing_again_is_the_same_entry(demo: tuple[LedgerService, DemoCast]) -> None:
    """Given the statement of 2026Q1 published, when it is published again,
    then the same entry (same bytes, same index) comes back and nothing is appended."""
    service, cast = demo
    size = service.size("demo")
    record = service.state("demo").statements.published["2026Q1"]
    again = publish_statement(service, "demo", "2026Q1", cast.key("treasurer"))
    assert not again.created
    assert again.index == record.index
    assert again.entry_bytes == service.entries("demo", record.index, record.index + 1)[0]
    assert again.entry_id == statement_id("demo", "2026Q1")
    assert service.size("demo") == size


def test_a_statement_is_dated_the_periods_last_second(
    demo: tuple[LedgerService, DemoCast],
) -> None:
    """Given the published statement, its at is the period's last second in Asia/Shanghai,
    it covers [0, its own index) and its covered root is the stored tree's root of that size."""
    service, _ = demo
    record = service.state("demo").statements.published["2026Q1"]
    entry = service.entries("demo", record.index, record.index + 1)[0]
    assert b'"at":"2026-03-31T23:59:59+08:00"' in entry
    assert record.end == record.index


def test_an_unfinished_period_is_refused(demo: tuple[LedgerService, DemoCast]) -> None:
    """Given a quarter that has not ended by the clock, when its statement is published,
    then it is refused and nothing is appended; submitted directly, the service refuses it too."""
    service, cast = demo
    size = service.size("demo")
    one_second_before = datetime(2026, 12, 31, 15, 59, 58, tzinfo=UTC)
    with pytest.raises(FutureTimestampError):
        publish_statement(
            service, "demo", "2026Q4", cast.key("treasurer"), lambda: one_second_before
        )
    body = expected_body(service.state("demo"), "2099Q4")
    with pytest.raises(FutureTimestampError):
        service.submit("demo", _statement(cast, "2099Q4", body, statement_id("demo", "2099Q4")))
    assert service.size("demo") == size


def test_a_second_statement_for_a_period_is_refused(demo: tuple[LedgerService, DemoCast]) -> None:
    """Given 2026Q1 published, when another statement for 2026Q1 is submitted (its own id with
    other content, or a fresh id), then both are refused."""
    service, cast = demo
    body = expected_body(service.state("demo"), "2026Q1")
    with pytest.raises(DuplicateIdError):
        service.submit("demo", _statement(cast, "2026Q1", body, statement_id("demo", "2026Q1")))
    with pytest.raises(RuleViolation, match="already published"):
        service.submit("demo", _statement(cast, "2026Q1", body, str(uuid.uuid4())))


def test_periods_are_published_in_order(demo: tuple[LedgerService, DemoCast]) -> None:
    """Given 2026Q1 published, when 2024Q4 is submitted, then it is refused."""
    service, cast = demo
    body = expected_body(service.state("demo"), "2024Q4")
    with pytest.raises(RuleViolation, match="in order"):
        service.submit("demo", _statement(cast, "2024Q4", body, statement_id("demo", "2024Q4")))


def test_a_wrong_figure_is_refused_naming_it(demo: tuple[LedgerService, DemoCast]) -> None:
    """Given the statement of 2026Q2 with one figure changed, when it is submitted,
    then it is refused with code statement_mismatch naming the figure and both values."""
    service, cast = demo
    body = expected_body(service.state("demo"), "2026Q2")
    true_value = body["figures"]["funds"]["property"]["closing_fen"]  # type: ignore[index]
    body["figures"]["funds"]["property"]["closing_fen"] = true_value + 1  # type: ignore[index]
    with pytest.raises(StatementMismatchError) as refused:
        service.submit("demo", _statement(cast, "2026Q2", body, statement_id("demo", "2026Q2")))
    assert refused.value.code == "statement_mismatch"
    assert "figures.funds.property.closing_fen" in refused.value.en
    assert f"stated {true_value + 1}, recomputed {true_value}" in refused.value.en


def test_wrong_range_root_or_date_is_refused(demo: tuple[LedgerService, DemoCast]) -> None:
    """Given the statement of 2026Q2, when its start, end, covered root or at is not what the
    log gives, then it is refused."""
    service, cast = demo
    good = expected_body(service.state("demo"), "2026Q2")
    sid = statement_id("demo", "2026Q2")
    for field, value in (("start", 0), ("end", good["end"] + 1), ("covered_root", "A" * 43 + "=")):  # type: ignore[operator]
        with pytest.raises(StatementMismatchError, match=field):
            service.submit("demo", _statement(cast, "2026Q2", {**good, field: value}, sid))
    late = sign_entry(
        cast.key("treasurer"),
        community="demo",
        type="statement.published",
        body=good,
        at="2025-07-01T00:00:00+08:00",
        entry_id=sid,
    )
    with pytest.raises(StatementMismatchError, match="dated"):
        service.submit("demo", late)


def test_committee_approvals_make_a_statement_approved(
    demo: tuple[LedgerService, DemoCast],
) -> None:
    """Given 2026Q1 published, when committee members approve it (approval.signed citing its id)
    up to the quorum, then it counts as approved; a member's second approval is refused."""
    service, cast = demo
    sid = statement_id("demo", "2026Q1")
    quorum = service.state("demo").committee_quorum()
    for n, handle in enumerate(("committee-wang", "committee-li", "committee-chair")[:quorum]):
        assert not approved(service.state("demo"), "2026Q1")
        approval = sign_entry(
            cast.key(handle),
            community="demo",
            type="approval.signed",
            body={"subject_id": sid},
            at=f"2026-01-0{n + 2}T10:00:00+08:00",
        )
        service.submit("demo", approval)
    assert approved(service.state("demo"), "2026Q1")
    again = sign_entry(
        cast.key("committee-wang"),
        community="demo",
        type="approval.signed",
        body={"subject_id": sid},
        at="2026-01-09T10:00:00+08:00",
    )
    with pytest.raises(RuleViolation, match="already approved"):
        service.submit("demo", again)
