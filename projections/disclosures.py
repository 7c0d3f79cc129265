"""Statement figures of three funds over a range of the log (DOMAIN.md "Statements").

- ``trust_account``: the property fund under the trust contract (信托制物业): income,
  costs by category, the trustee's remuneration against its contract formula per month,
  refunds, and the period's surplus.
- ``common_revenue``: 公共收益 gross by source, its costs, net, and where it went.
- ``donations_by_purpose``: the community fund per restricted purpose (and unrestricted).

Ranges are half-open log index ranges ``[start, end)``. A formula (the remuneration cap)
comes from ``ledger.core.money_rules``, asked on a state holding just what it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, case, func, select
from sqlalchemy.engine import Engine

from ledger.core.effects import Books
from ledger.core.money_rules import remuneration_cap
from ledger.core.state import CommunityState
from projections import tables
from projections.queries import (
    FlowTotal,
    fen,
    flows_by_category_on,
    fund_balances_on,
    in_range,
    signed_flow,
)


def _total(items: tuple[FlowTotal, ...]) -> int:
    return sum(item.amount_fen for item in items)


def _pick(totals: list[FlowTotal], direction: str, *categories: str) -> tuple[FlowTotal, ...]:
    return tuple(
        t
        for t in totals
        if t.direction == direction and (not categories or t.category in categories)
    )


# --- the trust account --------------------------------------------------------------------------


@dataclass(frozen=True)
class RemunerationMonth:
    """A month's remuneration against the contract formula, as the log stands at the end."""

    month: str
    paid_in_period_fen: int
    paid_fen: int  # everything recorded for the month before the end
    fee_income_fen: int  # property fees received in the month (by ``at``) before the end
    cap_fen: int | None  # by the contract covering the month; None: no contract covers it

    @property
    def within_cap(self) -> bool:
        return self.cap_fen is not None and self.paid_fen <= self.cap_fen


@dataclass(frozen=True)
class TrustAccount:
    opening_fen: int
    closing_fen: int
    income: tuple[FlowTotal, ...]  # every inflow: fees, interest, transfers in
    costs: tuple[FlowTotal, ...]  # expenses by category
    remuneration: tuple[RemunerationMonth, ...]
    refunded_fen: int
    transferred_out_fen: int

    @property
    def income_fen(self) -> int:
        return _total(self.income)

    @property
    def costs_fen(self) -> int:
        return _total(self.costs)

    @property
    def remuneration_fen(self) -> int:
        return sum(month.paid_in_period_fen for month in self.remuneration)

    @property
    def surplus_fen(self) -> int:
        """Income less costs and remuneration: what the period added for the owners."""
        return self.income_fen - self.costs_fen - self.remuneration_fen


def trust_account(engine: Engine, community: str, start: int, end: int) -> TrustAccount:
    with engine.connect() as conn:
        totals = [
            t for t in flows_by_category_on(conn, community, start, end) if t.fund == "property"
        ]
        months = sorted(
            {t.detail for t in _pick(totals, "out", "trustee_remuneration") if t.detail}
        )
        remuneration = tuple(_remuneration_month(conn, community, m, start, end) for m in months)
        return TrustAccount(
            opening_fen=fund_balances_on(conn, community, None, start)["property"],
            closing_fen=fund_balances_on(conn, community, None, end)["property"],
            income=_pick(totals, "in"),
            costs=_pick(totals, "out", "expense"),
            remuneration=remuneration,
            refunded_fen=_total(_pick(totals, "out", "surplus_refund")),
            transferred_out_fen=_total(_pick(totals, "out", "transfer_out")),
        )


