"""A unit's own account (DOMAIN.md "Units and owners", "Property fees"): dues, receipts, sub-account.

Dues run from the first month a fee schedule is in force up to the month asked for:
each month's charge is ``monthly_charge_fen(rate in force, area)``; receipts count for
the month they pay for; arrears are dues minus receipts. The maintenance sub-account
is the sum of the unit's maintenance lines (deposits, interest, draws, transfers in,
reversals), equal to the fold's ``books.subaccounts[unit]``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select
from sqlalchemy.engine import Engine

from ledger.core.errors import NotFoundError
from ledger.core.money import monthly_charge_fen
from ledger.core.state import CommunityState
from projections import tables
from projections.queries import fee_rates_on, in_range


@dataclass(frozen=True)
class MonthDue:
    month: str
    rate_fen_per_m2: int | None
    due_fen: int
    received_fen: int


@dataclass(frozen=True)
class Line:
    """One line of a unit's account, as the log recorded it."""

    idx: int
    account: str
    kind: str
    detail: str | None
    month: str | None
    amount_fen: int
    entry_id: str
    reverses: str | None


@dataclass(frozen=True)
class UnitAccount:
    """A unit's property dues and receipts, maintenance sub-account and refunds."""

    unit: str
    building: str
    area_cm2: int
    owner: str
    months: tuple[MonthDue, ...]
    due_fen: int
    received_fen: int
    prepaid_fen: int  # fees received for months after ``until_month``
    maintenance: tuple[Line, ...]
    maintenance_fen: int
    first_deposit_fen: int
    refunds: tuple[Line, ...]
    refunded_fen: int

    @property
    def arrears_fen(self) -> int:
        """Dues minus receipts up to ``until_month`` (negative: paid ahead within them)."""
        return self.due_fen - self.received_fen

    def needs_top_up(self, ratio: tuple[int, int] = (30, 100)) -> bool:
        """Below ``ratio`` (the charter's; 30% by default) of its first deposit: 续筹."""
        numerator, denominator = ratio
        return (
            self.first_deposit_fen > 0
            and self.maintenance_fen * denominator < self.first_deposit_fen * numerator
        )


def unit_account(
    engine: Engine,
    community: str,
    unit: str,
    until_month: str,
    end_index: int | None = None,
) -> UnitAccount:
    """The unit's account as of ``end_index``: dues from the first fee month to ``until_month``."""
    with engine.connect() as conn:
        u = tables.units
        row = conn.execute(
            select(u).where(
                u.c.community == community,
                u.c.unit == unit,
                *in_range(u.c.registered_idx, None, end_index),
            )
        ).first()
        if row is None:
            raise NotFoundError(f"no unit {unit} in {community}", f"{community} 没有房号 {unit}")
        lines = unit_lines_on(conn, community, unit, end_index)
        rates = fee_rates_on(conn, community, end_index)
    paid: dict[str, int] = {}
    for line in lines:
        if line.account == "property" and line.month is not None:
            paid[line.month] = paid.get(line.month, 0) + line.amount_fen
    months = _months_due(rates, paid, until_month, int(row.area_cm2))
    maintenance = tuple(line for line in lines if line.account == "maintenance")
    refunds = tuple(line for line in lines if line.account == "refund")
    return UnitAccount(
        unit=unit,
        building=str(row.building),
        area_cm2=int(row.area_cm2),
        owner=str(row.owner),
        months=months,
        due_fen=sum(m.due_fen for m in months),
        received_fen=sum(m.received_fen for m in months),
        prepaid_fen=sum(v for month, v in paid.items() if month > until_month),
        maintenance=maintenance,
        maintenance_fen=sum(line.amount_fen for line in maintenance),
        first_deposit_fen=sum(
            line.amount_fen
            for line in maintenance
            if line.kind == "maintenance_deposits" and line.detail == "initial"
        ),
        refunds=refunds,
        refunded_fen=sum(line.amount_fen for line in refunds),
    )


def unit_lines_on(conn: Connection, community: str, unit: str, end: int | None) -> list[Line]:
    """A unit's projected lines (every account) before index ``end`` (None: all), in order."""
    u = tables.unit_lines
    columns = ("idx", "account", "kind", "detail", "month", "amount_fen", "entry_id", "reverses")
    rows = conn.execute(
        select(*(u.c[name] for name in columns))
        .where(u.c.community == community, u.c.unit == unit, *in_range(u.c.idx, None, end))
        .order_by(u.c.idx, u.c.seq)
    ).all()
    return [Line(int(r[0]), r[1], r[2], r[3], r[4], int(r[5]), r[6], r[7]) for r in rows]


def _months_due(
    rates: CommunityState, paid: dict[str, int], until_month: str, area_cm2: int
) -> tuple[MonthDue, ...]:
    """Every month from the first fee schedule (or payment) to ``until_month``."""
    starts = [month for month, _ in rates.fee_schedules] + list(paid)
    first = min((m for m in starts if m <= until_month), default=None)
    out: list[MonthDue] = []
    month = first
    while month is not None and month <= until_month:
        rate = rates.fee_rate(month)
        due = monthly_charge_fen(rate, area_cm2) if rate is not None else 0
        out.append(MonthDue(month, rate, due, paid.get(month, 0)))
        month = _next_month(month)
    return tuple(out)


def _next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"
