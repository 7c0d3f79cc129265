"""Figures: what one entry adds to the read models, as rows. Pure: imports ``ledger.core`` only.

``figures_of(state, entry, cited)`` turns an entry and the folded state just before it
into rows; ``advance`` makes the same rows and folds the entry in with
``ledger.core.rules.evolve`` (entries from the store were checked when they were
appended, so nothing is re-judged and no signature is re-verified). A money entry's
amounts always come from ``money_rules.effect_of``: the projections never compute a rule
a second way, so their sums equal the fold's books. ``advance`` takes that effect from
the fold (which records it) instead of computing it twice.

STYLE.md asks for ``evolve`` by ``functools.singledispatch`` over entry types; entries
are one ``Entry`` class carrying a wire type string, so the equivalent here is a dict
registry keyed by wire type (``BUILDERS``: every money type of ``money_rules.EFFECTS``,
plus the setup types the statements need). Types without a builder add no rows.

Rows (named tuples whose fields are their table's columns, in order):
- ``FlowRow``: one per fund delta of a money entry. ``amount_fen`` counts in the row's
  ``direction`` (an inflow of 100 is ``in``/100; its reversal is ``in``/−100), so totals by
  category net out and a fund's balance is Σ in − Σ out. ``category``/``detail`` label the
  flow (see ``LABELLERS``); ``purpose`` is the community fund's restricted purpose.
- ``UnitLine``: one per unit delta: ``property`` (fees paid, ``month`` = the month paid
  for), ``maintenance`` (sub-account), ``refund`` (surplus refunded).
- A reversal's rows are the rows of the entry it reverses, negated, carrying the
  reversal's own index, id and time and ``reverses`` = the reversed entry's id; they keep
  the reversed rows' labels and ``booked_month`` (as ``Effect.negated`` keeps its keys).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from ledger.core.effects import Effect
from ledger.core.entry import Entry, parse_at
from ledger.core.money import shanghai_month
from ledger.core.money_rules import EFFECTS, effect_of
from ledger.core.rules import evolve
from ledger.core.state import CommunityState

CitedEntry = Callable[[int], Entry]  # the logged entry at an index of the same community

# The row types' fields are their table's columns in the table's order
# (``projections.tables``): the store hands each row to the database driver as it is.


class FlowRow(NamedTuple):
    community: str
    idx: int
    seq: int
    at: str
    booked_month: str  # Shanghai month of the `at` of the entry that booked the money
    fund: str
    direction: str  # "in" | "out"
    category: str
    detail: str | None
    purpose: str | None
    amount_fen: int
    entry_id: str
    type: str
    reverses: str | None


class UnitLine(NamedTuple):
    community: str
    idx: int
    seq: int
    unit: str
    account: str  # "property" | "maintenance" | "refund"
    amount_fen: int  # signed: what the unit's account gained
    month: str | None  # property: the month paid for
    kind: str  # the category of the entry's flow on the account's fund
    detail: str | None
    entry_id: str
    reverses: str | None


class UnitRow(NamedTuple):
    community: str
    unit: str
    building: str
    area_cm2: int
    owner: str
    registered_idx: int


class OwnerChange(NamedTuple):
    community: str
    unit: str
    owner: str


class FeeScheduleRow(NamedTuple):
    community: str
    idx: int
    from_month: str
    rate_fen_per_m2: int


class TrusteeContractRow(NamedTuple):
    community: str
    idx: int
    trustee: str
    from_month: str
    basis_points: int | None
    fixed_monthly_fen: int | None


class BankAssertionRow(NamedTuple):
    community: str
    idx: int
    fund: str
    as_of: str
    balance_fen: int
    books_fen: int


@dataclass
class Figures:
    """Rows for one entry, or for a batch of entries (``extend``, or built into directly)."""

    flows: list[FlowRow] = field(default_factory=list)
    unit_lines: list[UnitLine] = field(default_factory=list)
    units: list[UnitRow] = field(default_factory=list)
    owner_changes: list[OwnerChange] = field(default_factory=list)
    fee_schedules: list[FeeScheduleRow] = field(default_factory=list)
    trustee_contracts: list[TrusteeContractRow] = field(default_factory=list)
    bank_assertions: list[BankAssertionRow] = field(default_factory=list)

    def extend(self, other: Figures) -> None:
        self.flows.extend(other.flows)
        self.unit_lines.extend(other.unit_lines)
        self.units.extend(other.units)
        self.owner_changes.extend(other.owner_changes)
        self.fee_schedules.extend(other.fee_schedules)
        self.trustee_contracts.extend(other.trustee_contracts)
        self.bank_assertions.extend(other.bank_assertions)


# --- labels of money flows ------------------------------------------------------------------


class Label(NamedTuple):
    category: str
    detail: str | None = None
    purpose: str | None = None


Labeller = Callable[[Mapping[str, Any], bool], Label]  # (body, inflow) -> label


def _transfer_label(body: Mapping[str, Any], inflow: bool) -> Label:
    if inflow:
        return Label("transfer_in", body["from_fund"], body.get("purpose"))
    return Label("transfer_out", body["to_fund"])


LABELLERS: Mapping[str, Labeller] = {
    "contribution.received": lambda body, _: (
        Label("property_fees", body["month"])
        if body["fund"] == "property"
        else Label("maintenance_deposits", body["deposit"])
    ),
    "interest.credited": lambda body, _: Label("interest"),
    "revenue.received": lambda body, _: Label("revenue", body["source"]),
    "donation.received": lambda body, _: Label("donation", body["kind"], body.get("purpose")),
    "expense.paid": lambda body, _: Label("expense", body["category"], body.get("purpose")),
    "maintenance.drawn": lambda body, _: Label(
        "maintenance_draw", "emergency" if "emergency_id" in body else None
    ),
    "transfer.made": _transfer_label,
    "trustee.remunerated": lambda body, _: Label("trustee_remuneration", body["month"]),
    "surplus.refunded": lambda body, _: Label("surplus_refund", str(body["year"])),
}

# Which fund's flow labels a unit account's lines.
ACCOUNT_FUND = {"property": "property", "maintenance": "maintenance", "refund": "property"}


@lru_cache(maxsize=4096)
def _booked_month(at: str) -> str:
    """``shanghai_month`` of an ``at`` (entries of a day or a month share it: cached)."""
    return shanghai_month(parse_at(at))


class _Booking(NamedTuple):
    """Who records the rows (index, id, time) and whose labels they carry (``labelled``)."""

    community: str
    idx: int
    entry: Entry
    labelled: Entry
    sign: int  # +1, or -1 for a reversal (the effect is the cited effect negated)

    @property
    def reverses(self) -> str | None:
        return self.labelled.id if self.sign < 0 else None


def _money_rows(booking: _Booking, effect: Effect, into: Figures) -> None:
    labeller = LABELLERS[booking.labelled.type]
    body, sign = booking.labelled.body, booking.sign
    labels = {
        fund: labeller(body, delta * sign > 0) for fund, delta in effect.funds.items() if delta
    }
    _fund_flows(booking, effect, labels, into.flows)
    if effect.property_paid or effect.subaccounts or effect.refunds:
        _unit_lines(booking, effect, labels, into.unit_lines)


def _fund_flows(
    booking: _Booking, effect: Effect, labels: Mapping[str, Label], flows: list[FlowRow]
) -> None:
    booked_month = _booked_month(booking.labelled.at)
    entry, sign, reverses = booking.entry, booking.sign, booking.reverses
    for seq, (fund, label) in enumerate(sorted(labels.items())):
        booked = effect.funds[fund] * sign  # the delta as the labelled entry booked it
        flows.append(
            FlowRow(
                community=booking.community,
                idx=booking.idx,
                seq=seq,
                at=entry.at,
                booked_month=booked_month,
                fund=fund,
                direction="in" if booked > 0 else "out",
                category=label.category,
                detail=label.detail,
                purpose=label.purpose,
                amount_fen=abs(booked) * sign,
                entry_id=entry.id,
                type=entry.type,
                reverses=reverses,
            )
        )


def _unit_lines(
    booking: _Booking, effect: Effect, labels: Mapping[str, Label], lines: list[UnitLine]
) -> None:
    accounts = (
        ("property", effect.property_paid),
        ("maintenance", effect.subaccounts),
        ("refund", effect.refunds),
    )
    seq = 0
    for account, deltas in accounts:
        if not any(deltas.values()):
            continue
        label = labels[ACCOUNT_FUND[account]]  # a unit's money moves with its fund's
        month = booking.labelled.body.get("month") if account == "property" else None
        for unit, delta in sorted(deltas.items()):
            if delta:
                lines.append(
                    UnitLine(
                        community=booking.community,
                        idx=booking.idx,
                        seq=seq,
                        unit=unit,
                        account=account,
                        amount_fen=delta,
                        month=month,
                        kind=label.category,
                        detail=label.detail,
                        entry_id=booking.entry.id,
                        reverses=booking.reverses,
                    )
                )
                seq += 1


def _booking(state: CommunityState, index: int, entry: Entry, cited: CitedEntry) -> _Booking:
    """The booking of the money entry at ``index`` (``state`` knows the entry a reversal cites)."""
    if entry.type != "entry.reversed":
        return _Booking(entry.community, index, entry, entry, 1)
    reversed_index = state.index_of(entry.body["entry_id"])
    assert reversed_index is not None  # the rules have found the money entry it reverses
    return _Booking(entry.community, index, entry, cited(reversed_index), -1)


def _money(state: CommunityState, entry: Entry, cited: CitedEntry, into: Figures) -> None:
    _money_rows(_booking(state, state.size, entry, cited), effect_of(state, entry), into)


def _recorded_effect(state: CommunityState, index: int, entry: Entry) -> Effect:
    """The effect the fold recorded for the money entry it has just folded at ``index``.

    ``evolve`` keeps each money entry's effect (``state.effects``); a reversal's effect is
    the effect it cites, negated (what ``money_rules`` computes for it). So this is
    ``effect_of`` on the state before the entry, without computing it a second time.
    """
    if entry.type != "entry.reversed":
        return state.effects[index]
    reversed_index = state.index_of(entry.body["entry_id"])
    assert reversed_index is not None
    return state.effects[reversed_index].negated()


# --- setup entries ---------------------------------------------------------------------------


def _unit_registered(state: CommunityState, entry: Entry, cited: CitedEntry, into: Figures) -> None:
    body = entry.body
    row = UnitRow(
        entry.community, body["unit"], body["building"], body["area_cm2"], body["owner"], state.size
    )
    into.units.append(row)


def _owner_changed(state: CommunityState, entry: Entry, cited: CitedEntry, into: Figures) -> None:
    into.owner_changes.append(OwnerChange(entry.community, entry.body["unit"], entry.body["owner"]))


def _fee_schedule(state: CommunityState, entry: Entry, cited: CitedEntry, into: Figures) -> None:
    body = entry.body
    row = FeeScheduleRow(entry.community, state.size, body["from_month"], body["rate_fen_per_m2"])
    into.fee_schedules.append(row)


def _trustee_contract(
    state: CommunityState, entry: Entry, cited: CitedEntry, into: Figures
) -> None:
    body = entry.body
    row = TrusteeContractRow(
        community=entry.community,
        idx=state.size,
        trustee=body["trustee"],
        from_month=body["from_month"],
        basis_points=body.get("basis_points"),
        fixed_monthly_fen=body.get("fixed_monthly_fen"),
    )
    into.trustee_contracts.append(row)


def _bank_assertion(state: CommunityState, entry: Entry, cited: CitedEntry, into: Figures) -> None:
    body = entry.body
    fund = body["fund"]
    row = BankAssertionRow(
        entry.community, state.size, fund, body["as_of"], body["balance_fen"], state.balance(fund)
    )
    into.bank_assertions.append(row)


Builder = Callable[[CommunityState, Entry, CitedEntry, Figures], None]  # appends to the Figures

SETUP_BUILDERS: Mapping[str, Builder] = {
    "unit.registered": _unit_registered,
    "unit.owner_changed": _owner_changed,
    "fee.schedule_set": _fee_schedule,
    "trustee.contract_set": _trustee_contract,
    "bank.balance_asserted": _bank_assertion,
}

BUILDERS: Mapping[str, Builder] = {**dict.fromkeys(EFFECTS, _money), **SETUP_BUILDERS}


def figures_of(state: CommunityState, entry: Entry, cited: CitedEntry) -> Figures:
    """The rows ``entry`` adds, judged on ``state`` (the fold just before it)."""
    figures = Figures()
    builder = BUILDERS.get(entry.type)
    if builder is not None:
        builder(state, entry, cited, figures)
    return figures


def advance(
    state: CommunityState, entry: Entry, cited: CitedEntry, into: Figures | None = None
) -> Figures:
    """The rows of ``entry`` (appended to ``into``, if given), then ``state`` folded past it.

    ``state`` changes in place. The rows are those of ``figures_of``; a money entry's are
    made after the fold, from the effect the fold recorded (``_recorded_effect``), so its
    effect is computed once.
    """
    figures = Figures() if into is None else into
    if entry.type in EFFECTS:
        index = state.size
        booking = _booking(state, index, entry, cited)
        evolve(state, entry)
        _money_rows(booking, _recorded_effect(state, index, entry), figures)
        return figures
    builder = SETUP_BUILDERS.get(entry.type)
    if builder is not None:
        builder(state, entry, cited, figures)
    evolve(state, entry)
    return figures
