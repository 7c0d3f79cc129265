"""C2SP signed notes, tlog-checkpoint bodies and tlog-cosignature/v1 (Ed25519) cosignatures.

It owns the text formats, byte for byte as Go's golang.org/x/mod/sumdb/note
writes and reads them:

- a note is its text (ending in a newline), a blank line, then signature lines
  ``— <key name> <base64(key id (4) || signature)>`` (U+2014 em dash);
- a checkpoint body is ``<origin>\\n<size>\\n<base64 root>\\n`` (we write and
  accept no extension lines);
- a cosignature (key type 0x04) signs ``cosignature/v1\\ntime <t>\\n`` followed
  by the checkpoint body; its signature field is key id (4) || t (8, big-endian)
  || Ed25519 signature (64).

Parsing follows note.Open: unknown signature lines are kept but never trusted;
a verifier looks only at lines whose key name and key id both match its key,
and checks only the first such line.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ledger.core.errors import CheckpointError, InvalidSignatureError, KeyFormatError
from ledger.core.keys import (
    KEY_ID_SIZE,
    KEY_TYPE_COSIGNATURE,
    KEY_TYPE_ED25519,
    SIGNATURE_SIZE,
    SigningKey,
    VerifierKey,
    decode_base64_strict,
    is_valid_key_name,
)
from ledger.core.merkle import HASH_SIZE

SIGNATURE_PREFIX = "— "
COSIGNATURE_HEADER = "cosignature/v1\n"
MAX_SIGNATURES = 100
MAX_TIMESTAMP = (1 << 63) - 1
MAX_TREE_SIZE = (1 << 63) - 1


# --- checkpoints -----------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's origin, its size and its root hash."""

    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return format_checkpoint(self.origin, self.size, self.root)


def format_checkpoint(origin: str, size: int, root: bytes) -> str:
    """``<origin>\\n<size>\\n<base64 root>\\n``, the note text a log signs."""
    if not origin or "\n" in origin or any(ord(c) < 0x20 for c in origin):
        raise CheckpointError(
            f"invalid checkpoint origin {origin!r}", f"检查点来源 {origin!r} 无效"
        )
    if not 0 <= size <= MAX_TREE_SIZE:
        raise CheckpointError(f"invalid tree size {size}", f"树大小 {size} 无效")
    if len(root) != HASH_SIZE:
        raise CheckpointError("a root hash is 32 bytes", "树根哈希应为 32 字节")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode('ascii')}\n"


def _checkpoint_error(why: str, zh_why: str) -> CheckpointError:
    return CheckpointError(f"malformed checkpoint: {why}", f"检查点格式错误：{zh_why}")


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint body strictly: three lines, canonical size and root, no extensions."""
    if not text.endswith("\n"):
        raise _checkpoint_error("it does not end with a newline", "未以换行结尾")
    lines = text[:-1].split("\n")
    if len(lines) != 3:
        raise _checkpoint_error(
            f"{len(lines)} lines, want 3 (origin, size, root; no extension lines)",
            f"有 {len(lines)} 行，应为 3 行（来源、大小、树根；不允许扩展行）",
        )
    origin, size_text, root_text = lines
    if not origin or any(ord(c) < 0x20 for c in origin):
        raise _checkpoint_error("empty or invalid origin line", "来源行为空或无效")
    if not size_text.isascii() or not size_text.isdigit() or str(int(size_text)) != size_text:
        raise _checkpoint_error(
            f"size {size_text!r} is not a canonical decimal",
            f"大小 {size_text!r} 不是规范的十进制数",
        )
    size = int(size_text)
    if size > MAX_TREE_SIZE:
        raise _checkpoint_error(f"size {size} is too large", f"大小 {size} 过大")
    try:
        root = decode_base64_strict(root_text)
    except ValueError:
        root = b""
    if len(root) != HASH_SIZE:
        raise _checkpoint_error(
            f"root {root_text!r} is not base64 of 32 bytes",
            f"树根 {root_text!r} 不是 32 字节的 base64",
        )
    return Checkpoint(origin, size, root)


# --- signed notes ----------------------------------------------------------------------


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: the key name, the 4-byte key id and the signature bytes after it."""

    name: str
    key_hash: bytes
    signature: bytes

    def line(self) -> str:
        """The signature line, with its final newline."""
        return signature_line(self.name, self.key_hash, self.signature)


@dataclass(frozen=True)
class SignedNote:
    """A note's text (with its final newline) and its signature lines, verified or not."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def encode(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def signature_line(name: str, key_hash: bytes, signature: bytes) -> str:
    """``— <name> <base64(key hash || signature)>\\n``."""
    return f"{SIGNATURE_PREFIX}{name} {base64.b64encode(key_hash + signature).decode('ascii')}\n"


def _malformed(why: str, zh_why: str) -> CheckpointError:
    return CheckpointError(f"malformed signed note: {why}", f"签名文本格式错误：{zh_why}")


_CONTROL_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f]")


def _check_note_characters(text: str) -> None:
    if _CONTROL_BUT_NEWLINE.search(text):
        raise _malformed("control character other than newline", "含有换行以外的控制字符")


def parse_signature_line(line: str) -> NoteSignature:
    """Parse one signature line (without its newline); CheckpointError if malformed."""
    _check_note_characters(line)
    if "\n" in line:
        raise _malformed("a signature line holds no newline", "签名行不能包含换行")
    if not line.startswith(SIGNATURE_PREFIX):
        raise _malformed(f"line {line[:40]!r} is not a signature line", f"{line[:40]!r} 不是签名行")
    name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    try:
        raw = decode_base64_strict(encoded)
    except ValueError:
        raw = b""
    if not is_valid_key_name(name) or len(raw) < KEY_ID_SIZE + 1:
        raise _malformed(f"bad signature line {line[:60]!r}", f"签名行 {line[:60]!r} 无效")
    return NoteSignature(name, raw[:KEY_ID_SIZE], raw[KEY_ID_SIZE:])


def parse_note(data: str | bytes) -> SignedNote:
    """Split a signed note into its text and signature lines (as note.Open parses it)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise _malformed("not UTF-8", "不是 UTF-8 编码") from None
    _check_note_characters(data)
    split = data.rfind("\n\n")
    if split < 0:
        raise _malformed("no blank line before the signatures", "签名前没有空行")
    text, block = data[: split + 1], data[split + 2 :]
    if not block or not block.endswith("\n"):
        raise _malformed("no signature lines, or no final newline", "没有签名行，或未以换行结尾")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise _malformed(f"more than {MAX_SIGNATURES} signatures", f"签名超过 {MAX_SIGNATURES} 个")
    return SignedNote(text, tuple(parse_signature_line(line) for line in lines))


