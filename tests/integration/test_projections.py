"""The read models on a real database (SQLite and PostgreSQL): figures, the fold, rebuilds.

A small community ("town": three units in two buildings) records one entry of every
money type through ``LedgerService``, money out authorised as the governance rules demand
(owners' votes on proposals of 2025-01-01, whose seven days of publicity ended at 24:00
on 2025-01-08, and an emergency declared by the district office's authority key); the
projector reads the notification log into the ``gpv_`` tables. The figures are checked
against numbers worked out by hand below, and against the fold itself: whatever the tables
sum to, the rules' books hold.
"""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from ledger.core.entry import Entry, entry_from_store, sign_entry
from ledger.core.errors import LedgerError, NotFoundError
from ledger.core.keys import SigningKey
from ledger.core.money_bodies import FUNDS
from ledger.core.policy import build_policy
from ledger.core.rules import evolve
from ledger.core.state import CommunityState
from ledger.store.service import LedgerService
from projections import figures, tables
from projections.accounts import unit_account
from projections.disclosures import common_revenue, donations_by_purpose, trust_account
from projections.queries import (
    CollectionRate,
    FlowTotal,
    collection_rate,
    fee_income,
    flows_by_category,
    fund_balances,
    projected_size,
    unit_balances,
)
from projections.runner import Projector
from projections.store import Batch, ProjectionConflictError, ProjectionStore
from projections.tables import flows as flows_table

TOWN = "town"
A, B, C = "1-1-101", "1-1-102", "2-1-201"  # 100 m², 80 m², 120 m²
AREAS = {A: 1_000_000, B: 800_000, C: 1_200_000}
JAN = "2025-01-15T10:00:00+08:00"
PROPOSED = "2025-01-01T10:00:00+08:00"  # publicity: 7 days, 2025-01-02 … 2025-01-08
VOTED = "2025-01-09T10:00:00+08:00"


def _key(community: str, handle: str) -> SigningKey:
    seed = hashlib.sha256(f"projections {community} {handle}".encode()).digest()
    return SigningKey(f"{community}/{handle}", 1, seed)


@dataclass
class Town:
    """A community on one database, and the entries it has recorded by name."""

    service: LedgerService
    name: str = TOWN
    ids: dict[str, str] = field(default_factory=dict)
    count: int = 0

    @property
    def chair(self) -> SigningKey:
        return _key(self.name, "chair")

    @property
    def treasurer(self) -> SigningKey:
        return _key(self.name, "treasurer")

    @property
    def jiedao(self) -> SigningKey:
        return _key(self.name, "jiedao")

    def entry(
        self, type_: str, body: dict[str, Any], *, key: SigningKey | None = None, at: str = JAN
    ) -> Entry:
        self.count += 1
        entry_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"projections/{self.name}/{self.count}"))
        return sign_entry(
            key or self.treasurer,
            community=self.name,
            type=type_,
            body=body,
            at=at,
            entry_id=entry_id,
        )

    def record(self, label: str, type_: str, body: dict[str, Any], **kw: Any) -> int:
        entry = self.entry(type_, body, **kw)
        appended = self.service.submit(self.name, entry)
        self.ids[label] = entry.id
        return appended.index


def found_town(service: LedgerService, name: str = TOWN) -> Town:
    town = Town(service, name)
    log_key = SigningKey.generate(f"example.org/c/{name}/log")
    founding = town.entry(
        "community.founded",
        {
            "name": f"{name} 小区",
            "origin": log_key.name,
            "keys": [
                {"vkey": str(town.chair.verifier()), "role": "committee"},
                {"vkey": str(town.jiedao.verifier()), "role": "authority"},
            ],
        },
        key=town.chair,
    )
    service.found(founding, str(build_policy(log_key.verifier(), [], "none")))
    treasurer = {"vkey": str(town.treasurer.verifier()), "role": "treasurer"}
    town.record("treasurer", "key.registered", treasurer, key=town.chair)
    for code, area in AREAS.items():
        unit = {"unit": code, "building": code[0], "area_cm2": area, "owner": f"own-{code}"}
        town.record(code, "unit.registered", unit)
    schedule = {"rate_fen_per_m2": 250, "from_month": "2025-01"}
    town.record("fees", "fee.schedule_set", schedule, key=town.chair)
    contract = {"trustee": "Trusty Property Co.", "from_month": "2025-01", "basis_points": 1000}
    town.record("contract", "trustee.contract_set", contract, key=town.chair)
    return town


