"""Group commit: concurrent submissions to one community are committed together.

Each caller gets its own result or its own refusal; a refused entry never affects
the others in its batch (each is judged against the state after the entries
accepted before it); a batch is one transaction and one checkpoint; a writer that
keeps losing races to another process gets a conflict (409).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ledger.core.entry import Entry, sign_entry
from ledger.core.errors import LedgerError
from ledger.core.keys import SigningKey
from ledger.core.policy import build_policy
from ledger.store import tables
from ledger.store.service import Appended, ConflictError, LedgerService

C = "grp"
ORIGIN = f"localhost/c/{C}/log"


class Estate:
    """A founded community with a treasurer; revenue comes in, expenses go out."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.log_key = SigningKey.generate(ORIGIN)
        self.service = LedgerService(url, [self.log_key])
        self.committee = SigningKey.generate(f"{C}/committee")
        self.treasurer = SigningKey.generate(f"{C}/treasurer")
        keys = [{"vkey": str(self.committee.verifier()), "role": "committee"}]
        founded = self.sign(
            self.committee, "community.founded", {"name": "组", "origin": ORIGIN, "keys": keys}
        )
        self.service.found(founded, str(build_policy(self.log_key.verifier(), [], "none")))
        vkey = str(self.treasurer.verifier())
        self.service.submit(
            C, self.sign(self.committee, "key.registered", {"vkey": vkey, "role": "treasurer"})
        )

    def sign(self, key: SigningKey, entry_type: str, body: dict[str, Any]) -> Entry:
        return sign_entry(
            key,
            community=C,
            type=entry_type,
            body=body,
            at="2026-01-05T09:00:00+08:00",
            entry_id=str(uuid.uuid4()),
        )

    def revenue(self, fen: int) -> Entry:
        body = {"source": "parking", "amount_fen": fen}
        return self.sign(self.treasurer, "revenue.received", body)

    def expense(self, fen: int) -> Entry:
        body = {
            "fund": "public_revenue",
            "category": "revenue_cost",
            "amount_fen": fen,
            "payee": "保洁公司",
            "description": "保洁",
        }
        return self.sign(self.treasurer, "expense.paid", body)

    def checkpoints(self) -> int:
        with self.service.engine.connect() as conn:
            rows = conn.execute(
                tables.checkpoints.select().where(tables.checkpoints.c.community == C)
            )
            return len(rows.all())


@pytest.fixture
def estate(database_url: str) -> Iterator[Estate]:
    built = Estate(database_url)
    yield built
    built.service.close()


Outcome = Appended | LedgerError


def submit_held(estate: Estate, entries: list[Entry]) -> list[Outcome]:
    """Submit ``entries[0]`` and hold its commit until every other entry is queued behind it,
    each from its own thread; return each caller's outcome in submission order."""
    service = estate.service
    release = threading.Event()
    commit = service._commit

    def held_commit(*args: Any, **kwargs: Any) -> None:
        release.wait(30)
        commit(*args, **kwargs)

    service._commit = held_commit  # type: ignore[method-assign]
    outcomes: dict[int, Outcome] = {}

    def call(n: int, entry: Entry) -> None:
        try:
            outcomes[n] = service.submit(C, entry)
        except LedgerError as exc:
            outcomes[n] = exc

    threads = [threading.Thread(target=call, args=(0, entries[0]))]
    threads[0].start()
    _wait_until(lambda: C in service._group._leading)
    for n, entry in enumerate(entries[1:], start=1):
        thread = threading.Thread(target=call, args=(n, entry))
        thread.start()
        threads.append(thread)
        _wait_until(lambda n=n: len(service._group._queues.get(C, [])) >= n)  # type: ignore[misc]
    release.set()
    for thread in threads:
        thread.join(60)
    service._commit = commit  # type: ignore[method-assign]
    return [outcomes[n] for n in range(len(entries))]


