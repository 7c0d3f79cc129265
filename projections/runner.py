"""The projector: reads the event store's notification log and keeps the ``gpv_`` tables current.

``catch_up`` reads the notifications after the tracked position in large pages with one
SQL query each (SQLAlchemy Core on the events table; the library has no subscriptions
on SQLite, so every database is read the same way; SQLite cuts the entry text out of
each event's JSON state itself). Each stored entry is rebuilt with
``entry_from_store``: the write side checked it (strict parsing, signature, rules)
before storing it, so its canonical text is taken as it is, never parsed and verified
twice. ``figures.advance`` turns it into rows, and each page's rows are written with the
page's last notification id in one transaction (``ProjectionStore.write``: executemany).

The log index of an entry is its aggregate version − 1, never its notification id (ids
can have gaps). The projector keeps one folded ``CommunityState`` per community in
memory. When it has none for a community, or one at another size (a fresh process,
another projector ran), it rebuilds the state just before the entry by replaying that
community's already-projected entries through the same ``evolve`` (the event store's
aggregate at that version), without writing rows.

One projector at a time per database is the intended use; a second one that races is
refused by the tracking position (``ProjectionConflictError``), never double-counts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification
from sqlalchemy import Row, Table, Text, cast, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from ledger.core.entry import Entry, entry_from_store
from ledger.core.gcpause import gc_paused
from ledger.core.state import CommunityState
from ledger.store.aggregate import CommunityLog
from ledger.store.service import LedgerService
from projections.figures import advance
from projections.store import Batch, ProjectionStore

PROJECTION_NAME = "figures-v1"  # change the suffix when row shapes change: then rebuild
PAGE_SIZE = 10_000  # notifications read, projected and written per transaction (one commit)

Progress = Callable[[int, int], None]  # (notification id reached, newest notification id)
Stored = tuple[int, int, str | None]  # (notification id, aggregate version, logged entry text)


_ENTRY_TOPICS = frozenset(
    f"{CommunityLog.__module__}:{CommunityLog.__qualname__}.{name}"
    for name in ("Founded", "Appended")
)
_ENTRY_MEMBER = '"entry":"'


def _entry_member(topic: str, state: bytes) -> Any:
    """The ``entry`` member of an event's JSON state.

    For the log's own events (whose only nested object is the timestamp) the member is
    cut out with the JSON string scanner: outside a string a quote is never escaped and
    inside one it always is, so ``"entry":"`` occurs only as that member. Any other
    event is parsed whole.
    """
    if topic in _ENTRY_TOPICS:
        text = state.decode("utf-8")
        at = text.find(_ENTRY_MEMBER)
        if at >= 0:
            return scanstring(text, at + len(_ENTRY_MEMBER))[0]
    data = json.loads(state)
    return data.get("entry") if isinstance(data, dict) else None


def _sqlite_reads_json(engine: Engine) -> bool:
    """Is ``engine`` SQLite with the JSON functions (built in since 3.38, an extension before)?"""
    if engine.dialect.name != "sqlite":
        return False
    try:
        with engine.connect() as conn:
            probe = conn.exec_driver_sql("""SELECT json_type('{"entry":"x"}', '$.entry')""")
            return bool(probe.scalar() == "text")
    except DBAPIError:
        return False


class Projector:
    """Feeds the read models of every community in ``service``'s database."""

    def __init__(
        self,
        service: LedgerService,
        store: ProjectionStore | None = None,
        *,
        name: str = PROJECTION_NAME,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.service = service
        self.store = store if store is not None else ProjectionStore(service.engine)
        self.name = name
        self.page_size = page_size
        self._states: dict[str, CommunityState] = {}
        self._citers: dict[str, Callable[[int], Entry]] = {}
        recorder: Any = service.app.recorder
        self._events: Table = recorder.events_record_cls.__table__
        mapper: Any = service.app.mapper
        # Without a cipher or a compressor the stored state is the event's JSON, read as is
        # (by SQLite itself where it can: ``_page``).
        self._plain = mapper.cipher is None and mapper.compressor is None
        self._json_in_sql = self._plain and _sqlite_reads_json(service.engine)

    def catch_up(self, progress: Progress | None = None) -> int:
        """Project every notification after the tracked position; returns how many entries.

        Pages are read, projected and written one after the other, in this thread. (A
        writer thread storing a page while the next one was projected saved nothing on
        two cores, SQLite or PostgreSQL: the drivers hand the GIL back and forth at
        every row, and that cost the projecting thread what the overlap gained.)
        """
        previous = self.store.position(self.name)
        page = self._page(previous or 0)
        if not page:
            return 0  # up to date (a reader's usual case)
        newest = self._newest()
        projected = 0
        with gc_paused():
            try:
                while page:
                    batch = self._project_page(page)
                    position = page[-1][0]
                    self.store.write(self.name, previous, position, batch)
                    previous, projected = position, projected + batch.entries
                    if progress is not None:
                        progress(position, max(newest, position))
                    page = self._page(previous)
            except BaseException:
                self._states.clear()  # they may have run ahead of what is stored
                raise
        return projected

    def rebuild(self, progress: Progress | None = None) -> int:
        """Empty the tables and the position, then project the whole log again."""
        self.store.clear(self.name)
        self._states.clear()
        return self.catch_up(progress)

    # --- reading the notification log ---------------------------------------------------------

    def _newest(self) -> int:
        recorder: Any = self.service.app.recorder
        return int(recorder.max_notification_id() or 0)

    def _page(self, after: int) -> list[Stored]:
        """The next ``page_size`` stored events after notification ``after``, in id order.

        On SQLite with plain JSON states, SQLite itself cuts the ``entry`` member out of
        each state (``json_extract``, in C: a tenth of a rebuild's time otherwise). The
        aggregate's id is left out (turning each into a ``UUID`` cost another tenth):
        ``_aggregate_id`` asks for it when a state must be replayed; only an encrypted or
        compressed state needs it to be decoded, so it is read with those.
        """
        t = self._events
        columns: list[Any] = [t.c.id, t.c.originator_version]
        if self._json_in_sql:
            state = cast(t.c.state, Text)
            columns += [func.json_type(state, "$.entry"), func.json_extract(state, "$.entry")]
        else:
            columns += [t.c.topic, t.c.state] + ([] if self._plain else [t.c.originator_id])
        query = select(*columns).where(t.c.id > after).order_by(t.c.id).limit(self.page_size)
        with self.service.engine.connect() as conn:
            rows = conn.execute(query).all()
        if self._json_in_sql:  # the member if it is a JSON string, as ``_entry_text`` says
            return [(n, v, text if kind == "text" else None) for n, v, kind, text in rows]
        return [(int(r.id), int(r.originator_version), self._entry_text(r)) for r in rows]

    def _aggregate_id(self, notification_id: int) -> UUID:
        """The id of the aggregate (a community's log) that stored this notification."""
        t = self._events
        query = select(t.c.originator_id).where(t.c.id == notification_id)
        with self.service.engine.connect() as conn:
            value = conn.execute(query).scalar_one()
        return value if isinstance(value, UUID) else UUID(str(value))

    def _entry_text(self, row: Row[Any]) -> str | None:
        """The stored event's logged entry text, or None for an event that holds none."""
        state = bytes(row.state) if isinstance(row.state, memoryview) else row.state
        if self._plain:  # the JSON state, as stored
            text = _entry_member(row.topic, state)
        else:
            mapper: Any = self.service.app.mapper
            stored = Notification(
                id=row.id,
                originator_id=row.originator_id,
                originator_version=row.originator_version,
                topic=row.topic,
                state=state,
            )
            text = getattr(mapper.to_domain_event(stored), "entry", None)
        return text if isinstance(text, str) else None

    # --- one page ------------------------------------------------------------------------------

    def _project_page(self, page: Sequence[Stored]) -> Batch:
        """The page's rows, built straight into one batch (``advance`` appends to it)."""
        batch = Batch()
        into = batch.figures
        for notification_id, version, text in page:
            if text is None:
                continue  # not a log entry: nothing to project
            entry = entry_from_store(text)
            community = entry.community
            index = version - 1
            state = self._states.get(community)
            if state is None or state.size != index:
                state = self._states[community] = self._replayed(notification_id, index)
            cited = self._citers.get(community)
            if cited is None:
                cited = self._citers[community] = self._cited(community)
            advance(state, entry, cited, into)
            batch.add(community, index)
        return batch

    def _replayed(self, notification_id: int, size: int) -> CommunityState:
        """The fold of a community's first ``size`` entries (its aggregate at version ``size``)."""
        if size == 0:
            return CommunityState()
        aggregate_id = self._aggregate_id(notification_id)
        log: object = self.service.app.repository.get(aggregate_id, version=size)
        assert isinstance(log, CommunityLog)
        return log.state

    def _cited(self, community: str) -> Callable[[int], Entry]:
        def logged(index: int) -> Entry:
            return entry_from_store(self.service.entries(community, index, index + 1)[0].decode())

        return logged
