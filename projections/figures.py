"""Figures: what one entry adds to the read models, as rows. Pure: imports ``ledger.core`` only.

``advance(state, entry, cited)`` turns an entry and the folded state just before it into
rows, then folds the entry in with ``ledger.core.rules.evolve`` (entries from the store
were checked when they were appended, so nothing is re-judged and no signature is
re-verified). A money entry's amounts always come from ``money_rules.effect_of``: the
projections never compute a rule a second way, so their sums equal the fold's books.

STYLE.md asks for ``evolve`` by ``functools.singledispatch`` over entry types; entries
are one ``Entry`` class carrying a wire type string, so the equivalent here is a dict
registry keyed by wire type (``BUILDERS``: every money type of ``money_rules.EFFECTS``,
plus the setup types the statements need). Types without a builder add no rows.

Rows:
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
from typing import Any

from ledger.core.effects import Effect
from ledger.core.entry import Entry
from ledger.core.money import shanghai_month
from ledger.core.money_rules import EFFECTS, effect_of
from ledger.core.rules import evolve
from ledger.core.state import CommunityState

CitedEntry = Callable[[int], Entry]  # the logged entry at an index of the same community


@dataclass(frozen=True)
class FlowRow:
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


@dataclass(frozen=True)
class UnitLine:
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


@dataclass(frozen=True)
class UnitRow:
    community: str
    unit: str
    building: str
    area_cm2: int
    owner: str
    registered_idx: int


@dataclass(frozen=True)
class OwnerChange:
    community: str
    unit: str
    owner: str


@dataclass(frozen=True)
class FeeScheduleRow:
    community: str
    idx: int
    from_month: str
    rate_fen_per_m2: int


@dataclass(frozen=True)
class TrusteeContractRow:
    community: str
    idx: int
    trustee: str
    from_month: str
    basis_points: int | None
    fixed_monthly_fen: int | None


@dataclass(frozen=True)
class BankAssertionRow:
    community: str
    idx: int
    fund: str
    as_of: str
    balance_fen: int
    books_fen: int


@dataclass
class Figures:
    """Rows for one entry, or for a batch of entries (``extend``)."""

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


@dataclass(frozen=True)
class Label:
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


@dataclass(frozen=True)
class _Booking:
    """Who records the rows (index, id, time) and whose labels they carry (``labelled``)."""

    community: str
    idx: int
    entry: Entry
    labelled: Entry
    sign: int  # +1, or -1 for a reversal (the effect is the cited effect negated)

    @property
    def reverses(self) -> str | None:
        return self.labelled.id if self.sign < 0 else None


def _money_rows(booking: _Booking, effect: Effect) -> Figures:
    labeller = LABELLERS[booking.labelled.type]
    labels = {
        fund: labeller(booking.labelled.body, delta * booking.sign > 0)
        for fund, delta in effect.funds.items()
        if delta
    }
    return Figures(
        flows=_fund_flows(booking, effect, labels), unit_lines=_unit_lines(booking, effect, labels)
    )


def _fund_flows(booking: _Booking, effect: Effect, labels: Mapping[str, Label]) -> list[FlowRow]:
    booked_month = shanghai_month(booking.labelled.at_datetime())
    flows: list[FlowRow] = []
    for fund, label in sorted(labels.items()):
        booked = effect.funds[fund] * booking.sign  # the delta as the labelled entry booked it
        flows.append(
            FlowRow(
                community=booking.community,
                idx=booking.idx,
                seq=len(flows),
                at=booking.entry.at,
                booked_month=booked_month,
                fund=fund,
                direction="in" if booked > 0 else "out",
                category=label.category,
                detail=label.detail,
                purpose=label.purpose,
                amount_fen=abs(booked) * booking.sign,
                entry_id=booking.entry.id,
                type=booking.entry.type,
                reverses=booking.reverses,
            )
        )
    return flows


def _unit_lines(booking: _Booking, effect: Effect, labels: Mapping[str, Label]) -> list[UnitLine]:
    accounts = (
        ("property", effect.property_paid),
        ("maintenance", effect.subaccounts),
        ("refund", effect.refunds),
    )
    lines: list[UnitLine] = []
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
                        seq=len(lines),
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
    return lines


def _money(state: CommunityState, entry: Entry, cited: CitedEntry) -> Figures:
    effect = effect_of(state, entry)
    if entry.type != "entry.reversed":
        return _money_rows(_Booking(entry.community, state.size, entry, entry, 1), effect)
    index = state.index_of(entry.body["entry_id"])
    assert index is not None  # effect_of has found the money entry it reverses
    return _money_rows(_Booking(entry.community, state.size, entry, cited(index), -1), effect)


# --- setup entries ---------------------------------------------------------------------------


def _unit_registered(state: CommunityState, entry: Entry, cited: CitedEntry) -> Figures:
    body = entry.body
    row = UnitRow(
        entry.community, body["unit"], body["building"], body["area_cm2"], body["owner"], state.size
    )
    return Figures(units=[row])


def _owner_changed(state: CommunityState, entry: Entry, cited: CitedEntry) -> Figures:
    return Figures(
        owner_changes=[OwnerChange(entry.community, entry.body["unit"], entry.body["owner"])]
    )


def _fee_schedule(state: CommunityState, entry: Entry, cited: CitedEntry) -> Figures:
    body = entry.body
    row = FeeScheduleRow(entry.community, state.size, body["from_month"], body["rate_fen_per_m2"])
    return Figures(fee_schedules=[row])


def _trustee_contract(state: CommunityState, entry: Entry, cited: CitedEntry) -> Figures:
    body = entry.body
    row = TrusteeContractRow(
        community=entry.community,
        idx=state.size,
        trustee=body["trustee"],
        from_month=body["from_month"],
        basis_points=body.get("basis_points"),
        fixed_monthly_fen=body.get("fixed_monthly_fen"),
    )
    return Figures(trustee_contracts=[row])


def _bank_assertion(state: CommunityState, entry: Entry, cited: CitedEntry) -> Figures:
    body = entry.body
    fund = body["fund"]
    row = BankAssertionRow(
        entry.community, state.size, fund, body["as_of"], body["balance_fen"], state.balance(fund)
    )
    return Figures(bank_assertions=[row])


Builder = Callable[[CommunityState, Entry, CitedEntry], Figures]

BUILDERS: Mapping[str, Builder] = {
    **dict.fromkeys(EFFECTS, _money),
    "unit.registered": _unit_registered,
    "unit.owner_changed": _owner_changed,
    "fee.schedule_set": _fee_schedule,
    "trustee.contract_set": _trustee_contract,
    "bank.balance_asserted": _bank_assertion,
}


def figures_of(state: CommunityState, entry: Entry, cited: CitedEntry) -> Figures:
    """The rows ``entry`` adds, judged on ``state`` (the fold just before it)."""
    builder = BUILDERS.get(entry.type)
    return builder(state, entry, cited) if builder is not None else Figures()


def advance(state: CommunityState, entry: Entry, cited: CitedEntry) -> Figures:
    """The rows of ``entry``, then ``state`` folded past it (``state`` changes in place)."""
    figures = figures_of(state, entry, cited)
    evolve(state, entry)
    return figures
