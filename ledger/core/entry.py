"""The entry: one signed fact, its canonical bytes, and strict parsing (SPEC.md §2).

This module owns the one function that makes the signing input
(``signing_input``) and the one that makes the logged bytes (``entry_bytes``).
Parsing is strict: unknown fields, floats, duplicate keys, integers outside
±(2^53 − 1) and bodies that do not match their type's schema are refused
before anything else looks at the entry.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import rfc8785

from ledger.core import catalogue
from ledger.core.errors import (
    InvalidSignatureError,
    LedgerError,
    MalformedError,
    NonCanonicalError,
    TooLargeError,
    UnknownFieldError,
)
from ledger.core.keys import SigningKey, VerifierKey
from ledger.core.merkle import leaf_hash

FORMAT_VERSION = 1
SIGNING_CONTEXT = b"glasspocket/event/v1\n"
MAX_ENTRY_BYTES = 16_384
MAX_SAFE_INTEGER = 2**53 - 1

ENVELOPE_FIELDS = ("v", "community", "id", "type", "at", "body", "signer", "key_id", "sig")
COMMUNITY_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
AT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")
KEY_ID_RE = re.compile(r"^[0-9a-f]{8}$")
SIGNER_RE = re.compile(r"^[^\s+]+$")


@dataclass(frozen=True)
class Entry:
    """A parsed, well-formed entry. Its signature is not checked by construction."""

    v: int
    community: str
    id: str
    type: str
    at: str
    body: Mapping[str, Any]
    signer: str
    key_id: str
    sig: str

    def unsigned(self) -> dict[str, Any]:
        """The object the signer signs: every field but ``sig``."""
        return {name: getattr(self, name) for name in ENVELOPE_FIELDS if name != "sig"}

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in ENVELOPE_FIELDS}

    def signing_input(self) -> bytes:
        """The context line and the JCS of every field but ``sig``; computed once per entry.

        JCS sorts members, and the envelope's ``sig`` member is the last one written as
        ``,"sig":"…"`` (only ``signer``, ``type`` and ``v``, all scalars, follow it), so
        cutting it out of ``entry_bytes`` gives exactly ``jcs(self.unsigned())``.
        """
        cached: bytes | None = self.__dict__.get("_signing_input")
        if cached is None:
            data = self.entry_bytes()
            member = b',"sig":"' + self.sig.encode("ascii", "replace") + b'"'
            at = data.rfind(member)
            unsigned = data[:at] + data[at + len(member) :] if at > 0 else jcs(self.unsigned())
            cached = SIGNING_CONTEXT + unsigned
            object.__setattr__(self, "_signing_input", cached)
        return cached

    def entry_bytes(self) -> bytes:
        """The bytes that are logged: JCS of the whole object, ``sig`` included (memoised)."""
        cached: bytes | None = self.__dict__.get("_entry_bytes")
        if cached is None:
            cached = jcs(self.as_dict())
            object.__setattr__(self, "_entry_bytes", cached)
        return cached

    def leaf_hash(self) -> bytes:
        """The entry's RFC 6962 leaf hash, ``SHA-256(0x00 || entry_bytes)`` (memoised)."""
        cached: bytes | None = self.__dict__.get("_leaf_hash")
        if cached is None:
            cached = leaf_hash(self.entry_bytes())
            object.__setattr__(self, "_leaf_hash", cached)
        return cached

    def signature(self) -> bytes:
        """The raw signature ``sig`` encodes (memoised; ValueError if it is not base64)."""
        cached: bytes | None = self.__dict__.get("_signature")
        if cached is None:
            cached = base64.b64decode(self.sig, validate=True)
            object.__setattr__(self, "_signature", cached)
        return cached

    def at_datetime(self) -> datetime:
        return parse_at(self.at)


def jcs(value: Any) -> bytes:
    """RFC 8785 canonical bytes of a JSON value."""
    try:
        return bytes(rfc8785.dumps(value))
    except (TypeError, ValueError) as exc:
        raise MalformedError(
            f"value cannot be canonicalised (RFC 8785): {exc}",
            f"数据无法按 RFC 8785 规范化：{exc}",
        ) from None


def parse_at(value: str) -> datetime:
    """An RFC 3339 time with whole seconds and a zone (``Z`` or ``±hh:mm``)."""
    if not AT_RE.fullmatch(value):
        raise MalformedError(
            f"'at' must be RFC 3339 with whole seconds and a zone, got {value!r}",
            f"'at' 必须是带时区、精确到秒的 RFC 3339 时间，收到 {value!r}",
        )
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedError(
            f"'at' is not a real date and time: {value!r}", f"'at' 不是有效的日期时间：{value!r}"
        ) from None


