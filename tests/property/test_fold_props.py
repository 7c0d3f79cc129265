"""Properties of entries and the fold: canonical bytes, signatures, determinism, conserved money."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.entry import (
    MAX_SAFE_INTEGER,
    Entry,
    jcs,
    loads_strict,
    parse_entry_json,
    parse_logged_entry,
    sign_entry,
    verify_entry_signature,
)
from ledger.core.errors import LedgerError
from ledger.core.keys import SigningKey
from ledger.core.rules import apply
from ledger.core.state import CommunityState

SIGNING = settings(max_examples=60, deadline=None)
PURE = settings(max_examples=200, deadline=None)

COMMUNITY = "props"
UNITS = ("1-1-101", "1-1-102", "2-1-201")


def _key(handle: str) -> SigningKey:
    return SigningKey(
        f"{COMMUNITY}/{handle}", 1, hashlib.sha256(f"props {handle}".encode()).digest()
    )


CHAIR, TREASURER, OWNER = _key("chair"), _key("treasurer"), _key("owner")


def _sign(signer: SigningKey, entry_type: str, body: dict[str, Any], entry_id: str) -> Entry:
    return sign_entry(
        signer,
        community=COMMUNITY,
        type=entry_type,
        body=body,
        at="2025-01-02T09:00:00+08:00",
        entry_id=entry_id,
    )


def _base_log() -> list[Entry]:
    founding = {
        "name": "Props Court",
        "origin": "example.org/c/props/log",
        "keys": [{"vkey": str(CHAIR.verifier()), "role": "committee"}],
    }
    entries = [
        _sign(CHAIR, "community.founded", founding, "00000000-0000-4000-8000-000000000000"),
        _sign(
            CHAIR,
            "key.registered",
            {"vkey": str(TREASURER.verifier()), "role": "treasurer"},
            "00000000-0000-4000-8000-000000000001",
        ),
        _sign(
            CHAIR,
            "key.registered",
            {"vkey": str(OWNER.verifier()), "role": "owner", "owner": "owner-0001"},
            "00000000-0000-4000-8000-000000000002",
        ),
    ]
    for n, code in enumerate(UNITS[:2], start=3):
        unit = {"unit": code, "building": code[0], "area_cm2": 800_000, "owner": "owner-0001"}
        entries.append(
            _sign(TREASURER, "unit.registered", unit, f"00000000-0000-4000-8000-00000000000{n}")
        )
    return entries


BASE_LOG = _base_log()
BASE_STATE = CommunityState()
for _entry in BASE_LOG:
    apply(BASE_STATE, _entry)


# --- strategies ------------------------------------------------------------------------------

safe_integers = st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
json_values = st.recursive(
    st.none() | st.booleans() | safe_integers | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=5)
fen = st.integers(min_value=1, max_value=10**9)


@st.composite
def contributions(draw: st.DrawFn) -> Entry:
    """A contribution: mostly valid, sometimes refused (unknown unit, wrong fields, wrong role)."""
    fund = draw(st.sampled_from(["property", "maintenance"]))
    body: dict[str, Any] = {
        "fund": fund,
        "unit": draw(st.sampled_from(UNITS)),  # UNITS[2] is never registered
        "amount_fen": draw(fen),
    }
    if fund == "property" or draw(st.integers(0, 9)) == 0:
        body["month"] = draw(st.sampled_from(["2025-01", "2025-02", "2025-12"]))
    if fund == "maintenance" or draw(st.integers(0, 9)) == 0:
        body["deposit"] = draw(st.sampled_from(["initial", "top_up"]))
    if draw(st.booleans()):
        body["method"] = draw(st.sampled_from(["bank", "cash", "wechat"]))
    signer = draw(st.sampled_from([TREASURER] * 8 + [OWNER, CHAIR]))
    return _sign(signer, "contribution.received", body, str(draw(st.uuids())))


def _fold_tolerant(state: CommunityState, entries: list[Entry]) -> list[Entry]:
    """Fold what the rules accept, skip what they refuse; return the accepted entries."""
    accepted = []
    for entry in entries:
        try:
            apply(state, entry)
        except LedgerError:
            continue
        accepted.append(entry)
    return accepted


# --- canonical JSON ------------------------------------------------------------------------------


@PURE
@given(json_values)
def test_jcs_round_trips_any_json_value_without_floats(value: Any) -> None:
    data = jcs(value)
    assert loads_strict(data) == value
    assert jcs(loads_strict(data)) == data


@PURE
@given(json_values, st.sampled_from([None, 1, 2]), st.booleans())
def test_any_serialization_has_the_same_jcs(value: Any, indent: int | None, ascii_: bool) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_)
    assert jcs(loads_strict(text)) == jcs(value)


# --- signatures ---------------------------------------------------------------------------------


@SIGNING
@given(json_objects, st.uuids())
def test_sign_then_verify_for_arbitrary_bodies(body: dict[str, Any], entry_id: Any) -> None:
    """The signing input covers any JSON body: sign it, and only that body verifies."""
    unsigned = Entry(1, COMMUNITY, str(entry_id), "x.y", "2025-01-02T09:00:00Z", body, "", "", "")
    fields = unsigned.unsigned()
    fields.update(signer=TREASURER.name, key_id=TREASURER.verifier().key_id_hex)
    signature = TREASURER.sign(Entry(**fields, sig="").signing_input())
    entry = Entry(**fields, sig=base64.b64encode(signature).decode())
    verify_entry_signature(entry, TREASURER.verifier())
    changed = Entry(**{**fields, "body": {**body, "extra-key-not-in-body": 1}}, sig=entry.sig)
    with pytest.raises(LedgerError):
        verify_entry_signature(changed, TREASURER.verifier())


@SIGNING
@given(contributions())
def test_signed_entries_round_trip_through_their_logged_bytes(entry: Entry) -> None:
    verify_entry_signature(entry, _signer_key(entry))
    assert parse_logged_entry(entry.entry_bytes()) == entry
    assert parse_entry_json(json.dumps(entry.as_dict(), indent=2)).entry_bytes() == (
        entry.entry_bytes()
    )


def _signer_key(entry: Entry) -> Any:
    return {k.name: k for k in (CHAIR, TREASURER, OWNER)}[entry.signer].verifier()


@SIGNING
@given(contributions(), st.integers(min_value=0), st.integers(min_value=1, max_value=255))
def test_any_flipped_byte_of_a_logged_entry_is_caught(entry: Entry, where: int, mask: int) -> None:
    data = bytearray(entry.entry_bytes())
    data[where % len(data)] ^= mask
    with pytest.raises(LedgerError):
        verify_entry_signature(parse_logged_entry(bytes(data)), _signer_key(entry))


# --- the fold ---------------------------------------------------------------------------------


@SIGNING
@given(st.lists(contributions(), max_size=12), st.data())
def test_the_fold_is_deterministic_and_prefix_compatible(entries: list[Entry], data: Any) -> None:
    """Folding the same entries twice gives equal states; a prefix then the rest equals the whole."""
    whole = copy.deepcopy(BASE_STATE)
    _fold_tolerant(whole, entries)
    again = copy.deepcopy(BASE_STATE)
    _fold_tolerant(again, entries)
    assert whole == again
    cut = data.draw(st.integers(min_value=0, max_value=len(entries)))
    split = copy.deepcopy(BASE_STATE)
    _fold_tolerant(split, entries[:cut])
    split = copy.deepcopy(split)
    _fold_tolerant(split, entries[cut:])
    assert split == whole
    from_scratch = CommunityState()
    _fold_tolerant(from_scratch, BASE_LOG + entries)
    assert from_scratch == whole


@SIGNING
@given(st.lists(contributions(), max_size=15))
def test_money_is_conserved_and_refusals_change_nothing(entries: list[Entry]) -> None:
    """Fund balances equal the sum of accepted amounts; every refused entry leaves the state as it was."""
    state = copy.deepcopy(BASE_STATE)
    accepted: list[Entry] = []
    for entry in entries:
        before = copy.deepcopy(state)
        try:
            apply(state, entry)
        except LedgerError:
            assert state == before
            continue
        accepted.append(entry)
    for fund in ("property", "maintenance"):
        expected = sum(e.body["amount_fen"] for e in accepted if e.body["fund"] == fund)
        assert state.balance(fund) == expected
    assert sum(state.books.subaccounts.values()) == state.balance("maintenance")
    assert sum(state.books.property_paid.values()) == state.balance("property")
    assert all(e.body["unit"] in state.units and e.signer == TREASURER.name for e in accepted)
    assert state.size == len(BASE_LOG) + len(accepted)