def _wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_concurrent_submissions_share_one_batch_and_one_checkpoint(estate: Estate) -> None:
    """Given a submission whose commit is in progress,
    when 20 more arrive from 20 threads meanwhile,
    then they are committed as one second batch: all land, in one linear log,
    with one checkpoint for the first batch and one for the second."""
    before_checkpoints, before_batches = estate.checkpoints(), estate.service._group.batches
    entries = [estate.revenue(100 + n) for n in range(21)]

    outcomes = submit_held(estate, entries)

    assert all(isinstance(o, Appended) and o.created for o in outcomes)
    indices = sorted(o.index for o in outcomes if isinstance(o, Appended))
    assert indices == list(range(2, 23))
    assert estate.service.size(C) == 23
    assert estate.service._group.batches - before_batches == 2
    assert estate.checkpoints() - before_checkpoints == 2
    stored = estate.service.entries(C, 2, 23)
    assert sorted(stored) == sorted(e.entry_bytes() for e in entries)


def test_a_refused_entry_does_not_poison_its_batch(estate: Estate) -> None:
    """Given a batch holding good entries, a forged one, an overdraft and an expense
    paid for by revenue earlier in the same batch,
    when it is committed,
    then each caller gets its own outcome: the forgery and the overdraft are refused
    with their own codes, everything else lands."""
    forged_source = estate.revenue(500)
    forged = Entry(**{**forged_source.as_dict(), "body": {**forged_source.body, "amount_fen": 501}})
    entries = [
        estate.revenue(1_000),  # held first batch
        estate.revenue(2_000),
        forged,
        estate.expense(2_500),  # 3,000 received before it: lawful
        estate.expense(600),  # only 500 left: refused
        estate.revenue(300),
    ]

    outcomes = submit_held(estate, entries)

    codes = [o.code if isinstance(o, LedgerError) else "ok" for o in outcomes]
    assert codes == ["ok", "ok", "bad_signature", "ok", "insufficient_funds", "ok"]
    assert estate.service.size(C) == 2 + 4
    assert estate.service.state(C).balance("public_revenue") == 1_000 + 2_000 - 2_500 + 300


def test_the_same_entry_twice_in_one_batch_is_recorded_once(estate: Estate) -> None:
    """Given one entry submitted twice while a batch is being committed,
    then it is stored once; the second caller learns it was already recorded."""
    entry = estate.revenue(700)
    outcomes = submit_held(estate, [estate.revenue(1), entry, entry])
    first, second = outcomes[1], outcomes[2]
    assert isinstance(first, Appended) and isinstance(second, Appended)
    assert (first.index, first.created) == (second.index, True) or second.created is False
    assert [first.created, second.created].count(True) == 1
    assert estate.service.size(C) == 2 + 2


def test_many_threads_lose_nothing(estate: Estate) -> None:
    """When 8 threads each submit 15 entries as fast as they can,
    then all 120 land exactly once, in a log with indices 2..121."""
    entries = [[estate.revenue(1 + 8 * i + t) for i in range(15)] for t in range(8)]
    results: list[Appended] = []

    def run(batch: list[Entry]) -> None:
        for entry in batch:
            results.append(estate.service.submit(C, entry))

    threads = [threading.Thread(target=run, args=(batch,)) for batch in entries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert sorted(a.index for a in results) == list(range(2, 122))
    stored = set(estate.service.entries(C, 2, 122))
    assert stored == {e.entry_bytes() for batch in entries for e in batch}
    latest = estate.service.latest_checkpoint(C)
    assert latest is not None and latest[0] == 122


def test_a_writer_that_keeps_losing_the_race_gets_a_conflict(
    estate: Estate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given another service that appends before each of this one's commits,
    when this one submits,
    then after its retries it gets a conflict (409) and stored nothing of its own."""
    other = LedgerService(estate.url)
    commit = estate.service._commit

    def other_wins(*args: Any, **kwargs: Any) -> None:
        other.submit(C, estate.revenue(5))
        commit(*args, **kwargs)

    monkeypatch.setattr(estate.service, "_commit", other_wins)
    mine = estate.revenue(6)
    try:
        with pytest.raises(ConflictError) as refused:
            estate.service.submit(C, mine)
    finally:
        monkeypatch.undo()
        other.close()
    assert (refused.value.code, refused.value.status) == ("conflict", 409)
    assert mine.entry_bytes() not in estate.service.entries(C, 0, estate.service.size(C))
