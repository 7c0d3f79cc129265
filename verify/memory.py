"""The verifier's memory: the last checkpoint it accepted per origin, and fork evidence (SPEC §6).

Memory moves forward only with a consistency proof. A checkpoint of the same
size with another root, or one the newer log proves inconsistent with the
remembered one, is refused, and an evidence file is written beside the memory:
both signed checkpoints and, where the sizes differ, the consistency proof from
the newer log under which the older tree has another root. Anyone can check it
with the policy alone (``glasspocket-verify evidence``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ledger.core.errors import LedgerError, ProofError
from ledger.core.merkle import verify_consistency
from ledger.core.note import parse_checkpoint, parse_note
from ledger.core.policy import VerifiedCheckpoint

EVIDENCE_FORMAT = "glasspocket/fork-evidence@v1"
ProofProvider = Callable[[int, int], Sequence[bytes] | None]


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "glasspocket"


class ForkError(LedgerError):
    """Two checkpoints of one origin that cannot both be true: the log forked."""

    code = "fork"
    status = 409

    def __init__(self, en: str, zh: str, evidence_path: Path) -> None:
        super().__init__(en, zh)
        self.evidence_path = evidence_path


@dataclass(frozen=True)
class Observation:
    """What comparing a checkpoint with memory concluded (not a violation)."""

    outcome: str  # first_seen | same | advanced | not_compared
    en: str
    zh: str


class CheckpointMemory:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or state_dir()

    def _path(self, origin: str) -> Path:
        digest = hashlib.sha256(origin.encode()).hexdigest()[:16]
        safe = "".join(c if c.isalnum() or c in "-._" else "_" for c in origin)[:80]
        return self.root / "checkpoints" / f"{safe}-{digest}"

    def remembered(self, origin: str) -> str | None:
        path = self._path(origin)
        return path.read_text(encoding="utf-8") if path.exists() else None

    def _remember(self, verified: VerifiedCheckpoint) -> None:
        path = self._path(verified.origin)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(verified.note_text, encoding="utf-8")
        tmp.replace(path)

    def observe(
        self,
        verified: VerifiedCheckpoint,
        proof_from: ProofProvider | None = None,
        subtree_root: Callable[[int], bytes] | None = None,
    ) -> Observation:
        """Compare ``verified`` with memory; move forward if proven consistent, else raise ForkError.

        ``proof_from(old_size, new_size)`` gives a consistency proof from the newer log, or
        None when it has none for that size (a bundle carries proofs from a few sizes only);
        ``subtree_root(old_size)`` the newer log's root at that size. An RFC 6962 proof
        from a power-of-two size leaves that root out, so the evidence then starts with it.
        """
        old_note = self.remembered(verified.origin)
        if old_note is None:
            self._remember(verified)
            return Observation(
                "first_seen",
                "first checkpoint seen for this log; remembered",
                "首次见到此日志的检查点，已记住",
            )
        old = parse_checkpoint(parse_note(old_note).text)
        new = verified.checkpoint
        if old.size == new.size:
            if old.root != new.root:
                raise self._fork(old_note, verified.note_text, [], old.size)
            return Observation("same", "same checkpoint as remembered", "与记住的检查点一致")
        given = proof_from(old.size, new.size) if proof_from and old.size < new.size else None
        if given is None:
            return Observation(
                "not_compared",
                f"not compared with the remembered checkpoint (size {old.size}): no consistency proof "
                "at hand; memory unchanged",
                f"未与记住的检查点（大小 {old.size}）比对：手头没有一致性证明；记忆未变",
            )
        proof = list(given)
        try:
            verify_consistency(old.size, new.size, proof, old.root, new.root)
        except ProofError:
            if old.size & (old.size - 1) == 0 and subtree_root is not None:
                proof = [subtree_root(old.size), *proof]
            raise self._fork(old_note, verified.note_text, proof, old.size) from None
        self._remember(verified)
        return Observation(
            "advanced",
            f"consistent with the remembered checkpoint (size {old.size}); memory moved forward",
            f"与记住的检查点（大小 {old.size}）一致，记忆已更新",
        )

    def _fork(self, older: str, newer: str, proof: Sequence[bytes], size: int) -> ForkError:
        path = self.write_evidence(older, newer, proof)
        return ForkError(
            f"FORK: this log's checkpoint contradicts the one remembered at size {size}; "
            f"evidence written to {path}",
            f"分叉：此日志的检查点与此前记住的（大小 {size}）相矛盾；证据已写入 {path}",
            path,
        )

    def write_evidence(self, older: str, newer: str, proof: Sequence[bytes]) -> Path:
        origin = parse_checkpoint(parse_note(newer).text).origin
        body = {
            "format": EVIDENCE_FORMAT,
            "origin": origin,
            "older": older,
            "newer": newer,
            "consistency": [base64.b64encode(h).decode("ascii") for h in proof],
        }
        folder = self.root / "evidence"
        folder.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256((older + newer).encode()).hexdigest()[:12]
        path = folder / f"fork-{time.strftime('%Y%m%dT%H%M%S')}-{digest}.json"
        path.write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return path
