"""The projector: reads the event store's notification log and keeps the ``gpv_`` tables current.

``catch_up`` reads the notifications after the tracked position in large pages with one
SQL query each (SQLAlchemy Core on the events table; the library has no subscriptions
on SQLite, so every database is read the same way). Each stored entry is rebuilt with
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

import gc
import json
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification
from sqlalchemy import Row, Table, select

from ledger.core.entry import Entry, entry_from_store
from ledger.core.state import CommunityState
from ledger.store.aggregate import CommunityLog
from ledger.store.service import LedgerService
from projections.figures import advance
from projections.store import Batch, ProjectionStore

PROJECTION_NAME = "figures-v1"  # change the suffix when row shapes change: then rebuild
PAGE_SIZE = 5_000  # notifications read, projected and written per transaction

Progress = Callable[[int, int], None]  # (notification id reached, newest notification id)


class _Writer(ThreadPoolExecutor):
    """A writer thread for the pages of a long catch-up, or (``threads`` 0) this thread."""

    def __init__(self, threads: int) -> None:
        super().__init__(max(threads, 1), thread_name_prefix="projection-writer")
        self.inline = threads == 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if not self.inline:
            return super().submit(fn, *args, **kwargs)
        done: Future[Any] = Future()
        try:
            done.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            done.set_exception(exc)
        return done


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

    def catch_up(self, progress: Progress | None = None) -> int:
        """Project every notification after the tracked position; returns how many entries.

        Each page is written by a writer thread while the next one is projected (the
        database drivers release the GIL while they work); the write of a page is
        awaited before the next one is handed over, so the position moves in order.
        """
        previous = self.store.position(self.name)
        page = self._page(previous or 0)
        if not page:
            return 0  # up to date (a reader's usual case)
        newest = self._newest()
        projected = 0
        threads = 1 if len(page) == self.page_size else 0  # one page only: written inline
        with _Writer(threads) as writer:
            written: Future[int] | None = None
            try:
                while page:
                    batch = self._project_page(page)
                    self._written(written, newest, progress)
                    position = int(page[-1].id)
                    written = writer.submit(self._write, previous, position, batch)
                    previous, projected = position, projected + batch.entries
                    page = self._page(previous)
                self._written(written, newest, progress)
            except BaseException:
                self._states.clear()  # they may have run ahead of what is stored
                raise
        return projected

    def _write(self, previous: int | None, position: int, batch: Batch) -> int:
        self.store.write(self.name, previous, position, batch)
        return position

    @staticmethod
    def _written(written: Future[int] | None, newest: int, progress: Progress | None) -> None:
        """Wait until the page handed to the writer is stored (raising what it raised)."""
        if written is not None:
            position = written.result()
            if progress is not None:
                progress(position, max(newest, position))

    def rebuild(self, progress: Progress | None = None) -> int:
        """Empty the tables and the position, then project the whole log again."""
        self.store.clear(self.name)
        self._states.clear()
        return self.catch_up(progress)

    # --- reading the notification log ---------------------------------------------------------

    def _newest(self) -> int:
        recorder: Any = self.service.app.recorder
        return int(recorder.max_notification_id() or 0)

    def _page(self, after: int) -> Sequence[Row[Any]]:
        """The next ``page_size`` stored events after notification ``after``, in id order."""
        t = self._events
        query = (
            select(t.c.id, t.c.originator_id, t.c.originator_version, t.c.topic, t.c.state)
            .where(t.c.id > after)
            .order_by(t.c.id)
            .limit(self.page_size)
        )
        with self.service.engine.connect() as conn:
            return conn.execute(query).all()

    def _entry_text(self, row: Row[Any]) -> str | None:
        """The stored event's logged entry text, or None for an event that holds none."""
        mapper: Any = self.service.app.mapper
        state = bytes(row.state) if isinstance(row.state, memoryview) else row.state
        if mapper.cipher is None and mapper.compressor is None:  # the JSON state, as stored
            text = _entry_member(row.topic, state)
        else:
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

    def _project_page(self, page: Sequence[Row[Any]]) -> Batch:
        # A page allocates many short-lived, acyclic objects: the cyclic GC's passes over
        # the whole heap meanwhile cost ~10 % and free nothing, so it waits until the end.
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._project_rows(page)
        finally:
            if enabled:
                gc.enable()

    def _project_rows(self, page: Sequence[Row[Any]]) -> Batch:
        batch = Batch()
        for row in page:
            text = self._entry_text(row)
            if text is None:
                continue  # not a log entry: nothing to project
            entry = entry_from_store(text)
            index = int(row.originator_version) - 1
            state = self._state_before(entry.community, row.originator_id, index)
            cited = self._citers.get(entry.community)
            if cited is None:
                cited = self._citers[entry.community] = self._cited(entry.community)
            figures = advance(state, entry, cited)
            batch.add(entry.community, index, figures)
        return batch

    def _state_before(self, community: str, aggregate_id: UUID, index: int) -> CommunityState:
        state = self._states.get(community)
        if state is None or state.size != index:
            state = self._replayed(aggregate_id, index)
            self._states[community] = state
        return state

    def _replayed(self, aggregate_id: UUID, size: int) -> CommunityState:
        """The fold of a community's first ``size`` entries (its aggregate at version ``size``)."""
        if size == 0:
            return CommunityState()
        log: object = self.service.app.repository.get(aggregate_id, version=size)
        assert isinstance(log, CommunityLog)
        return log.state

    def _cited(self, community: str) -> Callable[[int], Entry]:
        def logged(index: int) -> Entry:
            return entry_from_store(self.service.entries(community, index, index + 1)[0].decode())

        return logged
