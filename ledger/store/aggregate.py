"""One aggregate per community: its events are the log's entries, in order.

The aggregate's version is the log index plus one (the founding entry is the
created event, version 1), so eventsourcing's optimistic concurrency keeps one
linear history per community. Events only fold entries that the service has
already checked (``ledger.core.rules.check``); replaying them never re-judges.
"""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import Aggregate, event

from ledger.core.entry import entry_from_store
from ledger.core.rules import evolve
from ledger.core.state import CommunityState

COMMUNITY_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "glasspocket/community")


def community_aggregate_id(community: str) -> uuid.UUID:
    return uuid.uuid5(COMMUNITY_NAMESPACE, community)


class CommunityLog(Aggregate):
    """A community's log as an event-sourced aggregate; ``state`` is the rules' fold."""

    @staticmethod
    def create_id(*_: Any, community: str, **__: Any) -> uuid.UUID:
        return community_aggregate_id(community)

    @event("Founded")
    def __init__(self, *, community: str, entry: str) -> None:
        self.state = CommunityState()
        evolve(self.state, entry_from_store(entry))

    @event("Appended")
    def append(self, entry: str) -> None:
        evolve(self.state, entry_from_store(entry))

    @property
    def size(self) -> int:
        return self.state.size
