"""Read functions over the ``gpv_`` tables: the figures of funds, flows and the collection rate.

Every amount is integer fen, summed by SQL. Ranges of the log are half-open index
ranges ``[start, end)``, as statements cover them (DOMAIN.md "Statements"); ``end=None``
means everything projected. Rounding and rates come from ``ledger.core`` (the fee
rate in force, ``monthly_charge_fen``), never from a second formula here.

Built on these: ``projections.accounts`` (a unit's own account) and
``projections.disclosures`` (the trust account, common revenue, donations by purpose).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, case, func, select
from sqlalchemy.engine import Engine

from ledger.core.money import monthly_charge_fen, percentage_text
from ledger.core.money_bodies import FUNDS
from ledger.core.state import CommunityState
from projections import tables

QUARTER_RE = re.compile(r"(\d{4})Q([1-4])")


def signed_flow() -> ColumnElement[Any]:
    """A flow's effect on its fund's balance: + for in, − for out."""
    f = tables.flows
    return case((f.c.direction == "in", f.c.amount_fen), else_=-f.c.amount_fen)


def in_range(column: Any, start: int | None, end: int | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if start is not None:
        conditions.append(column >= start)
    if end is not None:
        conditions.append(column < end)
    return conditions


def fen(value: Any) -> int:
    """A SUM as int fen (PostgreSQL sums BIGINT as NUMERIC; an empty SUM is NULL)."""
    return int(value or 0)


def projected_size(engine: Engine, community: str) -> int:
    """How many of the community's entries the tables hold."""
    t = tables.communities
    with engine.connect() as conn:
        size = conn.execute(select(t.c.size).where(t.c.community == community)).scalar()
    return fen(size)


# --- funds and flows ---------------------------------------------------------------------------


def fund_balances(engine: Engine, community: str, end_index: int | None = None) -> dict[str, int]:
    """Each of the four funds' balance after the entries before ``end_index``."""
    with engine.connect() as conn:
        return fund_balances_on(conn, community, None, end_index)


def fund_balances_on(
    conn: Connection, community: str, start: int | None, end: int | None
) -> dict[str, int]:
    """Σ in − Σ out per fund over ``[start, end)`` (from 0: the balances at ``end``)."""
    f = tables.flows
    rows = conn.execute(
        select(f.c.fund, func.sum(signed_flow()))
        .where(f.c.community == community, *in_range(f.c.idx, start, end))
        .group_by(f.c.fund)
    ).all()
    balances = dict.fromkeys(FUNDS, 0)
    balances.update({str(fund): fen(total) for fund, total in rows})
    return balances


@dataclass(frozen=True)
class FlowTotal:
    """Money that moved one way through one fund under one label, over a range of the log."""

    fund: str
    direction: str
    category: str
    detail: str | None
    amount_fen: int


def flows_by_category(
    engine: Engine, community: str, start: int | None = None, end: int | None = None
) -> list[FlowTotal]:
    """Inflows and outflows of ``[start, end)`` by fund, direction, category and detail."""
    with engine.connect() as conn:
        return flows_by_category_on(conn, community, start, end)


def flows_by_category_on(
    conn: Connection, community: str, start: int | None, end: int | None
) -> list[FlowTotal]:
    f = tables.flows
    keys = (f.c.fund, f.c.direction, f.c.category, f.c.detail)
    rows = conn.execute(
        select(*keys, func.sum(f.c.amount_fen))
        .where(f.c.community == community, *in_range(f.c.idx, start, end))
        .group_by(*keys)
    ).all()
    totals = [FlowTotal(r[0], r[1], r[2], r[3], fen(r[4])) for r in rows]
    return sorted(totals, key=lambda t: (t.fund, t.direction, t.category, t.detail or ""))


