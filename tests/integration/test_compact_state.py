"""The folded state's fast and compact paths give exactly what the plain ones give.

- ``EntryIndex``, ``CodedStrings``, ``PackedBytes`` and ``EffectLog`` behave as the dicts
  they replace, and survive the snapshot's restricted unpickler; a snapshot pickled with
  the old dicts is read back as the compact state;
- ``pack_effect``/``unpack_effect`` round-trip any effect;
- ``parse_logged_entry``'s fast path accepts exactly what the strict path accepts, with
  the same entry, and refuses everything else with the strict path's own error;
- ``apply`` (the money effect computed once) folds exactly as ``check`` then ``evolve``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import pickle
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.compact import CodedStrings, EntryIndex, PackedBytes
from ledger.core.effects import EFFECT_FIELDS, Effect, EffectLog, pack_effect, unpack_effect
from ledger.core.entry import (
    Entry,
    loads_strict,
    parse_entry,
    parse_entry_json,
    parse_logged_entry,
    sign_entry,
)
from ledger.core.errors import LedgerError, NonCanonicalError
from ledger.core.keys import SigningKey
from ledger.core.rules import apply, check, evolve, evolve_judged, judge
from ledger.core.state import CommunityState, id_key
from ledger.store.aggregate import StateAsPickle

PURE = settings(max_examples=200, deadline=None)
SIGNING = settings(max_examples=40, deadline=None)

keys128 = st.integers(min_value=0, max_value=(1 << 128) - 1)
# ids alike in their low bits (time-based UUIDs of one machine): the table must still find them
alike = st.integers(min_value=0, max_value=(1 << 20) - 1).map(lambda n: (n << 80) | 0xABCDEF)


# --- the compact maps ------------------------------------------------------------------------


@PURE
@given(st.lists(keys128 | alike, max_size=300), st.lists(keys128 | alike, max_size=50))
def test_entry_index_is_a_dict_of_ids(added: list[int], probes: list[int]) -> None:
    index, model = EntryIndex(), dict[int, int]()
    for position, key in enumerate(added):
        index[key] = position
        model[key] = position
    assert len(index) == len(model)
    for key in [*added, *probes, -1, 1 << 128]:
        assert index.get(key) == model.get(key)
        assert (key in index) == (key in model)
    assert dict(index.items()) == model
    assert index == model


@PURE
@given(st.lists(st.tuples(st.integers(0, 5), st.sampled_from(["a", "b", "月", "2026-01"]))))
def test_coded_strings_are_a_dict(steps: list[tuple[int, str]]) -> None:
    coded, model, index = CodedStrings(2), dict[int, str](), 0
    for gap, name in steps:
        index += gap
        coded[index] = name
        model[index] = name
    assert dict(coded) == model and len(coded) == len(model)
    for probe in range(-1, index + 3):
        assert coded.get(probe) == model.get(probe) and (probe in coded) == (probe in model)


@PURE
@given(st.lists(st.tuples(st.integers(1, 5), st.binary(min_size=1, max_size=40))))
def test_packed_bytes_are_a_dict(steps: list[tuple[int, bytes]]) -> None:
    packed, model, index = PackedBytes(), dict[int, bytes](), -1
    for gap, value in steps:
        index += gap
        packed[index] = value
        model[index] = value
    assert dict(packed) == model and len(packed) == len(model)
    for probe in range(-1, index + 3):
        assert packed.get(probe) == model.get(probe) and (probe in packed) == (probe in model)
    if steps:
        with pytest.raises(KeyError):
            packed[index] = b"again"  # only after the last index


deltas = st.dictionaries(st.text(max_size=10), st.integers(-(2**53) + 1, 2**53 - 1), max_size=4)
effects = st.builds(
    lambda parts: Effect(**parts),
    st.fixed_dictionaries({}, optional=dict.fromkeys(EFFECT_FIELDS, deltas)),
)


@PURE
@given(effects)
def test_a_packed_effect_unpacks_to_an_equal_effect(effect: Effect) -> None:
    back = unpack_effect(pack_effect(effect))
    assert back == effect
    for name in EFFECT_FIELDS:
        assert list(getattr(back, name).items()) == list(getattr(effect, name).items())


@PURE
@given(st.lists(st.tuples(st.integers(1, 4), effects), max_size=20))
def test_an_effect_log_is_a_dict_of_effects(steps: list[tuple[int, Effect]]) -> None:
    log, model, index = EffectLog(), dict[int, Effect](), -1
    for gap, effect in steps:
        index += gap
        log[index] = effect
        model[index] = effect
    assert dict(log) == model and len(log) == len(model)
    assert EffectLog(model) == log
    for probe in range(-1, index + 2):
        assert log.get(probe) == model.get(probe) and (probe in log) == (probe in model)


def test_unpacking_refuses_what_was_not_packed() -> None:
    for data in (b"", b"\x00", pickle.dumps(1), __import__("marshal").dumps((("x",),))):
        with pytest.raises(ValueError):
            unpack_effect(data)


# --- a folded state: snapshots, and the fold's fast paths ---------------------------------------

COMMUNITY = "compact"
UNITS = ("1-101", "1-102")


def _key(handle: str) -> SigningKey:
    seed = hashlib.sha256(f"compact {handle}".encode()).digest()
    return SigningKey(f"{COMMUNITY}/{handle}", 1, seed)


CHAIR, TREASURER = _key("chair"), _key("treasurer")


def _sign(key: SigningKey, entry_type: str, body: dict[str, Any], entry_id: str = "") -> Entry:
    return sign_entry(
        key,
        community=COMMUNITY,
        type=entry_type,
        body=body,
        at="2025-03-02T09:00:00+08:00",
        entry_id=entry_id or str(uuid.uuid4()),
    )


def _base_log() -> list[Entry]:
    founding = {
        "name": "Compact Court",
        "origin": "example.org/c/compact/log",
        "keys": [{"vkey": str(CHAIR.verifier()), "role": "committee"}],
    }
    entries = [
        _sign(CHAIR, "community.founded", founding),
        _sign(CHAIR, "key.registered", {"vkey": str(TREASURER.verifier()), "role": "treasurer"}),
    ]
    for code in UNITS:
        unit = {"unit": code, "building": "1", "area_cm2": 900_000, "owner": "owner-0001"}
        entries.append(_sign(TREASURER, "unit.registered", unit))
    return entries


BASE = CommunityState()
for _entry in _base_log():
    apply(BASE, _entry)


@st.composite
def money_streams(draw: st.DrawFn) -> list[Entry]:
    """Fees, deposits, revenue and expenses; reversals of earlier ones (some refused)."""
    out: list[Entry] = []
    for _ in range(draw(st.integers(1, 10))):
        kind = draw(st.sampled_from(["fee", "deposit", "revenue", "expense", "reversal"]))
        amount = draw(st.integers(1, 50_000))
        unit = draw(st.sampled_from(UNITS))
        if kind == "fee":
            body = {"fund": "property", "unit": unit, "amount_fen": amount, "month": "2025-02"}
            out.append(_sign(TREASURER, "contribution.received", body))
        elif kind == "deposit":
            body = {"fund": "maintenance", "unit": unit, "amount_fen": amount, "deposit": "initial"}
            out.append(_sign(TREASURER, "contribution.received", body))
        elif kind == "revenue":
            body = {"source": "parking", "amount_fen": amount}
            out.append(_sign(TREASURER, "revenue.received", body))
        elif kind == "expense":
            body = {
                "fund": "property",
                "amount_fen": amount,
                "category": "cleaning",
                "payee": "Clean Co",
                "description": "stairs",
            }
            out.append(_sign(TREASURER, "expense.paid", body))
        elif out:
            cited = draw(st.sampled_from(out))
            body = {"entry_id": cited.id, "reason": "entered twice"}
            out.append(_sign(TREASURER, "entry.reversed", body))
    return out


def _fold(state: CommunityState, entries: list[Entry], two_steps: bool | str) -> list[str]:
    outcomes = []
    for entry in entries:
        try:
            if two_steps == "judged":
                evolve_judged(state, entry, judge(state, entry))
            elif two_steps:
                check(state, entry)
                evolve(state, entry)
            else:
                apply(state, entry)
            outcomes.append("ok")
        except LedgerError as exc:
            outcomes.append(exc.code)
    return outcomes


def _restricted_round_trip(state: CommunityState) -> CommunityState:
    transcoding = StateAsPickle()
    return transcoding.decode(transcoding.encode(state))


@SIGNING
@given(money_streams())
def test_apply_folds_as_check_then_evolve_and_snapshots_round_trip(entries: list[Entry]) -> None:
    once, twice, judged = copy.deepcopy(BASE), copy.deepcopy(BASE), copy.deepcopy(BASE)
    outcomes = _fold(once, entries, two_steps=False)
    assert outcomes == _fold(twice, entries, two_steps=True)
    assert outcomes == _fold(judged, entries, two_steps="judged")
    assert once == twice == judged
    restored = _restricted_round_trip(once)
    assert restored == once
    for entry in entries:
        assert restored.index_of(entry.id) == once.index_of(entry.id)
    assert dict(restored.effects) == dict(once.effects)
    assert dict(restored.money_types) == dict(once.money_types)


def _old_format(state: CommunityState) -> CommunityState:
    """The state as snapshots pickled it before the compact maps: plain dicts."""
    old = CommunityState.__new__(CommunityState)
    old.__dict__.update(state.__dict__)
    old.__dict__["entry_index"] = dict(state.entry_index.items())
    old.__dict__["effects"] = dict(state.effects)
    old.__dict__["money_types"] = dict(state.money_types)
    book = copy.copy(state.statements)
    book.__dict__["fee_month_at"] = dict(book.fee_month_at)
    old.__dict__["statements"] = book
    return old


@SIGNING
@given(money_streams())
def test_a_snapshot_of_the_old_format_reads_back_as_the_compact_state(entries: list[Entry]) -> None:
    state = copy.deepcopy(BASE)
    _fold(state, entries, two_steps=False)
    data = pickle.dumps(_old_format(state), protocol=5)
    restored = StateAsPickle().decode(base64.b64encode(data).decode("ascii"))
    assert isinstance(restored.entry_index, EntryIndex)
    assert isinstance(restored.statements.fee_month_at, CodedStrings)
    assert restored == state
    more = _sign(TREASURER, "revenue.received", {"source": "venue", "amount_fen": 5})
    apply(restored, more)
    apply(state, more)
    assert restored == state


def test_id_key_is_the_uuid_int_for_every_spelling() -> None:
    entry_id = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
    for spelling in (entry_id, entry_id.upper(), "{" + entry_id + "}", entry_id.replace("-", "")):
        assert id_key(spelling) == uuid.UUID(entry_id).int
    with pytest.raises(ValueError):
        id_key("not an id")


# --- parsing logged bytes: the fast path and the strict path agree --------------------------------


def _strict_submission(data: bytes) -> Entry:
    """``parse_entry_json`` as it was, with no fast path."""
    return parse_entry(loads_strict(data))


def _strict(data: bytes) -> Entry:
    """``parse_logged_entry`` as it was, with no fast path."""
    entry = _strict_submission(data)
    if entry.entry_bytes() != data:
        raise NonCanonicalError(
            f"entry {entry.id}: logged bytes are not its canonical (JCS) form",
            f"条目 {entry.id}：日志中的字节不是其规范（JCS）形式",
            entry_id=entry.id,
        )
    return entry


def _outcome(parse: Any, data: bytes) -> tuple[str, Any]:
    try:
        entry = parse(data)
    except LedgerError as exc:
        return type(exc).__name__, (exc.code, exc.en, exc.zh)
    return "entry", (entry, entry.entry_bytes(), entry.signature(), entry.signing_input())


SAMPLE = _sign(
    TREASURER,
    "revenue.received",
    {"source": "advertising", "amount_fen": 1234, "description": '广告 \U0001f600 a"b'},
    "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
).entry_bytes()
EDITS = [
    (b'"amount_fen":1234', b'"amount_fen":1234.0'),
    (b'"amount_fen":1234', b'"amount_fen":9007199254740992'),
    (b'"amount_fen":1234', b'"amount_fen":1234,"amount_fen":1234'),
    (b'"amount_fen":1234', b'"amount_fen":NaN'),
    (b'"amount_fen":1234', b'"amount_fen":true'),
    (b'"amount_fen":1234', b'"amount_fen" : 1234'),
    (b'"v":1}', b'"v":1,"v":1}'),
    (b'"v":1}', b'"v":2}'),
    (b'"v":1}', b'"v":1,"x":1}'),
    (b'"source":"advertising"', b'"source":"advertising","source":"advertising"'),
    (b"\xf0\x9f\x98\x80", b"\\ud83d\\ude00"),
    (b"\xe5\xb9\xbf", b"\\u5e7f"),
    (b"\xe5\xb9\xbf", b"\xff"),
    (b'"type":"revenue.received"', b'"type":"revenue.unknown"'),
    (b'"id":"0f1e2d3c', b'"id":"0F1E2D3C'),
    (b"", b""),
]


@pytest.mark.parametrize(("old", "new"), EDITS)
def test_fast_and_strict_parsing_agree_on_edited_entries(old: bytes, new: bytes) -> None:
    data = SAMPLE.replace(old, new, 1)
    assert _outcome(parse_logged_entry, data) == _outcome(_strict, data)


@pytest.mark.parametrize(("old", "new"), EDITS)
def test_a_submission_parses_as_strictly_as_before(old: bytes, new: bytes) -> None:
    """Submissions take the same fast path when canonical: same entry, same refusals."""
    data = SAMPLE.replace(old, new, 1)
    assert _outcome(parse_entry_json, data) == _outcome(_strict_submission, data)


@PURE
@given(
    st.integers(min_value=0),
    st.integers(min_value=1, max_value=255),
    st.booleans(),
    st.sampled_from(["submission", "logged"]),
)
def test_fast_and_strict_parsing_agree_on_any_flipped_or_cut_byte(
    where: int, mask: int, cut: bool, kind: str
) -> None:
    """A submission (``parse_entry_json``) or logged bytes (``parse_logged_entry``) with any
    byte flipped or cut: the same entry, or the same refusal, as the strict path gives."""
    data = bytearray(SAMPLE)
    if cut:
        del data[where % len(data)]
    else:
        data[where % len(data)] ^= mask
    fast, strict = (
        (parse_entry_json, _strict_submission)
        if kind == "submission"
        else (parse_logged_entry, _strict)
    )
    assert _outcome(fast, bytes(data)) == _outcome(strict, bytes(data))


def test_the_fast_path_builds_the_same_entry_object() -> None:
    fast, strict = parse_logged_entry(SAMPLE), _strict(SAMPLE)
    assert (
        list(fast.__dict__)[: len(Entry.__dataclass_fields__)]
        == list(strict.__dict__)[: len(Entry.__dataclass_fields__)]
    )
    assert pickle.dumps(fast) == pickle.dumps(strict)