def sign_entry(
    key: SigningKey,
    *,
    community: str,
    type: str,
    body: Mapping[str, Any],
    at: str,
    entry_id: str | None = None,
) -> Entry:
    """Build and sign an entry on the signer's side. The result is checked like any input."""
    verifier = key.verifier()
    unsigned: dict[str, Any] = {
        "v": FORMAT_VERSION,
        "community": community,
        "id": entry_id or str(uuid.uuid4()),
        "type": type,
        "at": at,
        "body": dict(body),
        "signer": verifier.name,
        "key_id": verifier.key_id_hex,
    }
    _check_integers(unsigned)  # what parse_entry refuses below, refused before signing
    unsigned_bytes = canonical_bytes(unsigned)
    return signed_entry(unsigned, unsigned_bytes, key.sign(SIGNING_CONTEXT + unsigned_bytes))


def signed_entry(unsigned: dict[str, Any], unsigned_bytes: bytes, signature: bytes) -> Entry:
    """``parse_entry({**unsigned, "sig": base64(signature)})``, for an entry just signed over
    ``SIGNING_CONTEXT + unsigned_bytes``, where ``unsigned_bytes`` is ``canonical_bytes(unsigned)``.

    The same checks in the same order, with the same errors; only the canonical form is
    not encoded a second time. JCS sorts members and ``sig`` sorts just before ``signer``
    (then only ``type`` and ``v`` follow, both scalars), so the signed entry's bytes are
    the unsigned bytes with ``"sig":"…",`` put in before the last ``"signer":``. Anything
    but an envelope of exactly the unsigned fields takes ``parse_entry`` itself.
    """
    sig = base64.b64encode(signature).decode("ascii")
    obj = {**unsigned, "sig": sig}
    at = unsigned_bytes.rfind(b',"signer":')
    if obj.keys() != _ENVELOPE_SET or at < 0:
        return parse_entry(obj)
    _check_integers(obj)
    canonical = b"".join(
        (unsigned_bytes[: at + 1], b'"sig":"', sig.encode(), b'",', unsigned_bytes[at + 1 :])
    )
    _refuse_oversize(len(canonical))
    _check_envelope(obj)
    catalogue.validate_body(obj["type"], obj["body"])
    entry = Entry.__new__(Entry)  # what Entry(**obj) builds (a frozen dataclass, no post-init)
    entry.__dict__.update({name: obj[name] for name in ENVELOPE_FIELDS})
    entry.__dict__["_entry_bytes"] = canonical
    entry.__dict__["_signing_input"] = SIGNING_CONTEXT + unsigned_bytes
    entry.__dict__["_signature"] = signature
    return entry


def verify_entry_signature(entry: Entry, key: VerifierKey) -> None:
    """Check ``entry.sig`` with ``key``; raises ``InvalidSignatureError``."""
    if key.name != entry.signer or key.key_id_hex != entry.key_id:
        raise InvalidSignatureError(
            f"entry {entry.id}: key {key.name}/{key.key_id_hex} is not the named signer",
            f"条目 {entry.id}：密钥 {key.name}/{key.key_id_hex} 不是所署签名人",
            entry_id=entry.id,
        )
    try:
        key.verify(entry.signature(), entry.signing_input())
    except InvalidSignatureError:
        raise InvalidSignatureError(
            f"entry {entry.id}: the signature of {entry.signer} does not verify",
            f"条目 {entry.id}：{entry.signer} 的签名验证不通过",
            entry_id=entry.id,
        ) from None


# --- parsing ----------------------------------------------------------------------------


def _reject_float(text: str) -> Any:
    raise MalformedError(
        f"floating-point number {text} is not allowed (money is integer fen)",
        f"不允许浮点数 {text}（金额一律以整数“分”表示）",
    )


def _reject_constant(text: str) -> Any:
    raise MalformedError(f"{text} is not JSON", f"{text} 不是合法 JSON")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise MalformedError(f"duplicate key {key!r}", f"重复的字段 {key!r}")
        out[key] = value
    return out


