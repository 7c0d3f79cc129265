"""C2SP tlog-policy: the trust policy a resident pins, and checking a checkpoint against it.

It owns the policy text format (``log <vkey> [<url>]``, ``witness <name> <vkey>
[<url>]``, ``group <name> <k|all|any> <member>...``, ``quorum <name|none>``,
``#`` comments) and the verdict ``Policy.check`` gives a cosigned checkpoint:

1. the note parses and its text is a checkpoint;
2. a log key of the policy whose name is the checkpoint's origin signed it;
3. every cosignature by a policy witness verifies (one that fails rejects the
   whole note, as signed-note says clients should);
4. the witnesses whose cosignatures verified meet the quorum.

Log keys must be type 0x01 vkeys, witness keys type 0x04 (tlog-cosignature/v1).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ledger.core.errors import (
    CheckpointError,
    InvalidSignatureError,
    KeyFormatError,
    PolicyError,
    PolicyFormatError,
)
from ledger.core.keys import KEY_TYPE_COSIGNATURE, KEY_TYPE_ED25519, VerifierKey
from ledger.core.note import (
    Checkpoint,
    SignedNote,
    cosignature_timestamp,
    find_signature,
    parse_checkpoint,
    parse_note,
    verify_note_signature,
)

NONE = "none"
_WHITESPACE = re.compile(r"[ \t]+")
_DECIMAL = re.compile(r"[1-9][0-9]*")


@dataclass(frozen=True)
class PolicyLog:
    vkey: VerifierKey
    url: str | None = None


@dataclass(frozen=True)
class PolicyWitness:
    name: str
    vkey: VerifierKey
    url: str | None = None


@dataclass(frozen=True)
class PolicyGroup:
    """A group: witnessed when at least ``threshold`` of its members are."""

    name: str
    threshold_spec: str
    members: tuple[str, ...]

    @property
    def threshold(self) -> int:
        if self.threshold_spec == "all":
            return len(self.members)
        return 1 if self.threshold_spec == "any" else int(self.threshold_spec)


@dataclass(frozen=True)
class VerifiedCheckpoint:
    """A checkpoint that met the policy: who signed it and which witnesses cosigned when."""

    checkpoint: Checkpoint
    note: SignedNote
    log_key: VerifierKey
    witnesses: tuple[str, ...]
    cosigned_at: Mapping[str, int] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return self.checkpoint.origin

    @property
    def size(self) -> int:
        return self.checkpoint.size

    @property
    def root(self) -> bytes:
        return self.checkpoint.root

    @functools.cached_property
    def note_text(self) -> str:
        """The whole signed note, as checked (encoded once: every receipt quotes it)."""
        return self.note.encode()


class _Parser:
    """Line-by-line tlog-policy parser; every error names its line."""

    def __init__(self) -> None:
        self.logs: list[PolicyLog] = []
        self.witnesses: dict[str, PolicyWitness] = {}
        self.groups: dict[str, PolicyGroup] = {}
        self.quorum: str | None = None
        self.line_number = 0

    def error(self, en: str, zh: str) -> PolicyFormatError:
        n = self.line_number
        return PolicyFormatError(f"policy line {n}: {en}", f"信任策略第 {n} 行：{zh}")

    def vkey(self, text: str, key_type: int, role: str, zh_role: str) -> VerifierKey:
        try:
            key = VerifierKey.parse(text)
        except KeyFormatError as exc:
            raise self.error(f"bad {role} key: {exc.en}", f"{zh_role}密钥无效：{exc.zh}") from None
        if key.key_type != key_type:
            raise self.error(
                f"{role} key {key.name} has type 0x{key.key_type:02x}, want 0x{key_type:02x}",
                f"{zh_role}密钥 {key.name} 的类型为 0x{key.key_type:02x}，应为 0x{key_type:02x}",
            )
        return key

    def new_name(self, name: str) -> None:
        if name == NONE or name in self.witnesses or name in self.groups:
            raise self.error(
                f"name {name!r} is reserved or already defined", f"名称 {name!r} 已保留或已定义"
            )

    def line(self, items: list[str]) -> None:
        keyword, args = items[0], items[1:]
        handler = {
            "log": self.log,
            "witness": self.witness,
            "group": self.group,
            "quorum": self.set_quorum,
        }.get(keyword)
        if handler is None:
            raise self.error(f"unknown keyword {keyword!r}", f"未知关键字 {keyword!r}")
        handler(args)

    def log(self, args: list[str]) -> None:
        if len(args) not in (1, 2):
            raise self.error("want: log <vkey> [<url>]", "格式应为：log <验证密钥> [<网址>]")
        key = self.vkey(args[0], KEY_TYPE_ED25519, "log", "日志")
        if any(existing.vkey.public_key == key.public_key for existing in self.logs):
            raise self.error(f"duplicate log key {key.name}", f"重复的日志密钥 {key.name}")
        self.logs.append(PolicyLog(key, args[1] if len(args) == 2 else None))

    def witness(self, args: list[str]) -> None:
        if len(args) not in (2, 3):
            raise self.error(
                "want: witness <name> <vkey> [<url>]",
                "格式应为：witness <名称> <验证密钥> [<网址>]",
            )
        self.new_name(args[0])
        key = self.vkey(args[1], KEY_TYPE_COSIGNATURE, "witness", "见证人")
        if any(w.vkey.public_key == key.public_key for w in self.witnesses.values()):
            raise self.error(f"duplicate witness key {key.name}", f"重复的见证人密钥 {key.name}")
        self.witnesses[args[0]] = PolicyWitness(args[0], key, args[2] if len(args) == 3 else None)

    def group(self, args: list[str]) -> None:
        if len(args) < 3:
            raise self.error(
                "want: group <name> <k|all|any> <member>...",
                "格式应为：group <名称> <k|all|any> <成员>...",
            )
        name, spec, members = args[0], args[1], tuple(args[2:])
        self.new_name(name)
        for member in members:
            if member not in self.witnesses and member not in self.groups:
                raise self.error(
                    f"group member {member!r} is not defined above",
                    f"组成员 {member!r} 未在前面定义",
                )
        if len(set(members)) != len(members):
            raise self.error(f"group {name} lists a member twice", f"组 {name} 重复列出成员")
        if spec not in ("all", "any") and not (
            _DECIMAL.fullmatch(spec) and int(spec) <= len(members)
        ):
            raise self.error(
                f"threshold {spec!r} must be all, any or 1..{len(members)}",
                f"门限 {spec!r} 必须是 all、any 或 1..{len(members)}",
            )
        self.groups[name] = PolicyGroup(name, spec, members)

    def set_quorum(self, args: list[str]) -> None:
        if len(args) != 1:
            raise self.error("want: quorum <name|none>", "格式应为：quorum <名称|none>")
        if self.quorum is not None:
            raise self.error("a policy has exactly one quorum line", "信任策略只能有一行 quorum")
        if args[0] != NONE and args[0] not in self.witnesses and args[0] not in self.groups:
            raise self.error(
                f"quorum {args[0]!r} is not defined above", f"quorum {args[0]!r} 未在前面定义"
            )
        self.quorum = args[0]


def _policy_lines(text: str) -> list[tuple[int, str]]:
    if any((ord(c) < 0x20 and c not in "\t\n") or c == "\x7f" for c in text):
        raise PolicyFormatError("policy holds a control character", "信任策略含有控制字符")
    return list(enumerate(text.split("\n"), start=1))


@dataclass(frozen=True)
class Policy:
    """A parsed trust policy. ``str(policy)`` is its canonical text."""

    logs: tuple[PolicyLog, ...]
    witnesses: Mapping[str, PolicyWitness]
    groups: Mapping[str, PolicyGroup]
    quorum: str

    @classmethod
    def parse(cls, text: str | bytes) -> Policy:
        """Parse a tlog-policy file strictly; PolicyFormatError names the offending line."""
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError:
                raise PolicyFormatError("policy is not UTF-8", "信任策略不是 UTF-8 编码") from None
        parser = _Parser()
        for number, raw in _policy_lines(text):
            parser.line_number = number
            stripped = raw.strip(" \t")
            if stripped and not stripped.startswith("#"):
                parser.line(_WHITESPACE.split(stripped))
        if parser.quorum is None:
            raise PolicyFormatError("policy has no quorum line", "信任策略缺少 quorum 行")
        return cls(tuple(parser.logs), dict(parser.witnesses), dict(parser.groups), parser.quorum)

    def __str__(self) -> str:
        return format_policy(self)

    def check(self, checkpoint_note_text: str | bytes) -> VerifiedCheckpoint:
        """Verify a cosigned checkpoint against this policy (steps 1-4 of the module docstring)."""
        note = parse_note(checkpoint_note_text)
        checkpoint = parse_checkpoint(note.text)
        log_key = self._check_log_signature(note, checkpoint)
        cosigned_at = self._check_cosignatures(note)
        if not self._witnessed(self.quorum, set(cosigned_at)):
            raise PolicyError(
                f"checkpoint {checkpoint.origin} @ {checkpoint.size} does not meet the quorum: "
                f"{self._describe(self.quorum)}; valid cosignatures from: {_names(cosigned_at)}",
                f"检查点 {checkpoint.origin} @ {checkpoint.size} 未达到见证法定人数："
                f"{self._describe(self.quorum)}；有效见证签名来自：{_names(cosigned_at, '无')}",
            )
        witnesses = tuple(name for name in self.witnesses if name in cosigned_at)
        return VerifiedCheckpoint(checkpoint, note, log_key, witnesses, cosigned_at)

    def _check_log_signature(self, note: SignedNote, checkpoint: Checkpoint) -> VerifierKey:
        candidates = [log.vkey for log in self.logs if log.vkey.name == checkpoint.origin]
        if not candidates:
            raise PolicyError(
                f"no log in the policy has origin {checkpoint.origin!r}",
                f"信任策略中没有来源为 {checkpoint.origin!r} 的日志",
            )
        for key in candidates:
            if find_signature(note, key) is not None:
                try:
                    verify_note_signature(note, key)
                except InvalidSignatureError as exc:
                    raise CheckpointError(
                        f"log signature: {exc.en}", f"日志签名：{exc.zh}"
                    ) from None
                return key
        wanted = f"{candidates[0].name}+{candidates[0].key_id_hex}"
        raise CheckpointError(
            f"checkpoint carries no signature by the log key {wanted}",
            f"检查点没有日志密钥 {wanted} 的签名",
        )

    def _check_cosignatures(self, note: SignedNote) -> dict[str, int]:
        cosigned_at: dict[str, int] = {}
        for name, witness in self.witnesses.items():
            signature = find_signature(note, witness.vkey)
            if signature is None:
                continue
            try:
                verify_note_signature(note, witness.vkey)
            except InvalidSignatureError as exc:
                raise CheckpointError(
                    f"cosignature of witness {name} does not verify: {exc.en}",
                    f"见证人 {name} 的见证签名验证失败：{exc.zh}",
                ) from None
            cosigned_at[name] = cosignature_timestamp(signature)
        return cosigned_at

    def _witnessed(self, name: str, cosigned: set[str]) -> bool:
        if name == NONE:
            return True
        if name in self.witnesses:
            return name in cosigned
        group = self.groups[name]
        return sum(self._witnessed(m, cosigned) for m in group.members) >= group.threshold

    def _describe(self, name: str) -> str:
        if name == NONE:
            return NONE
        if name in self.witnesses:
            return f"witness {name}"
        group = self.groups[name]
        inner = ", ".join(self._describe(m) for m in group.members)
        return f"{group.name} needs {group.threshold} of ({inner})"


def _names(cosigned: Mapping[str, int], empty: str = "none") -> str:
    return ", ".join(sorted(cosigned)) or empty


def format_policy(policy: Policy) -> str:
    """Canonical policy text: logs, witnesses, groups in order, then the quorum."""
    lines = [f"log {log.vkey}" + (f" {log.url}" if log.url else "") for log in policy.logs]
    lines += [
        f"witness {w.name} {w.vkey}" + (f" {w.url}" if w.url else "")
        for w in policy.witnesses.values()
    ]
    lines += [
        f"group {g.name} {g.threshold_spec} {' '.join(g.members)}" for g in policy.groups.values()
    ]
    lines.append(f"quorum {policy.quorum}")
    return "\n".join(lines) + "\n"


def build_policy(
    log_vkey: VerifierKey | str,
    witnesses: Sequence[tuple[str, VerifierKey | str]] = (),
    quorum: str | int = "all",
) -> Policy:
    """A policy for one log and its witnesses; ``quorum`` is none, all, any, a count k or a witness.

    With one or more witnesses and a quorum other than none, the witnesses form
    the group ``witnesses`` and the quorum is that group.
    """
    lines = [f"log {log_vkey}"]
    lines += [f"witness {name} {vkey}" for name, vkey in witnesses]
    if str(quorum) in (name for name, _ in witnesses):
        lines.append(f"quorum {quorum}")
    elif witnesses and str(quorum) != NONE:
        lines.append(f"group witnesses {quorum} {' '.join(name for name, _ in witnesses)}")
        lines.append("quorum witnesses")
    elif str(quorum) in (NONE, "all") and not witnesses:
        lines.append("quorum none")
    else:
        lines.append(f"quorum {quorum}")
    return Policy.parse("\n".join(lines) + "\n")
