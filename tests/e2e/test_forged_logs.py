"""``glasspocket-verify log`` against the honest demo export and against an operator's forgeries.

The forger holds the log key (so every forged checkpoint meets the policy) but no
actor's key. Each forgery below is a complete, correctly signed export; the
verifier must still exit 1 and print one line naming the entry and the problem,
in the resident's language.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import forgery
import pytest
from conftest import Run
from forgery import DemoExport

from ledger.core.keys import SigningKey
from ledger.core.tiles import entries_path, entry_bundles_for_size, tile_path, tiles_for_size


@pytest.fixture(scope="module")
def honest_entries(demo: DemoExport) -> list[bytes]:
    return forgery.read_entries(demo.export)


@pytest.fixture(scope="module")
def contribution(honest_entries: list[bytes]) -> int:
    """Index of the first contribution.received in the demo log."""
    return forgery.first_index(honest_entries, "contribution.received")


@pytest.fixture
def publish(tmp_path: Path, demo: DemoExport) -> Callable[[list[bytes]], Path]:
    """Write a forged export of a list of entries, signed with the real log key."""

    def write(entries: list[bytes]) -> Path:
        return forgery.write_export(
            entries, tmp_path / "forged", demo.log_key, demo.export, demo.witnesses
        )

    return write


def verify(
    run: Run, export: Path, policy: Path, lang: str = "en"
) -> subprocess.CompletedProcess[str]:
    return run("glasspocket-verify", "log", export, "--policy", policy, lang=lang)


def assert_refused(proc: subprocess.CompletedProcess[str], where: str, *words: str) -> str:
    """Exit 1, and a VIOLATION line for ``where`` holding every one of ``words``."""
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = [
        line
        for line in forgery.violation_lines(proc)
        if line.startswith(f"VIOLATION: {where}: ") and all(w in line for w in words)
    ]
    assert lines, f"no violation line for {where} with {words}:\n{proc.stdout}"
    assert "Verification FAILED" in proc.stdout
    return lines[0]


# --- the honest export ---------------------------------------------------------------------


def test_honest_export_passes(run: Run, demo: DemoExport) -> None:
    """Given the demo exported by the CLI, when a resident verifies it, then nothing is wrong."""
    proc = verify(run, demo.export, demo.policy)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Verified: no violation found." in proc.stdout
    assert not forgery.violation_lines(proc)


def test_honest_export_json_report(run: Run, demo: DemoExport, honest_entries: list[bytes]) -> None:
    proc = run("glasspocket-verify", "--json", "log", demo.export, "--policy", demo.policy)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is True
    assert report["violations"] == []
    assert report["facts"]["size"] == len(honest_entries)
    assert report["facts"]["origin"] == demo.origin
    assert report["facts"]["community"] == "demo"


def test_rebuilt_unchanged_export_is_byte_identical_and_passes(
    run: Run, demo: DemoExport, honest_entries: list[bytes], publish: Callable[[list[bytes]], Path]
) -> None:
    """Guards the forging machinery: with no change it writes the honest export again.

    So every failure below comes from the forgery, not from how the export was rebuilt.
    """
    rebuilt = publish(list(honest_entries))
    assert (rebuilt / "checkpoint").read_bytes() == (demo.export / "checkpoint").read_bytes()
    size = len(honest_entries)
    paths = [tile_path(*t) for t in tiles_for_size(size)]
    paths += [entries_path(*b) for b in entry_bundles_for_size(size)]
    for rel in paths:
        assert (rebuilt / rel).read_bytes() == (demo.export / rel).read_bytes(), rel
    assert verify(run, rebuilt, demo.policy).returncode == 0


# --- forgeries by the operator --------------------------------------------------------------


def test_amount_changed(
    run: Run, demo: DemoExport, honest_entries: list[bytes], contribution: int, publish
) -> None:
    """Given a contribution whose amount the operator raised by 1 fen (JCS, signature kept),
    when a resident verifies the log, then that entry's signature is reported as not verifying."""
    forged = publish(forgery.change_amount(honest_entries, contribution, 1))
    assert_refused(verify(run, forged, demo.policy), f"#{contribution}", "signature", "not verify")


def test_amount_changed_reported_in_chinese(
    run: Run, demo: DemoExport, honest_entries: list[bytes], contribution: int, publish
) -> None:
    forged = publish(forgery.change_amount(honest_entries, contribution, -100))
    proc = verify(run, forged, demo.policy, lang="zh_CN.UTF-8")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = forgery.violation_lines(proc, "违规")
    assert any(
        line.startswith(f"违规: #{contribution}: ") and "签名验证不通过" in line for line in lines
    ), proc.stdout
    assert "验证失败" in proc.stdout
    assert "VIOLATION" not in proc.stdout


