"""Typed errors of the ledger, each with a stable code and a message in zh-CN and en.

A ``LedgerError`` is data as much as an exception: the API maps ``status`` to an
HTTP status, the command line prints ``message(lang)``, the verifier collects
them as findings. Codes are part of the public contract and never change
meaning; new ones may be added.
"""

from __future__ import annotations

from typing import ClassVar


class LedgerError(Exception):
    """Base of every refusal. ``code`` is stable; ``status`` is the HTTP status it maps to."""

    code: ClassVar[str] = "ledger_error"
    status: ClassVar[int] = 422

    def __init__(self, en: str, zh: str | None = None, *, entry_id: str | None = None) -> None:
        super().__init__(en)
        self.en = en
        self.zh = zh if zh is not None else en
        self.entry_id = entry_id

    def message(self, lang: str = "zh") -> str:
        """The message in ``lang`` ("zh..." for Chinese, anything else for English)."""
        return self.zh if lang.lower().startswith("zh") else self.en

    def as_dict(self) -> dict[str, str]:
        out = {"code": self.code, "message_zh": self.zh, "message_en": self.en}
        if self.entry_id is not None:
            out["entry_id"] = self.entry_id
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}: {self.en})"


# --- format and size: 400 / 413 -------------------------------------------------------


class MalformedError(LedgerError):
    """Bytes or JSON that are not what the format says (not JSON, wrong field, bad base64...)."""

    code = "malformed"
    status = 400


class UnknownFieldError(MalformedError):
    code = "unknown_field"


class NonCanonicalError(MalformedError):
    """Logged entry bytes that are not exactly the JCS form of the entry."""

    code = "non_canonical"


class TooLargeError(LedgerError):
    code = "too_large"
    status = 413


# --- keys and signatures: 401 / 403 ---------------------------------------------------


class KeyFormatError(LedgerError):
    code = "key_format"
    status = 400


class KeyFilePermissionError(LedgerError):
    """A private key file that group or others can read: refused, never used."""

    code = "key_file_permissions"
    status = 400


class KeyFileExistsError(LedgerError):
    """Saving a private key over an existing file: refused, the old file is left alone."""

    code = "key_file_exists"
    status = 409


class InvalidSignatureError(LedgerError):
    code = "bad_signature"
    status = 401


class UnknownSignerError(LedgerError):
    """The signer is not registered, is revoked, or not yet in effect at this point in the log."""

    code = "unknown_signer"
    status = 401


class RoleNotAllowedError(LedgerError):
    code = "role_not_allowed"
    status = 403


# --- identity and conflicts: 409 -------------------------------------------------------


class DuplicateIdError(LedgerError):
    """An id already used in this community with other content."""

    code = "duplicate_id"
    status = 409


class WrongCommunityError(LedgerError):
    code = "wrong_community"
    status = 422


# --- rules: 422 ------------------------------------------------------------------------


class RuleViolation(LedgerError):
    """An entry that breaks a rule of the fold (DOMAIN.md)."""

    code = "rule_violation"
    status = 422


class FutureTimestampError(RuleViolation):
    code = "future_at"


class GenesisError(RuleViolation):
    """Index 0 is not ``community.founded``, or ``community.founded`` appears later."""

    code = "genesis"


class UnknownUnitError(RuleViolation):
    code = "unknown_unit"


class DuplicateUnitError(RuleViolation):
    code = "duplicate_unit"


class KeyConflictError(RuleViolation):
    """A key name or key registered twice, or a revocation of a key that is not live."""

    code = "key_conflict"


class InsufficientFundsError(RuleViolation):
    code = "insufficient_funds"


# --- the log and its proofs ------------------------------------------------------------


class ProofError(LedgerError):
    """An inclusion or consistency proof, or a tile, that does not authenticate."""

    code = "bad_proof"
    status = 400


class CheckpointError(LedgerError):
    """A checkpoint that does not parse, or whose signatures do not verify."""

    code = "bad_checkpoint"
    status = 400


class PolicyError(LedgerError):
    """A checkpoint that does not meet the trust policy (log signature or witness quorum)."""

    code = "policy"
    status = 400


class PolicyFormatError(PolicyError):
    """A trust policy file (C2SP tlog-policy) that does not parse; the message names the line."""

    code = "policy_format"


class NotFoundError(LedgerError):
    code = "not_found"
    status = 404


# --- the database and restores ---------------------------------------------------------


class StorageError(LedgerError):
    """The database cannot be reached or stopped answering (connection lost, server down).

    Nothing of the request that met it is stored; an identical resubmission is safe.
    """

    code = "storage_unavailable"
    status = 503


class StorageFullError(StorageError):
    """The database ran out of space (full disk, quota, page limit); nothing was stored."""

    code = "storage_full"
    status = 507


class DemoOtherHostError(LedgerError):
    """``glasspocket demo`` on a database holding the demo built for another host or port."""

    code = "demo_other_host"
    status = 409


class TargetNotEmptyError(LedgerError):
    """A restore into a database that already holds the community (or its log's origin)."""

    code = "target_not_empty"
    status = 409


class RestoreRefusedError(LedgerError):
    """A published export that does not verify: a restore writes nothing from it."""

    code = "restore_unverified"
    status = 422


class StoreDamagedError(LedgerError):
    """Stored rows that cannot be what the application wrote (edited behind its back)."""

    code = "store_damaged"
    status = 500
