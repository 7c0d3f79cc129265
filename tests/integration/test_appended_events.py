"""An entry's event, made and stored on the fast path, is the library's event, byte for byte.

``CommunityLog.append_judged`` builds the ``Appended`` event itself (what
``trigger_event`` and ``mutate`` do), and the service stores it with
``appended_state`` instead of the transcoder's generic walk. Both must be exactly what
eventsourcing makes: the same event fields, the same aggregate afterwards, the same
stored bytes, read back as the same event.
"""

from __future__ import annotations

import datetime as dt
import pickle
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_store import Community, found_community

from ledger.core.rules import judge
from ledger.store.aggregate import APPENDED_TOPIC, CommunityLog, appended_state
from ledger.store.service import LedgerService

TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60)
ZONES = st.sampled_from(
    [dt.UTC, dt.timezone(dt.timedelta(hours=8)), dt.timezone(dt.timedelta(hours=-3, minutes=-30))]
)


@pytest.fixture
def community(sqlite_url: str) -> Iterator[Community]:
    built = found_community(sqlite_url)
    yield built
    built.close()


def _draft(service: LedgerService, name: str) -> CommunityLog:
    return service.draft(name)


@given(TEXT, st.datetimes(timezones=ZONES))
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_the_stored_state_is_the_transcoders(
    community: Community, text: str, when: dt.datetime
) -> None:
    """Given any entry text and any aware time,
    then ``appended_state`` is the bytes the application's mapper stores for that event,
    and the mapper reads them back as the same event."""
    mapper = community.service.app.mapper
    event = CommunityLog.Appended(  # type: ignore[attr-defined]
        originator_id=uuid.uuid4(), originator_version=7, timestamp=when, entry=text
    )
    stored = mapper.to_stored_event(event)
    assert appended_state(event) == stored.state
    assert stored.topic == APPENDED_TOPIC
    back = mapper.to_domain_event(stored)
    assert (back.timestamp, back.entry) == (when, text)


def test_other_events_are_left_to_the_mapper(community: Community) -> None:
    """Given the founding event (not an ``Appended`` one), then it has no fast state."""
    events = community.service.app.recorder.select_events(
        community.service.draft(community.name).id, limit=1
    )
    founded = community.service.app.mapper.to_domain_event(events[0])
    assert appended_state(founded) is None


def test_append_judged_makes_the_event_append_makes(community: Community) -> None:
    """Given a judged entry, when one draft appends it judged and another by its text
    (the library's ``trigger_event``), then both aggregates and events are the same but
    for the time."""
    entry = community.contribution()
    judged, plain = (
        _draft(community.service, community.name),
        _draft(community.service, community.name),
    )
    effect = judge(judged.state, entry, lambda _e, _k: None)
    judged.append_judged(entry, effect)
    plain.append(entry.entry_bytes().decode())
    (ours,), (theirs,) = judged.collect_events(), plain.collect_events()
    assert type(ours) is type(theirs)
    assert (ours.originator_id, ours.originator_version, ours.entry) == (
        theirs.originator_id,
        theirs.originator_version,
        theirs.entry,
    )
    assert judged.version == plain.version and judged.modified_on == ours.timestamp
    assert judged.state.index_of(entry.id) == plain.state.size - 1
    assert pickle.dumps(judged.state) == pickle.dumps(plain.state)  # the same fold