def fee(unit: str, amount: int, month: str) -> dict[str, Any]:
    return {"fund": "property", "unit": unit, "amount_fen": amount, "month": month}


def owners_vote(
    town: Town, label: str, fund: str, budget: int, units: list[str] | None = None
) -> str:
    """The owners (of ``units``, else of the whole estate) vote yes on spending from ``fund``:
    paper ballots transcribed by the chair, the vote closed after the publicity period."""
    matter = "spending" if units is None else "maintenance_use"
    body = {"title": label, "matter": matter, "needs": "owners", "fund": fund}
    body |= {"budget_fen": budget, "description": label} | ({"units": units} if units else {})
    proposal = town.entry("proposal.submitted", body, key=town.chair, at=PROPOSED)
    vote = [proposal]
    for code in units or list(AREAS):
        ballot = {"proposal_id": proposal.id, "owner": f"own-{code}", "choice": "yes"}
        ballot["scan_sha256"] = hashlib.sha256(f"{label} {code}".encode()).hexdigest()
        vote.append(town.entry("ballot.recorded", ballot, key=town.chair, at=VOTED))
    closed = {"proposal_id": proposal.id}
    vote.append(town.entry("vote.closed", closed, key=town.chair, at=VOTED))
    town.service.submit_batch(town.name, vote)  # one transaction: fewer commits
    town.ids[label] = proposal.id
    return proposal.id


def emergency(town: Town, label: str, cap: int, buildings: list[str]) -> str:
    """The chair applies for an emergency repair; the district office declares it."""
    body = {"title": label, "matter": "maintenance_use", "needs": "emergency"}
    body |= {"fund": "maintenance", "budget_fen": cap, "buildings": buildings, "description": label}
    town.record(label, "proposal.submitted", body, key=town.chair, at=PROPOSED)
    declared = {"proposal_id": town.ids[label], "cap_fen": cap, "buildings": buildings}
    town.record(
        f"{label} declared", "emergency.declared", declared | {"reason": label}, key=town.jiedao
    )
    return town.ids[f"{label} declared"]


