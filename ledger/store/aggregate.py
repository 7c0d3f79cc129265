"""One aggregate per community: its events are the log's entries, in order; and its snapshots.

The aggregate's version is the log index plus one (the founding entry is the
created event, version 1), so eventsourcing's optimistic concurrency keeps one
linear history per community. Events only fold entries that the service has
already checked (``ledger.core.rules.check``); replaying them never re-judges.

Snapshots (eventsourcing's ``Snapshot`` of the aggregate, stored beside the events)
keep loading a large community cheap: the folded ``CommunityState`` is serialised
with pickle and read back with an unpickler that only rebuilds plain data and the
classes of ``ledger.core`` (no other callable can be named by a stored snapshot).
A snapshot is a cache: deleting the snapshots table only makes loading slower.
"""

from __future__ import annotations

import base64
import io
import pickle
import uuid
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any

from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Transcoding
from eventsourcing.utils import get_topic

from ledger.core.effects import Effect
from ledger.core.entry import Entry, entry_from_store
from ledger.core.rules import evolve, evolve_judged
from ledger.core.state import CommunityState

COMMUNITY_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "glasspocket/community")
SNAPSHOT_INTERVAL = 5_000  # entries between snapshots of a community


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
        evolve(self.state, entry_from_store(entry))  # a stored event: parse its text, fold it

    def append_judged(self, entry: Entry, effect: Effect | None) -> None:
        """``append`` for an entry the caller parsed and judged on this state (``judge``,
        which gave ``effect``). The same event as ``append`` triggers (its text, the next
        version, the time now), pending as always; the fold takes the parsed entry and its
        effect instead of parsing and computing them again. What ``trigger_event`` and the
        event's ``mutate`` do, made directly: the event is built for this aggregate and
        version, so the checks ``mutate`` makes of them hold by construction."""
        version = self.version + 1
        new_event = _APPENDED(
            originator_id=self.id,
            originator_version=version,
            timestamp=_APPENDED.create_timestamp(),
            entry=entry.entry_bytes().decode(),
        )
        evolve_judged(self.state, entry, effect)  # first: a failure leaves the version as it was
        self.version = version
        self.modified_on = new_event.timestamp
        self.pending_events.append(new_event)

    @property
    def size(self) -> int:
        return self.state.size


# the event class ``@event("Appended")`` made for ``CommunityLog.append``
_APPENDED: type[Any] = CommunityLog.Appended  # type: ignore[attr-defined]
APPENDED_TOPIC = get_topic(_APPENDED)
_APPENDED_HEAD = b'{"timestamp":{"_type_":"datetime_iso","_data_":"'


def appended_state(event: Any) -> bytes | None:
    """The stored state of an ``Appended`` event, as eventsourcing's JSON transcoder
    writes it (``{"timestamp": …, "entry": …}``), made without its generic walk; None
    for any other event, which the application's mapper turns into a stored event."""
    if type(event) is not _APPENDED or type(event.timestamp) is not datetime:
        return None
    return b"".join(
        (
            _APPENDED_HEAD,
            event.timestamp.isoformat().encode(),
            b'"},"entry":',
            encode_basestring(event.entry).encode(),
            b"}",
        )
    )


_SAFE_BUILTINS = frozenset({"set", "frozenset", "dict", "list", "tuple", "bytearray", "bytes"})


class _StateUnpickler(pickle.Unpickler):
    """Rebuilds plain data and ``ledger.core`` classes; refuses any other global."""

    def find_class(self, module: str, name: str) -> Any:
        if module.startswith("ledger.core.") or (module == "builtins" and name in _SAFE_BUILTINS):
            return super().find_class(module, name)
        if module == "collections" and name in ("OrderedDict", "defaultdict", "Counter", "deque"):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"snapshot names {module}.{name}: not allowed")


class StateAsPickle(Transcoding):
    """A ``CommunityState`` in a snapshot: base64 of its pickle (protocol 5)."""

    type = CommunityState
    name = "gp_state"

    def encode(self, obj: CommunityState) -> str:
        return base64.b64encode(pickle.dumps(obj, protocol=5)).decode("ascii")

    def decode(self, data: str) -> CommunityState:
        state = _StateUnpickler(io.BytesIO(base64.b64decode(data))).load()
        if not isinstance(state, CommunityState):
            raise pickle.UnpicklingError("a snapshot holds a CommunityState")
        return state
