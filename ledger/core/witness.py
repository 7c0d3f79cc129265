"""A C2SP tlog-witness: the add-checkpoint request and the witness's decision on it.

It owns the request body format (c2sp.org/tlog-witness)::

    old <size>\\n
    <base64 consistency proof hash>\\n      (zero to 63 lines)
    \\n
    <checkpoint note, with its signature lines>

and what a witness decides, given the last checkpoint it cosigned for that origin
(``Witnessed``) and the log keys it trusts:

1. the origin is one of its logs, else 404 (``unknown_log``);
2. a trusted log key signed the checkpoint, else 403 (``log_signature``);
3. the old size is at most the checkpoint's size, else 400;
4. the old size is the size it last cosigned (0 if none), else 409 with that size
   (``witness_conflict``, ``WitnessConflict.latest_size``);
5. the same size must come with the same root, else 409 (``witness_fork``);
6. the consistency proof from the old size verifies (empty when the old size is 0),
   else 422 (``inconsistent``);
7. then it cosigns (tlog-cosignature/v1) and its record moves to the new checkpoint.

Persisting the record (atomically with the check) is the caller's job.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from ledger.core.errors import (
    CheckpointError,
    InvalidSignatureError,
    LedgerError,
    MalformedError,
    ProofError,
)
from ledger.core.keys import (
    KEY_TYPE_COSIGNATURE,
    SigningKey,
    VerifierKey,
    decode_base64_strict,
)
from ledger.core.merkle import HASH_SIZE, verify_consistency
from ledger.core.note import (
    Checkpoint,
    SignedNote,
    add_signature_lines,
    cosign,
    find_signature,
    parse_checkpoint,
    parse_note,
    verify_note_signature,
)

MAX_PROOF_LINES = 63
SIZE_CONTENT_TYPE = "text/x.tlog.size"


class UnknownLogError(LedgerError):
    """The checkpoint's origin is not a log this witness follows."""

    code = "unknown_log"
    status = 404


class LogSignatureError(LedgerError):
    """No signature by a log key the witness trusts verifies on the checkpoint."""

    code = "log_signature"
    status = 403


class WitnessConflict(LedgerError):
    """The old size is not the size the witness last cosigned (its size is in the body)."""

    code = "witness_conflict"
    status = 409

    def __init__(self, en: str, zh: str, latest_size: int) -> None:
        super().__init__(en, zh)
        self.latest_size = latest_size


class WitnessForkError(LedgerError):
    """The same size as the last cosigned checkpoint, with another root: the log forked."""

    code = "witness_fork"
    status = 409


class InconsistentCheckpointError(LedgerError):
    """The consistency proof from the old size does not verify."""

    code = "inconsistent"
    status: ClassVar[int] = 422


@dataclass(frozen=True)
class AddCheckpoint:
    """An add-checkpoint request: the old size, the consistency proof, the checkpoint note."""

    old_size: int
    proof: tuple[bytes, ...]
    checkpoint_note: str

    def body(self) -> str:
        return format_add_checkpoint(self.old_size, self.proof, self.checkpoint_note)


@dataclass(frozen=True)
class Witnessed:
    """The last checkpoint a witness cosigned for one origin (its note with the cosignature)."""

    origin: str
    size: int
    root: bytes
    note: str


def format_add_checkpoint(old_size: int, proof: Sequence[bytes], checkpoint_note: str) -> str:
    """The request body of ``POST <prefix>/add-checkpoint``."""
    if old_size < 0 or len(proof) > MAX_PROOF_LINES or any(len(h) != HASH_SIZE for h in proof):
        raise MalformedError(
            "an add-checkpoint request has an old size >= 0 and at most 63 hashes of 32 bytes",
            "add-checkpoint 请求的旧大小须 >= 0，哈希至多 63 个且每个 32 字节",
        )
    lines = [f"old {old_size}"] + [base64.b64encode(h).decode("ascii") for h in proof]
    return "\n".join(lines) + "\n\n" + checkpoint_note


def _bad_request(why: str, zh_why: str) -> MalformedError:
    return MalformedError(
        f"malformed add-checkpoint request: {why}", f"add-checkpoint 请求格式错误：{zh_why}"
    )


