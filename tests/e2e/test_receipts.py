"""Receipts (SPEC §5): ``glasspocket receipt`` writes one, ``glasspocket-verify receipt`` checks it.

A receipt is a C2SP tlog-proof whose extra line is the entry; beside it the key chain
lets the verifier check the signer too. Without the key chain the verifier must say
plainly that it checked inclusion but not the signer.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import forgery
import pytest
from conftest import run_command
from forgery import DemoExport

from ledger.core.keys import SigningKey
from ledger.core.money import yuan
from ledger.core.policy import build_policy


@pytest.fixture(scope="module")
def issued(demo: DemoExport, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A receipt for the demo's first contribution, written by the real command line."""
    entries = forgery.read_entries(demo.export)
    entry = forgery.entry_obj(entries[forgery.first_index(entries, "contribution.received")])
    out = tmp_path_factory.mktemp("receipts")
    proc = run_command(
        "glasspocket", "receipt", "--community", "demo", "--entry", entry["id"],
        "--out", out, "--db", demo.db_url, "--keys", demo.keys,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (out / f"{entry['id']}.tlog-proof").is_file()
    assert (out / "keychain").is_file()
    return out, entry


@pytest.fixture
def receipt(issued: tuple[Path, dict], tmp_path: Path) -> Path:
    """A private copy of the receipt (and the key chain beside it) to move or damage."""
    folder = Path(shutil.copytree(issued[0], tmp_path / "receipt"))
    return folder / f"{issued[1]['id']}.tlog-proof"


def verify(run, receipt: Path, policy: Path, *extra: str | Path, lang: str = "en"):
    return run("glasspocket-verify", *extra, "receipt", receipt, "--policy", policy, lang=lang)


def facts(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.strip() for line in proc.stdout.splitlines() if line.startswith("  ")]


def test_receipt_with_keychain_checks_the_signer(
    run, demo: DemoExport, receipt: Path, issued
) -> None:
    """Given a receipt and its key chain, when verified, then inclusion and the signer pass."""
    proc = verify(run, receipt, demo.policy)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "signer checked: yes" in facts(proc)
    assert f"entry id: {issued[1]['id']}" in facts(proc)
    assert f"amount (yuan): {yuan(issued[1]['body']['amount_fen'])}" in facts(proc)
    assert "Verified: no violation found." in proc.stdout
    assert not any(line.startswith("notice:") for line in proc.stdout.splitlines())


def test_receipt_json_report(run, demo: DemoExport, receipt: Path, issued) -> None:
    proc = verify(run, receipt, demo.policy, "--json")
    assert proc.returncode == 0, proc.stdout
    report = json.loads(proc.stdout)
    assert report["ok"] is True
    assert report["facts"]["signer_checked"] is True
    assert report["facts"]["signer"] == issued[1]["signer"]
    assert report["facts"]["signer_role"] == "trustee"  # the trust company collects fees


def test_receipt_without_keychain_says_signer_not_checked(
    run, demo: DemoExport, receipt: Path
) -> None:
    """Given the key chain moved away, then inclusion passes (exit 0) and the verifier says
    plainly that the signer was not checked."""
    (receipt.parent / "keychain").rename(receipt.parent.parent / "elsewhere-keychain")
    proc = verify(run, receipt, demo.policy)
    assert proc.returncode == 0, proc.stdout
    notices = [line for line in proc.stdout.splitlines() if line.startswith("notice: ")]
    assert notices and "not the signer" in notices[0], proc.stdout
    assert "signer checked: no" in facts(proc)


def test_receipt_without_keychain_in_chinese(run, demo: DemoExport, receipt: Path) -> None:
    (receipt.parent / "keychain").unlink()
    proc = verify(run, receipt, demo.policy, lang="zh_CN.UTF-8")
    assert proc.returncode == 0, proc.stdout
    assert "未验证签名人" in proc.stdout
    assert "验证通过" in proc.stdout


def test_keychain_given_explicitly(run, demo: DemoExport, receipt: Path) -> None:
    moved = receipt.parent.parent / "kc"
    (receipt.parent / "keychain").rename(moved)
    proc = run(
        "glasspocket-verify", "receipt", receipt, "--policy", demo.policy, "--keychain", moved
    )
    assert proc.returncode == 0, proc.stdout
    assert "signer checked: yes" in facts(proc)


def _flip_char(text: str, line_no: int) -> str:
    """One base64 character changed in the middle of line ``line_no``."""
    lines = text.split("\n")
    line = lines[line_no]
    position = len(line) // 2
    while not line[position].isalnum():
        position += 1
    swapped = "B" if line[position] != "B" else "C"
    lines[line_no] = line[:position] + swapped + line[position + 1 :]
    return "\n".join(lines)


def _line_of(text: str, which: str) -> int:
    lines = text.split("\n")
    if which == "extra":
        return next(i for i, line in enumerate(lines) if line.startswith("extra "))
    if which == "proof hash":
        index_line = next(i for i, line in enumerate(lines) if line.startswith("index "))
        return index_line + 2
    if which == "log signature":
        return next(i for i, line in enumerate(lines) if line.startswith("\u2014 "))
    raise ValueError(which)


@pytest.mark.parametrize(
    ("which", "reason"),
    [
        ("extra", "inclusion proof"),
        ("proof hash", "inclusion proof"),
        ("log signature", "does not verify"),
    ],
)
def test_one_changed_character_fails(
    run, demo: DemoExport, receipt: Path, which: str, reason: str
) -> None:
    """Given a receipt with one character changed (entry, proof or signature), then it fails."""
    text = receipt.read_text()
    damaged = _flip_char(text, _line_of(text, which))
    assert damaged != text
    receipt.write_text(damaged)
    proc = verify(run, receipt, demo.policy)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert any(
        line.startswith("VIOLATION: receipt: ") and reason in line
        for line in proc.stdout.splitlines()
    ), proc.stdout


def test_receipt_against_another_policy_fails(
    run, demo: DemoExport, receipt: Path, tmp_path: Path
) -> None:
    """Given a policy pinning another log key for the same origin, then the receipt fails."""
    stranger = SigningKey.generate(demo.origin)
    other_policy = tmp_path / "other-policy"
    other_policy.write_text(str(build_policy(stranger.verifier(), [], "none")))
    proc = verify(run, receipt, other_policy)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert any(
        line.startswith("VIOLATION: receipt: ") and "no signature by the log key" in line
        for line in proc.stdout.splitlines()
    ), proc.stdout


def test_keychain_from_a_forked_tree_is_a_fork(
    run, demo: DemoExport, receipt: Path, state_home: Path
) -> None:
    """Given a key chain whose checkpoint the log key signed for the receipt's size but over
    a tree with two entries swapped, then the verifier reports the fork and keeps evidence."""
    entries = forgery.read_entries(demo.export)
    first = forgery.first_index(entries, "contribution.received")
    forked = forgery.swap(entries, first + 10, first + 11)
    keychain = forgery.write_keychain(forked, [0, 1, 2, 3, 4], demo.log_key, demo.witnesses)
    (receipt.parent / "keychain").write_text(keychain)

    proc = verify(run, receipt, demo.policy)

    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert any(line.startswith("VIOLATION: signer: FORK") for line in proc.stdout.splitlines()), (
        proc.stdout
    )
    [evidence] = sorted((state_home / "glasspocket" / "evidence").iterdir())
    body = json.loads(evidence.read_text())
    assert body["newer"] == json.loads(keychain)["checkpoint"]
    assert body["older"] == (demo.export / "checkpoint").read_text()
