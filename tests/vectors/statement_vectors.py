"""Golden statement bundles (``golden/statements/``): a small log, its policy, honest and tampered bundles.

The statements log is the tiny log, then ``make_vectors.money_story`` (which ends with the
2025Q1 statement), then two property fees of the second quarter and the 2025Q2 statement.
Checkpoint 1 holds the 2025Q1 statement, checkpoint 2 the 2025Q2 one; both are signed by
the log key and cosigned by the two witnesses the policy needs (``neighbour`` and
``committee``, quorum all), at a fixed time.

Every tampered bundle makes exactly one change to an honest one; where that change alters
an entry (a figure, a signature), the log around it is rebuilt and re-signed with the real
log and witness keys, so only the check the case names can catch it. ``cases.json`` lists
every case with its expected verdict (``want``) and the verifier's code (``reason``).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace
from typing import Any

import make_vectors as mv

from ledger.core.entry import Entry, jcs, parse_logged_entry, sign_entry
from ledger.core.keychain import KeychainItem, format_keychain
from ledger.core.merkle import MemoryTree, consistency_proof, inclusion_proof, leaf_hash
from ledger.core.note import add_signature_lines, cosign, format_checkpoint, sign_note
from ledger.core.policy import build_policy
from ledger.core.rules import apply
from ledger.core.state import CommunityState
from ledger.core.statement_rules import expected_body
from ledger.core.statements import statement_at, statement_id
from ledger.core.tiles import build_entry_bundles, build_tiles
from ledger.core.tlogproof import TlogProof, format_tlog_proof, parse_tlog_proof

FOLDER = "statements"
WITNESSES = (("neighbour", "witness"), ("committee", "witness-committee"))
BUNDLE_FORMAT = "glasspocket/statement-bundle@v1"


def policy_text() -> str:
    witnesses = [(name, mv.key(handle).verifier()) for name, handle in WITNESSES]
    return str(build_policy(mv.key("log").verifier(), witnesses, "all"))


def second_quarter(state: CommunityState) -> list[Entry]:
    """Two property fees of 2025Q2 and the 2025Q2 statement, folded onto ``state``."""
    treasurer = mv.key("treasurer")
    entries = []
    for month, at in (
        ("2025-04", "2025-04-03T11:00:00+08:00"),
        ("2025-05", "2025-05-06T09:00:00+08:00"),
    ):
        fee = sign_entry(
            treasurer,
            community=mv.COMMUNITY,
            type="contribution.received",
            body={"fund": "property", "unit": "3-1-502", "amount_fen": 26_850, "month": month},
            at=at,
            entry_id=mv.entry_id(f"fee-{month}"),
        )
        apply(state, fee)
        entries.append(fee)
    entries.append(statement(state, "2025Q2"))
    return entries


def statement(state: CommunityState, period: str) -> Entry:
    """The treasurer's statement for ``period`` as the rules compute it, folded onto ``state``."""
    entry = sign_entry(
        mv.key("treasurer"),
        community=mv.COMMUNITY,
        type="statement.published",
        body=expected_body(state, period),
        at=statement_at(period),
        entry_id=statement_id(mv.COMMUNITY, period),
    )
    apply(state, entry)
    return entry


def honest_entries() -> list[bytes]:
    base = mv.log_entries()
    entries = [*base, *mv.money_story(base)]
    state = CommunityState()
    for entry in entries:
        apply(state, entry)
    entries += second_quarter(state)
    return [e.entry_bytes() for e in entries]


def signed_checkpoint(size: int, root: bytes, witnesses: int = len(WITNESSES)) -> str:
    """The checkpoint signed by the log key and cosigned by the first ``witnesses`` witnesses."""
    note = sign_note(format_checkpoint(mv.ORIGIN, size, root), [mv.key("log")])
    lines = [cosign(note, mv.key(handle), mv.COSIGNED_AT) for _, handle in WITNESSES[:witnesses]]
    return add_signature_lines(note, lines)


