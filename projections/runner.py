"""The projector: reads the event store's notification log and keeps the ``gpv_`` tables current.

``catch_up`` pulls the notifications after the tracked position in pages (the library
has no subscriptions on SQLite, so every database is read the same way), decodes each
to its community's log entry, turns it into rows with ``figures.advance`` and writes each
page's rows with the page's last notification id in one transaction.

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

from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from ledger.core.entry import Entry, parse_logged_entry
from ledger.core.state import CommunityState
from ledger.store.aggregate import CommunityLog
from ledger.store.service import LedgerService
from projections.figures import advance
from projections.store import Batch, ProjectionStore

PROJECTION_NAME = "figures-v1"  # change the suffix when row shapes change: then rebuild
PAGE_SIZE = 500

Progress = Callable[[int, int], None]  # (notification id reached, newest notification id)


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

    def catch_up(self, progress: Progress | None = None) -> int:
        """Project every notification after the tracked position; returns how many entries."""
        recorder: Any = self.service.app.recorder
        newest = recorder.max_notification_id() or 0
        previous = self.store.position(self.name)
        projected = 0
        while True:
            page = recorder.select_notifications(
                previous or 0, self.page_size, inclusive_of_start=False
            )
            if not page:
                return projected
            try:
                batch = self._project_page(page)
                self.store.write(self.name, previous, page[-1].id, batch)
            except BaseException:
                self._states.clear()  # they may have run ahead of what is stored
                raise
            previous = page[-1].id
            projected += batch.entries
            if progress is not None:
                progress(previous, max(newest, previous))

    def rebuild(self, progress: Progress | None = None) -> int:
        """Empty the tables and the position, then project the whole log again."""
        self.store.clear(self.name)
        self._states.clear()
        return self.catch_up(progress)

    # --- one page ------------------------------------------------------------------------------

    def _project_page(self, page: list[Notification]) -> Batch:
        batch = Batch()
        for notification in page:
            event: Any = self.service.app.mapper.to_domain_event(notification)
            text = getattr(event, "entry", None)
            if not isinstance(text, str):
                continue  # not a log entry: nothing to project
            entry = parse_logged_entry(text.encode())
            index = event.originator_version - 1
            state = self._state_before(entry.community, event.originator_id, index)
            figures = advance(state, entry, self._cited(entry.community))
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
            return parse_logged_entry(self.service.entries(community, index, index + 1)[0])

        return logged
