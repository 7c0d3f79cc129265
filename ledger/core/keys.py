"""Signed-note keys: verifier keys (vkeys), private key lines and key files.

This is the only module that holds private key material. It owns the C2SP
signed-note key formats, byte for byte as Go's ``golang.org/x/mod/sumdb/note``
reads and writes them:

- key id = SHA-256(name || 0x0A || type || public key)[:4];
- a vkey is ``<name>+<8 hex key id>+<base64(type || 32-byte public key)>``;
- a private key line is ``PRIVATE+KEY+<name>+<8 hex key id>+<base64(type || 32-byte seed)>``.

Type 0x01 signs notes (the log key, actor keys); type 0x04 is a
tlog-cosignature/v1 witness key (its signed message is built in ``note``).
Both are Ed25519. A private key file holds exactly one such line and must not
be readable by group or others.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.core.errors import (
    InvalidSignatureError,
    KeyFileExistsError,
    KeyFilePermissionError,
    KeyFormatError,
)

KEY_TYPE_ED25519 = 0x01
KEY_TYPE_COSIGNATURE = 0x04
KNOWN_KEY_TYPES = (KEY_TYPE_ED25519, KEY_TYPE_COSIGNATURE)

PUBLIC_KEY_SIZE = 32
SEED_SIZE = 32
SIGNATURE_SIZE = 64
KEY_ID_SIZE = 4

_PRIVATE_PREFIX = "PRIVATE+KEY+"
_HEX_ID = re.compile(r"[0-9a-f]{8}")
# Unicode White_Space, which is what Go's unicode.IsSpace tests (note.isValidName).
_UNICODE_SPACES = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def key_id(name: str, key_type: int, public_key: bytes) -> bytes:
    """The 4-byte signed-note key id: SHA-256(name || "\\n" || type || public key)[:4]."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([key_type]) + public_key)
    return digest.digest()[:KEY_ID_SIZE]


def is_valid_key_name(name: str) -> bool:
    """Non-empty, no Unicode space, no ``+`` and no control character (signed-note key names)."""
    if not name or "+" in name:
        return False
    return not any(ch in _UNICODE_SPACES or ord(ch) < 0x20 or ch == "\x7f" for ch in name)


def check_key_name(name: str) -> None:
    """Raise KeyFormatError unless ``name`` is a valid signed-note key name."""
    if not is_valid_key_name(name):
        raise KeyFormatError(
            f"invalid key name {name!r}: it must be non-empty, without spaces or '+'",
            f"密钥名称 {name!r} 无效：不能为空，不能含空格或“+”",
        )


