"""Signatures verified ahead of the fold are trusted only for exactly the key and bytes checked."""

from __future__ import annotations

import uuid

import pytest

from ledger.core import verify_workers
from ledger.core.entry import Entry, sign_entry
from ledger.core.errors import InvalidSignatureError
from ledger.core.keys import SigningKey
from ledger.core.preverify import PreVerifier, VerifiedSignatures
from ledger.core.verify_workers import WorkerPool

KEY = SigningKey.generate("pv/treasurer")


def revenue(fen: int, key: SigningKey = KEY) -> Entry:
    return sign_entry(
        key,
        community="pv",
        type="revenue.received",
        body={"source": "parking", "amount_fen": fen},
        at="2026-01-02T09:00:00+08:00",
        entry_id=str(uuid.uuid4()),
    )


def forged(entry: Entry) -> Entry:
    """The same signature over a changed amount."""
    return Entry(**{**entry.as_dict(), "body": {**entry.body, "amount_fen": 1}})


def test_a_pre_verified_signature_serves_exactly_its_entry() -> None:
    """Given a good entry and a forgery of it (same signature) submitted to the pool,
    when the fold checks each with the signer's key,
    then the good one is taken from the pool and the forgery is refused."""
    good = revenue(500)
    with PreVerifier(workers=2) as verifier:
        verifier.submit([(good, KEY.verifier()), (forged(good), KEY.verifier())])
        verifier(good, KEY.verifier())
        with pytest.raises(InvalidSignatureError):
            verifier(forged(good), KEY.verifier())
    assert verifier.ahead == 1


def test_a_result_for_one_key_never_serves_another() -> None:
    """Given an entry pre-verified with its signer's key,
    when the fold resolves another key of the same name for it,
    then it verifies inline with that key and refuses the entry."""
    entry = revenue(700)
    other = SigningKey.generate("pv/treasurer").verifier()
    with PreVerifier(workers=1) as verifier:
        verifier.submit([(entry, KEY.verifier())])
        with pytest.raises(InvalidSignatureError):
            verifier(entry, other)
    assert verifier.ahead == 0


def test_an_entry_never_submitted_is_verified_inline() -> None:
    entry = revenue(900)
    with PreVerifier(workers=1) as verifier:
        verifier(entry, KEY.verifier())
        with pytest.raises(InvalidSignatureError):
            verifier(forged(entry), KEY.verifier())
    assert (verifier.ahead, verifier.inline) == (0, 2)


def test_verified_signatures_remember_only_good_ones_once() -> None:
    """A submitting thread's check is used once, for the same bytes; a forgery is refused."""
    good = revenue(300)
    memo = VerifiedSignatures()
    memo.check_ahead(good, KEY.verifier())
    memo.check_ahead(forged(good), KEY.verifier())
    memo(good, KEY.verifier())
    memo(good, KEY.verifier())  # again: verified inline this time, still good
    with pytest.raises(InvalidSignatureError):
        memo(forged(good), KEY.verifier())


# --- worker processes ------------------------------------------------------------------------


def test_worker_processes_serve_exactly_the_entries_they_verified() -> None:
    """Given good entries and a forgery submitted to worker processes,
    when the fold checks each with the signer's key,
    then the good ones are taken from the workers and the forgery is refused."""
    good = [revenue(100 + n) for n in range(150)]  # more than one batch per worker
    bad = forged(good[0])
    with PreVerifier(workers=2, processes=True) as verifier:
        verifier.submit([(entry, KEY.verifier()) for entry in [*good, bad]])
        for entry in good:
            verifier(entry, KEY.verifier())
        with pytest.raises(InvalidSignatureError):
            verifier(bad, KEY.verifier())
    assert verifier.ahead == len(good)


def test_a_dead_worker_means_verifying_inline_never_trusting() -> None:
    """Given a worker process killed before it answers,
    when the fold checks its entries,
    then they are verified inline: good ones pass, a forgery is refused."""
    good, other = revenue(11), revenue(12)
    with PreVerifier(workers=1, processes=True) as verifier:
        pool = verifier._processes
        assert pool is not None
        process = pool._workers[0]._process
        assert process is not None
        process.kill()
        process.wait()
        verifier.submit([(good, KEY.verifier()), (forged(other), KEY.verifier())])
        verifier(good, KEY.verifier())
        with pytest.raises(InvalidSignatureError):
            verifier(forged(other), KEY.verifier())
    assert (verifier.ahead, verifier.inline) == (0, 2)


def test_worker_pool_answers_in_order_and_refuses_bad_signatures() -> None:
    """Batches come back in the order given, one result per signature, True only if it verifies."""
    entries = [revenue(n) for n in range(1, 40)]
    items = [(KEY.verifier().public_key, e.signature(), e.signing_input()) for e in entries]
    items[5] = (items[5][0], items[6][1], items[5][2])  # another entry's signature
    pool = WorkerPool(2)
    try:
        batches = [pool.submit(items[start : start + 7]) for start in range(0, len(items), 7)]
        results = [ok for batch in reversed(batches) for ok in reversed(batch.result())][::-1]
        malformed = pool.submit([(b"short", items[0][1], items[0][2])])
        assert malformed.result() == [False]
    finally:
        pool.close()
    assert results == [position != 5 for position in range(len(items))]


def test_a_worker_owed_many_results_is_read_before_it_is_given_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Results a worker owes are read before handing it more, so neither pipe fills up."""
    monkeypatch.setattr(verify_workers, "MAX_UNREAD", 10)
    entries = [revenue(n) for n in range(1, 30)]
    items = [(KEY.verifier().public_key, e.signature(), e.signing_input()) for e in entries]
    pool = WorkerPool(1)
    try:
        batches = [pool.submit(items[start : start + 6]) for start in range(0, len(items), 6)]
        assert batches[0].settled and not batches[-1].settled
        assert all(all(batch.result()) for batch in batches)
    finally:
        pool.close()