def loads_strict(data: bytes | str) -> Any:
    """JSON without floats, NaN or duplicate keys; integers within ±(2^53 − 1)."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = json.loads(
            text,
            parse_float=_reject_float,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_object,
        )
    except UnicodeDecodeError:
        raise MalformedError("not UTF-8", "不是 UTF-8 编码") from None
    except json.JSONDecodeError as exc:
        raise MalformedError(f"not JSON: {exc}", f"不是合法 JSON：{exc}") from None
    _check_integers(value)
    return value


def _check_integers(value: Any) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise MalformedError(
                f"integer {value} is outside ±(2^53 − 1)", f"整数 {value} 超出 ±(2^53 − 1)"
            )
    elif isinstance(value, float):
        _reject_float(repr(value))
    elif isinstance(value, list):
        for item in value:
            _check_integers(item)
    elif isinstance(value, dict):
        for item in value.values():
            _check_integers(item)


def parse_entry_json(data: bytes | str) -> Entry:
    """A submission: any JSON serialization of an entry.

    Sent in its canonical (JCS) form, as clients sign it, it takes the fast path of
    ``parse_logged_entry`` (the same checks, the same Entry); anything else, or anything
    that path refuses, is parsed strictly from the start, with its own precise error.
    """
    if isinstance(data, bytes) and len(data) <= MAX_ENTRY_BYTES:
        entry = _parse_canonical(data)
        if entry is not None:
            return entry
    return parse_entry(loads_strict(data))


def entry_from_store(text: str) -> Entry:
    """An entry the write side checked and stored: rebuilt without judging it again.

    Only for replaying one's own store into the write side's state; anything read from
    outside goes through ``parse_logged_entry`` (the verifier never uses this).
    """
    obj = json.loads(text)
    entry = Entry(**{name: obj[name] for name in ENVELOPE_FIELDS})
    object.__setattr__(entry, "_entry_bytes", text.encode())  # stored text is its JCS bytes
    return entry


def parse_logged_entry(data: bytes) -> Entry:
    """Bytes from the log: they must be exactly the JCS form of the entry they hold."""
    if len(data) > MAX_ENTRY_BYTES:
        raise TooLargeError(
            f"logged entry is {len(data)} bytes, over {MAX_ENTRY_BYTES}",
            f"日志条目 {len(data)} 字节，超过上限 {MAX_ENTRY_BYTES}",
        )
    entry = _parse_canonical(data)
    if entry is not None:
        return entry
    entry = parse_entry_json(data)
    if entry.entry_bytes() != data:
        raise NonCanonicalError(
            f"entry {entry.id}: logged bytes are not its canonical (JCS) form",
            f"条目 {entry.id}：日志中的字节不是其规范（JCS）形式",
            entry_id=entry.id,
        )
    return entry


def _safe_int(text: str) -> int:
    value = int(text)
    if abs(value) > MAX_SAFE_INTEGER:
        raise ValueError(text)
    return value


def _no_float(text: str) -> Any:
    raise ValueError(text)


# Plain decoding (a repeated key keeps its last value); floats, NaN and unsafe integers refused.
_CANONICAL_DECODER = json.JSONDecoder(
    parse_float=_no_float, parse_int=_safe_int, parse_constant=_no_float
)


def _parse_canonical(data: bytes) -> Entry | None:
    """The common case of ``parse_logged_entry``, fast: the Entry, or None to take the slow path.

    A logged entry must be exactly the JCS bytes of what it holds. When the bytes decode
    (no float, constant or unsafe integer) to an object whose JCS form is those same
    bytes, no key can be repeated (the object would be shorter) and every integer went
    through ``_safe_int``: what is left of ``loads_strict`` and ``parse_entry`` is the
    field, envelope and schema checks, made here. Anything else, or any refusal, returns
    None and the strict path runs from the start, raising its own precise error.
    """
    try:
        obj = _CANONICAL_DECODER.decode(data.decode("utf-8"))
        if type(obj) is not dict or obj.keys() != _ENVELOPE_SET or canonical_bytes(obj) != data:
            return None
        _check_envelope(obj)
        catalogue.validate_body(obj["type"], obj["body"])
    except (LedgerError, ValueError, TypeError, RecursionError):
        return None
    entry = Entry.__new__(Entry)  # what Entry(**obj) builds (a frozen dataclass, no post-init)
    entry.__dict__.update({name: obj[name] for name in ENVELOPE_FIELDS})
    entry.__dict__["_entry_bytes"] = data
    return entry


_ENVELOPE_SET = frozenset(ENVELOPE_FIELDS)


def parse_entry(obj: Any) -> Entry:
    """Check the envelope and the body against the type's schema, then build the Entry."""
    if not isinstance(obj, dict):
        raise MalformedError("an entry is a JSON object", "条目必须是 JSON 对象")
    _check_integers(obj)
    canonical = _check_size(obj)
    extra = sorted(set(obj) - set(ENVELOPE_FIELDS))
    if extra:
        raise UnknownFieldError(
            f"unknown field(s): {', '.join(extra)}", f"未知字段：{', '.join(extra)}"
        )
    missing = [name for name in ENVELOPE_FIELDS if name not in obj]
    if missing:
        raise MalformedError(
            f"missing field(s): {', '.join(missing)}", f"缺少字段：{', '.join(missing)}"
        )
    _check_envelope(obj)
    catalogue.validate_body(obj["type"], obj["body"])
    entry = Entry(**{name: obj[name] for name in ENVELOPE_FIELDS})
    object.__setattr__(entry, "_entry_bytes", canonical)  # jcs(obj) is jcs(entry.as_dict())
    return entry