def decode_base64_strict(text: str) -> bytes:
    """Standard base64 (RFC 4648 §4) in its one canonical spelling, else ValueError."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError(f"not base64: {text!r}") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError(f"not canonical base64: {text!r}")
    return raw


def _key_format_error(what: str, zh_what: str, text: str) -> KeyFormatError:
    shown = text if len(text) <= 120 else text[:117] + "..."
    return KeyFormatError(f"{what}: {shown!r}", f"{zh_what}：{shown!r}")


def _decode_key_material(encoded: str, kind: str, zh_kind: str) -> tuple[int, bytes]:
    """Split base64(type || 32 bytes) into (type, 32 bytes), checking type and length."""
    try:
        raw = decode_base64_strict(encoded)
    except ValueError:
        raise _key_format_error(
            f"{kind} key material is not base64", f"{zh_kind}不是 base64", encoded
        ) from None
    if len(raw) != 1 + PUBLIC_KEY_SIZE:
        raise _key_format_error(
            f"{kind} key material is {len(raw)} bytes, want 33 (type + 32)",
            f"{zh_kind}长度为 {len(raw)} 字节，应为 33（类型 + 32）",
            encoded,
        )
    if raw[0] not in KNOWN_KEY_TYPES:
        raise _key_format_error(
            f"unknown key type 0x{raw[0]:02x} (known: 0x01 Ed25519, 0x04 cosignature)",
            f"未知的密钥类型 0x{raw[0]:02x}（支持 0x01 Ed25519、0x04 见证签名）",
            encoded,
        )
    return raw[0], raw[1:]


def _check_hex_id(hex_id: str, text: str) -> bytes:
    if not _HEX_ID.fullmatch(hex_id):
        raise _key_format_error(
            "key id must be 8 lowercase hex digits", "密钥 ID 必须是 8 位小写十六进制数字", text
        )
    return bytes.fromhex(hex_id)


@dataclass(frozen=True)
class VerifierKey:
    """A public key with its signed-note name and type; ``str()`` is its vkey."""

    name: str
    key_type: int
    public_key: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if self.key_type not in KNOWN_KEY_TYPES:
            raise KeyFormatError(
                f"unknown key type 0x{self.key_type:02x}", f"未知的密钥类型 0x{self.key_type:02x}"
            )
        if len(self.public_key) != PUBLIC_KEY_SIZE:
            raise KeyFormatError(
                f"an Ed25519 public key is 32 bytes, not {len(self.public_key)}",
                f"Ed25519 公钥应为 32 字节，而不是 {len(self.public_key)}",
            )

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.key_type, self.public_key)

    @property
    def key_id_hex(self) -> str:
        """The key id in hex, computed once per key (every signature check compares it)."""
        cached: str | None = self.__dict__.get("_key_id_hex")
        if cached is None:
            cached = self.key_id.hex()
            object.__setattr__(self, "_key_id_hex", cached)
        return cached

    @classmethod
    def parse(cls, vkey: str) -> VerifierKey:
        """Parse ``<name>+<hex id>+<base64(type || key)>``; KeyFormatError on anything off."""
        parts = vkey.split("+", 2)
        if len(parts) != 3:
            raise _key_format_error(
                "a vkey is <name>+<key id>+<key>", "验证密钥格式应为 <名称>+<ID>+<密钥>", vkey
            )
        name, hex_id, encoded = parts
        check_key_name(name)
        claimed = _check_hex_id(hex_id, vkey)
        key_type, public_key = _decode_key_material(encoded, "public", "公钥")
        key = cls(name, key_type, public_key)
        if key.key_id != claimed:
            raise _key_format_error(
                f"key id {hex_id} does not match the key (want {key.key_id_hex})",
                f"密钥 ID {hex_id} 与密钥不符（应为 {key.key_id_hex}）",
                vkey,
            )
        key._ed25519()
        return key

    def __str__(self) -> str:
        material = base64.b64encode(bytes([self.key_type]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id_hex}+{material}"

    def _ed25519(self) -> Ed25519PublicKey:
        try:
            return Ed25519PublicKey.from_public_bytes(self.public_key)
        except ValueError:
            raise KeyFormatError(
                f"key {self.name} is not a valid Ed25519 public key",
                f"密钥 {self.name} 不是有效的 Ed25519 公钥",
            ) from None

    def verify(self, signature: bytes, message: bytes) -> None:
        """Check a raw Ed25519 signature over ``message``; InvalidSignatureError if it fails."""
        try:
            self._ed25519().verify(signature, message)
        except InvalidSignature:
            raise InvalidSignatureError(
                f"signature by key {self.name}+{self.key_id_hex} does not verify",
                f"密钥 {self.name}+{self.key_id_hex} 的签名验证失败",
            ) from None


class SigningKey:
    """An Ed25519 private key with its signed-note name and type. Never printed."""

    __slots__ = ("_private", "key_type", "name")

    def __init__(self, name: str, key_type: int, seed: bytes) -> None:
        check_key_name(name)
        if key_type not in KNOWN_KEY_TYPES:
            raise KeyFormatError(
                f"unknown key type 0x{key_type:02x}", f"未知的密钥类型 0x{key_type:02x}"
            )
        if len(seed) != SEED_SIZE:
            raise KeyFormatError("an Ed25519 seed is 32 bytes", "Ed25519 种子应为 32 字节")
        self.name = name
        self.key_type = key_type
        self._private = Ed25519PrivateKey.from_private_bytes(seed)

    @classmethod
    def generate(cls, name: str, key_type: int = KEY_TYPE_ED25519) -> SigningKey:
        return cls(name, key_type, os.urandom(SEED_SIZE))

    @classmethod
    def from_private_line(cls, line: str) -> SigningKey:
        """Parse ``PRIVATE+KEY+<name>+<hex id>+<base64(type || seed)>`` (as note.NewSigner)."""
        shown = "PRIVATE+KEY+…" if line.startswith(_PRIVATE_PREFIX) else line[:20]
        if not line.startswith(_PRIVATE_PREFIX):
            raise _key_format_error(
                "a private key line starts with PRIVATE+KEY+", "私钥行应以 PRIVATE+KEY+ 开头", shown
            )
        parts = line[len(_PRIVATE_PREFIX) :].split("+", 2)
        if len(parts) != 3:
            raise _key_format_error(
                "a private key line is PRIVATE+KEY+<name>+<key id>+<key>",
                "私钥行格式应为 PRIVATE+KEY+<名称>+<ID>+<密钥>",
                shown,
            )
        name, hex_id, encoded = parts
        check_key_name(name)
        claimed = _check_hex_id(hex_id, shown)
        key_type, seed = _decode_key_material(encoded, "private", "私钥")
        key = cls(name, key_type, seed)
        if key.verifier().key_id != claimed:
            raise KeyFormatError(
                f"private key {name}: key id {hex_id} does not match the key",
                f"私钥 {name}：密钥 ID {hex_id} 与密钥不符",
            )
        return key

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SigningKey:
        """Read a key file: refused unless mode 0600-like and exactly one private key line."""
        with open(path, "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise KeyFilePermissionError(
                    f"private key file {path} is accessible by group or others "
                    f"(mode {stat.S_IMODE(mode):04o}); run: chmod 600 {path}",
                    f"私钥文件 {path} 允许同组或其他用户访问（权限 {stat.S_IMODE(mode):04o}），"
                    f"拒绝使用；请运行：chmod 600 {path}",
                )
            data = handle.read(4096)
        return cls._from_file_bytes(data, str(path))

    @classmethod
    def _from_file_bytes(cls, data: bytes, path: str) -> SigningKey:
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError:
            text = ""
        line = text[:-1] if text.endswith("\n") else text
        if not line or any(ch in line for ch in "\r\n"):
            raise KeyFormatError(
                f"key file {path} must hold exactly one PRIVATE+KEY+ line",
                f"密钥文件 {path} 必须只包含一行 PRIVATE+KEY+ 私钥",
            )
        return cls.from_private_line(line)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the private key line to a new file created with mode 0600; never overwrite."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(path, flags, 0o600)
        except FileExistsError:
            raise KeyFileExistsError(
                f"refusing to overwrite existing file {path}", f"文件 {path} 已存在，拒绝覆盖"
            ) from None
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(self.private_line() + "\n")

    def sign(self, message: bytes) -> bytes:
        """A raw 64-byte Ed25519 signature over ``message``."""
        return self._private.sign(message)

    def verifier(self) -> VerifierKey:
        public = self._private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return VerifierKey(self.name, self.key_type, public)

    def private_line(self) -> str:
        seed = self._private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        material = base64.b64encode(bytes([self.key_type]) + seed).decode("ascii")
        return f"{_PRIVATE_PREFIX}{self.name}+{self.verifier().key_id_hex}+{material}"

    def __repr__(self) -> str:
        key_id_hex = self.verifier().key_id_hex
        return (
            f"SigningKey(name={self.name!r}, key_type=0x{self.key_type:02x}, key_id={key_id_hex})"
        )

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("SigningKey is not picklable: private keys stay in memory only")


def load_key_dir(path: str | os.PathLike[str]) -> list[SigningKey]:
    """Every key in a folder: one key per regular file directly in it, by file name order."""
    folder = Path(path)
    keys: list[SigningKey] = []
    with os.scandir(folder) as entries:
        files = sorted(e.name for e in entries if e.is_file(follow_symlinks=False))
    for name in files:
        keys.append(SigningKey.load(folder / name))
    return keys
