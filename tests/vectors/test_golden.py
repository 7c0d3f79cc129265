"""The golden vectors in golden/: each file's expected verdict, and no drift from make_vectors.py.

The verdict procedures here are the ones golden/README.md documents for other
verifiers (the browser verifier among them); they use only the pure core and
``verify.receipt.verify_receipt``.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import make_vectors
import pytest

from ledger.core.entry import (
    Entry,
    parse_entry_json,
    parse_logged_entry,
    verify_entry_signature,
)
from ledger.core.errors import LedgerError, UnknownSignerError
from ledger.core.keys import SigningKey, VerifierKey
from ledger.core.policy import Policy
from ledger.core.rules import apply
from ledger.core.state import CommunityState
from verify.audit import audit_log
from verify.receipt import verify_receipt
from verify.sources import DirectorySource
from verify.statement import verify_statement

GOLDEN = Path(__file__).resolve().parent / "golden"


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _files(folder: str) -> list[Path]:
    return sorted((GOLDEN / folder).glob("*.json"))


KEYS = _load(GOLDEN / "keys.json")
COMMUNITY_KEYS = [VerifierKey.parse(k["vkey"]) for k in KEYS["keys"] if k["role"] is not None]


def _entry_verdict(vector: dict[str, Any]) -> str:
    """Parse (logged bytes strictly, or a submission), find the signer's key, check the signature."""
    try:
        entry = _parse(vector)
        key = _community_key(entry)
        verify_entry_signature(entry, key)
    except LedgerError as exc:
        return exc.code
    return "ok"


def _parse(vector: dict[str, Any]) -> Entry:
    if "entry_bytes_b64" in vector:
        return parse_logged_entry(base64.b64decode(vector["entry_bytes_b64"], validate=True))
    return parse_entry_json(vector["submission"])


def _community_key(entry: Entry) -> VerifierKey:
    for key in COMMUNITY_KEYS:
        if key.name == entry.signer and key.key_id_hex == entry.key_id:
            return key
    raise UnknownSignerError(f"no community key {entry.signer}+{entry.key_id}")


@pytest.mark.parametrize("path", _files("entries"), ids=lambda p: p.stem)
def test_entry_vector(path: Path) -> None:
    vector = _load(path)
    assert set(vector) in (
        {"description", "entry_bytes_b64", "expect"},
        {"description", "submission", "expect"},
    )
    assert _entry_verdict(vector) == vector["expect"]


@pytest.mark.parametrize("path", _files("checkpoints"), ids=lambda p: p.stem)
def test_checkpoint_vector(path: Path) -> None:
    vector = _load(path)
    try:
        Policy.parse(vector["policy"]).check(vector["checkpoint"])
        verdict = "ok"
    except LedgerError as exc:
        verdict = exc.code
    assert verdict == vector["expect"]


@pytest.mark.parametrize("path", _files("receipts"), ids=lambda p: p.stem)
def test_receipt_vector(path: Path) -> None:
    vector = _load(path)
    report = verify_receipt(vector["receipt"], Policy.parse(vector["policy"]), vector["keychain"])
    codes = [f.code for f in report.violations]
    assert codes == ([] if vector["expect"] == "ok" else [vector["expect"]])
    notices = [f.code for f in report.findings if f.severity == "notice"]
    assert notices == vector["notices"]


STATEMENTS = GOLDEN / "statements"
CASES: list[dict[str, Any]] = json.loads((STATEMENTS / "cases.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES, ids=lambda c: str(c["name"]))
def test_statement_bundle_case(case: dict[str, Any]) -> None:
    """Given a case of statements/cases.json, light verification gives its verdict and reason."""
    assert set(case) == {"name", "description", "bundle", "policy", "want", "reason"}
    policy = Policy.parse((STATEMENTS / case["policy"]).read_bytes())
    report = verify_statement((STATEMENTS / case["bundle"]).read_bytes(), policy)
    codes = {f.code for f in report.violations}
    if case["want"] == "ok":
        assert report.ok and not codes and case["reason"] == "ok", [f.en for f in report.findings]
    else:
        assert case["want"] == "fail" and case["reason"] in codes, (codes, case["reason"])


@pytest.mark.parametrize("case", [c for c in CASES if c["want"] == "ok"], ids=lambda c: c["name"])
def test_honest_statement_bundles_verify_in_full_against_the_log(case: dict[str, Any]) -> None:
    policy = Policy.parse((STATEMENTS / "policy").read_bytes())
    bundle = (STATEMENTS / case["bundle"]).read_bytes()
    report = verify_statement(bundle, policy, DirectorySource(STATEMENTS / "log"))
    assert report.ok, [f.en for f in report.findings]
    assert report.facts["full"] is True


def test_the_statements_log_as_tiles_passes_a_full_audit() -> None:
    policy = Policy.parse((STATEMENTS / "log" / "policy").read_bytes())
    report = audit_log(DirectorySource(STATEMENTS / "log"), policy)
    assert report.ok, [f.en for f in report.findings]


def test_statement_cases_cover_every_tampering() -> None:
    reasons = {c["reason"] for c in CASES if c["want"] == "fail"}
    assert {"statement_mismatch", "bad_signature", "policy", "bad_proof"} <= reasons
    assert {c["want"] for c in CASES} == {"ok", "fail"}


def test_every_vector_kind_has_a_passing_and_a_failing_case() -> None:
    for folder in ("entries", "checkpoints", "receipts"):
        verdicts = {_load(p)["expect"] for p in _files(folder)}
        assert "ok" in verdicts and len(verdicts) > 1, folder


def test_the_tiny_log_folds_and_matches_its_checkpoint() -> None:
    """Given log.json, when its entries are folded and hashed, then every rule holds and the root matches."""
    log = _load(GOLDEN / "log.json")
    state = CommunityState()
    for data in log["entries"]:
        apply(state, parse_logged_entry(base64.b64decode(data)))
    assert state.funds == {"property": 2 * 26_850, "maintenance": 1_074_000}
    verified = Policy.parse(log["policy"]).check(log["checkpoint"])
    assert verified.size == len(log["entries"])
    assert base64.b64encode(verified.root).decode() == log["root"]


def test_the_tiny_log_as_tiles_passes_a_full_audit() -> None:
    policy = Policy.parse((GOLDEN / "log" / "policy").read_bytes())
    report = audit_log(DirectorySource(GOLDEN / "log"), policy)
    assert report.ok, [f.en for f in report.findings]
    assert report.facts["size"] == 6


def test_private_lines_in_keys_json_are_the_test_seeds() -> None:
    for item in KEYS["keys"]:
        key = SigningKey.from_private_line(item["private"])
        assert str(key.verifier()) == item["vkey"]
        assert key.verifier().key_id_hex == item["key_id"]
        assert key.private_line() == make_vectors.key(item["handle"]).private_line()


def test_generator_reproduces_every_committed_file_byte_for_byte() -> None:
    """Given the committed golden/ files, when the generator runs in memory, nothing differs."""
    built = make_vectors.build_files()
    committed = {
        str(p.relative_to(GOLDEN)): p.read_bytes()
        for p in GOLDEN.rglob("*")
        if p.is_file() and p.name != "README.md"
    }
    assert sorted(committed) == sorted(built), "files added or missing: rerun make_vectors.py"
    drifted = [name for name in built if built[name] != committed[name]]
    assert not drifted, f"golden files drifted from make_vectors.py: {drifted}"
