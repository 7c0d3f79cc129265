"""The SQL side of the read models: a batch of rows and its tracking position, in one transaction.

``ProjectionStore.write`` inserts a batch's rows (one executemany per table) and moves
the tracking position from the value the projector read to the batch's last
notification id; both commit together or not at all, so the tables always hold
exactly the notifications up to the position.
The move is conditional: if another projector moved the position first, nothing is
written and ``ProjectionConflictError`` says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection, Table, delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ledger.core.errors import LedgerError
from projections import tables
from projections.figures import Figures


class ProjectionConflictError(LedgerError):
    """Another projector moved the tracking position first; this batch was not written."""

    code = "projection_conflict"
    status = 409


@dataclass
class Batch:
    """Rows of consecutive notifications, and how far each community's log they reach."""

    figures: Figures = field(default_factory=Figures)
    sizes: dict[str, int] = field(default_factory=dict)  # community -> entries projected
    entries: int = 0

    def add(self, community: str, index: int) -> None:
        """Count the entry at ``index`` of ``community`` (its rows are in ``figures``)."""
        self.sizes[community] = index + 1
        self.entries += 1


def _insert_rows(conn: Connection, table: Table, items: Sequence[Any]) -> None:
    """Insert ``items`` (``figures``' named tuples, fields named like ``table``'s columns) at once.

    On SQLite the rows go straight to the driver's ``executemany``: SQLAlchemy's per-row
    parameter processing cost more than SQLite's insert itself, and a row whose fields
    are the table's columns in their order is already the parameters' tuple. Other
    databases take SQLAlchemy's batched path (multi-row ``INSERT … VALUES`` on PostgreSQL).
    """
    if conn.dialect.paramstyle != "qmark":
        conn.execute(insert(table), [item._asdict() for item in items])
        return
    names = tuple(column.name for column in table.columns)
    in_order = type(items[0])._fields == names  # every row of a list has the same type
    rows = items if in_order else list(map(attrgetter(*names), items))
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    cursor = conn.connection.cursor()
    try:
        cursor.executemany(sql, rows)
    finally:
        cursor.close()


class ProjectionStore:
    """The ``gpv_`` tables on one database (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        tables.create_all(engine)

    def position(self, name: str) -> int | None:
        """The last notification id projected under ``name`` (None: nothing yet)."""
        with self.engine.connect() as conn:
            value = conn.execute(
                select(tables.tracking.c.notification_id).where(tables.tracking.c.name == name)
            ).scalar()
        return None if value is None else int(value)

    def write(self, name: str, previous: int | None, position: int, batch: Batch) -> None:
        """Store ``batch`` and move ``name`` from ``previous`` to ``position``, atomically."""
        try:
            with self.engine.begin() as conn:
                self._move(conn, name, previous, position)
                self._insert(conn, batch.figures)
                self._sizes(conn, batch.sizes)
        except IntegrityError:
            raise self._conflict(name, previous) from None

    def clear(self, name: str) -> None:
        """Empty every derived table and forget ``name``'s position, in one transaction."""
        with self.engine.begin() as conn:
            for table in reversed(tables.DERIVED):
                conn.execute(delete(table))
            conn.execute(delete(tables.tracking).where(tables.tracking.c.name == name))

    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every derived table's rows, sorted: two replays are equal iff their dumps are."""
        out: dict[str, list[tuple[Any, ...]]] = {}
        with self.engine.connect() as conn:
            for table in tables.DERIVED:
                rows = conn.execute(select(table)).all()
                out[table.name] = sorted(
                    (tuple(row) for row in rows), key=lambda r: tuple(map(repr, r))
                )
        return out

    # --- the parts of one transaction ----------------------------------------------------------

    def _move(self, conn: Connection, name: str, previous: int | None, position: int) -> None:
        t = tables.tracking
        if previous is None:
            conn.execute(insert(t), [{"name": name, "notification_id": position}])
            return
        moved = conn.execute(
            update(t)
            .where(t.c.name == name, t.c.notification_id == previous)
            .values(notification_id=position)
        )
        if moved.rowcount != 1:
            raise self._conflict(name, previous)

    @staticmethod
    def _conflict(name: str, previous: int | None) -> ProjectionConflictError:
        return ProjectionConflictError(
            f"projection {name}: another projector moved past notification {previous} first",
            f"投影 {name}：另一个投影进程已先越过通知 {previous}",
        )

    def _insert(self, conn: Connection, figures: Figures) -> None:
        batches: list[tuple[Table, Sequence[Any]]] = [
            (tables.flows, figures.flows),
            (tables.unit_lines, figures.unit_lines),
            (tables.units, figures.units),
            (tables.fee_schedules, figures.fee_schedules),
            (tables.trustee_contracts, figures.trustee_contracts),
            (tables.bank_assertions, figures.bank_assertions),
        ]
        for table, items in batches:
            if items:
                _insert_rows(conn, table, items)
        if figures.owner_changes:
            t = tables.units
            # One statement per change, in log order: a unit may change owner twice in a batch.
            for change in figures.owner_changes:
                conn.execute(
                    update(t)
                    .where(t.c.community == change.community, t.c.unit == change.unit)
                    .values(owner=change.owner)
                )

    def _sizes(self, conn: Connection, sizes: dict[str, int]) -> None:
        t = tables.communities
        for community, size in sorted(sizes.items()):
            done = conn.execute(update(t).where(t.c.community == community).values(size=size))
            if done.rowcount == 0:
                conn.execute(insert(t), [{"community": community, "size": size}])
