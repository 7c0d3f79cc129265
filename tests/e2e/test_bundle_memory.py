"""The verifier's memory moved by a statement bundle's own proofs (SPEC §6).

A bundle proves its checkpoint consistent with two earlier trees: the previous
statement's checkpoint (``previous``) and the covered range (``covered_consistency``).
Remembered at one of those sizes with the same root, the verifier moves its memory
forward; with another root it refuses the bundle as a fork and writes evidence anyone
can check with the policy; remembered at any other size, it says it did not compare
and leaves its memory as it was. The bundles are the golden statement vectors.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from conftest import Run

from ledger.core.keys import SigningKey
from ledger.core.note import add_signature_lines, cosign, format_checkpoint, sign_note

GOLDEN = Path(__file__).resolve().parents[1] / "vectors" / "golden"
STATEMENTS = GOLDEN / "statements"
POLICY = STATEMENTS / "policy"
FIRST = STATEMENTS / "ok-first.statement.json"  # 2025Q1, checkpoint size 47
SECOND = STATEMENTS / "ok-second.statement.json"  # 2025Q2, checkpoint 50, previous at 47


def _keys() -> dict[str, SigningKey]:
    keys = json.loads((GOLDEN / "keys.json").read_text(encoding="utf-8"))["keys"]
    return {k["handle"]: SigningKey.from_private_line(k["private"]) for k in keys}


def _checkpoint(size: int, root: bytes) -> str:
    """A checkpoint of the golden log signed by its real log key and both witnesses."""
    keys = _keys()
    note = sign_note(format_checkpoint(keys["log"].name, size, root), [keys["log"]])
    cosigned = [cosign(note, keys[h], 1_735_689_600) for h in ("witness", "witness-committee")]
    return add_signature_lines(note, cosigned)


def _statement_body(bundle: Path) -> dict[str, Any]:
    data = json.loads(bundle.read_text(encoding="utf-8"))
    body: dict[str, Any] = json.loads(base64.b64decode(data["entry"]))["body"]
    return body


def _verify(run: Run, bundle: Path) -> tuple[int, dict[str, Any]]:
    proc = run("glasspocket-verify", "--json", "statement", bundle, "--policy", POLICY)
    report: dict[str, Any] = json.loads(proc.stdout)
    return proc.returncode, report


def _memory(state_home: Path) -> str:
    [path] = sorted((state_home / "glasspocket" / "checkpoints").iterdir())
    return path.read_text(encoding="utf-8")


def _seed(run: Run, state_home: Path, note: str) -> None:
    """Leave ``note`` in memory, as if the verifier had accepted it before."""
    code, _report = _verify(run, FIRST)
    assert code == 0
    [path] = sorted((state_home / "glasspocket" / "checkpoints").iterdir())
    path.write_text(note, encoding="utf-8")


def _proof_note(bundle: Path) -> str:
    proof: str = json.loads(bundle.read_text(encoding="utf-8"))["proof"]
    return proof.split("\n\n", 1)[1]


def _evidence_checks(run: Run, report: dict[str, Any]) -> dict[str, Any]:
    [violation] = report["violations"]
    assert violation["code"] == "fork"
    evidence = Path(report["facts"]["evidence"])
    proc = run("glasspocket-verify", "--json", "evidence", evidence, "--policy", POLICY)
    assert proc.returncode == 0, proc.stdout
    assert json.loads(proc.stdout)["facts"]["fork_proven"] is True
    data: dict[str, Any] = json.loads(evidence.read_text(encoding="utf-8"))
    return data


def test_previous_moves_memory_forward(run: Run, state_home: Path) -> None:
    """Given the 2025Q1 bundle's checkpoint remembered, the 2025Q2 bundle's previous advances it."""
    code, first = _verify(run, FIRST)
    assert code == 0 and first["facts"]["memory"] == "first_seen"
    assert _memory(state_home) == _proof_note(FIRST)
    code, second = _verify(run, SECOND)
    assert code == 0, second
    assert second["facts"]["memory"] == "advanced"
    assert _memory(state_home) == _proof_note(SECOND)


def test_covered_consistency_moves_memory_forward(run: Run, state_home: Path) -> None:
    """Given a checkpoint at the covered size remembered, covered_consistency advances memory."""
    body = _statement_body(SECOND)
    _seed(run, state_home, _checkpoint(body["end"], base64.b64decode(body["covered_root"])))
    code, report = _verify(run, SECOND)
    assert code == 0, report
    assert report["facts"]["memory"] == "advanced"
    assert _memory(state_home) == _proof_note(SECOND)


def test_older_bundle_is_not_compared_and_memory_stays(run: Run, state_home: Path) -> None:
    """Given the newer checkpoint remembered, an older bundle verifies but is not compared."""
    assert _verify(run, SECOND)[0] == 0
    code, report = _verify(run, FIRST)
    assert code == 0, report
    assert report["facts"]["memory"] == "not_compared"
    assert [n["code"] for n in report["notices"]] == ["not_compared"]
    assert _memory(state_home) == _proof_note(SECOND)


def test_unrelated_size_is_not_compared(run: Run, state_home: Path) -> None:
    """Given memory at a size no proof in the bundle starts from, nothing is compared."""
    remembered = _checkpoint(48, hashlib.sha256(b"some tree of size 48").digest())
    _seed(run, state_home, remembered)
    code, report = _verify(run, SECOND)
    assert code == 0, report
    assert report["facts"]["memory"] == "not_compared"
    assert _memory(state_home) == remembered


def test_previous_from_another_history_is_a_fork(run: Run, state_home: Path) -> None:
    """Given memory holding a forked size-47 checkpoint, the honest 2025Q2 bundle is refused."""
    forked = _checkpoint(47, hashlib.sha256(b"another history").digest())
    _seed(run, state_home, forked)
    code, report = _verify(run, SECOND)
    assert code == 1
    evidence = _evidence_checks(run, report)
    assert evidence["older"] == forked
    assert evidence["newer"] == _proof_note(SECOND)
    assert _memory(state_home) == forked


def test_covered_tree_from_another_history_is_a_fork(run: Run, state_home: Path) -> None:
    """Given memory at the covered size with another root, the bundle is refused as a fork."""
    end = _statement_body(SECOND)["end"]
    forked = _checkpoint(end, hashlib.sha256(b"another history").digest())
    _seed(run, state_home, forked)
    code, report = _verify(run, SECOND)
    assert code == 1
    evidence = _evidence_checks(run, report)
    assert (evidence["older"], evidence["newer"]) == (forked, _proof_note(SECOND))


def test_same_size_other_root_is_a_fork(run: Run, state_home: Path) -> None:
    forked = _checkpoint(50, hashlib.sha256(b"another history").digest())
    _seed(run, state_home, forked)
    code, report = _verify(run, SECOND)
    assert code == 1
    assert _evidence_checks(run, report)["consistency"] == []