@pytest.mark.parametrize("where", ["appended", "next to it"])
def test_entry_duplicated(
    run: Run, demo: DemoExport, honest_entries: list[bytes], contribution: int, publish, where: str
) -> None:
    """Given the same contribution logged twice, then the second copy is a duplicate id."""
    at = len(honest_entries) if where == "appended" else contribution + 1
    forged = publish(forgery.duplicate(honest_entries, contribution, at))
    entry_id = forgery.entry_obj(honest_entries[contribution])["id"]
    line = assert_refused(verify(run, forged, demo.policy), f"#{at}", entry_id)
    assert "already" in line or "duplicate" in line, line


@pytest.mark.parametrize("name", ["demo/treasurer", "demo/mallory"])
def test_entry_by_unregistered_key(
    run: Run, demo: DemoExport, honest_entries: list[bytes], contribution: int, publish, name: str
) -> None:
    """Given a contribution re-signed by a fresh key (an impostor of the treasurer's name, or a
    new name), then its signer is reported as not registered."""
    impostor = SigningKey.generate(name)
    forged = publish(forgery.resign(honest_entries, contribution, impostor))
    assert_refused(verify(run, forged, demo.policy), f"#{contribution}", name, "not registered")


def test_entry_claiming_a_registered_key_id(
    run: Run, demo: DemoExport, honest_entries: list[bytes], contribution: int, publish
) -> None:
    """Given a fresh key that names the treasurer and the treasurer's key id, then the
    signature is checked with the registered key and fails."""
    impostor = SigningKey.generate("demo/treasurer")
    forged = publish(forgery.claim_signer(honest_entries, contribution, impostor, contribution))
    assert_refused(verify(run, forged, demo.policy), f"#{contribution}", "signature", "not verify")


@pytest.mark.parametrize("style", ["spaces", "key-order", "unicode-escapes"])
def test_non_canonical_bytes(
    run: Run, demo: DemoExport, honest_entries: list[bytes], contribution: int, publish, style: str
) -> None:
    """Given an entry logged in a non-JCS serialization whose signature still verifies,
    then the verifier refuses the bytes as not canonical."""
    index = 0 if style == "unicode-escapes" else contribution  # #0 holds Chinese text
    forged = publish(forgery.reserialize(honest_entries, index, style))
    assert_refused(verify(run, forged, demo.policy), f"#{index}", "canonical")


def test_genesis_swapped_with_index_1(
    run: Run, demo: DemoExport, honest_entries: list[bytes], publish
) -> None:
    forged = publish(forgery.swap(honest_entries, 0, 1))
    proc = verify(run, forged, demo.policy)
    assert_refused(proc, "#0", "index 0 must be community.founded")
    assert_refused(proc, "#1", "community.founded may only stand at index 0")


def test_genesis_removed(run: Run, demo: DemoExport, honest_entries: list[bytes], publish) -> None:
    forged = publish(forgery.remove(honest_entries, 0))
    assert_refused(verify(run, forged, demo.policy), "#0", "index 0 must be community.founded")


def test_genesis_repeated_later(
    run: Run, demo: DemoExport, honest_entries: list[bytes], contribution: int, publish
) -> None:
    """The honest founding entry logged again further on (its own id, its own signature)."""
    forged = publish(forgery.insert(honest_entries, contribution, honest_entries[0]))
    assert_refused(
        verify(run, forged, demo.policy), f"#{contribution}", "may only stand at index 0"
    )


def test_entry_spliced_from_another_community(
    run: Run, demo: DemoExport, honest_entries: list[bytes], contribution: int, publish
) -> None:
    """Given a well-signed entry of another community's log spliced into this one, then it is
    reported as belonging to that community."""
    spliced = forgery.other_community_entry("elsewhere")
    forged = publish(forgery.insert(honest_entries, contribution, spliced))
    assert_refused(
        verify(run, forged, demo.policy), f"#{contribution}", "belongs to community 'elsewhere'"
    )


def test_community_refounded_under_new_id(
    run: Run, demo: DemoExport, honest_entries: list[bytes], publish
) -> None:
    """Given index 0 replaced by a founding of community 'forged' signed by the forger's own key
    (naming this log's origin), then every actor entry that follows is in the wrong community."""
    founding, _chair = forgery.founding_entry("forged", demo.origin)
    forged = publish(forgery.replace(honest_entries, 0, founding))
    proc = verify(run, forged, demo.policy)
    assert_refused(proc, "#1", "belongs to community 'demo'", "not 'forged'")
    assert not any(line.startswith("VIOLATION: #0: ") for line in forgery.violation_lines(proc))


def test_community_refounded_with_another_origin(
    run: Run, demo: DemoExport, honest_entries: list[bytes], publish
) -> None:
    founding, _chair = forgery.founding_entry("forged", "localhost:8000/c/forged/log")
    forged = publish(forgery.replace(honest_entries, 0, founding))
    proc = verify(run, forged, demo.policy)
    assert_refused(proc, "#0", "origin", "localhost:8000/c/forged/log")
    assert_refused(proc, "#1", "belongs to community 'demo'")


