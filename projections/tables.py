"""The read models' tables (SQLAlchemy Core, prefix ``gpv_``) and their tracking position.

Every table here is derived: ``ProjectionStore.clear`` may empty them all and a replay of
the notification log fills them again, identically. Money is integer fen (BIGINT).

- ``gpv_tracking``: the last notification id projected, per projection name.
- ``gpv_communities``: how many entries of each community are projected.
- ``gpv_flows``: money in and out of each fund, by category (``figures.FlowRow``).
- ``gpv_unit_lines``: each unit's property, maintenance and refund lines (``figures.UnitLine``).
- ``gpv_units``: the unit register as it stands (owner changes update it).
- ``gpv_fee_schedules``, ``gpv_trustee_contracts``, ``gpv_bank_assertions``: setup and
  reconciliation entries the statements need.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table
from sqlalchemy.engine import Engine

metadata = MetaData()

_COMMUNITY = 64
_ID = 36


def _community() -> Column[str]:
    return Column("community", String(_COMMUNITY), primary_key=True)


def _idx() -> Column[int]:
    return Column("idx", BigInteger, primary_key=True, autoincrement=False)


tracking = Table(
    "gpv_tracking",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("notification_id", BigInteger, nullable=False),
)

communities = Table(
    "gpv_communities",
    metadata,
    _community(),
    Column("size", BigInteger, nullable=False),
)

flows = Table(
    "gpv_flows",
    metadata,
    _community(),
    _idx(),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),
    Column("booked_month", String(7), nullable=False),
    Column("fund", String(20), nullable=False),
    Column("direction", String(3), nullable=False),
    Column("category", String(30), nullable=False),
    Column("detail", String(30)),
    Column("purpose", String(100)),
    Column("amount_fen", BigInteger, nullable=False),
    Column("entry_id", String(_ID), nullable=False),
    Column("type", String(40), nullable=False),
    Column("reverses", String(_ID)),
)
Index("gpv_flows_by_fund", flows.c.community, flows.c.fund, flows.c.idx)

unit_lines = Table(
    "gpv_unit_lines",
    metadata,
    _community(),
    _idx(),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("unit", String(32), nullable=False),
    Column("account", String(12), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("month", String(7)),
    Column("kind", String(30), nullable=False),
    Column("detail", String(30)),
    Column("entry_id", String(_ID), nullable=False),
    Column("reverses", String(_ID)),
)
Index("gpv_unit_lines_by_unit", unit_lines.c.community, unit_lines.c.unit, unit_lines.c.idx)
Index("gpv_unit_lines_by_month", unit_lines.c.community, unit_lines.c.account, unit_lines.c.month)

units = Table(
    "gpv_units",
    metadata,
    _community(),
    Column("unit", String(32), primary_key=True),
    Column("building", String(16), nullable=False),
    Column("area_cm2", BigInteger, nullable=False),
    Column("owner", String(64), nullable=False),
    Column("registered_idx", BigInteger, nullable=False),
)

fee_schedules = Table(
    "gpv_fee_schedules",
    metadata,
    _community(),
    _idx(),
    Column("from_month", String(7), nullable=False),
    Column("rate_fen_per_m2", BigInteger, nullable=False),
)

trustee_contracts = Table(
    "gpv_trustee_contracts",
    metadata,
    _community(),
    _idx(),
    Column("trustee", String(200), nullable=False),
    Column("from_month", String(7), nullable=False),
    Column("basis_points", Integer),
    Column("fixed_monthly_fen", BigInteger),
)

bank_assertions = Table(
    "gpv_bank_assertions",
    metadata,
    _community(),
    _idx(),
    Column("fund", String(20), nullable=False),
    Column("as_of", String(10), nullable=False),
    Column("balance_fen", BigInteger, nullable=False),
    Column("books_fen", BigInteger, nullable=False),
)

# The rows one replay derives (everything but the tracking position), in dependency order.
DERIVED = (communities, flows, unit_lines, units, fee_schedules, trustee_contracts, bank_assertions)


def create_all(engine: Engine) -> None:
    """Create the read models' tables (idempotent)."""
    metadata.create_all(engine)