def note_text(note_or_text: str) -> str:
    """The text of a signed note, or the argument itself if it is a bare note text."""
    return parse_note(note_or_text).text if "\n\n" in note_or_text else note_or_text


def sign_note(text: str, signers: Sequence[SigningKey]) -> str:
    """Sign ``text`` with Ed25519 (type 0x01) keys: text, blank line, one line per signer."""
    if not text.endswith("\n"):
        raise _malformed("note text must end with a newline", "文本必须以换行结尾")
    _check_note_characters(text)
    lines = []
    for signer in signers:
        if signer.key_type != KEY_TYPE_ED25519:
            raise KeyFormatError(
                f"key {signer.name} is not a type 0x01 note key; witnesses use cosign()",
                f"密钥 {signer.name} 不是 0x01 类型的签名密钥；见证人应使用 cosign()",
            )
        lines.append(
            signature_line(signer.name, signer.verifier().key_id, signer.sign(text.encode("utf-8")))
        )
    return text + "\n" + "".join(lines)


def add_signature_lines(note: str, lines: Iterable[str]) -> str:
    """Append signature lines to a signed note, skipping lines it already holds."""
    parsed = parse_note(note)
    have = {s.line() for s in parsed.signatures}
    extra: list[NoteSignature] = []
    for line in lines:
        signature = parse_signature_line(line.removesuffix("\n"))
        if signature.line() not in have:
            have.add(signature.line())
            extra.append(signature)
    return SignedNote(parsed.text, parsed.signatures + tuple(extra)).encode()


# --- cosignatures ----------------------------------------------------------------------


def cosignature_message(checkpoint_text: str, timestamp: int) -> bytes:
    """What a tlog-cosignature/v1 Ed25519 key signs."""
    return f"{COSIGNATURE_HEADER}time {timestamp}\n{checkpoint_text}".encode()


def cosign(checkpoint_note_text: str, witness_key: SigningKey, timestamp: int) -> str:
    """A witness's cosignature line (with its newline) on a checkpoint (bare or signed note)."""
    if witness_key.key_type != KEY_TYPE_COSIGNATURE:
        raise KeyFormatError(
            f"key {witness_key.name} is not a type 0x04 cosignature key",
            f"密钥 {witness_key.name} 不是 0x04 类型的见证签名密钥",
        )
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise CheckpointError(
            f"invalid cosignature timestamp {timestamp}", f"见证签名时间戳 {timestamp} 无效"
        )
    body = note_text(checkpoint_note_text)
    parse_checkpoint(body)
    signature = witness_key.sign(cosignature_message(body, timestamp))
    field = timestamp.to_bytes(8, "big") + signature
    return signature_line(witness_key.name, witness_key.verifier().key_id, field)


def cosignature_timestamp(signature: NoteSignature) -> int:
    """The timestamp in a cosignature/v1 signature field; InvalidSignatureError if malformed."""
    if len(signature.signature) != 8 + SIGNATURE_SIZE:
        raise InvalidSignatureError(
            f"cosignature by {signature.name} is {len(signature.signature)} bytes, want 72",
            f"{signature.name} 的见证签名长度为 {len(signature.signature)} 字节，应为 72",
        )
    timestamp = int.from_bytes(signature.signature[:8], "big")
    if timestamp > MAX_TIMESTAMP:
        raise InvalidSignatureError(
            f"cosignature by {signature.name} has timestamp {timestamp} beyond 2^63-1",
            f"{signature.name} 的见证签名时间戳 {timestamp} 超过 2^63-1",
        )
    return timestamp


def find_signature(note: SignedNote, vkey: VerifierKey) -> NoteSignature | None:
    """The first signature line whose key name and key id both match ``vkey``."""
    for signature in note.signatures:
        if signature.name == vkey.name and signature.key_hash == vkey.key_id:
            return signature
    return None


def verify_note_signature(note: str | SignedNote, vkey: VerifierKey) -> NoteSignature:
    """Check ``vkey``'s signature on the note (a cosignature for type 0x04 keys).

    Raises InvalidSignatureError when the key's line is absent or does not verify.
    """
    parsed = parse_note(note) if isinstance(note, str) else note
    signature = find_signature(parsed, vkey)
    if signature is None:
        raise InvalidSignatureError(
            f"no signature by key {vkey.name}+{vkey.key_id_hex} on the note",
            f"文本上没有密钥 {vkey.name}+{vkey.key_id_hex} 的签名",
        )
    if vkey.key_type == KEY_TYPE_COSIGNATURE:
        timestamp = cosignature_timestamp(signature)
        vkey.verify(signature.signature[8:], cosignature_message(parsed.text, timestamp))
    else:
        vkey.verify(signature.signature, parsed.text.encode("utf-8"))
    return signature
