"""Verifying a receipt: a C2SP tlog-proof whose ``extra`` line is the entry (SPEC §5).

Steps:
1. The receipt parses and carries its entry in the ``extra`` line.
2. Its checkpoint meets the pinned policy (log signature, witness quorum).
3. The entry's leaf hash, SHA-256(0x00 || extra), is included at the receipt's index.
4. The entry is exactly its canonical (JCS) bytes.
5. With a key chain (checked against the same policy): the signer was live at that
   index, may make that type, and signed it. Without one, the verifier says plainly
   that the signer was not checked. A key chain whose checkpoint has the receipt's
   size but another root proves a fork: it is refused, with evidence written.
"""

from __future__ import annotations

from typing import Any

from ledger.core.entry import Entry, parse_logged_entry
from ledger.core.errors import LedgerError, MalformedError, ProofError
from ledger.core.keychain import check_signer_at, fold_keychain, parse_keychain
from ledger.core.merkle import leaf_hash, verify_inclusion
from ledger.core.policy import Policy, VerifiedCheckpoint
from ledger.core.tlogproof import parse_tlog_proof
from verify.memory import CheckpointMemory, ForkError
from verify.report import UNEXPECTED_ERRORS, Report, fingerprint


def verify_receipt(
    receipt_text: str,
    policy: Policy,
    keychain_text: str | None = None,
    memory: CheckpointMemory | None = None,
) -> Report:
    report = Report()
    try:
        proof = parse_tlog_proof(receipt_text)
        if proof.extra is None:
            raise MalformedError(
                "the receipt has no extra line holding the entry", "收据缺少记载条目的 extra 行"
            )
        verified = policy.check(proof.checkpoint_note)
        verify_inclusion(
            leaf_hash(proof.extra), proof.index, verified.size, list(proof.hashes), verified.root
        )
        entry = parse_logged_entry(proof.extra)
    except LedgerError as exc:
        report.violation(exc, "receipt")
        return report
    except UNEXPECTED_ERRORS as exc:  # malformed input is a violation, never a crash
        report.unverifiable(exc, "receipt")
        return report
    report.facts.update(describe_entry(entry, proof.index, verified.origin, verified.size))
    report.facts["fingerprint"] = fingerprint(verified.root)
    _check_signer(entry, proof.index, policy, keychain_text, report, verified, memory)
    if memory is not None:
        try:
            seen = memory.observe(verified)
            if seen.outcome == "not_compared":
                report.notice("not_compared", seen.en, seen.zh, "memory")
        except ForkError as exc:
            report.violation(exc, "memory")
    return report


def _check_signer(
    entry: Entry,
    index: int,
    policy: Policy,
    keychain_text: str | None,
    report: Report,
    receipt_checkpoint: VerifiedCheckpoint,
    memory: CheckpointMemory | None,
) -> None:
    if keychain_text is None:
        report.notice(
            "signer_not_checked",
            "inclusion checked, but not the signer: no key chain was given",
            "已验证收录，但未验证签名人：未提供密钥链",
            "signer",
        )
        report.facts["signer_checked"] = False
        return
    try:
        checkpoint_note, items = parse_keychain(keychain_text)
        chain = policy.check(checkpoint_note)
        _check_same_tree(receipt_checkpoint, chain, memory)
        if chain.size <= index:
            raise MalformedError(
                f"the key chain (size {chain.size}) is older than the receipt's entry #{index}",
                f"密钥链（大小 {chain.size}）早于收据中的第 {index} 条",
            )
        keys = fold_keychain(checkpoint_note, items)
        record = check_signer_at(keys, entry, index)
    except LedgerError as exc:
        report.violation(exc, "signer")
        return
    except UNEXPECTED_ERRORS as exc:  # malformed input is a violation, never a crash
        report.unverifiable(exc, "signer")
        return
    report.facts["signer_checked"] = True
    report.facts["signer_role"] = record.role


def _check_same_tree(
    receipt_checkpoint: VerifiedCheckpoint,
    chain: VerifiedCheckpoint,
    memory: CheckpointMemory | None,
) -> None:
    """Two log-signed checkpoints of one size with other roots: the log forked (SPEC §6)."""
    if chain.size != receipt_checkpoint.size or chain.root == receipt_checkpoint.root:
        return
    en = f"FORK: the key chain's checkpoint and the receipt's both have size {chain.size} but other roots"
    zh = f"分叉：密钥链与收据的检查点大小同为 {chain.size}，树根却不同"
    if memory is None:
        raise ProofError(en, zh)
    path = memory.write_evidence(receipt_checkpoint.note_text, chain.note_text, [])
    raise ForkError(f"{en}; evidence written to {path}", f"{zh}；证据已写入 {path}", path)


def describe_entry(entry: Entry, index: int, origin: str, size: int) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "origin": origin,
        "checkpoint_size": size,
        "index": index,
        "id": entry.id,
        "type": entry.type,
        "at": entry.at,
        "signer": entry.signer,
    }
    for name in ("unit", "fund", "amount_fen", "month"):
        if name in entry.body:
            facts[name] = entry.body[name]
    return facts