@dataclass
class Log:
    """A log's entry bytes and tree; checkpoints, proofs and bundles against it."""

    entry_bytes: list[bytes]
    key_indices: tuple[int, ...] = ()  # the key chain's entries (those of the honest log)

    def __post_init__(self) -> None:
        self.tree = MemoryTree([leaf_hash(b) for b in self.entry_bytes])
        if not self.key_indices:
            state = CommunityState()
            for data in self.entry_bytes:
                apply(state, parse_logged_entry(data))
            self.key_indices = tuple(sorted(set(state.key_history)))

    def checkpoint(self, size: int, witnesses: int = len(WITNESSES)) -> str:
        return signed_checkpoint(size, self.tree.root(size), witnesses)

    def statement_index(self, period: str) -> int:
        for index, data in enumerate(self.entry_bytes):
            entry = parse_logged_entry(data)
            if entry.type == "statement.published" and entry.body["period"] == period:
                return index
        raise KeyError(period)

    def keychain(self, size: int, note: str) -> str:
        items = [
            KeychainItem(i, self.entry_bytes[i], inclusion_proof(i, size, self.tree))
            for i in self.key_indices
            if i < size
        ]
        return format_keychain(note, items)

    def consistency(self, old: int, new: int) -> list[str]:
        return [b64(h) for h in consistency_proof(old, new, self.tree)]

    def bundle(self, period: str, size: int, previous_size: int | None = None) -> dict[str, Any]:
        """The honest bundle of ``period`` against this log's checkpoint of ``size``."""
        index = self.statement_index(period)
        note = self.checkpoint(size)
        data = self.entry_bytes[index]
        proof = TlogProof(index, tuple(inclusion_proof(index, size, self.tree)), note, data)
        previous = None
        if previous_size is not None:
            previous = {
                "checkpoint": self.checkpoint(previous_size),
                "consistency": self.consistency(previous_size, size),
            }
        return {
            "format": BUNDLE_FORMAT,
            "entry": b64(data),
            "proof": format_tlog_proof(proof),
            "covered_consistency": self.consistency(parse_logged_entry(data).body["end"], size),
            "previous": previous,
            "keychain": self.keychain(size, note),
        }

    def files(self, size: int) -> dict[str, bytes]:
        """The log at ``size`` as C2SP tlog-tiles, with its checkpoint, policy and key chain."""
        leaves = [leaf_hash(b) for b in self.entry_bytes[:size]]
        tiles = build_tiles(lambda *_: b"", 0, leaves)
        tiles += build_entry_bundles(lambda *_: b"", 0, self.entry_bytes[:size])
        note = self.checkpoint(size)
        out = {f"log/{tile.path}": tile.data for tile in tiles}
        out["log/checkpoint"] = note.encode()
        out["log/policy"] = policy_text().encode()
        out["log/keychain"] = self.keychain(size, note).encode()
        return out


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def flip(text: str) -> str:
    """A base64 hash with one bit of its first byte flipped."""
    raw = bytearray(base64.b64decode(text))
    raw[0] ^= 0x01
    return b64(bytes(raw))


def replaced(log: Log, index: int, data: bytes) -> Log:
    return Log([*log.entry_bytes[:index], data, *log.entry_bytes[index + 1 :]], log.key_indices)


def resigned_statement(data: bytes, change: Any) -> bytes:
    """The statement with ``change(body)`` applied, re-signed with the treasurer's real key."""
    entry = parse_logged_entry(data)
    body = json.loads(json.dumps(entry.body))
    change(body)
    unsigned = {**entry.unsigned(), "body": body}
    return jcs(mv.raw_signed(mv.key("treasurer"), unsigned))


def flipped_signature(data: bytes) -> bytes:
    entry = parse_logged_entry(data)
    return jcs(mv.flip_signature(entry))


def _raise_closing(body: dict[str, Any]) -> None:
    body["figures"]["funds"]["maintenance"]["closing_fen"] += 100_000


