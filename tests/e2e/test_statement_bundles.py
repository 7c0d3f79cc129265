"""Statements as a treasurer publishes them and a resident verifies them (SPEC §5).

The demo is built by the real command line, the treasurer publishes 2025Q1 and 2025Q2
with ``glasspocket statement publish``, the witnesses cosign, and ``glasspocket statement
bundle`` writes the bundles that ``glasspocket-verify statement`` checks, light and full.
A forger holding the log key and the treasurer's key changes a figure: light verification
cannot see it (the arithmetic still holds), full verification names it.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import forgery
import pytest
from conftest import Run, run_command

from api.demo import DemoCast
from api.demo_witnesses import InProcessWitness, witness_keys
from ledger.core.entry import parse_logged_entry, sign_entry
from ledger.core.keychain import parse_keychain
from ledger.core.merkle import MemoryTree, consistency_proof, inclusion_proof, leaf_hash
from ledger.core.tlogproof import TlogProof, format_tlog_proof
from ledger.store.service import LedgerService


@dataclass(frozen=True)
class Published:
    db_url: str
    keys: Path
    export: Path
    bundles: dict[str, Path]
    cast: DemoCast


def _must(args: tuple[str | Path, ...], program: str = "glasspocket") -> str:
    proc = run_command(program, *args)
    assert proc.returncode == 0, f"{args}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Published:
    folder = tmp_path_factory.mktemp("statement-bundles")
    db_url = f"sqlite:///{folder / 'demo.db'}"
    keys, export = folder / "keys", folder / "export"
    common = ("--db", db_url, "--keys", keys)
    _must(("demo", "--no-serve", *common))
    for period in ("2025Q1", "2025Q2"):
        args = ("statement", "publish", period, "-c", "demo", "--key", keys / "treasurer.key")
        assert "published" in _must((*args, *common))
        assert "already published" in _must((*args, *common))
    cast = DemoCast(2025, "localhost:8000")
    service = LedgerService(db_url)
    size = service.size("demo")
    for name, key in witness_keys(cast.key):
        InProcessWitness(name, key, cast.log_key).cosign(service, "demo", size, 1_767_225_600)
    service.close()
    _must(("log", "export", "--community", "demo", *common, export))
    bundles = {}
    for period in ("2025Q1", "2025Q2"):
        bundles[period] = folder / f"{period}.statement.json"
        _must(("statement", "bundle", period, "-c", "demo", *common, "--out", bundles[period]))
    return Published(db_url, keys, export, bundles, cast)


def test_bundles_follow_spec_section_5(published: Published) -> None:
    """Given a bundle, its fields are those of SPEC §5, its proof's extra line is its entry,
    and only the first statement has no previous checkpoint."""
    first = json.loads(published.bundles["2025Q1"].read_text())
    second = json.loads(published.bundles["2025Q2"].read_text())
    fields = {"format", "entry", "proof", "covered_consistency", "previous", "keychain"}
    assert set(first) == set(second) == fields
    assert first["format"] == "glasspocket/statement-bundle@v1"
    assert first["entry"] in first["proof"]
    assert first["previous"] is None
    assert set(second["previous"]) == {"checkpoint", "consistency"}
    body = parse_logged_entry(base64.b64decode(second["entry"])).body
    assert body["start"] == parse_logged_entry(base64.b64decode(first["entry"])).body["end"]


@pytest.mark.parametrize("period", ["2025Q1", "2025Q2"])
def test_bundles_verify_light_and_full(published: Published, run: Run, period: str) -> None:
    """Given an honest bundle, when a resident verifies it with the policy alone and then
    against the published log, then both pass."""
    policy = published.export / "policy"
    light = run("glasspocket-verify", "statement", published.bundles[period], "--policy", policy)
    assert light.returncode == 0, light.stdout
    full = run(
        "glasspocket-verify",
        "statement", published.bundles[period],
        "--policy", policy,
        "--log", published.export,
    )  # fmt: skip
    assert full.returncode == 0, full.stdout
    assert "log replayed, figures recomputed: yes" in full.stdout


def _forged_bundle(published: Published, out: Path) -> tuple[Path, Path]:
    """Change 2025Q1's property opening and closing (arithmetic kept), re-sign it with the
    treasurer's key, re-sign the log with the log key and witnesses; bundle it."""
    entries = forgery.read_entries(published.export)
    honest = json.loads(published.bundles["2025Q1"].read_text())
    index = entries.index(base64.b64decode(honest["entry"]))
    entry = parse_logged_entry(entries[index])
    body: dict[str, Any] = json.loads(json.dumps(entry.body))
    prop = body["figures"]["funds"]["property"]
    prop["opening_fen"] += 100
    prop["closing_fen"] += 100
    forged = sign_entry(
        published.cast.key("treasurer"),
        community="demo",
        type=entry.type,
        body=body,
        at=entry.at,
        entry_id=entry.id,
    ).entry_bytes()
    entries = forgery.replace(entries, index, forged)
    witnesses = [key for _, key in witness_keys(published.cast.key)]
    export = forgery.write_export(
        entries, out / "export", published.cast.log_key, published.export, witnesses
    )
    checkpoint = (export / "checkpoint").read_text()
    tree = MemoryTree([leaf_hash(e) for e in entries])
    size = len(entries)
    key_items = parse_keychain(honest["keychain"])[1]
    chain = forgery.write_keychain(
        entries, [i.index for i in key_items], published.cast.log_key, witnesses
    )
    assert parse_keychain(chain)[0] == checkpoint
    bundle = {
        **honest,
        "entry": base64.b64encode(forged).decode(),
        "proof": format_tlog_proof(
            TlogProof(index, tuple(inclusion_proof(index, size, tree)), checkpoint, forged)
        ),
        "covered_consistency": [
            base64.b64encode(h).decode() for h in consistency_proof(body["end"], size, tree)
        ],
        "keychain": chain,
    }
    path = out / "forged.statement.json"
    path.write_text(json.dumps(bundle))
    return path, export


def test_a_forged_figure_fails_full_verification_naming_it(
    published: Published, run: Run, tmp_path: Path
) -> None:
    """Given 2025Q1 with its property opening and closing raised by 1 yuan, re-signed with the
    treasurer's key and the log re-signed, when it is verified light, then it passes (its
    arithmetic holds); when verified against the log, then it fails naming both figures with
    the stated and recomputed values; and the log's own verification refuses the statement."""
    bundle, export = _forged_bundle(published, tmp_path)
    policy = export / "policy"
    light = run("glasspocket-verify", "statement", bundle, "--policy", policy)
    assert light.returncode == 0, light.stdout
    full = run("glasspocket-verify", "statement", bundle, "--policy", policy, "--log", export)
    assert full.returncode == 1, full.stdout
    lines = forgery.violation_lines(full)
    assert any("figures.funds.property.opening_fen: stated 100, recomputed 0" in x for x in lines)
    assert any("figures.funds.property.closing_fen" in x for x in lines), lines
    replay = run("glasspocket-verify", "--json", "log", export, "--policy", policy)
    assert replay.returncode == 1
    codes = {v["code"] for v in json.loads(replay.stdout)["violations"]}
    assert "statement_mismatch" in codes
