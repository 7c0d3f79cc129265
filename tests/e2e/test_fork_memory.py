"""The verifier's memory (SPEC §6): it remembers the last checkpoint it accepted per origin,
moves forward only with a consistency proof, and writes fork evidence when the log key
signs two histories that cannot both be true.
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
from ledger.core.errors import ProofError
from ledger.core.keys import SigningKey
from ledger.core.merkle import verify_consistency
from ledger.core.note import parse_checkpoint, parse_note
from ledger.core.policy import Policy


@pytest.fixture(scope="module")
def honest_entries(demo: DemoExport) -> list[bytes]:
    return forgery.read_entries(demo.export)


@pytest.fixture(scope="module")
def reordered(honest_entries: list[bytes]) -> list[bytes]:
    """The last two entries (two members' approvals of the last statement) swapped: every
    rule still holds, and every statement's covered root too (they come after the last
    statement), but the log's root differs. The operator needs only the log key for this.
    """
    last = len(honest_entries) - 1
    types = {forgery.entry_obj(honest_entries[i])["type"] for i in (last - 1, last)}
    assert types == {"approval.signed"}
    return forgery.swap(honest_entries, last - 1, last)


def _treasurer_entry(demo: DemoExport) -> bytes:
    """A genuine new property payment by the demo's treasurer (the key the demo wrote)."""
    treasurer = SigningKey.load(demo.keys / "treasurer.key")
    entry = sign_entry(
        treasurer,
        community="demo",
        type="contribution.received",
        at="2025-04-08T14:00:00+08:00",
        body={"fund": "property", "unit": "1-1-102", "amount_fen": 25000, "month": "2025-04"},
    )
    return entry.entry_bytes()


def verify(run: Run, export: Path, policy: Path) -> subprocess.CompletedProcess[str]:
    return run("glasspocket-verify", "log", export, "--policy", policy)


def _remembered(state_home: Path) -> list[Path]:
    return sorted((state_home / "glasspocket" / "checkpoints").iterdir())


def _evidence(state_home: Path) -> list[Path]:
    folder = state_home / "glasspocket" / "evidence"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def _root(note: str) -> bytes:
    return parse_checkpoint(parse_note(note).text).root


def test_first_verification_is_remembered(run: Run, demo: DemoExport, state_home: Path) -> None:
    proc = verify(run, demo.export, demo.policy)
    assert proc.returncode == 0, proc.stdout
    [memory] = _remembered(state_home)
    assert memory.read_text() == (demo.export / "checkpoint").read_text()


def test_reordered_log_is_sound_on_its_own(
    run: Run, demo: DemoExport, reordered: list[bytes], tmp_path: Path
) -> None:
    """The forgery used below breaks no rule: only memory can catch it."""
    forged = forgery.write_export(
        reordered, tmp_path / "fork", demo.log_key, demo.export, demo.witnesses
    )
    assert verify(run, forged, demo.policy).returncode == 0


def test_fork_at_same_size_writes_evidence(
    run: Run, demo: DemoExport, reordered: list[bytes], tmp_path: Path, state_home: Path
) -> None:
    """Given a resident who verified the honest log, when the operator shows them a log of the
    same size and another root, then the verifier refuses it and writes both checkpoints."""
    assert verify(run, demo.export, demo.policy).returncode == 0
    forged = forgery.write_export(
        reordered, tmp_path / "fork", demo.log_key, demo.export, demo.witnesses
    )

    proc = verify(run, forged, demo.policy)

    assert proc.returncode == 1, proc.stdout
    assert any(
        line.startswith("VIOLATION: memory: FORK") for line in forgery.violation_lines(proc)
    ), proc.stdout
    [evidence] = _evidence(state_home)
    assert str(evidence) in proc.stdout
    body = json.loads(evidence.read_text())
    assert body["format"] == "glasspocket/fork-evidence@v1"
    assert body["origin"] == demo.origin
    assert body["older"] == (demo.export / "checkpoint").read_text()
    assert body["newer"] == (forged / "checkpoint").read_text()
    policy = Policy.parse(demo.policy.read_bytes())
    older, newer = policy.check(body["older"]), policy.check(body["newer"])
    assert older.size == newer.size and older.root != newer.root
    [memory] = _remembered(state_home)
    assert memory.read_text() == body["older"], "memory must not follow the fork"


def test_fork_at_larger_size_writes_evidence_with_proof(
    run: Run, demo: DemoExport, reordered: list[bytes], tmp_path: Path, state_home: Path
) -> None:
    """Given the honest log remembered, when a larger log forked from it is shown, then the
    evidence holds both checkpoints and the consistency proof that betrays the fork."""
    assert verify(run, demo.export, demo.policy).returncode == 0
    grown = [*reordered, _treasurer_entry(demo)]
    forged = forgery.write_export(
        grown, tmp_path / "fork", demo.log_key, demo.export, demo.witnesses
    )

    proc = verify(run, forged, demo.policy)

    assert proc.returncode == 1, proc.stdout
    assert any("FORK" in line for line in forgery.violation_lines(proc)), proc.stdout
    [evidence] = _evidence(state_home)
    body = json.loads(evidence.read_text())
    honest_note = (demo.export / "checkpoint").read_text()
    assert body["older"] == honest_note
    assert body["newer"] == (forged / "checkpoint").read_text()
    policy = Policy.parse(demo.policy.read_bytes())
    older, newer = policy.check(body["older"]), policy.check(body["newer"])
    assert (older.size, newer.size) == (len(reordered), len(grown))
    proof = [base64.b64decode(h) for h in body["consistency"]]
    assert proof
    with pytest.raises(ProofError):
        verify_consistency(older.size, newer.size, proof, older.root, newer.root)


def test_honest_growth_moves_memory_forward(
    run: Run, demo: DemoExport, honest_entries: list[bytes], tmp_path: Path, state_home: Path
) -> None:
    assert verify(run, demo.export, demo.policy).returncode == 0
    grown = [*honest_entries, _treasurer_entry(demo)]
    newer = forgery.write_export(
        grown, tmp_path / "newer", demo.log_key, demo.export, demo.witnesses
    )

    proc = verify(run, newer, demo.policy)

    assert proc.returncode == 0, proc.stdout
    assert "moved forward" in proc.stdout
    [memory] = _remembered(state_home)
    assert memory.read_text() == (newer / "checkpoint").read_text()
    assert not _evidence(state_home)


def test_older_log_is_not_compared_and_memory_unchanged(
    run: Run, demo: DemoExport, honest_entries: list[bytes], tmp_path: Path, state_home: Path
) -> None:
    """A smaller checkpoint than the remembered one: no proof at hand, said plainly, exit 0."""
    grown = [*honest_entries, _treasurer_entry(demo)]
    newer = forgery.write_export(
        grown, tmp_path / "newer", demo.log_key, demo.export, demo.witnesses
    )
    assert verify(run, newer, demo.policy).returncode == 0

    proc = verify(run, demo.export, demo.policy)

    assert proc.returncode == 0, proc.stdout
    assert any(line.startswith("notice: not compared") for line in proc.stdout.splitlines())
    [memory] = _remembered(state_home)
    assert memory.read_text() == (newer / "checkpoint").read_text()


def test_memory_is_per_test(state_home: Path) -> None:
    """The fixture gives each test an empty state dir (no leak from the tests above)."""
    assert not (state_home / "glasspocket").exists()
