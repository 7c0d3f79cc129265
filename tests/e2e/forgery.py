"""Forging a published log the way its operator could: only the log key, no actor's key.

An operator who holds the log key can sign a checkpoint over any list of entry
bytes and publish matching tiles. These helpers read the honest export's entries,
change the list (one forgery per function), and write a complete export directory
(tiles, entry bundles, policy, key chain and a checkpoint signed with the real log
key) that differs from the honest one only in that change. Every function that
makes a new entry of its own uses a fresh key, never one of the demo's actor keys;
``sign_unchecked`` signs with the key it is given (a test that shows what an actor's
real key cannot get past the rules passes that key).

Witnesses check that a log only grows, not what its entries say: a forged export
that merely appends, or a log never shown to them, gets cosigned. So that each test
below meets the verifier's rules rather than its witness quorum, the forged
checkpoints are cosigned with the demo's witness keys (``witnesses=demo.witnesses``),
at the demo's fixed cosignature time; a test that shows what the quorum itself stops
leaves them out.

Test-only code: it uses ``ledger.core`` to build files, never to judge them; the
judging is done by the command lines under test.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.demo_witnesses import DEMO_COSIGNED_AT
from ledger.core.entry import (
    FORMAT_VERSION,
    SIGNING_CONTEXT,
    jcs,
    parse_logged_entry,
    sign_entry,
)
from ledger.core.keychain import KeychainItem, format_keychain
from ledger.core.keys import SigningKey
from ledger.core.merkle import MemoryTree, inclusion_proof, leaf_hash
from ledger.core.note import (
    add_signature_lines,
    cosign,
    format_checkpoint,
    parse_checkpoint,
    parse_note,
    sign_note,
)
from ledger.core.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    decode_entry_bundle,
    encode_entry_bundle,
    entries_path,
    entry_bundles_for_size,
    tile_path,
    tiles_for_size,
)


@dataclass(frozen=True)
class DemoExport:
    """The demo community built and exported by the real command line."""

    db_url: str
    keys: Path
    export: Path
    policy: Path
    log_key: SigningKey
    witnesses: tuple[SigningKey, ...] = ()  # the demo's witness keys, in policy order

    @property
    def origin(self) -> str:
        return self.log_key.name


# --- reading --------------------------------------------------------------------------------


def checkpoint_size(export: Path) -> int:
    return parse_checkpoint(parse_note((export / "checkpoint").read_text()).text).size


def read_entries(export: Path) -> list[bytes]:
    """The entry bytes of an export, in log order, from its entry bundles."""
    entries: list[bytes] = []
    for index, width in entry_bundles_for_size(checkpoint_size(export)):
        entries += decode_entry_bundle((export / entries_path(index, width)).read_bytes(), width)
    return entries


def entry_obj(data: bytes) -> dict[str, Any]:
    return dict(parse_logged_entry(data).as_dict())


def first_index(entries: Sequence[bytes], entry_type: str, start: int = 0) -> int:
    """Index of the first entry of ``entry_type`` at or after ``start``."""
    for index in range(start, len(entries)):
        if json.loads(entries[index])["type"] == entry_type:
            return index
    raise LookupError(f"no {entry_type} entry from index {start}")


# --- writing --------------------------------------------------------------------------------


def signed_checkpoint(
    checkpoint: str, log_key: SigningKey, witnesses: Sequence[SigningKey] = ()
) -> str:
    """The checkpoint signed with ``log_key`` and cosigned by ``witnesses`` at the demo's time."""
    note = sign_note(checkpoint, [log_key])
    return add_signature_lines(note, [cosign(note, w, DEMO_COSIGNED_AT) for w in witnesses])


def write_export(
    entries: Sequence[bytes],
    out: Path,
    log_key: SigningKey,
    copy_from: Path | None = None,
    witnesses: Sequence[SigningKey] = (),
) -> Path:
    """Write a complete export of ``entries`` to ``out``: tiles, bundles, signed checkpoint.

    ``policy`` and ``keychain`` are copied from ``copy_from`` (the honest export),
    as a forger would leave them. ``witnesses`` cosign the checkpoint.
    """
    tree = MemoryTree([leaf_hash(e) for e in entries])
    size = len(entries)

    def write(rel: str, data: bytes) -> None:
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    for level, index, width in tiles_for_size(size):
        first = index * TILE_WIDTH
        hashes = [tree.hash_at(level * TILE_HEIGHT, first + k) for k in range(width)]
        write(tile_path(level, index, width), b"".join(hashes))
    for index, width in entry_bundles_for_size(size):
        first = index * TILE_WIDTH
        write(entries_path(index, width), encode_entry_bundle(entries[first : first + width]))
    checkpoint = format_checkpoint(log_key.name, size, tree.root())
    write("checkpoint", signed_checkpoint(checkpoint, log_key, witnesses).encode())
    for name in ("policy", "keychain"):
        if copy_from is not None and (copy_from / name).exists():
            shutil.copy(copy_from / name, out / name)
    return out


def write_keychain(
    entries: Sequence[bytes],
    indices: Sequence[int],
    log_key: SigningKey,
    witnesses: Sequence[SigningKey] = (),
) -> str:
    """A key chain (SPEC §4) of ``entries`` at their full size, signed with ``log_key``."""
    tree = MemoryTree([leaf_hash(e) for e in entries])
    size = len(entries)
    checkpoint = format_checkpoint(log_key.name, size, tree.root())
    note = signed_checkpoint(checkpoint, log_key, witnesses)
    items = [KeychainItem(i, entries[i], inclusion_proof(i, size, tree)) for i in indices]
    return format_keychain(note, items)