def record_money(town: Town) -> None:
    """One entry of every money type; the comments give the numbers the tests expect."""
    r = town.record
    to_maintenance = owners_vote(town, "net revenue to maintenance", "public_revenue", 15_000)
    community_spending = owners_vote(town, "playground and party", "community", 4_000)
    refund = owners_vote(town, "refund the surplus", "property", 3_000)
    roof_vote = owners_vote(town, "roof repair", "maintenance", 3_000, [A, C])
    lift_emergency = emergency(town, "lift stopped", 9_000, ["1"])
    for code, amount in ((A, 50_000), (B, 40_000), (C, 60_000)):
        deposit = {"fund": "maintenance", "unit": code, "amount_fen": amount, "deposit": "initial"}
        r(f"deposit {code}", "contribution.received", deposit)
    # Monthly charges at 250 fen/m²: A 25,000, B 20,000, C 30,000.
    r("fee A jan", "contribution.received", fee(A, 25_000, "2025-01"))
    r("fee B jan", "contribution.received", fee(B, 20_000, "2025-01"))
    r("fee C jan", "contribution.received", fee(C, 30_000, "2025-01"))
    r("fee A feb", "contribution.received", fee(A, 25_000, "2025-02"))
    # By balance 50k : 40k : 60k → A 500, B 400, C 600.
    r("interest m", "interest.credited", {"fund": "maintenance", "amount_fen": 1_500})
    r("interest p", "interest.credited", {"fund": "property", "amount_fen": 100})
    r("parking", "revenue.received", {"source": "parking", "amount_fen": 30_000})
    r("ads", "revenue.received", {"source": "advertising", "amount_fen": 10_000})
    cost = {"fund": "public_revenue", "category": "revenue_cost", "amount_fen": 2_000}
    r("revenue cost", "expense.paid", {**cost, "payee": "Gate Co.", "description": "barrier"})
    # Into maintenance by area 10 : 8 : 12 → A 5,000, B 4,000, C 6,000.
    move = {"from_fund": "public_revenue", "to_fund": "maintenance", "amount_fen": 15_000}
    r(
        "transfer",
        "transfer.made",
        {**move, "description": "owners' vote", "proposal_id": to_maintenance},
    )
    gift = {"kind": "donation", "amount_fen": 5_000, "purpose": "playground"}
    r("gift", "donation.received", gift)
    r("grant", "donation.received", {"kind": "grant", "amount_fen": 8_000})
    for label, amount, purpose in (("swings", 3_000, "playground"), ("party", 1_000, None)):
        spend = {"fund": "community", "category": "events", "amount_fen": amount}
        spend |= {"payee": "Fun Ltd.", "description": label, "proposal_id": community_spending}
        r(label, "expense.paid", spend | ({"purpose": purpose} if purpose else {}))
    for label, category, amount in (
        ("cleaning", "cleaning", 20_000),
        ("guard", "security", 10_000),
    ):
        spend = {"fund": "property", "category": category, "amount_fen": amount}
        r(label, "expense.paid", spend | {"payee": "Clean Co.", "description": label})
    # Building 1 by area 10 : 8 → A 5,000, B 4,000; then agreed weights 1 : 2 → A 1,000, C 2,000.
    draw = {"amount_fen": 9_000, "buildings": ["1"], "payee": "Lift Co.", "description": "lift"}
    r("lift", "maintenance.drawn", draw | {"emergency_id": lift_emergency})
    weights = [{"unit": A, "weight": 1}, {"unit": C, "weight": 2}]
    roof = {"amount_fen": 3_000, "units": [A, C], "weights": weights}
    roof |= {"payee": "Roof Co.", "description": "roof", "proposal_id": roof_vote}
    r("roof", "maintenance.drawn", roof)
    # Fee income of January (by `at`): 100,000 → the 10% cap is 10,000; 7,000 paid.
    r("pay trustee", "trustee.remunerated", {"month": "2025-01", "amount_fen": 7_000})
    # By area 10 : 8 : 12 → A 1,000, B 800, C 1,200.
    refunded = {"amount_fen": 3_000, "year": 2025, "description": "2025", "proposal_id": refund}
    r("refund", "surplus.refunded", refunded)
    # B's January fee was recorded in error: January's fee income falls to 80,000 (cap 8,000,
    # still above the 7,000 paid: the rules refuse a reversal that would leave it above).
    r("oops", "entry.reversed", {"entry_id": town.ids["fee B jan"], "reason": "wrong unit"})
    bank = {"fund": "property", "balance_fen": 38_000, "as_of": "2025-03-31"}
    r("bank", "bank.balance_asserted", bank)
    r("sale", "unit.owner_changed", {"unit": B, "owner": "own-b2"})


@pytest.fixture
def town(database_url: str) -> Iterator[Town]:
    service = LedgerService(database_url)
    try:
        yield found_town(service)
    finally:
        service.close()


def assert_tables_equal_the_fold(service: LedgerService, community: str) -> None:
    """Every balance the projections sum to is the balance the rules' fold holds."""
    books = service.state(community).books
    engine = service.engine
    assert fund_balances(engine, community) == {f: books.balance(f) for f in FUNDS}
    assert unit_balances(engine, community, "maintenance") == books.subaccounts
    assert unit_balances(engine, community, "property") == books.property_paid
    assert unit_balances(engine, community, "refund") == books.refunds
    assert fee_income(engine, community) == books.fee_income
    restricted = {
        p.purpose: p.balance_fen
        for p in donations_by_purpose(engine, community, 0, 10**9)
        if p.purpose is not None and p.balance_fen
    }
    assert restricted == books.purposes
    assert projected_size(engine, community) == service.state(community).size


