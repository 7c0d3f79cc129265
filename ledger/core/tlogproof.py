"""C2SP tlog-proof files (``.tlog-proof``): an entry's inclusion proof with its cosigned checkpoint.

It owns the text format, exactly as c2sp.org/tlog-proof gives it::

    c2sp.org/tlog-proof@v1
    extra <base64 extra data>        (optional)
    index <decimal>
    <base64 hash>                    (zero or more, from the leaf's sibling up)

    <checkpoint note, verbatim>

and the check of such a file against a pinned policy. Glass Pocket receipts put
the entry bytes in ``extra``; their leaf hash is SHA-256(0x00 || extra).
"""

from __future__ import annotations

import base64
import functools
from dataclasses import dataclass

from ledger.core.errors import MalformedError, ProofError
from ledger.core.keys import decode_base64_strict
from ledger.core.merkle import HASH_SIZE, MAX_PROOF_LENGTH, leaf_hash, verify_inclusion
from ledger.core.note import parse_checkpoint, parse_note
from ledger.core.policy import Policy, VerifiedCheckpoint

HEADER = "c2sp.org/tlog-proof@v1"


@dataclass(frozen=True)
class TlogProof:
    """An entry's index, its inclusion proof hashes, the checkpoint note and optional extra data."""

    index: int
    hashes: tuple[bytes, ...]
    checkpoint_note: str
    extra: bytes | None = None

    def __str__(self) -> str:
        return format_tlog_proof(self)


@functools.lru_cache(maxsize=16)
def _check_note(note: str) -> None:
    """``parse_note``, once per checkpoint: a server writes many receipts of one checkpoint
    (a note that does not parse raises each time: exceptions are not cached)."""
    parse_note(note)


def format_tlog_proof(proof: TlogProof) -> str:
    """The proof file's text."""
    if proof.index < 0 or any(len(h) != HASH_SIZE for h in proof.hashes):
        raise ProofError(
            "a proof has a non-negative index and 32-byte hashes",
            "证明的序号不能为负，哈希应为 32 字节",
        )
    _check_note(proof.checkpoint_note)
    lines = [HEADER]
    if proof.extra is not None:
        lines.append("extra " + base64.b64encode(proof.extra).decode("ascii"))
    lines.append(f"index {proof.index}")
    lines += [base64.b64encode(h).decode("ascii") for h in proof.hashes]
    return "\n".join(lines) + "\n\n" + proof.checkpoint_note


def _malformed(why: str, zh_why: str) -> MalformedError:
    return MalformedError(f"malformed tlog-proof: {why}", f"tlog-proof 格式错误：{zh_why}")


def _parse_extra(line: str) -> bytes:
    try:
        return decode_base64_strict(line[len("extra ") :])
    except ValueError:
        raise _malformed("extra is not base64", "extra 不是 base64") from None


def _parse_index(line: str) -> int:
    digits = line[len("index ") :] if line.startswith("index ") else ""
    if not digits.isascii() or not digits.isdigit() or str(int(digits)) != digits:
        raise _malformed(
            f"expected 'index <decimal>', got {line[:40]!r}",
            f"应为 'index <十进制数>'，实为 {line[:40]!r}",
        )
    return int(digits)


def _parse_hash(line: str, position: int) -> bytes:
    try:
        raw = decode_base64_strict(line)
    except ValueError:
        raw = b""
    if len(raw) != HASH_SIZE:
        raise _malformed(
            f"proof line {position} is not base64 of 32 bytes",
            f"证明第 {position} 行不是 32 字节的 base64",
        )
    return raw


def parse_tlog_proof(text: str | bytes) -> TlogProof:
    """Parse a tlog-proof file strictly; MalformedError (or CheckpointError for the note) if off."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed("not UTF-8", "不是 UTF-8 编码") from None
    head, separator, checkpoint_note = text.partition("\n\n")
    lines = head.split("\n")
    if not separator or lines[0] != HEADER:
        raise _malformed(
            f"first line must be {HEADER} and a blank line must follow the proof",
            f"首行必须是 {HEADER}，证明后须有空行",
        )
    position = 1
    extra = None
    if len(lines) > 1 and lines[1].startswith("extra "):
        extra = _parse_extra(lines[1])
        position = 2
    if position >= len(lines):
        raise _malformed("no index line", "缺少 index 行")
    index = _parse_index(lines[position])
    hash_lines = lines[position + 1 :]
    if len(hash_lines) > MAX_PROOF_LENGTH:
        raise _malformed("too many proof hashes", "证明哈希过多")
    hashes = tuple(_parse_hash(line, n) for n, line in enumerate(hash_lines, start=1))
    parse_checkpoint(parse_note(checkpoint_note).text)
    return TlogProof(index, hashes, checkpoint_note, extra)


def verify_tlog_proof(
    proof: TlogProof | str, leaf: bytes | None, policy: Policy
) -> VerifiedCheckpoint:
    """Check a tlog-proof against a pinned policy and return the checkpoint it proved against.

    1. The checkpoint meets the policy (log signature, witness quorum).
    2. The leaf hash is ``leaf``, or SHA-256(0x00 || extra) when ``leaf`` is None.
    3. The inclusion proof leads from that leaf at ``index`` to the checkpoint's root.
    """
    parsed = parse_tlog_proof(proof) if isinstance(proof, str) else proof
    verified = policy.check(parsed.checkpoint_note)
    if leaf is None:
        if parsed.extra is None:
            raise ProofError(
                "the proof has no extra data to compute the leaf hash from",
                "证明中没有可用于计算叶哈希的 extra 数据",
            )
        leaf = leaf_hash(parsed.extra)
    verify_inclusion(leaf, parsed.index, verified.size, parsed.hashes, verified.root)
    return verified
