"""The entry format (SPEC §2): strict parsing with stable codes, signing input, logged bytes."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
import rfc8785

from ledger.core.entry import (
    MAX_ENTRY_BYTES,
    Entry,
    jcs,
    loads_strict,
    parse_entry,
    parse_entry_json,
    parse_logged_entry,
    sign_entry,
    verify_entry_signature,
)
from ledger.core.errors import InvalidSignatureError, LedgerError
from ledger.core.keys import SigningKey

TREASURER = SigningKey("demo/treasurer", 1, hashlib.sha256(b"entry test treasurer").digest())
OTHER = SigningKey("demo/other", 1, hashlib.sha256(b"entry test other").digest())
BODY = {"fund": "property", "unit": "3-1-502", "amount_fen": 26_850, "month": "2025-01"}
ENTRY_ID = "2b7e1516-28ae-42a6-abf7-158809cf4f3c"


def _entry(**changes: Any) -> Entry:
    fields: dict[str, Any] = {
        "community": "demo",
        "type": "contribution.received",
        "body": BODY,
        "at": "2025-01-03T11:00:00+08:00",
        "entry_id": ENTRY_ID,
    }
    fields.update(changes)
    return sign_entry(TREASURER, **fields)


def _resigned(**changes: Any) -> dict[str, Any]:
    """The entry with ``changes``, validly signed over them, so only the change can be refused."""
    unsigned = {**_entry().unsigned(), **changes}
    signature = TREASURER.sign(b"glasspocket/event/v1\n" + rfc8785.dumps(unsigned))
    return {**unsigned, "sig": base64.b64encode(signature).decode()}


def _code(call: Any, *args: Any) -> str:
    with pytest.raises(LedgerError) as caught:
        call(*args)
    return caught.value.code


# --- signing input and bytes ----------------------------------------------------------------


def test_signing_input_is_the_context_line_and_jcs_without_sig() -> None:
    entry = _entry()
    unsigned = {k: v for k, v in json.loads(entry.entry_bytes()).items() if k != "sig"}
    expected = b"glasspocket/event/v1\n" + rfc8785.dumps(unsigned)
    assert entry.signing_input() == expected
    TREASURER.verifier().verify(entry.signature(), expected)


def test_entry_bytes_are_jcs_of_the_whole_object_with_sig() -> None:
    entry = _entry()
    assert entry.entry_bytes() == rfc8785.dumps(entry.as_dict())
    assert json.loads(entry.entry_bytes())["sig"] == entry.sig
    assert list(json.loads(entry.entry_bytes())) == sorted(entry.as_dict())


def test_sign_then_verify() -> None:
    entry = _entry()
    verify_entry_signature(entry, TREASURER.verifier())
    assert entry.signer == "demo/treasurer"
    assert entry.key_id == TREASURER.verifier().key_id_hex


def test_verify_with_another_key_is_refused() -> None:
    with pytest.raises(InvalidSignatureError):
        verify_entry_signature(_entry(), OTHER.verifier())


def test_a_signature_by_another_key_under_the_signers_name_is_refused() -> None:
    entry = _entry()
    forged = base64.b64encode(OTHER.sign(entry.signing_input())).decode()
    tampered = parse_entry({**entry.as_dict(), "sig": forged})
    with pytest.raises(InvalidSignatureError):
        verify_entry_signature(tampered, TREASURER.verifier())


def test_sign_entry_without_an_id_picks_a_lower_case_uuid() -> None:
    entry = sign_entry(
        TREASURER,
        community="demo",
        type="contribution.received",
        body=BODY,
        at="2025-01-03T11:00:00Z",
    )
    assert entry.id == entry.id.lower() and len(entry.id) == 36


@pytest.mark.parametrize(
    "serialize",
    [
        lambda d: json.dumps(d),
        lambda d: json.dumps(d, indent=4, sort_keys=False),
        lambda d: json.dumps(dict(reversed(list(d.items()))), separators=(",", ":")),
        lambda d: json.dumps(d, ensure_ascii=True).replace("3-1-502", "\\u0033-1-502"),
        lambda d: "\n  " + json.dumps(d, indent="\t") + "\n\n",
    ],
    ids=["default", "indent", "reversed-compact", "escaped", "whitespace"],
)
def test_any_serialization_of_a_submission_gives_the_same_entry_bytes(serialize: Any) -> None:
    entry = _entry()
    text = serialize(entry.as_dict())
    assert parse_entry_json(text).entry_bytes() == entry.entry_bytes()
    assert parse_entry_json(text.encode()).entry_bytes() == entry.entry_bytes()


def test_logged_bytes_must_be_exactly_jcs() -> None:
    entry = _entry()
    assert parse_logged_entry(entry.entry_bytes()) == entry
    pretty = json.dumps(entry.as_dict(), indent=1).encode()
    assert _code(parse_logged_entry, pretty) == "non_canonical"
    assert _code(parse_logged_entry, entry.entry_bytes() + b"\n") == "non_canonical"


def test_non_ascii_text_is_logged_as_utf8_not_escaped() -> None:
    founder = SigningKey("demo/chair", 1, bytes(32))
    body = {
        "name": "金色小区",
        "origin": "example.org/c/demo/log",
        "keys": [{"vkey": str(founder.verifier()), "role": "committee"}],
    }
    entry = sign_entry(
        founder, community="demo", type="community.founded", body=body, at="2025-01-01T00:00:00Z"
    )
    assert "金色小区".encode() in entry.entry_bytes()
    assert parse_logged_entry(entry.entry_bytes()) == entry


# --- strict parsing: each refusal and its stable code -------------------------------------------


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"note": "hello"}, "unknown_field"),
        ({"body": {**BODY, "payer": "Mr Wang"}}, "unknown_field"),
        ({"id": ENTRY_ID.upper()}, "malformed"),
        ({"id": "not-a-uuid"}, "malformed"),
        ({"id": ENTRY_ID + "\n"}, "malformed"),
        ({"id": "{" + ENTRY_ID + "}"}, "malformed"),
        ({"at": "2025-01-03T11:00:00"}, "malformed"),
        ({"at": "2025-01-03T11:00:00.5Z"}, "malformed"),
        ({"at": "2025-01-03 11:00:00Z"}, "malformed"),
        ({"at": "2025-02-30T11:00:00Z"}, "malformed"),
        ({"at": "2025-01-03T11:00:00Z\n"}, "malformed"),
        ({"v": 2}, "malformed"),
        ({"v": True}, "malformed"),
        ({"community": "Demo"}, "malformed"),
        ({"community": "d"}, "malformed"),
        ({"community": "demo\n"}, "malformed"),
        ({"key_id": "ABCDEF01"}, "malformed"),
        ({"signer": "demo/tre asurer"}, "malformed"),
        ({"signer": "demo/treasurer\n"}, "malformed"),
        ({"type": "contribution.Received"}, "malformed"),
        ({"type": "ledger.events.Contribution"}, "malformed"),
        ({"body": []}, "malformed"),
        ({"body": {**BODY, "amount_fen": 0}}, "malformed"),
        ({"body": {**BODY, "amount_fen": "26850"}}, "malformed"),
        ({"body": {**BODY, "amount_fen": True}}, "malformed"),
        ({"body": {**BODY, "fund": "savings"}}, "malformed"),
        ({"body": {k: v for k, v in BODY.items() if k != "unit"}}, "malformed"),
        ({"padding": "x" * MAX_ENTRY_BYTES}, "too_large"),
    ],
)
def test_parse_refuses_with_a_stable_code(changes: dict[str, Any], code: str) -> None:
    obj = _resigned(**changes)
    assert _code(parse_entry, obj) == code
    assert _code(parse_entry_json, json.dumps(obj)) == code


@pytest.mark.parametrize(
    ("sig", "why"),
    [
        ("", "empty"),
        ("not base64!", "alphabet"),
        (base64.b64encode(bytes(63)).decode(), "63 bytes"),
        (base64.urlsafe_b64encode(bytes([0xFB]) * 64).decode(), "url-safe alphabet"),
        (base64.b64encode(bytes(64)).decode().rstrip("="), "no padding"),
    ],
)
def test_signature_must_be_canonical_base64_of_64_bytes(sig: str, why: str) -> None:
    assert _code(parse_entry, {**_entry().as_dict(), "sig": sig}) == "malformed", why


def test_missing_field_is_malformed() -> None:
    obj = _entry().as_dict()
    del obj["key_id"]
    assert _code(parse_entry, obj) == "malformed"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('{"a": 1.0}', "float"),
        ('{"a": 1e3}', "exponent"),
        ('{"a": NaN}', "NaN"),
        ('{"a": Infinity}', "Infinity"),
        ('{"a": 1, "a": 2}', "duplicate key"),
        ('{"a": {"b": 1, "b": 1}}', "nested duplicate key"),
        ('{"a": 9007199254740992}', "2^53"),
        ('{"a": [-9007199254740992]}', "-2^53"),
        ('{"a": 1', "truncated"),
        (b'{"a": "\xff"}', "not UTF-8"),
    ],
)
def test_strict_json_refusals(text: str | bytes, why: str) -> None:
    assert _code(loads_strict, text) == "malformed", why


def test_strict_json_accepts_the_safe_integer_bounds() -> None:
    assert loads_strict('{"a": [9007199254740991, -9007199254740991]}') == {
        "a": [2**53 - 1, -(2**53 - 1)]
    }


def test_a_float_or_big_integer_inside_a_submission_is_malformed() -> None:
    text = _entry().entry_bytes().decode()
    for bad in ('"amount_fen":268.5', '"amount_fen":9007199254740992'):
        assert _code(parse_entry_json, text.replace('"amount_fen":26850', bad)) == "malformed"


def test_too_large_logged_bytes_are_refused_before_parsing() -> None:
    assert _code(parse_logged_entry, b"x" * (MAX_ENTRY_BYTES + 1)) == "too_large"


def test_the_size_limit_is_inclusive() -> None:
    """16,384 canonical bytes pass the size check (and meet the next one); 16,385 do not."""
    base = len(rfc8785.dumps(_resigned(padding="")))
    at_limit = _resigned(padding="x" * (MAX_ENTRY_BYTES - base))
    assert len(rfc8785.dumps(at_limit)) == MAX_ENTRY_BYTES
    assert _code(parse_entry, at_limit) == "unknown_field"
    over = _resigned(padding="x" * (MAX_ENTRY_BYTES - base + 1))
    assert _code(parse_entry, over) == "too_large"


def test_jcs_refuses_what_cannot_be_canonicalised() -> None:
    assert _code(jcs, {"a": float("nan")}) == "malformed"
