"""``glasspocket-verify evidence``: anyone checks a fork-evidence file with the policy alone.

The evidence comes from a real fork: a resident verified the honest demo export, then
the operator (with the real log key, and witnesses that cosign anything) showed them
another history; the verifier refused it and wrote the file. Exit status: 0 when the
file proves a fork, 1 when it does not, 2 when it cannot be read.
"""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import forgery
import pytest
from conftest import Run
from forgery import DemoExport

from ledger.core.entry import sign_entry
from ledger.core.keys import SigningKey
from ledger.core.merkle import MemoryTree, consistency_proof, leaf_hash


@pytest.fixture(scope="module")
def honest(demo: DemoExport) -> list[bytes]:
    return forgery.read_entries(demo.export)


def forked_evidence(
    run: Run, demo: DemoExport, entries: list[bytes], tmp_path: Path, state_home: Path
) -> Path:
    """Verify the honest export, then the forged one: the verifier writes the evidence."""
    assert run("glasspocket-verify", "log", demo.export, "--policy", demo.policy).returncode == 0
    forged = forgery.write_export(
        entries, tmp_path / "forged", demo.log_key, demo.export, demo.witnesses
    )
    proc = run("glasspocket-verify", "log", forged, "--policy", demo.policy)
    assert proc.returncode == 1 and "FORK" in proc.stdout, proc.stdout
    [evidence] = sorted((state_home / "glasspocket" / "evidence").iterdir())
    return evidence


def check(
    run: Run, evidence: Path, demo: DemoExport, lang: str = "en"
) -> subprocess.CompletedProcess[str]:
    return run("glasspocket-verify", "evidence", evidence, "--policy", demo.policy, lang=lang)


def test_same_size_fork_is_proven(
    run: Run, demo: DemoExport, honest: list[bytes], tmp_path: Path, state_home: Path
) -> None:
    """Given evidence of two checkpoints of one size with other roots, then it proves a fork."""
    evidence = forked_evidence(
        run, demo, forgery.swap(honest, len(honest) - 2, len(honest) - 1), tmp_path, state_home
    )
    proc = check(run, evidence, demo)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "FORK PROVEN" in proc.stdout
    assert "分叉已证实" in check(run, evidence, demo, lang="zh_CN.UTF-8").stdout


def test_larger_fork_is_proven_by_its_consistency_proof(
    run: Run, demo: DemoExport, honest: list[bytes], tmp_path: Path, state_home: Path
) -> None:
    """Given evidence of a larger log of another history, with that log's consistency proof,
    then the proof leads to its root and to another root at the older size: fork proven."""
    treasurer = SigningKey.load(demo.keys / "treasurer.key")
    donation = sign_entry(
        treasurer,
        community="demo",
        type="donation.received",
        at="2025-12-31T12:00:00+08:00",
        body={"kind": "donation", "amount_fen": 100},
    )
    grown = [*forgery.swap(honest, len(honest) - 2, len(honest) - 1), donation.entry_bytes()]
    evidence = forked_evidence(run, demo, grown, tmp_path, state_home)
    assert json.loads(evidence.read_text())["consistency"]
    proc = check(run, evidence, demo)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_tampered_evidence_proves_nothing(
    run: Run, demo: DemoExport, honest: list[bytes], tmp_path: Path, state_home: Path
) -> None:
    """Given the evidence with its newer checkpoint's root changed, then the log signature
    no longer verifies and the file proves nothing (exit 1)."""
    evidence = forked_evidence(
        run, demo, forgery.swap(honest, len(honest) - 2, len(honest) - 1), tmp_path, state_home
    )
    body = json.loads(evidence.read_text())
    lines = body["newer"].split("\n")
    lines[2] = ("B" if lines[2][0] != "B" else "C") + lines[2][1:]
    body["newer"] = "\n".join(lines)
    evidence.write_text(json.dumps(body))
    proc = check(run, evidence, demo)
    assert proc.returncode == 1, proc.stdout
    assert "does not prove a fork" in proc.stdout


def test_an_honest_pair_is_not_a_fork(
    run: Run, demo: DemoExport, honest: list[bytes], tmp_path: Path
) -> None:
    """Given an older honest checkpoint and a larger honest one with its real proof, then
    the proof agrees with the older root: not a fork (exit 1)."""
    older = forgery.write_export(honest[:100], tmp_path / "older", demo.log_key)
    newer = forgery.write_export(honest, tmp_path / "newer", demo.log_key)
    tree = MemoryTree([leaf_hash(e) for e in honest])
    body = {
        "format": "glasspocket/fork-evidence@v1",
        "origin": demo.origin,
        "older": (older / "checkpoint").read_text(),
        "newer": (newer / "checkpoint").read_text(),
        "consistency": [
            base64.b64encode(h).decode() for h in consistency_proof(100, len(honest), tree)
        ],
    }
    evidence = tmp_path / "honest.json"
    evidence.write_text(json.dumps(body))
    proc = check(run, evidence, demo)
    assert proc.returncode == 1, proc.stdout
    assert "prefix" in proc.stdout


def test_unreadable_evidence_exits_2(run: Run, demo: DemoExport, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.json"
    garbage.write_text("not evidence")
    assert check(run, garbage, demo).returncode == 2
    assert check(run, tmp_path / "missing.json", demo).returncode == 2