_PLAIN_JSON = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), check_circular=False
)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def canonical_bytes(obj: dict[str, Any]) -> bytes:
    """``jcs(obj)`` for a value ``_check_integers`` passed (no floats, safe integers).

    For such values the standard library's sorted, compact, non-ASCII-escaping JSON is
    byte for byte RFC 8785 (same escapes, integers as digits), except that JCS orders
    keys by UTF-16 code units: when a character beyond the BMP appears, use ``jcs``.
    """
    try:
        text = _PLAIN_JSON.encode(obj)
        if text.isascii() or not _ASTRAL.search(text):
            return text.encode("utf-8")
    except (TypeError, ValueError):  # not plain JSON data, or a lone surrogate
        pass
    return jcs(obj)


def _check_size(obj: dict[str, Any]) -> bytes:
    """Refuse an entry over 16 KiB in canonical form before looking at its fields."""
    canonical = canonical_bytes(obj)
    _refuse_oversize(len(canonical))
    return canonical


def _refuse_oversize(size: int) -> None:
    if size > MAX_ENTRY_BYTES:
        raise TooLargeError(
            f"entry is {size} bytes in canonical form, over {MAX_ENTRY_BYTES}",
            f"条目规范形式为 {size} 字节，超过上限 {MAX_ENTRY_BYTES}",
        )


def _field_error(name: str, en: str, zh: str) -> MalformedError:
    return MalformedError(f"field '{name}': {en}", f"字段 '{name}'：{zh}")


def _check_envelope(obj: dict[str, Any]) -> None:
    if obj["v"] != FORMAT_VERSION or isinstance(obj["v"], bool):
        raise _field_error(
            "v", f"format version must be {FORMAT_VERSION}", f"格式版本必须为 {FORMAT_VERSION}"
        )
    for name in ("community", "id", "type", "at", "signer", "key_id", "sig"):
        if not isinstance(obj[name], str):
            raise _field_error(name, "must be a string", "必须是字符串")
    if not isinstance(obj["body"], dict):
        raise _field_error("body", "must be an object", "必须是对象")
    checks = (
        ("community", COMMUNITY_RE, "[a-z0-9][a-z0-9-]{1,62}"),
        ("id", UUID_RE, "a lower-case hyphenated UUID"),
        ("key_id", KEY_ID_RE, "8 lower-case hex digits"),
        ("signer", SIGNER_RE, "a key name without spaces or '+'"),
    )
    for name, pattern, what in checks:
        # fullmatch, not match: "$" would also accept a trailing newline.
        if not pattern.fullmatch(obj[name]):
            raise _field_error(name, f"must be {what}", f"格式应为 {what}")
    parse_at(obj["at"])
    _check_signature_encoding(obj["sig"])
    if obj["type"] not in catalogue.TYPES:
        raise _field_error(
            "type", f"unknown entry type {obj['type']!r}", f"未知条目类型 {obj['type']!r}"
        )


def _check_signature_encoding(sig: str) -> None:
    try:
        raw = base64.b64decode(sig, validate=True)
    except (binascii.Error, ValueError):
        raise _field_error("sig", "must be standard base64", "必须是标准 base64") from None
    if len(raw) != 64 or base64.b64encode(raw).decode("ascii") != sig:
        raise _field_error(
            "sig", "must be the canonical base64 of 64 bytes", "必须是 64 字节签名的规范 base64"
        )
