"""Verifying a statement bundle (``glasspocket/statement-bundle@v1``, SPEC §5).

Light verification (no log):
1. The bundle parses and names its format.
2. Its proof's checkpoint meets the pinned policy (log signature, witness quorum), and the
   statement entry (``entry``, equal to the proof's ``extra``) is included at its index.
3. The entry is a ``statement.published`` in canonical bytes, with the id and ``at`` its
   period fixes, and ``end`` equal to its own index.
4. The key chain (against the same checkpoint) shows the signer live at that index, of a
   role that may publish statements, and the signature valid.
5. ``covered_consistency`` proves the covered tree (``end``, ``covered_root``) a prefix of the
   checkpoint; ``previous`` (needed unless ``start`` is 0) meets the policy, holds the
   previous statement and is consistent with the checkpoint.
6. The statement's arithmetic holds: opening + in − out = closing, totals = sum of lines.

Full verification (``source``: the published log) also:
7. replays the log up to ``end`` with the rules, checks the replayed tree's root against
   ``covered_root``, and recomputes every figure, which must match exactly.

With a memory (SPEC §6), once the proofs hold, the bundle's checkpoint is compared with
the one remembered for its origin. The bundle proves its checkpoint consistent with two
earlier trees (the previous statement's checkpoint and the covered range): remembered at
one of those sizes with the same root, memory moves forward to the bundle's checkpoint;
with another root, the log forked and the evidence file is written. Remembered at any
other size, the comparison is not made and memory stays as it was.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from ledger.core.entry import Entry, parse_logged_entry
from ledger.core.errors import LedgerError, MalformedError, ProofError
from ledger.core.keychain import check_signer_at, fold_keychain, parse_keychain
from ledger.core.merkle import leaf_hash, verify_consistency, verify_inclusion
from ledger.core.policy import Policy, VerifiedCheckpoint
from ledger.core.rules import apply
from ledger.core.state import CommunityState
from ledger.core.statement_rules import StatementMismatchError, expected_body
from ledger.core.statements import arithmetic_errors, differences, statement_at, statement_id
from ledger.core.tiles import verified_entries
from ledger.core.tlogproof import parse_tlog_proof
from verify.memory import CheckpointMemory, ForkError
from verify.report import UNEXPECTED_ERRORS, Report, fingerprint
from verify.sources import Source

BUNDLE_FORMAT = "glasspocket/statement-bundle@v1"
PROOF_STEPS = ("bundle", "covered", "previous")  # the checks the memory comparison relies on


def verify_statement(
    bundle_text: str | bytes,
    policy: Policy,
    source: Source | None = None,
    memory: CheckpointMemory | None = None,
) -> Report:
    report = Report()
    try:
        bundle = _parse_bundle(bundle_text)
        entry, index, verified = _check_entry_proof(bundle, policy)
    except LedgerError as exc:
        report.violation(exc, "bundle")
        return report
    except UNEXPECTED_ERRORS as exc:  # malformed input is a violation, never a crash
        report.unverifiable(exc, "bundle")
        return report
    body = entry.body
    report.facts.update(
        {
            "origin": verified.origin,
            "checkpoint_size": verified.size,
            "fingerprint": fingerprint(verified.root),
            "period": body["period"],
            "covered": f"[{body['start']}, {body['end']})",
            "signer": entry.signer,
        }
    )
    _step(report, "signer", lambda: _check_signer(bundle, policy, verified, entry, index))
    _step(report, "covered", lambda: _check_covered(bundle, verified, entry))
    _step(report, "previous", lambda: _check_previous(bundle, policy, verified, entry))
    for path, stated, computed in arithmetic_errors(body["figures"]):
        report.violation(_figure_error(entry, path, stated, computed, "lines give"), path)
    if source is not None:
        _step(report, "log", lambda: _check_against_log(report, source, policy, entry))
    report.facts["full"] = source is not None
    if memory is not None and not any(f.where in PROOF_STEPS for f in report.violations):
        _compare_with_memory(report, memory, bundle, policy, verified, entry)
    return report


def _bundle_proofs(
    bundle: dict[str, Any], policy: Policy, entry: Entry
) -> dict[int, tuple[bytes, list[bytes]]]:
    """Sizes the bundle relates to its checkpoint: size -> (root there, consistency proof).

    The covered tree (``end``, ``covered_root``) and the previous statement's checkpoint,
    both already proven consistent with the bundle's checkpoint by the steps above.
    """
    body = entry.body
    known = {
        body["end"]: (
            base64.b64decode(body["covered_root"], validate=True),
            _hashes(bundle["covered_consistency"]),
        )
    }
    previous = bundle["previous"]
    if isinstance(previous, dict):
        before = policy.check(previous["checkpoint"])
        known[before.size] = (before.root, _hashes(previous["consistency"]))
    return known


def _compare_with_memory(
    report: Report,
    memory: CheckpointMemory,
    bundle: dict[str, Any],
    policy: Policy,
    verified: VerifiedCheckpoint,
    entry: Entry,
) -> None:
    """Compare the bundle's checkpoint with memory, moving it forward with the bundle's proofs.

    Remembered at a size the bundle relates to its checkpoint (the previous statement's
    checkpoint, or the covered size): the root there must be the remembered one, else a
    fork with evidence; at another smaller or a larger size, nothing is compared.
    """
    known = _bundle_proofs(bundle, policy, entry)
    try:
        seen = memory.observe(
            verified,
            lambda old, _new: known[old][1] if old in known else None,
            lambda old: known[old][0],
        )
    except ForkError as exc:
        report.violation(exc, "memory")
        report.facts["evidence"] = str(exc.evidence_path)
        return
    report.facts["memory"] = seen.outcome
    if seen.outcome == "not_compared":
        report.notice("not_compared", seen.en, seen.zh, "memory")


def _step(report: Report, where: str, check: Any) -> None:
    try:
        check()
    except LedgerError as exc:
        report.violation(exc, where)
    except UNEXPECTED_ERRORS as exc:  # malformed input is a violation, never a crash
        report.unverifiable(exc, where)


def _parse_bundle(text: str | bytes) -> dict[str, Any]:
    bundle = json.loads(text)
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        raise MalformedError(
            f"not a statement bundle (format {BUNDLE_FORMAT})", f"不是报表证明包（{BUNDLE_FORMAT}）"
        )
    return bundle


def _hashes(items: Any) -> list[bytes]:
    if not isinstance(items, list):
        raise MalformedError("a proof is a list of base64 hashes", "证明须为 base64 哈希列表")
    try:
        return [base64.b64decode(h, validate=True) for h in items]
    except (binascii.Error, TypeError):
        raise MalformedError("a proof hash is not base64", "证明哈希不是 base64") from None


def _check_entry_proof(
    bundle: dict[str, Any], policy: Policy
) -> tuple[Entry, int, VerifiedCheckpoint]:
    proof = parse_tlog_proof(bundle["proof"])
    data = base64.b64decode(bundle["entry"], validate=True)
    if proof.extra != data:
        raise MalformedError(
            "the proof's extra line is not the bundle's entry", "证明的 extra 行与报表条目不符"
        )
    verified = policy.check(proof.checkpoint_note)
    verify_inclusion(leaf_hash(data), proof.index, verified.size, list(proof.hashes), verified.root)
    entry = parse_logged_entry(data)
    if entry.type != "statement.published":
        raise MalformedError(
            f"the bundle holds a {entry.type}, not a statement",
            f"证明包中是 {entry.type}，不是报表",
        )
    period, body = entry.body["period"], entry.body
    wrong = [
        (name, got, want)
        for name, got, want in (
            ("id", entry.id, statement_id(entry.community, period)),
            ("at", entry.at, statement_at(period)),
            ("end", body["end"], proof.index),
        )
        if got != want
    ]
    if wrong:
        name, got, want = wrong[0]
        raise _figure_error(entry, name, got, want, "the rules give")
    return entry, proof.index, verified


def _check_signer(
    bundle: dict[str, Any], policy: Policy, verified: VerifiedCheckpoint, entry: Entry, index: int
) -> None:
    checkpoint_note, items = parse_keychain(bundle["keychain"])
    chain = policy.check(checkpoint_note)
    if (chain.size, chain.root) != (verified.size, verified.root):
        raise ProofError(
            "the key chain is for another checkpoint than the statement's proof",
            "密钥链对应的检查点与报表证明的检查点不同",
        )
    check_signer_at(fold_keychain(checkpoint_note, items), entry, index)


def _check_covered(bundle: dict[str, Any], verified: VerifiedCheckpoint, entry: Entry) -> None:
    covered_root = base64.b64decode(entry.body["covered_root"], validate=True)
    proof = _hashes(bundle["covered_consistency"])
    verify_consistency(entry.body["end"], verified.size, proof, covered_root, verified.root)


def _check_previous(
    bundle: dict[str, Any], policy: Policy, verified: VerifiedCheckpoint, entry: Entry
) -> None:
    previous, start = bundle["previous"], entry.body["start"]
    if start == 0:
        if previous is not None:
            raise MalformedError(
                "the first statement (start 0) has no previous checkpoint",
                "首期报表（起点 0）不应附上期检查点",
            )
        return
    if not isinstance(previous, dict):
        raise MalformedError(
            f"the statement starts at {start}: the previous statement's checkpoint is needed",
            f"报表起点为 {start}：须附上期报表的检查点",
        )
    before = policy.check(previous["checkpoint"])
    if before.size <= start:
        raise ProofError(
            f"the previous checkpoint (size {before.size}) does not hold the previous statement (#{start})",
            f"上期检查点（大小 {before.size}）不包含上期报表（第 {start} 条）",
        )
    proof = _hashes(previous["consistency"])
    verify_consistency(before.size, verified.size, proof, before.root, verified.root)


def _figure_error(
    entry: Entry, path: str, stated: Any, computed: Any, how: str
) -> StatementMismatchError:
    return StatementMismatchError(
        f"statement {entry.body['period']}: figure {path}: stated {stated!r}, {how} {computed!r}",
        f"{entry.body['period']} 报表：数字 {path}：报表为 {stated!r}，重算为 {computed!r}",
        entry_id=entry.id,
    )


def _check_against_log(report: Report, source: Source, policy: Policy, entry: Entry) -> None:
    log = policy.check(source.read("checkpoint"))
    end = entry.body["end"]
    if log.size < end:
        raise ProofError(
            f"the log (size {log.size}) is shorter than the statement's range (end {end})",
            f"日志（大小 {log.size}）短于报表覆盖范围（终点 {end}）",
        )
    state = replay_to(report, source, log, end)
    computed = expected_body(state, entry.body["period"])
    for path, stated, recomputed in differences(dict(entry.body), computed):
        report.violation(_figure_error(entry, path, stated, recomputed, "recomputed"), path)


def replay_to(report: Report, source: Source, log: VerifiedCheckpoint, end: int) -> CommunityState:
    """Fold the log's first ``end`` entries with the rules; a broken entry is a violation."""
    state = CommunityState()
    if end == 0:
        return state
    for index, data in verified_entries(log.size, log.root, source.read):
        try:
            apply(state, parse_logged_entry(data))
        except LedgerError as exc:
            report.violation(exc, f"#{index}")
            state.statements.merkle.append(leaf_hash(data))
            state.size = index + 1
        if index + 1 >= end:
            break
    return state