Case = tuple[str, str, dict[str, Any], str, str]  # name, description, bundle, want, reason


def cases() -> list[Case]:
    honest = Log(honest_entries())
    q1, q2 = honest.statement_index("2025Q1"), honest.statement_index("2025Q2")
    size1, size2 = q1 + 1, q2 + 1
    first = honest.bundle("2025Q1", size1)
    second = honest.bundle("2025Q2", size2, size1)

    figure_log = replaced(honest, q1, resigned_statement(honest.entry_bytes[q1], _raise_closing))
    bad_sig_log = replaced(honest, q1, flipped_signature(honest.entry_bytes[q1]))
    proof = parse_tlog_proof(first["proof"])
    flipped = (base64.b64decode(flip(b64(proof.hashes[0]))), *proof.hashes[1:])
    short = replace(proof, checkpoint_note=honest.checkpoint(size1, 1))
    return [
        ("ok-first", "the first statement (2025Q1), previous null", first, "ok", "ok"),
        ("ok-second", "the second statement (2025Q2), with previous", second, "ok", "ok"),
        (
            "ok-first-later-checkpoint",
            "the first statement proved against the newer checkpoint",
            honest.bundle("2025Q1", size2),
            "ok",
            "ok",
        ),
        (
            "figure-changed",
            "maintenance closing_fen raised by 1,000 yuan, re-signed by the treasurer's real key "
            "in a log re-signed by the real log key and witnesses: only the arithmetic catches it",
            figure_log.bundle("2025Q1", size1),
            "fail",
            "statement_mismatch",
        ),
        (
            "bad-signature",
            "one bit of the statement entry's signature flipped (the log rebuilt around it)",
            bad_sig_log.bundle("2025Q1", size1),
            "fail",
            "bad_signature",
        ),
        (
            "short-of-quorum",
            "the proof's checkpoint carries one of the two witness cosignatures the policy needs",
            {**first, "proof": format_tlog_proof(short)},
            "fail",
            "policy",
        ),
        (
            "wrong-inclusion-proof",
            "one bit of the inclusion proof's first hash flipped",
            {**first, "proof": format_tlog_proof(replace(proof, hashes=flipped))},
            "fail",
            "bad_proof",
        ),
        (
            "wrong-covered-consistency",
            "one bit of covered_consistency's first hash flipped",
            {
                **first,
                "covered_consistency": [
                    flip(first["covered_consistency"][0]),
                    *first["covered_consistency"][1:],
                ],
            },
            "fail",
            "bad_proof",
        ),
        (
            "previous-missing",
            "the second statement (start > 0) without the previous statement's checkpoint",
            {**second, "previous": None},
            "fail",
            "malformed",
        ),
        (
            "previous-inconsistent",
            "previous.checkpoint replaced by a validly signed and cosigned checkpoint of another "
            "history of the same size (the figure-changed log): the consistency proof fails",
            {
                **second,
                "previous": {**second["previous"], "checkpoint": figure_log.checkpoint(size1)},
            },
            "fail",
            "bad_proof",
        ),
    ]


def statement_files() -> dict[str, bytes]:
    """Every file under ``golden/statements/``, by path relative to ``golden/``."""
    listed = []
    files: dict[str, bytes] = {f"{FOLDER}/policy": policy_text().encode()}
    for name, description, bundle, want, reason in cases():
        path = f"{name}.statement.json"
        files[f"{FOLDER}/{path}"] = mv.dump(bundle)
        listed.append(
            {
                "name": name,
                "description": description,
                "bundle": path,
                "policy": "policy",
                "want": want,
                "reason": reason,
            }
        )
    files[f"{FOLDER}/cases.json"] = mv.dump(listed)
    honest = Log(honest_entries())
    files.update({f"{FOLDER}/{p}": d for p, d in honest.files(len(honest.entry_bytes)).items()})
    return files
