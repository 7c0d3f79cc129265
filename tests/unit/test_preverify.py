"""Signatures verified ahead of the fold are trusted only for exactly the key and bytes checked."""

from __future__ import annotations

import uuid

import pytest

from ledger.core.entry import Entry, sign_entry
from ledger.core.errors import InvalidSignatureError
from ledger.core.keys import SigningKey
from ledger.core.preverify import PreVerifier, VerifiedSignatures

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