def fee_income(engine: Engine, community: str, end_index: int | None = None) -> dict[str, int]:
    """Property fees received per Shanghai month of ``at`` (the remuneration formula's base)."""
    f = tables.flows
    with engine.connect() as conn:
        rows = conn.execute(
            select(f.c.booked_month, func.sum(f.c.amount_fen))
            .where(
                f.c.community == community,
                f.c.category == "property_fees",
                *in_range(f.c.idx, None, end_index),
            )
            .group_by(f.c.booked_month)
        ).all()
    return {str(month): fen(total) for month, total in rows if fen(total)}


def unit_balances(
    engine: Engine, community: str, account: str, end_index: int | None = None
) -> dict[str, int]:
    """Σ of each unit's lines on ``account`` ("maintenance" gives the sub-accounts)."""
    u = tables.unit_lines
    with engine.connect() as conn:
        rows = conn.execute(
            select(u.c.unit, func.sum(u.c.amount_fen))
            .where(
                u.c.community == community,
                u.c.account == account,
                *in_range(u.c.idx, None, end_index),
            )
            .group_by(u.c.unit)
        ).all()
    return {str(unit): fen(total) for unit, total in rows if fen(total)}


# --- dues and the collection rate ------------------------------------------------------------


def fee_rates_on(conn: Connection, community: str, end: int | None) -> CommunityState:
    """A state holding only the fee schedules before ``end``: ask it ``fee_rate(month)``."""
    s = tables.fee_schedules
    rows = conn.execute(
        select(s.c.from_month, s.c.rate_fen_per_m2)
        .where(s.c.community == community, *in_range(s.c.idx, None, end))
        .order_by(s.c.from_month, s.c.idx)  # the order the fold keeps them in
    ).all()
    return CommunityState(fee_schedules=[(str(m), int(r)) for m, r in rows])


def quarter_months(quarter: str) -> list[str]:
    """ "2025Q1" → ["2025-01", "2025-02", "2025-03"]."""
    match = QUARTER_RE.fullmatch(quarter)
    if match is None:
        raise ValueError(f"a quarter is written like 2025Q1, not {quarter!r}")
    year, q = int(match[1]), int(match[2])
    return [f"{year:04d}-{month:02d}" for month in range(3 * q - 2, 3 * q + 1)]


def dues_on(conn: Connection, community: str, months: list[str], end: int | None) -> int:
    """Fen due for ``months`` from every unit registered before ``end``, at the rates then set."""
    u = tables.units
    areas = conn.execute(
        select(u.c.area_cm2, func.count())
        .where(u.c.community == community, *in_range(u.c.registered_idx, None, end))
        .group_by(u.c.area_cm2)
    ).all()
    rates = fee_rates_on(conn, community, end)
    due = 0
    for month in months:
        rate = rates.fee_rate(month)
        if rate is not None:
            due += sum(int(n) * monthly_charge_fen(rate, int(area)) for area, n in areas)
    return due


def received_on(conn: Connection, community: str, months: list[str], end: int | None) -> int:
    """Property fees received before ``end`` for ``months`` (the months they pay for)."""
    u = tables.unit_lines
    total = conn.execute(
        select(func.sum(u.c.amount_fen)).where(
            u.c.community == community,
            u.c.account == "property",
            u.c.month.in_(months),
            *in_range(u.c.idx, None, end),
        )
    ).scalar()
    return fen(total)


class CollectionRate(NamedTuple):
    """收缴率 as the integer pair DOMAIN.md keeps: fen received over fen due."""

    received_fen: int
    due_fen: int

    @property
    def percentage(self) -> str:
        return percentage_text(self.received_fen, self.due_fen)


def collection_rate(
    engine: Engine, community: str, quarter: str, end_index: int | None = None
) -> CollectionRate:
    """Fen received by ``end_index`` for the quarter's months, over the fen due for them."""
    months = quarter_months(quarter)
    with engine.connect() as conn:
        return CollectionRate(
            received_on(conn, community, months, end_index),
            dues_on(conn, community, months, end_index),
        )
