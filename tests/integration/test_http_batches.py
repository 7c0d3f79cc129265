"""The HTTP write path's batches (``api.submit_path.Batches``): submissions that arrive
together are judged one by one and committed together, each with its own outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from test_group_commit import C, Estate

from api.submit_path import Batches
from ledger.core.entry import Entry
from ledger.core.errors import LedgerError
from ledger.core.policy import Policy
from ledger.store.publish import PublishedCache
from verify.receipt import verify_receipt


@pytest.fixture
def estate(database_url: str) -> Iterator[Estate]:
    built = Estate(database_url)
    yield built
    built.service.close()


def submit_together(batches: Batches, entries: list[Entry]) -> list[dict[str, Any] | LedgerError]:
    async def run() -> list[Any]:
        calls = (batches.submit(C, entry) for entry in entries)
        return list(await asyncio.gather(*calls, return_exceptions=True))

    try:
        return asyncio.run(run())
    finally:
        batches.close()


def test_submissions_arriving_together_are_one_batch_each_with_its_own_outcome(
    estate: Estate,
) -> None:
    """Given good entries, a forged one and an overdraft arriving in the same moment,
    when the batcher runs them,
    then they are one batch and one checkpoint; the forgery and the overdraft are refused
    with their own codes; every entry that landed has a receipt that verifies."""
    forged_source = estate.revenue(500)
    forged = Entry(**{**forged_source.as_dict(), "body": {**forged_source.body, "amount_fen": 501}})
    entries = [
        estate.revenue(1_000),
        forged,
        estate.expense(800),
        estate.expense(300),  # only 200 left: refused
        estate.revenue(50),
    ]
    service = estate.service
    published = PublishedCache(service)
    batches = Batches(service, published, lambda: None)
    checkpoints_before = estate.checkpoints()

    outcomes = submit_together(batches, entries)

    codes = [o.code if isinstance(o, LedgerError) else o["index"] for o in outcomes]
    assert codes == [2, "bad_signature", 3, "insufficient_funds", 4]
    assert batches.batches == 1
    assert estate.checkpoints() == checkpoints_before + 1
    policy = Policy.parse(service.community_info(C)["policy"])
    for outcome in outcomes:
        if isinstance(outcome, dict):
            assert outcome["created"] is True
            assert verify_receipt(outcome["receipt"], policy).ok


def test_the_identical_entry_again_is_its_original_result(estate: Estate) -> None:
    """Given an entry already logged, when it is sent again (twice, together with a new
    one), then both copies get its original index, not created; the new one lands."""
    logged = estate.revenue(70)
    first = submit_together(
        Batches(estate.service, PublishedCache(estate.service), lambda: None), [logged]
    )[0]
    assert isinstance(first, dict) and first["created"] is True
    fresh = estate.revenue(80)
    again = submit_together(
        Batches(estate.service, PublishedCache(estate.service), lambda: None),
        [logged, fresh, logged],
    )
    assert [(o["index"], o["created"]) for o in again if isinstance(o, dict)] == [
        (first["index"], False),
        (first["index"] + 1, True),
        (first["index"], False),
    ]


def test_after_append_is_called_once_per_batch_with_its_last_index(estate: Estate) -> None:
    calls: list[tuple[str, int]] = []
    batches = Batches(
        estate.service,
        PublishedCache(estate.service),
        lambda: lambda community, index: calls.append((community, index)),
    )
    outcomes = submit_together(batches, [estate.revenue(n) for n in (1, 2, 3)])
    assert calls == [(C, max(o["index"] for o in outcomes if isinstance(o, dict)))]