# --- forgeries (each returns a new list) ----------------------------------------------------


def change_amount(entries: Sequence[bytes], index: int, delta_fen: int) -> list[bytes]:
    """The body's amount_fen changed, re-encoded as JCS; the actor's signature kept."""
    obj = entry_obj(entries[index])
    obj["body"] = {**obj["body"], "amount_fen": obj["body"]["amount_fen"] + delta_fen}
    return [*entries[:index], jcs(obj), *entries[index + 1 :]]


def duplicate(entries: Sequence[bytes], index: int, insert_at: int | None = None) -> list[bytes]:
    """Entry ``index`` logged a second time, at ``insert_at`` (default: appended)."""
    out = list(entries)
    out.insert(len(out) if insert_at is None else insert_at, entries[index])
    return out


def resign(entries: Sequence[bytes], index: int, key: SigningKey) -> list[bytes]:
    """Entry ``index`` with its content kept but signed by ``key`` (signer and key id are key's)."""
    obj = entry_obj(entries[index])
    forged = sign_entry(
        key,
        community=obj["community"],
        type=obj["type"],
        body=obj["body"],
        at=obj["at"],
        entry_id=obj["id"],
    )
    return [*entries[:index], forged.entry_bytes(), *entries[index + 1 :]]


def claim_signer(
    entries: Sequence[bytes], index: int, key: SigningKey, as_entry: int
) -> list[bytes]:
    """Entry ``index`` signed by ``key`` while naming the signer and key id of entry ``as_entry``.

    The impostor's best try: the log's record of that signer is found, so the
    check falls to the signature itself.
    """
    target = entry_obj(entries[as_entry])
    obj = entry_obj(entries[index])
    obj["signer"], obj["key_id"] = target["signer"], target["key_id"]
    del obj["sig"]
    obj["sig"] = base64.b64encode(key.sign(SIGNING_CONTEXT + jcs(obj))).decode("ascii")
    return [*entries[:index], jcs(obj), *entries[index + 1 :]]


def reserialize(entries: Sequence[bytes], index: int, style: str) -> list[bytes]:
    """Entry ``index`` in another JSON serialization of the same object (signature still valid)."""
    obj = entry_obj(entries[index])
    if style == "spaces":
        data = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))
    elif style == "key-order":
        data = json.dumps(
            dict(reversed(list(obj.items()))), ensure_ascii=False, separators=(",", ":")
        )
    elif style == "unicode-escapes":
        data = json.dumps(obj, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    else:
        raise ValueError(style)
    raw = data.encode("utf-8")
    assert raw != entries[index], f"{style} left entry {index} canonical"
    return [*entries[:index], raw, *entries[index + 1 :]]


def swap(entries: Sequence[bytes], i: int, j: int) -> list[bytes]:
    out = list(entries)
    out[i], out[j] = out[j], out[i]
    return out


def remove(entries: Sequence[bytes], index: int) -> list[bytes]:
    return [*entries[:index], *entries[index + 1 :]]


def replace(entries: Sequence[bytes], index: int, data: bytes) -> list[bytes]:
    return [*entries[:index], data, *entries[index + 1 :]]


def insert(entries: Sequence[bytes], index: int, data: bytes) -> list[bytes]:
    return [*entries[:index], data, *entries[index:]]


def sign_unchecked(
    key: SigningKey, *, community: str, type: str, body: dict[str, Any], at: str
) -> bytes:
    """An entry genuinely signed with ``key`` but never checked against its type's schema.

    For entries malformed on purpose (a float or a string amount). The signature covers the
    RFC 8785 form; the bytes are compact JSON with sorted keys, which is that form except that
    a float keeps its decimal point (JCS would write 250.0 as 250).
    """
    verifier = key.verifier()
    unsigned: dict[str, Any] = {
        "v": FORMAT_VERSION,
        "community": community,
        "id": str(uuid.uuid4()),
        "type": type,
        "at": at,
        "body": body,
        "signer": verifier.name,
        "key_id": verifier.key_id_hex,
    }
    sig = base64.b64encode(key.sign(SIGNING_CONTEXT + jcs(unsigned))).decode("ascii")
    obj = {**unsigned, "sig": sig}
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def other_community_entry(community: str = "elsewhere") -> bytes:
    """A well-signed contribution from another community's own log (its own treasurer key)."""
    treasurer = SigningKey.generate(f"{community}/treasurer")
    entry = sign_entry(
        treasurer,
        community=community,
        type="contribution.received",
        at="2025-02-10T10:00:00+08:00",
        body={"fund": "property", "unit": "1-1-101", "amount_fen": 12345, "month": "2025-02"},
    )
    return entry.entry_bytes()


def founding_entry(community: str, origin: str) -> tuple[bytes, SigningKey]:
    """A ``community.founded`` entry signed by a fresh key (the forger's own)."""
    chair = SigningKey.generate(f"{community}/chair")
    entry = sign_entry(
        chair,
        community=community,
        type="community.founded",
        at="2025-01-02T09:00:00+08:00",
        body={
            "name": "Forged Estate",
            "origin": origin,
            "keys": [{"vkey": str(chair.verifier()), "role": "committee"}],
        },
    )
    return entry.entry_bytes(), chair


# --- damaging files in place ----------------------------------------------------------------


def flip_byte(path: Path, offset: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    position = len(data) // 2 if offset is None else offset
    data[position] ^= 0x01
    path.write_bytes(bytes(data))


# --- running the command lines ---------------------------------------------------------------


def violation_lines(proc: subprocess.CompletedProcess[str], label: str = "VIOLATION") -> list[str]:
    return [line for line in proc.stdout.splitlines() if line.startswith(f"{label}: ")]