def _remuneration_month(
    conn: Connection, community: str, month: str, start: int, end: int
) -> RemunerationMonth:
    f = tables.flows
    of_month = (f.c.community == community, f.c.idx < end)
    in_period, paid = conn.execute(
        select(
            func.sum(case((f.c.idx >= start, f.c.amount_fen), else_=0)), func.sum(f.c.amount_fen)
        ).where(*of_month, f.c.category == "trustee_remuneration", f.c.detail == month)
    ).one()
    income = conn.execute(
        select(func.sum(f.c.amount_fen)).where(
            *of_month, f.c.category == "property_fees", f.c.booked_month == month
        )
    ).scalar()
    state = CommunityState(
        books=Books(fee_income={month: fen(income)}),
        trustee_contracts=_contracts_on(conn, community, end),
    )
    cap = remuneration_cap(state, month)
    return RemunerationMonth(month, fen(in_period), fen(paid), fen(income), cap)


def _contracts_on(conn: Connection, community: str, end: int) -> list[dict[str, Any]]:
    """The trustee contracts set before ``end``, in the order the fold keeps them."""
    t = tables.trustee_contracts
    rows = conn.execute(
        select(t).where(t.c.community == community, t.c.idx < end).order_by(t.c.from_month, t.c.idx)
    ).all()
    contracts = []
    for row in rows:
        contract: dict[str, Any] = {"trustee": row.trustee, "from_month": row.from_month}
        for name in ("basis_points", "fixed_monthly_fen"):
            if getattr(row, name) is not None:
                contract[name] = int(getattr(row, name))
        contracts.append(contract)
    return contracts


# --- common revenue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CommonRevenue:
    opening_fen: int
    closing_fen: int
    gross: tuple[FlowTotal, ...]  # revenue by source (detail), interest, transfers in
    costs: tuple[FlowTotal, ...]  # expenses of earning it, by category
    went_to: tuple[FlowTotal, ...]  # transfers out, by the fund they went to (detail)

    @property
    def gross_fen(self) -> int:
        return _total(self.gross)

    @property
    def costs_fen(self) -> int:
        return _total(self.costs)

    @property
    def net_fen(self) -> int:
        return self.gross_fen - self.costs_fen


def common_revenue(engine: Engine, community: str, start: int, end: int) -> CommonRevenue:
    with engine.connect() as conn:
        totals = [
            t
            for t in flows_by_category_on(conn, community, start, end)
            if t.fund == "public_revenue"
        ]
        return CommonRevenue(
            opening_fen=fund_balances_on(conn, community, None, start)["public_revenue"],
            closing_fen=fund_balances_on(conn, community, None, end)["public_revenue"],
            gross=_pick(totals, "in"),
            costs=_pick(totals, "out", "expense"),
            went_to=_pick(totals, "out", "transfer_out"),
        )


# --- donations ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurposeFigures:
    """The community fund's money for one restricted purpose (``None``: unrestricted)."""

    purpose: str | None
    donated_fen: int  # donations, sponsorships, grants in the period
    other_in_fen: int  # transfers in, interest in the period
    spent_fen: int  # everything out in the period
    balance_fen: int  # at the end


def donations_by_purpose(
    engine: Engine, community: str, start: int, end: int
) -> list[PurposeFigures]:
    """Per purpose: money in and out over ``[start, end)`` and the balance at ``end``."""
    f = tables.flows
    where = (f.c.community == community, f.c.fund == "community")
    with engine.connect() as conn:
        keys = (f.c.purpose, f.c.direction, f.c.category)
        period = conn.execute(
            select(*keys, func.sum(f.c.amount_fen))
            .where(*where, *in_range(f.c.idx, start, end))
            .group_by(*keys)
        ).all()
        balances = conn.execute(
            select(f.c.purpose, func.sum(signed_flow()))
            .where(*where, f.c.idx < end)
            .group_by(f.c.purpose)
        ).all()
    figures: dict[str | None, list[int]] = {p: [0, 0, 0, fen(b)] for p, b in balances}
    for purpose, direction, category, total in period:
        slot = 2 if direction == "out" else (0 if category == "donation" else 1)
        figures.setdefault(purpose, [0, 0, 0, 0])[slot] += fen(total)
    order = sorted(figures, key=lambda purpose: (purpose is not None, purpose or ""))
    return [PurposeFigures(purpose, *figures[purpose]) for purpose in order]
