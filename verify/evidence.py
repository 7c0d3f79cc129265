"""Checking a fork-evidence file (``glasspocket/fork-evidence@v1``, SPEC §6) with the policy alone.

The file (written by ``verify.memory``) is one JSON object: ``format``, ``origin``,
``older`` and ``newer`` (two signed checkpoint notes) and ``consistency`` (base64
hashes). It proves that the log key signed two histories that cannot both be true:

1. both checkpoints carry a valid signature by a log key of the policy, for the
   same origin (a witness quorum is not needed: the log key alone signed both);
2. same size, different roots: fork proven;
3. different sizes: ``consistency`` is the consistency proof from the smaller size
   to the larger, from the larger log. It must lead to the larger checkpoint's root;
   the root it gives for the smaller tree must differ from the smaller checkpoint's.
   Where the smaller size is a power of two, RFC 6962 proofs leave that subtree out,
   so ``consistency`` starts with it (the larger log's hash of its first leaves).
   A proof that agrees with the smaller checkpoint, or that does not lead to the
   larger root, proves nothing.

``check_evidence`` returns a Report whose ``facts["fork_proven"]`` says which.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import Any

from ledger.core.errors import LedgerError, MalformedError, ProofError
from ledger.core.keys import decode_base64_strict
from ledger.core.merkle import roots_from_consistency_proof
from ledger.core.policy import Policy, VerifiedCheckpoint
from verify.memory import EVIDENCE_FORMAT
from verify.report import Report


class NotProvenError(LedgerError):
    """The evidence is readable but does not prove a fork."""

    code = "fork_not_proven"
    status = 422


def parse_evidence(text: str | bytes) -> tuple[str, str, str, list[bytes]]:
    """(origin, older note, newer note, consistency hashes); MalformedError if unreadable."""
    bad = MalformedError("not a glasspocket fork-evidence file", "不是 glasspocket 分叉证据文件")
    try:
        data: Any = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(data, dict) or data.get("format") != EVIDENCE_FORMAT:
        raise bad
    fields = ("origin", "older", "newer")
    if not all(isinstance(data.get(name), str) for name in fields):
        raise bad
    hashes = data.get("consistency")
    if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
        raise bad
    try:
        proof = [decode_base64_strict(h) for h in hashes]
    except ValueError:
        raise bad from None
    return data["origin"], data["older"], data["newer"], proof


def _log_signed(policy: Policy, note: str, which: str, zh_which: str) -> VerifiedCheckpoint:
    """The checkpoint once a policy log key's signature verifies (witnesses not needed)."""
    log_only = replace(policy, witnesses={}, groups={}, quorum="none")
    try:
        return log_only.check(note)
    except LedgerError as exc:
        raise NotProvenError(
            f"the {which} checkpoint is not signed by the policy's log key: {exc.en}",
            f"{zh_which}检查点没有信任策略中日志密钥的有效签名：{exc.zh}",
        ) from None


def _fork_proven(older: VerifiedCheckpoint, newer: VerifiedCheckpoint, proof: list[bytes]) -> None:
    """Return when the two checkpoints prove a fork; NotProvenError otherwise."""
    if older.origin != newer.origin:
        raise NotProvenError(
            f"the checkpoints are of two logs ({older.origin}, {newer.origin})",
            f"两个检查点属于不同日志（{older.origin}、{newer.origin}）",
        )
    small, large = (older, newer) if older.size <= newer.size else (newer, older)
    if small.size == large.size:
        if small.root == large.root:
            raise NotProvenError(
                f"both checkpoints have size {small.size} and the same root",
                f"两个检查点大小同为 {small.size}，树根相同",
            )
        return
    power_of_two = small.size & (small.size - 1) == 0
    claimed = proof[0] if power_of_two and proof else small.root
    hashes = proof[1:] if power_of_two else proof
    try:
        older_root, newer_root = roots_from_consistency_proof(
            small.size, large.size, hashes, claimed
        )
    except ProofError as exc:
        raise NotProvenError(
            f"the consistency proof is malformed: {exc.en}", f"一致性证明格式错误：{exc.zh}"
        ) from None
    if newer_root != large.root:
        raise NotProvenError(
            f"the consistency proof does not lead to the root of size {large.size}",
            f"一致性证明与大小为 {large.size} 的树根不符",
        )
    if older_root == small.root:
        raise NotProvenError(
            f"the proof shows size {small.size} is a prefix of size {large.size}: no fork",
            f"证明显示大小 {small.size} 是大小 {large.size} 的前缀：没有分叉",
        )


def check_evidence(text: str | bytes, policy: Policy) -> Report:
    """Check an evidence file; MalformedError when unreadable (the caller exits 2)."""
    origin, older_note, newer_note, proof = parse_evidence(text)
    report = Report()
    report.facts["origin"] = origin
    try:
        older = _log_signed(policy, older_note, "older", "较早的")
        newer = _log_signed(policy, newer_note, "newer", "较新的")
        report.facts["older"] = f"{older.size} {base64.b64encode(older.root).decode()}"
        report.facts["newer"] = f"{newer.size} {base64.b64encode(newer.root).decode()}"
        if origin != newer.origin:
            raise NotProvenError(
                f"the file names origin {origin}, its checkpoints {newer.origin}",
                f"文件所载日志源 {origin} 与检查点的 {newer.origin} 不符",
            )
        _fork_proven(older, newer, proof)
    except LedgerError as exc:
        report.violation(exc, "evidence")
        report.facts["fork_proven"] = False
        return report
    report.facts["fork_proven"] = True
    return report