def parse_add_checkpoint(data: bytes | str) -> AddCheckpoint:
    """Parse a request body strictly; MalformedError (400) when it is not one."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise _bad_request("not UTF-8", "不是 UTF-8 编码") from None
    head, sep, note = data.partition("\n\n")
    if not sep:
        raise _bad_request("no blank line before the checkpoint", "检查点前没有空行")
    lines = head.split("\n")
    first = lines[0]
    size_text = first.removeprefix("old ")
    if (
        size_text == first
        or not size_text.isascii()
        or not size_text.isdigit()
        or str(int(size_text)) != size_text
    ):
        raise _bad_request(f"first line {first[:40]!r} is not 'old <size>'", "首行不是 old <大小>")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise _bad_request("more than 63 proof lines", "一致性证明超过 63 行")
    proof: list[bytes] = []
    for line in lines[1:]:
        try:
            digest = decode_base64_strict(line)
        except ValueError:
            digest = b""
        if len(digest) != HASH_SIZE:
            raise _bad_request(f"proof line {line[:60]!r} is not a base64 hash", "证明行不是哈希")
        proof.append(digest)
    try:
        parse_checkpoint(parse_note(note).text)
    except CheckpointError as exc:
        raise _bad_request(exc.en, exc.zh) from None
    return AddCheckpoint(int(size_text), tuple(proof), note)


def check_log_signature(note: SignedNote, log_keys: Sequence[VerifierKey]) -> Checkpoint:
    """The checkpoint, once a trusted log key of its origin verified; else 404 or 403."""
    checkpoint = parse_checkpoint(note.text)
    trusted = [key for key in log_keys if key.name == checkpoint.origin]
    if not trusted:
        raise UnknownLogError(
            f"this witness does not follow a log with origin {checkpoint.origin!r}",
            f"本见证人不见证来源为 {checkpoint.origin!r} 的日志",
        )
    for key in trusted:
        if find_signature(note, key) is None:
            continue
        try:
            verify_note_signature(note, key)
        except InvalidSignatureError:
            continue
        return checkpoint
    raise LogSignatureError(
        f"no signature by a trusted log key of {checkpoint.origin} verifies on the checkpoint",
        f"检查点上没有 {checkpoint.origin} 受信任日志密钥的有效签名",
    )


def add_checkpoint(
    witness_key: SigningKey,
    log_keys: Sequence[VerifierKey],
    request: AddCheckpoint,
    last: Witnessed | None,
    timestamp: int,
) -> tuple[str, Witnessed]:
    """Decide on a request (steps 1-7 of the module docstring): the cosignature line and the
    witness's new record, or the refusal as a LedgerError whose ``status`` is the HTTP status."""
    if witness_key.key_type != KEY_TYPE_COSIGNATURE:
        raise MalformedError(
            f"witness key {witness_key.name} is not a type 0x04 cosignature key",
            f"见证密钥 {witness_key.name} 不是 0x04 类型",
        )
    note = parse_note(request.checkpoint_note)
    checkpoint = check_log_signature(note, log_keys)
    if request.old_size > checkpoint.size:
        raise _bad_request(
            f"old size {request.old_size} is larger than the checkpoint's {checkpoint.size}",
            f"旧大小 {request.old_size} 大于检查点大小 {checkpoint.size}",
        )
    latest = 0 if last is None else last.size
    if request.old_size != latest:
        raise WitnessConflict(
            f"old size {request.old_size} is not the size this witness last cosigned ({latest})",
            f"旧大小 {request.old_size} 与本见证人上次见证的大小（{latest}）不符",
            latest,
        )
    if last is not None and last.size == checkpoint.size:
        if last.root != checkpoint.root:
            raise WitnessForkError(
                f"{checkpoint.origin} @ {checkpoint.size}: another root than the one this "
                "witness cosigned",
                f"{checkpoint.origin} @ {checkpoint.size}：树根与本见证人曾见证的不同",
            )
        if request.proof:
            raise _bad_request("same size but a non-empty proof", "大小相同但证明不为空")
    elif last is None:
        if request.proof:
            raise _bad_request("old size 0 takes no proof", "旧大小为 0 时不应附证明")
    else:
        try:
            verify_consistency(
                last.size, checkpoint.size, list(request.proof), last.root, checkpoint.root
            )
        except ProofError as exc:
            raise InconsistentCheckpointError(
                f"{checkpoint.origin}: not consistent with size {last.size}: {exc.en}",
                f"{checkpoint.origin}：与大小 {last.size} 不一致：{exc.zh}",
            ) from None
    line = cosign(note.text, witness_key, timestamp)
    record = add_signature_lines(note.encode(), [line])
    return line, Witnessed(checkpoint.origin, checkpoint.size, checkpoint.root, record)
