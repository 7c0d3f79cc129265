"""An entry just signed is checked as ``parse_entry`` checks any entry, error for error.

``signed_entry`` (used by ``sign_entry`` and the import's ``sign_row``) builds the
signed entry from the unsigned fields and their canonical bytes, splicing ``sig`` into
those bytes instead of encoding the whole entry again. For any envelope, well-formed
or not, it must give what ``parse_entry`` gives: the same Entry with the same bytes and
signing input, or the same refusal with the same words.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ledger.core.entry import (
    SIGNING_CONTEXT,
    Entry,
    canonical_bytes,
    jcs,
    parse_entry,
    signed_entry,
)
from ledger.core.errors import LedgerError
from ledger.core.merkle import leaf_hash
from ledger.core.money_bodies import REVENUE_SOURCES

TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=8) | st.sampled_from(
    ["\U0001f600", "a\U00010000", "停车 1", '"signer":', ',"signer":"x"', "\\", "\u2028"]
)
BODY_VALUES = st.integers(-(2**60), 2**60) | TEXT | st.booleans() | st.none()
ENVELOPE = st.fixed_dictionaries(
    {
        # mostly well-formed, so that both the entries and each refusal are reached
        "v": st.sampled_from([1] * 10 + [2, True]),
        "community": st.sampled_from(["estate"] * 9 + ["e", "Estate", '"signer":"x"']),
        "id": st.uuids().map(str) | st.sampled_from(["not-a-uuid", str(uuid.UUID(int=0)).upper()]),
        "type": st.sampled_from(["revenue.received"] * 6 + ["expense.paid", "no.such.type"]),
        "at": st.sampled_from(
            ["2025-04-08T12:00:00+08:00"] * 6 + ["2025-02-30T12:00:00+08:00", "2025-04-08"]
        ),
        "body": st.fixed_dictionaries(
            {
                "amount_fen": st.integers(1, 10**6) | BODY_VALUES,
                "source": st.sampled_from(REVENUE_SOURCES) | TEXT,
            },
            optional={"description": TEXT, "x": BODY_VALUES},
        ),
        "signer": st.sampled_from(["estate/treasurer"] * 5 + ["a b", "x+y", "名", '",signer"']),
        "key_id": st.sampled_from(["0a1b2c3d"] * 6 + ["0A1B2C3D", "abc"]),
    }
)


def _outcome(make: Any) -> Entry | tuple[type, str, str]:
    try:
        entry = make()
    except LedgerError as exc:
        return (type(exc), exc.en, exc.zh)
    assert isinstance(entry, Entry)
    return entry


def _both(fields: dict[str, Any], signature: bytes) -> tuple[Any, Any]:
    """(``signed_entry``'s outcome, ``parse_entry``'s) for fields that have a canonical form."""
    try:
        fields_bytes = canonical_bytes(fields)
    except LedgerError:
        assume(False)
        raise
    ours = _outcome(lambda: signed_entry(fields, fields_bytes, signature))
    sig = base64.b64encode(signature).decode("ascii")
    return ours, _outcome(lambda: parse_entry({**fields, "sig": sig}))


@given(ENVELOPE, st.binary(min_size=64, max_size=64))
@settings(max_examples=1000)
def test_signed_entry_checks_as_parse_entry(unsigned: dict[str, Any], signature: bytes) -> None:
    """Given any unsigned envelope that has a canonical form, and any 64-byte signature,
    then ``signed_entry`` gives ``parse_entry``'s entry (same bytes, same signing input)
    or ``parse_entry``'s refusal."""
    ours, reference = _both(unsigned, signature)
    if isinstance(reference, Entry):
        assert isinstance(ours, Entry)
        assert ours == reference
        assert ours.entry_bytes() == reference.entry_bytes() == jcs(reference.as_dict())
        assert ours.signing_input() == SIGNING_CONTEXT + jcs(reference.unsigned())
        assert ours.signature() == signature
        assert ours.leaf_hash() == leaf_hash(reference.entry_bytes())  # the RFC 6962 leaf
    else:
        assert ours == reference


@given(ENVELOPE, st.sampled_from(["sig", "extra"]), st.binary(min_size=64, max_size=64))
@settings(max_examples=100)
def test_other_envelopes_take_parse_entry(
    unsigned: dict[str, Any], field: str, signature: bytes
) -> None:
    """Given fields that are not exactly the unsigned envelope (a ``sig`` already there,
    an unknown field), then ``signed_entry`` refuses them as ``parse_entry`` does."""
    ours, reference = _both({**unsigned, field: "x"}, signature)
    assert ours == reference