def test_demo_refounded_by_a_fresh_key(
    run: Run, demo: DemoExport, honest_entries: list[bytes], publish
) -> None:
    """The founding entry of 'demo' re-signed by a fresh key listing only itself: the real
    committee's entries that follow have no registered signer."""
    founding, _chair = forgery.founding_entry("demo", demo.origin)
    forged = publish(forgery.replace(honest_entries, 0, founding))
    assert_refused(verify(run, forged, demo.policy), "#1", "demo/committee-chair", "not registered")


def test_every_forgery_reported_at_once_with_stable_codes(
    run: Run, demo: DemoExport, honest_entries: list[bytes], contribution: int, publish
) -> None:
    """Given one log carrying five forgeries, then ``--json`` lists each, by entry and stable code."""
    c = contribution
    entries = forgery.change_amount(honest_entries, c, 1)
    entries = forgery.resign(entries, c + 1, SigningKey.generate("demo/treasurer"))
    entries = forgery.reserialize(entries, c + 2, "spaces")
    entries = forgery.replace(entries, c + 3, forgery.other_community_entry("elsewhere"))
    entries = forgery.duplicate(entries, c + 4)
    forged = publish(entries)

    proc = run("glasspocket-verify", "--json", "log", forged, "--policy", demo.policy)

    assert proc.returncode == 1, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is False
    found = {(v["where"], v["code"]) for v in report["violations"]}
    forgeries = {
        (f"#{c}", "bad_signature"),
        (f"#{c + 1}", "unknown_signer"),
        (f"#{c + 2}", "non_canonical"),
        (f"#{c + 3}", "wrong_community"),
        (f"#{len(honest_entries)}", "duplicate_id"),
    }
    assert forgeries <= found
    # Dropping forged payments may make later, honest entries unlawful (a remuneration
    # above what the month's fees now allow): those are reported as rule violations.
    assert {code for _, code in found - forgeries} <= {
        "rule_violation",
        "insufficient_funds",
        "statement_mismatch",  # the statements after them no longer add up
    }
    assert all(v["zh"] and v["en"] for v in report["violations"])


# --- damage without re-signing ----------------------------------------------------------------


def _damageable_paths(size: int) -> list[str]:
    hash_tiles = [tile_path(*t) for t in tiles_for_size(size)]
    bundles = [entries_path(*b) for b in entry_bundles_for_size(size)]
    return [hash_tiles[0], hash_tiles[-1], bundles[0], bundles[-1], "checkpoint"]


@pytest.fixture
def damaged_copy(tmp_path: Path, demo: DemoExport) -> Path:
    return Path(shutil.copytree(demo.export, tmp_path / "damaged"))


def test_damageable_paths_cover_full_and_partial_tiles(honest_entries: list[bytes]) -> None:
    paths = _damageable_paths(len(honest_entries))
    assert paths[0] == "tile/0/000" and paths[2] == "tile/entries/000"
    assert ".p/" in paths[1] and paths[1].startswith("tile/1/")
    assert ".p/" in paths[3]


@pytest.mark.parametrize(
    "which", range(5), ids=["tile0", "top-tile", "bundle0", "last-bundle", "checkpoint"]
)
def test_byte_changed_without_resigning(
    run: Run, demo: DemoExport, honest_entries: list[bytes], damaged_copy: Path, which: int
) -> None:
    """Given one byte changed in a tile, an entry bundle or the checkpoint and nothing
    re-signed, then the verifier refuses the tiles (or the checkpoint)."""
    rel = _damageable_paths(len(honest_entries))[which]
    forgery.flip_byte(damaged_copy / rel)
    proc = verify(run, damaged_copy, demo.policy)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    where = "checkpoint" if rel == "checkpoint" else "tiles"
    lines = [
        line for line in forgery.violation_lines(proc) if line.startswith(f"VIOLATION: {where}: ")
    ]
    assert lines, proc.stdout


def test_missing_bundle_is_refused(
    run: Run, demo: DemoExport, honest_entries: list[bytes], damaged_copy: Path
) -> None:
    rel = _damageable_paths(len(honest_entries))[3]
    (damaged_copy / rel).unlink()
    assert_refused(verify(run, damaged_copy, demo.policy), "tiles", "missing")


def test_forgery_under_another_log_key_is_refused(
    run: Run, demo: DemoExport, honest_entries: list[bytes], tmp_path: Path
) -> None:
    """Without the log key a forger's checkpoint fails the pinned policy before any entry is read."""
    stranger = SigningKey.generate(demo.origin)
    forged = forgery.write_export(honest_entries, tmp_path / "x", stranger, demo.export)
    assert_refused(verify(run, forged, demo.policy), "checkpoint")
