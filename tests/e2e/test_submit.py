"""``glasspocket submit FILE``: a refused entry exits non-zero, names the reason, appends nothing.

Each test works on its own copy of the demo database, so nothing it does (or that a
bug lets through) reaches another test.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import forgery
import pytest
from conftest import Run
from forgery import DemoExport

from ledger.core.entry import jcs, sign_entry
from ledger.core.keys import SigningKey
from ledger.store.service import LedgerService


@pytest.fixture(scope="module")
def honest_entries(demo: DemoExport) -> list[bytes]:
    return forgery.read_entries(demo.export)


@pytest.fixture(scope="module")
def contribution(honest_entries: list[bytes]) -> dict[str, Any]:
    return forgery.entry_obj(
        honest_entries[forgery.first_index(honest_entries, "contribution.received")]
    )


@pytest.fixture
def db_url(demo: DemoExport, tmp_path: Path) -> str:
    source = Path(demo.db_url.removeprefix("sqlite:///"))
    copy = tmp_path / "demo.db"
    shutil.copy(source, copy)
    return f"sqlite:///{copy}"


def log_size(db_url: str) -> int:
    service = LedgerService(db_url)
    try:
        return service.size("demo")
    finally:
        service.close()
        service.engine.dispose()


Submit = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def submit(run: Run, demo: DemoExport, db_url: str, tmp_path: Path) -> Submit:
    """``submit(text, lang="en")``: write the text to a file and submit it with the CLI."""

    def go(text: str | bytes, lang: str = "en") -> subprocess.CompletedProcess[str]:
        path = tmp_path / "entry.json"
        path.write_bytes(text.encode() if isinstance(text, str) else text)
        return run("glasspocket", "submit", path, "--db", db_url, "--keys", demo.keys, lang=lang)

    return go


def treasurer(demo: DemoExport) -> SigningKey:
    return SigningKey.load(demo.keys / "treasurer.key")


def _payment(key: SigningKey, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "community": "demo",
        "type": "contribution.received",
        "at": "2025-04-08T14:00:00+08:00",
        "body": {"fund": "property", "unit": "1-1-102", "amount_fen": 25000, "month": "2025-04"},
    }
    fields.update(overrides)
    return dict(sign_entry(key, **fields).as_dict())


def _forged_amount(entry: dict[str, Any]) -> dict[str, Any]:
    return {**entry, "body": {**entry["body"], "amount_fen": entry["body"]["amount_fen"] + 1}}


def _resigned_amount(entry: dict[str, Any], demo: DemoExport) -> dict[str, Any]:
    """The same id over another amount, properly signed by the demo's treasurer."""
    body = {**entry["body"], "amount_fen": entry["body"]["amount_fen"] + 1}
    fields = {"community": entry["community"], "type": entry["type"], "at": entry["at"]}
    return dict(sign_entry(treasurer(demo), **fields, body=body, entry_id=entry["id"]).as_dict())


def assert_refused(
    proc: subprocess.CompletedProcess[str], db_url: str, before: int, code: str, *words: str
) -> None:
    """Non-zero exit, ``error [code]`` and ``words`` in the output, and the log did not grow."""
    assert proc.returncode != 0, proc.stdout + proc.stderr
    output = proc.stdout + proc.stderr
    assert f"error [{code}] " in output, output
    for word in words:
        assert word in output, output
    assert log_size(db_url) == before, "a refused entry must append nothing"


# --- refused ----------------------------------------------------------------------------------


def test_amount_changed_is_refused(
    submit: Submit, honest_entries: list[bytes], db_url: str, demo: DemoExport
) -> None:
    """Given a new payment the treasurer signed, its amount changed afterwards (pretty-printed),
    when submitted, then it is refused for its signature and the log does not grow."""
    before = len(honest_entries)
    proc = submit(json.dumps(_forged_amount(_payment(treasurer(demo))), indent=2))
    assert_refused(proc, db_url, before, "bad_signature", "signature", "does not verify")


def test_amount_changed_is_refused_in_chinese(
    submit: Submit, honest_entries: list[bytes], db_url: str, demo: DemoExport
) -> None:
    before = len(honest_entries)
    proc = submit(json.dumps(_forged_amount(_payment(treasurer(demo)))), lang="zh_CN.UTF-8")
    assert_refused(proc, db_url, before, "bad_signature", "签名验证不通过")


def test_logged_entry_with_amount_changed_is_refused(
    submit: Submit, honest_entries: list[bytes], db_url: str, contribution: dict
) -> None:
    """A logged contribution re-submitted with another amount: the signature no longer
    verifies, which is said before the id being taken (issue 6's order: 401 before 409)."""
    before = len(honest_entries)
    proc = submit(json.dumps(_forged_amount(contribution)))
    assert_refused(proc, db_url, before, "bad_signature", "signature", "does not verify")


def test_logged_id_reused_by_its_signer_for_other_content_is_refused(
    submit: Submit,
    honest_entries: list[bytes],
    db_url: str,
    contribution: dict[str, Any],
    demo: DemoExport,
) -> None:
    """The same id, signed again by a registered key over other content: its id is taken."""
    before = len(honest_entries)
    proc = submit(json.dumps(_resigned_amount(contribution, demo)))
    assert_refused(proc, db_url, before, "duplicate_id", contribution["id"], "other content")


def test_unregistered_key_is_refused(
    submit: Submit, honest_entries: list[bytes], db_url: str
) -> None:
    before = len(honest_entries)
    proc = submit(json.dumps(_payment(SigningKey.generate("demo/mallory"))))
    assert_refused(proc, db_url, before, "unknown_signer", "demo/mallory", "not registered")


def test_entry_of_another_community_is_refused(
    submit: Submit, honest_entries: list[bytes], db_url: str
) -> None:
    before = len(honest_entries)
    proc = submit(forgery.other_community_entry("elsewhere"))
    assert_refused(proc, db_url, before, "not_found", "elsewhere")


def test_float_amount_is_refused(
    submit: Submit, honest_entries: list[bytes], db_url: str, demo: DemoExport
) -> None:
    """Money is integer fen: a float anywhere is refused before anything else."""
    text = json.dumps(_payment(treasurer(demo))).replace(
        '"amount_fen": 25000', '"amount_fen": 250.0'
    )
    assert "250.0" in text
    before = len(honest_entries)
    assert_refused(submit(text), db_url, before, "malformed", "floating-point")


# --- accepted -----------------------------------------------------------------------------------


def test_identical_resubmission_returns_the_original(
    submit: Submit, honest_entries: list[bytes], db_url: str, contribution: dict
) -> None:
    """Re-submitting an entry already logged, in another serialization, appends nothing, exit 0."""
    before = len(honest_entries)
    proc = submit(json.dumps(contribution, indent=3))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "already recorded" in proc.stdout
    assert contribution["id"] in proc.stdout
    assert log_size(db_url) == before


def test_genuine_new_entry_is_appended_in_canonical_form(
    submit: Submit, honest_entries: list[bytes], db_url: str, demo: DemoExport
) -> None:
    """Control: a real treasurer payment, pretty-printed, is accepted and logged as JCS."""
    before = len(honest_entries)
    entry = _payment(treasurer(demo))
    proc = submit(json.dumps(entry, indent=2))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"#{before} {entry['id']}" in proc.stdout
    assert log_size(db_url) == before + 1
    service = LedgerService(db_url)
    try:
        assert service.entries("demo", before, before + 1) == [jcs(entry)]
    finally:
        service.close()
        service.engine.dispose()
