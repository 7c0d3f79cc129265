"""Key chains (``glasspocket/keychain@v1``): the key history of a log, provable without the log.

For one checkpoint, a key chain holds every entry that registers, revokes or makes
effective a key (index 0 ``community.founded``, ``key.registered``, ``key.revoked``,
the committee's ``approval.signed`` of a key, ``charter.amended`` for the quorum), each
with an RFC 9162 inclusion proof against that checkpoint. Folding those entries
with the same rules as the full log gives each key's role and the index range
in which it may sign, so a receipt's signer can be checked with nothing else.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ledger.core.catalogue import SIGNER_ROLES
from ledger.core.entry import Entry, loads_strict, parse_logged_entry, verify_entry_signature
from ledger.core.errors import MalformedError, RoleNotAllowedError, UnknownSignerError
from ledger.core.merkle import leaf_hash, verify_inclusion
from ledger.core.note import parse_checkpoint, parse_note
from ledger.core.rules import apply, check_envelope, evolve
from ledger.core.setup_rules import check_registration_without_election
from ledger.core.state import CommunityState, KeyRecord

KEYCHAIN_FORMAT = "glasspocket/keychain@v1"
KEY_TYPES = frozenset(
    {"community.founded", "key.registered", "key.revoked", "approval.signed", "charter.amended"}
)


@dataclass(frozen=True)
class KeychainItem:
    index: int
    entry_bytes: bytes
    proof: list[bytes]


def is_key_entry(entry_type: str) -> bool:
    return entry_type in KEY_TYPES


def format_keychain(checkpoint_note: str, items: Iterable[KeychainItem]) -> str:
    """The key chain as JSON text (sorted keys, one trailing newline)."""
    body = {
        "format": KEYCHAIN_FORMAT,
        "checkpoint": checkpoint_note,
        "entries": [
            {
                "index": item.index,
                "entry": base64.b64encode(item.entry_bytes).decode("ascii"),
                "proof": [base64.b64encode(h).decode("ascii") for h in item.proof],
            }
            for item in items
        ],
    }
    return json.dumps(body, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def parse_keychain(text: str | bytes) -> tuple[str, list[KeychainItem]]:
    """(checkpoint note text, items) from a key chain file; strict about its shape."""
    data: Any = loads_strict(text)
    bad = MalformedError("not a glasspocket key chain", "不是 glasspocket 密钥链文件")
    if not isinstance(data, dict) or data.get("format") != KEYCHAIN_FORMAT:
        raise bad
    if set(data) != {"format", "checkpoint", "entries"} or not isinstance(data["checkpoint"], str):
        raise bad
    items: list[KeychainItem] = []
    try:
        for raw in data["entries"]:
            if set(raw) != {"index", "entry", "proof"} or isinstance(raw["index"], bool):
                raise bad
            items.append(
                KeychainItem(
                    int(raw["index"]),
                    base64.b64decode(raw["entry"], validate=True),
                    [base64.b64decode(h, validate=True) for h in raw["proof"]],
                )
            )
    except (TypeError, ValueError, KeyError):
        raise bad from None
    return data["checkpoint"], items


def fold_keychain(checkpoint_note: str, items: list[KeychainItem]) -> CommunityState:
    """Check every item's inclusion in the checkpoint, then fold the key entries by the rules.

    The checkpoint's signatures are the caller's to check against the policy first.
    Raises ``LedgerError`` on a bad proof, a non-key entry, or a rule the keys break.
    """
    checkpoint = parse_checkpoint(parse_note(checkpoint_note).text)
    state = CommunityState()
    previous = -1
    for item in items:
        if item.index <= previous or item.index >= checkpoint.size:
            raise MalformedError(
                "key chain indices must rise and lie inside the checkpoint",
                "密钥链的序号必须递增且在检查点范围内",
            )
        previous = item.index
        verify_inclusion(
            leaf_hash(item.entry_bytes), item.index, checkpoint.size, item.proof, checkpoint.root
        )
        entry = parse_logged_entry(item.entry_bytes)
        if not is_key_entry(entry.type):
            raise MalformedError(
                f"entry {entry.id} ({entry.type}) does not belong in a key chain",
                f"条目 {entry.id}（{entry.type}）不应出现在密钥链中",
            )
        state.size = item.index
        if entry.type == "charter.amended" or (
            entry.type == "key.registered" and entry.body["role"] == "committee"
        ):
            # Its vote (the charter's, the committee election) is not in the chain; the full
            # audit checks it. Here: signer, role, quorum, and a registration's other rules.
            check_envelope(state, entry)
            if entry.type == "key.registered":
                check_registration_without_election(state, entry)
            evolve(state, entry)
        else:
            apply(state, entry)
    state.size = checkpoint.size
    return state


def key_valid_at(record: KeyRecord, index: int) -> bool:
    """A key signs validly at ``index`` if in effect before it and not revoked before it."""
    return record.valid_at(index)


def check_signer_at(keys: CommunityState, entry: Entry, index: int) -> KeyRecord:
    """Check ``entry``'s signature and role with the key chain's view of the keys at ``index``."""
    record = keys.keys.get(entry.signer)
    if record is None or record.vkey.key_id_hex != entry.key_id or not key_valid_at(record, index):
        raise UnknownSignerError(
            f"entry {entry.id}: signer {entry.signer} is not a live key at index {index}",
            f"条目 {entry.id}：签名人 {entry.signer} 在第 {index} 条时不是有效密钥",
            entry_id=entry.id,
        )
    verify_entry_signature(entry, record.vkey)
    if record.role not in SIGNER_ROLES[entry.type]:
        raise RoleNotAllowedError(
            f"entry {entry.id}: a {record.role} key may not make {entry.type}",
            f"条目 {entry.id}：{record.role} 角色的密钥无权记录 {entry.type}",
            entry_id=entry.id,
        )
    return record
