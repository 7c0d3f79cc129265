"""``glasspocket receipt --unit``: one standard tlog-proof per entry that concerns a unit.

An entry concerns a unit when its body names it or when its money effect reaches the
unit's maintenance sub-account, fees or refund (interest, draws, transfers, refunds
apportioned to it). Each receipt is a plain C2SP tlog-proof, checked here with the
library and with ``glasspocket-verify receipt`` (the signer too: the key chain is beside).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Run, run_command
from forgery import DemoExport

from ledger.core.entry import parse_logged_entry
from ledger.core.policy import Policy
from ledger.core.tlogproof import parse_tlog_proof, verify_tlog_proof
from ledger.store.service import LedgerService

UNIT = "1-1-101"


@pytest.fixture(scope="module")
def unit_receipts(demo: DemoExport, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("unit-receipts")
    proc = run_command(
        "glasspocket", "receipt", "--unit", UNIT, "--community", "demo",
        "--out", out, "--db", demo.db_url, "--keys", demo.keys,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (out / "keychain").is_file()
    return sorted(out.glob("*.tlog-proof"))


def expected_indices(demo: DemoExport) -> set[int]:
    """From the write side's fold: body names the unit, or an effect reaches it."""
    service = LedgerService(demo.db_url)
    try:
        state = service.state("demo")
        entries = service.entries("demo", 0, state.size)
    finally:
        service.close()
    found = set()
    for index, data in enumerate(entries):
        body = parse_logged_entry(data).body
        effect = state.effects.get(index)
        reached = effect is not None and any(
            UNIT in d
            for d in (
                effect.subaccounts,
                effect.first_deposits,
                effect.property_paid,
                effect.refunds,
            )
        )
        if body.get("unit") == UNIT or UNIT in body.get("units", []) or reached:
            found.add(index)
    return found


def test_one_receipt_per_entry_of_the_unit(demo: DemoExport, unit_receipts: list[Path]) -> None:
    """Given the demo, then the receipts are exactly the entries that concern the unit, and
    they include entries apportioned to it whose body does not name it (e.g. interest)."""
    policy = Policy.parse(demo.policy.read_bytes())
    indices, unnamed = set(), set()
    for path in unit_receipts:
        proof = parse_tlog_proof(path.read_text())
        verify_tlog_proof(proof, None, policy)  # the leaf is SHA-256(0x00 || extra)
        assert proof.extra is not None
        entry = proof.extra
        assert path.name == f"{parse_logged_entry(entry).id}.tlog-proof"
        indices.add(proof.index)
        body = parse_logged_entry(entry).body
        if body.get("unit") != UNIT:
            unnamed.add(parse_logged_entry(entry).type)
    assert indices == expected_indices(demo)
    assert "interest.credited" in unnamed


def test_each_unit_receipt_verifies_with_its_signer(
    run: Run, demo: DemoExport, unit_receipts: list[Path]
) -> None:
    for path in unit_receipts[:3]:
        proc = run("glasspocket-verify", "receipt", path, "--policy", demo.policy)
        assert proc.returncode == 0, proc.stdout
        assert "signer checked: yes" in proc.stdout


def test_entry_and_unit_are_exclusive(run: Run, demo: DemoExport, tmp_path: Path) -> None:
    proc = run(
        "glasspocket", "receipt", "--community", "demo", "--out", tmp_path,
        "--db", demo.db_url, "--keys", demo.keys,
    )  # fmt: skip
    assert proc.returncode == 1 and "--entry" in proc.stderr
    proc = run(
        "glasspocket", "receipt", "--community", "demo", "--unit", "9-9-999", "--out", tmp_path,
        "--db", demo.db_url, "--keys", demo.keys,
    )  # fmt: skip
    assert proc.returncode == 1 and "9-9-999" in proc.stderr