def _dump_order(row: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple(map(repr, row))  # how ``ProjectionStore.dump`` sorts a table's rows


def plain_tables(service: LedgerService, community: str) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of ``community``'s log made the plain way: each entry's ``figures_of`` (its
    effect computed on the state before it), then the fold; owner changes applied."""
    logged = [entry_from_store(raw.decode()) for raw in service.entries(community, 0, 10**9)]
    state, rows = CommunityState(), figures.Figures()
    for entry in logged:
        rows.extend(figures.figures_of(state, entry, lambda index: logged[index]))
        evolve(state, entry)
    units = {row.unit: row for row in rows.units}
    for change in rows.owner_changes:
        units[change.unit] = units[change.unit]._replace(owner=change.owner)
    by_table = {
        tables.flows: rows.flows,
        tables.unit_lines: rows.unit_lines,
        tables.units: list(units.values()),
        tables.fee_schedules: rows.fee_schedules,
        tables.trustee_contracts: rows.trustee_contracts,
        tables.bank_assertions: rows.bank_assertions,
    }
    return {table.name: [tuple(row) for row in items] for table, items in by_table.items()}


def assert_tables_equal_the_plain_rows(store: ProjectionStore, service: LedgerService) -> None:
    """Every projected row (of every community) is the row the plain way makes, and no other."""
    dump = store.dump()
    communities = sorted(row[0] for row in dump.pop("gpv_communities"))
    plain = [plain_tables(service, community) for community in communities]
    for name, rows in dump.items():
        expected = [row for tables_of in plain for row in tables_of[name]]
        assert rows == sorted(expected, key=_dump_order), name


# --- figures by hand -------------------------------------------------------------------------


def test_figures_match_the_numbers_worked_by_hand(town: Town) -> None:
    """Given a community that recorded one entry of every money type and a reversal,
    when the projector catches up,
    then fund balances, category totals, unit accounts, the trust account, common revenue,
    donations and the collection rate are the hand-computed integers."""
    record_money(town)
    engine = town.service.engine

    Projector(town.service).catch_up()

    assert fund_balances(engine, TOWN) == {
        "property": 40_100,  # 100,000 fees + 100 interest − 20,000 reversed − 40,000 out
        "maintenance": 154_500,  # 150,000 + 1,500 + 15,000 − 12,000
        "public_revenue": 23_000,  # 40,000 − 2,000 − 15,000
        "community": 9_000,  # 13,000 − 4,000
    }
    assert unit_balances(engine, TOWN, "maintenance") == {A: 49_500, B: 40_400, C: 64_600}

    a = unit_account(engine, TOWN, A, "2025-03")
    assert [(m.month, m.due_fen, m.received_fen) for m in a.months] == [
        ("2025-01", 25_000, 25_000),
        ("2025-02", 25_000, 25_000),
        ("2025-03", 25_000, 0),
    ]
    assert (a.due_fen, a.received_fen, a.arrears_fen, a.prepaid_fen) == (75_000, 50_000, 25_000, 0)
    assert [(line.kind, line.detail, line.amount_fen) for line in a.maintenance] == [
        ("maintenance_deposits", "initial", 50_000),
        ("interest", None, 500),
        ("transfer_in", "public_revenue", 5_000),
        ("maintenance_draw", "emergency", -5_000),
        ("maintenance_draw", None, -1_000),
    ]
    assert (a.maintenance_fen, a.first_deposit_fen, a.needs_top_up()) == (49_500, 50_000, False)
    assert a.refunded_fen == 1_000

    b = unit_account(engine, TOWN, B, "2025-01")
    assert (b.owner, b.due_fen, b.received_fen, b.arrears_fen) == ("own-b2", 20_000, 0, 20_000)
    assert b.needs_top_up(ratio=(102, 100))  # 40,400 is below 102% of its 40,000 deposit
    with pytest.raises(NotFoundError):
        unit_account(engine, TOWN, "9-9-999", "2025-01")

    end = town.service.size(TOWN)
    trust = trust_account(engine, TOWN, 0, end)
    assert (trust.opening_fen, trust.closing_fen) == (0, 40_100)
    assert [(t.category, t.detail, t.amount_fen) for t in trust.income] == [
        ("interest", None, 100),
        ("property_fees", "2025-01", 55_000),  # A 25,000 + B 20,000 − 20,000 + C 30,000
        ("property_fees", "2025-02", 25_000),
    ]
    assert [(t.detail, t.amount_fen) for t in trust.costs] == [
        ("cleaning", 20_000),
        ("security", 10_000),
    ]
    (january,) = trust.remuneration
    assert (january.paid_fen, january.fee_income_fen, january.cap_fen) == (7_000, 80_000, 8_000)
    assert january.within_cap
    assert (trust.income_fen, trust.costs_fen, trust.remuneration_fen) == (80_100, 30_000, 7_000)
    assert (trust.surplus_fen, trust.refunded_fen, trust.transferred_out_fen) == (43_100, 3_000, 0)

    revenue = common_revenue(engine, TOWN, 0, end)
    assert [(t.detail, t.amount_fen) for t in revenue.gross] == [
        ("advertising", 10_000),
        ("parking", 30_000),
    ]
    assert (revenue.gross_fen, revenue.costs_fen, revenue.net_fen) == (40_000, 2_000, 38_000)
    assert revenue.went_to == (
        FlowTotal("public_revenue", "out", "transfer_out", "maintenance", 15_000),
    )
    assert revenue.closing_fen == 23_000

    purposes = donations_by_purpose(engine, TOWN, 0, end)
    assert [(p.purpose, p.donated_fen, p.spent_fen, p.balance_fen) for p in purposes] == [
        (None, 8_000, 1_000, 7_000),
        ("playground", 5_000, 3_000, 2_000),
    ]

    rate = collection_rate(engine, TOWN, "2025Q1", end)
    assert rate == CollectionRate(80_000, 225_000)  # 3 months × 75,000 due
    assert rate.percentage == "35.56%"
    before_reversal = end - 3  # the reversal, the bank assertion and the sale come last
    assert collection_rate(engine, TOWN, "2025Q1", before_reversal) == (100_000, 225_000)


def test_a_reversal_nets_out_by_category_in_its_own_range(town: Town) -> None:
    """Given a property fee and later its reversal,
    when flows are totalled over the reversal's index alone and over the whole log,
    then the reversal's range shows the fee's category negated, and the whole log nets to zero."""
    first = town.record("fee", "contribution.received", fee(A, 25_000, "2025-01"))
    last = town.record("undo", "entry.reversed", {"entry_id": town.ids["fee"], "reason": "dup"})
    engine = town.service.engine

    Projector(town.service).catch_up()

    assert flows_by_category(engine, TOWN, last, last + 1) == [
        FlowTotal("property", "in", "property_fees", "2025-01", -25_000)
    ]
    assert flows_by_category(engine, TOWN, first, last + 1) == [
        FlowTotal("property", "in", "property_fees", "2025-01", 0)
    ]
    assert unit_balances(engine, TOWN, "property") == {}
    with engine.connect() as conn:
        f = flows_table
        row = conn.execute(
            select(f.c.entry_id, f.c.type, f.c.reverses).where(f.c.idx == last)
        ).one()
    assert tuple(row) == (town.ids["undo"], "entry.reversed", town.ids["fee"])


# --- the fold, rebuilds, increments ------------------------------------------------------------


def test_projections_equal_the_fold(town: Town) -> None:
    """Given every money type recorded, when the projector catches up,
    then every balance summed from the tables equals the rules' folded books."""
    record_money(town)

    Projector(town.service).catch_up()

    assert_tables_equal_the_fold(town.service, TOWN)


def test_a_rebuild_from_zero_gives_identical_tables(town: Town) -> None:
    """Given projected tables, when they are rebuilt from zero (in pages of 4),
    then every table's full contents are the same."""
    record_money(town)
    projector = Projector(town.service)
    projected = projector.catch_up()
    before = projector.store.dump()

    rebuilt = Projector(town.service, page_size=4).rebuild()

    assert rebuilt == projected == town.service.size(TOWN)
    assert projector.store.dump() == before
    assert len(before["gpv_flows"]) > 20 and len(before["gpv_unit_lines"]) > 20
    assert_tables_equal_the_plain_rows(projector.store, town.service)


def test_catch_up_is_idempotent_and_incremental(database_url: str) -> None:
    """Given two communities projected part way,
    when more entries are appended (a reversal citing an entry projected earlier among them)
    and a new projector (a restarted process) catches up,
    then it projects only the new entries, a second catch-up projects nothing,
    and the tables equal a rebuild from zero and the fold."""
    service = LedgerService(database_url)
    try:
        town, village = found_town(service), found_town(service, "village")
        early = Projector(service, page_size=3)
        early.catch_up()
        assert early.catch_up() == 0

        record_money(town)
        village.record("fee", "contribution.received", fee(C, 30_000, "2025-01"))
        village.record("undo", "entry.reversed", {"entry_id": village.ids["fee"], "reason": "x"})
        town.record("late fee", "contribution.received", fee(C, 30_000, "2025-02"))
        seen: list[tuple[int, int]] = []

        restarted = Projector(service)
        added = restarted.catch_up(progress=lambda done, newest: seen.append((done, newest)))

        assert added == service.size(TOWN) + service.size("village") - 2 * 7
        assert restarted.catch_up() == 0
        assert seen and seen[-1][0] == seen[-1][1] == service.app.recorder.max_notification_id()
        incremental = restarted.store.dump()
        restarted.rebuild()
        assert restarted.store.dump() == incremental
        for name in (TOWN, "village"):
            assert_tables_equal_the_fold(service, name)
        assert_tables_equal_the_plain_rows(restarted.store, service)
    finally:
        service.close()


def test_the_row_types_are_their_tables_columns_in_order() -> None:
    """The store hands each row to the driver as it is: its fields are its table's columns."""
    row_types = {
        tables.flows: figures.FlowRow,
        tables.unit_lines: figures.UnitLine,
        tables.units: figures.UnitRow,
        tables.fee_schedules: figures.FeeScheduleRow,
        tables.trustee_contracts: figures.TrusteeContractRow,
        tables.bank_assertions: figures.BankAssertionRow,
    }
    for table, row_type in row_types.items():
        assert row_type._fields == tuple(column.name for column in table.columns)


def test_sqlite_cuts_the_entries_out_as_python_does(database_url: str) -> None:
    """Given a log, and events of another kind among its notifications (no entry member,
    a member that is no string, a state that is no object, escapes and CJK text),
    when a page is read with the entries cut out by SQLite's JSON functions and by Python,
    then the pages are the same (on PostgreSQL, Python always reads them)."""
    service = LedgerService(database_url)
    try:
        town = found_town(service)
        gift = {"kind": "donation", "amount_fen": 1, "purpose": '秋千 \\ "x"\t\u0000é'}
        town.record("gift", "donation.received", gift)
        events = service.app.recorder.events_record_cls.__table__
        odd = ['{"x":1}', '{"entry":{"a":"b"}}', '{"entry":5}', "[1,2]", '{"entry":"a\\"b"}']
        with service.engine.begin() as conn:
            for version, state in enumerate(odd, start=1):
                conn.execute(
                    events.insert().values(
                        originator_id=uuid.uuid4(),
                        originator_version=version,
                        topic="tests.other:Event",
                        state=state.encode(),
                    )
                )
        projector = Projector(service)
        assert projector._json_in_sql == database_url.startswith("sqlite")

        read = projector._page(0)
        projector._json_in_sql = False
        assert read == projector._page(0)
        texts = [text for _, _, text in read]
        assert texts[-5:] == [None, None, None, None, 'a"b']
        assert all(isinstance(text, str) for text in texts[:-5])
    finally:
        service.close()


def test_a_stale_tracking_position_writes_nothing(town: Town) -> None:
    """Given tables projected to some notification,
    when a second projector tries to write a batch from an older position,
    then it is refused and the tables and the position are as they were."""
    projector = Projector(town.service)
    projector.catch_up()
    before = projector.store.dump()
    position = projector.store.position(projector.name)
    assert position is not None

    for stale in (None, position - 1):
        with pytest.raises(ProjectionConflictError):
            projector.store.write(projector.name, stale, position + 1, Batch(sizes={TOWN: 99}))

    assert projector.store.dump() == before
    assert projector.store.position(projector.name) == position


# --- for every valid money stream --------------------------------------------------------------

PROPERTY = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
UNITS = list(AREAS)
amounts = st.integers(min_value=1, max_value=50_000)
SEED_MONEY = [  # so that most money going out finds money to go out of
    ("contribution.received", fee(A, 60_000, "2025-01")),
    *(
        ("contribution.received", {"fund": "maintenance", "unit": u, "amount_fen": 30_000, "deposit": "initial"})
        for u in UNITS
    ),
    ("revenue.received", {"source": "parking", "amount_fen": 40_000}),
    ("donation.received", {"kind": "donation", "amount_fen": 20_000}),
]  # fmt: skip


DRAW_SCOPES = ([A], [B, C], [A, B, C])  # each with its owners' vote; a draw cites its scope's
CITED = "proposal to cite"  # replaced by the id of the proposal the placeholder names


def authorise_streams(town: Town) -> dict[str, str]:
    """Owners' votes (budgets far above any stream) for each fund money may leave and each
    draw scope: placeholder -> proposal id."""
    votes = {
        f"fund {fund}": owners_vote(town, f"spend {fund}", fund, 10**9)
        for fund in ("property", "public_revenue", "community")
    }
    for scope in DRAW_SCOPES:
        votes[f"scope {scope}"] = owners_vote(town, f"draw {scope}", "maintenance", 10**9, scope)
    return votes


def _cite(draw: st.DrawFn, placeholder: str) -> dict[str, str]:
    """Mostly the authorising proposal, sometimes none (refused unless routine)."""
    return {CITED: placeholder} if draw(st.integers(0, 4)) else {}


@st.composite
def money_entries(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    kind = draw(st.sampled_from(["fee", "deposit", "interest", "revenue", "donation", "expense",
                                 "draw", "transfer", "remunerate", "refund", "reverse", "reverse"]))  # fmt: skip
    amount = draw(amounts)
    if kind in ("expense", "draw", "transfer", "refund"):
        amount = amount // 5 + 1
    unit = draw(st.sampled_from(UNITS))
    month = draw(st.sampled_from(["2025-01", "2025-02"]))
    fund = draw(st.sampled_from(FUNDS))
    spent_from = draw(st.sampled_from(["property", "public_revenue", "community"]))
    scope = draw(st.sampled_from(DRAW_SCOPES))
    bodies: dict[str, tuple[str, dict[str, Any]]] = {
        "fee": ("contribution.received", fee(unit, amount, month)),
        "deposit": (
            "contribution.received",
            {"fund": "maintenance", "unit": unit, "amount_fen": amount, "deposit": draw(st.sampled_from(["initial", "top_up"]))},
        ),
        "interest": ("interest.credited", {"fund": fund, "amount_fen": amount}),
        "revenue": ("revenue.received", {"source": "parking", "amount_fen": amount}),
        "donation": (
            "donation.received",
            {"kind": "donation", "amount_fen": amount} | draw(st.sampled_from([{}, {"purpose": "trees"}])),
        ),
        "expense": (
            "expense.paid",
            {"fund": spent_from, "category": "other", "amount_fen": amount, "payee": "P", "description": "d"}
            | _cite(draw, f"fund {spent_from}"),
        ),
        "draw": (
            "maintenance.drawn",
            {"amount_fen": amount, "units": scope, "payee": "P", "description": "d"}
            | _cite(draw, f"scope {scope}"),
        ),
        "transfer": (
            "transfer.made",
            {"from_fund": spent_from, "to_fund": fund, "amount_fen": amount, "description": "d"}
            | _cite(draw, f"fund {spent_from}"),
        ),
        "remunerate": ("trustee.remunerated", {"month": month, "amount_fen": amount // 10 + 1}),
        "refund": (
            "surplus.refunded",
            {"amount_fen": amount, "year": 2025, "description": "d"} | _cite(draw, "fund property"),
        ),
        "reverse": ("entry.reversed", {"entry_id": "?", "reason": "r"}),
    }  # fmt: skip
    return bodies[kind]


@PROPERTY
@given(st.lists(money_entries(), min_size=1, max_size=14), st.integers(1, 6), st.randoms())
def test_for_any_valid_money_stream_the_projections_equal_the_fold(
    stream: list[tuple[str, dict[str, Any]]], page_size: int, rng: Any
) -> None:
    """Given any stream of money entries, money out mostly citing the owners' vote that
    authorises it (those the rules refuse are left out),
    when projected in pages of any size,
    then every summed balance equals the fold's, and a rebuild gives the same tables."""
    with tempfile.TemporaryDirectory() as tmp:
        service = LedgerService(f"sqlite:///{Path(tmp) / 'p.db'}")
        try:
            town = found_town(service)
            votes = authorise_streams(town)
            money: list[str] = []
            for type_, body in [*SEED_MONEY, *stream]:
                if CITED in body:
                    cited = votes[body[CITED]]
                    body = {k: v for k, v in body.items() if k != CITED} | {"proposal_id": cited}
                if type_ == "entry.reversed":
                    if not money:
                        continue
                    body = {**body, "entry_id": rng.choice(money)}
                entry = town.entry(type_, body)
                try:
                    service.submit(TOWN, entry)
                except LedgerError:
                    continue
                if type_ != "entry.reversed":
                    money.append(entry.id)
            projector = Projector(service, page_size=page_size)
            projector.catch_up()
            assert_tables_equal_the_fold(service, TOWN)
            dump = projector.store.dump()
            projector.rebuild()
            assert projector.store.dump() == dump
            assert_tables_equal_the_plain_rows(projector.store, service)
        finally:
            service.close()
