"""Witnesses end to end: the demo's cosigned checkpoints, ``witness serve`` over HTTP,
``witness collect``, the offline ``witness cosign`` / ``witness add`` loop, and the quorum.

Every witness here is run by the real command line; the HTTP witness listens on
127.0.0.1 on a port the system picks, stops itself after a minute at most, and is
stopped by the test as soon as it is done.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import forgery
import pytest
from conftest import BIN, Run
from forgery import DemoExport

from api.demo_witnesses import WITNESSES
from ledger.core.entry import sign_entry
from ledger.core.keys import SigningKey
from ledger.core.merkle import MemoryTree, consistency_proof, leaf_hash
from ledger.core.note import parse_checkpoint, parse_note
from ledger.core.policy import Policy
from ledger.core.witness import format_add_checkpoint
from ledger.store.service import LedgerService


def witness_names() -> list[str]:
    return [name for name, _, _ in WITNESSES]


@pytest.fixture
def copy(demo: DemoExport, tmp_path: Path) -> str:
    """A private copy of the demo database."""
    shutil.copy(demo.db_url.removeprefix("sqlite:///"), tmp_path / "copy.db")
    return f"sqlite:///{tmp_path / 'copy.db'}"


def append_donation(demo: DemoExport, db_url: str, amount_fen: int = 100) -> int:
    """A lawful entry by the treasurer appended to ``db_url``; the log key signs the new size."""
    entry = sign_entry(
        SigningKey.load(demo.keys / "treasurer.key"),
        community="demo",
        type="donation.received",
        at="2025-12-31T12:00:00+08:00",
        body={"kind": "donation", "amount_fen": amount_fen},
    )
    service = LedgerService(db_url, [demo.log_key])
    try:
        service.submit("demo", entry)
        return service.size("demo")
    finally:
        service.close()


def checkpoint_of(path: Path) -> tuple[int, list[str]]:
    note = parse_note(path.read_text())
    return parse_checkpoint(note.text).size, [s.name for s in note.signatures]


# --- the demo's own witnesses ----------------------------------------------------------------


def test_demo_export_carries_both_cosignatures_and_verifies(run: Run, demo: DemoExport) -> None:
    """Given the demo's export, then its checkpoint carries the log's signature and both
    witnesses' cosignatures, meets the policy's quorum, and the log verifies."""
    policy = Policy.parse(demo.policy.read_bytes())
    assert set(policy.witnesses) == set(witness_names())
    verified = policy.check((demo.export / "checkpoint").read_text())
    assert set(verified.witnesses) == set(witness_names())
    assert all(w.vkey.key_type == 0x04 for w in policy.witnesses.values())
    proc = run("glasspocket-verify", "log", demo.export, "--policy", demo.policy)
    assert proc.returncode == 0, proc.stdout
    assert "witnesses: witness-committee, witness-residents" in proc.stdout


def test_demo_keys_folder_holds_the_witness_keys(demo: DemoExport) -> None:
    policy = Policy.parse(demo.policy.read_bytes())
    for name, handle, _ in WITNESSES:
        key = SigningKey.load(demo.keys / f"{handle}.key")
        assert key.key_type == 0x04
        assert str(key.verifier()) == str(policy.witnesses[name].vkey)


def test_checkpoint_short_of_the_quorum_is_refused(
    run: Run, demo: DemoExport, tmp_path: Path
) -> None:
    """Given the export with one witness's cosignature removed, when verified, then the
    checkpoint is refused for want of the quorum (exit 1), naming the witnesses."""
    export = Path(shutil.copytree(demo.export, tmp_path / "short"))
    lines = (export / "checkpoint").read_text().splitlines(keepends=True)
    (export / "checkpoint").write_text("".join(line for line in lines if "juweihui" not in line))
    proc = run("glasspocket-verify", "log", export, "--policy", demo.policy)
    assert proc.returncode == 1, proc.stdout
    [line] = forgery.violation_lines(proc)
    assert line.startswith("VIOLATION: checkpoint:") and "quorum" in line, line


def test_new_entries_are_published_only_once_cosigned(
    run: Run, demo: DemoExport, copy: str, tmp_path: Path
) -> None:
    """Given an entry appended after the demo, then the export still publishes the last
    cosigned checkpoint; ``log export --unwitnessed`` gives the new one, which the
    verifier refuses for want of the quorum."""
    size = append_donation(demo, copy)
    common = ("--db", copy, "--keys", demo.keys)
    published, newest = tmp_path / "published", tmp_path / "newest"
    assert run("glasspocket", "log", "export", "-c", "demo", *common, published).returncode == 0
    assert checkpoint_of(published / "checkpoint")[0] == size - 1
    proc = run("glasspocket", "log", "export", "-c", "demo", *common, "--unwitnessed", newest)
    assert proc.returncode == 0, proc.stderr
    assert checkpoint_of(newest / "checkpoint") == (size, [demo.origin])
    assert run("glasspocket-verify", "log", newest, "--policy", demo.policy).returncode == 1


# --- offline: witness cosign, witness add ----------------------------------------------------------


def test_offline_witnesses_cosign_an_export_and_the_log_stores_it(
    run: Run, demo: DemoExport, copy: str, tmp_path: Path
) -> None:
    """Given each witness remembers the demo's published checkpoint (it cosigned it from the
    export), when an entry is appended and the unwitnessed export taken to both witnesses,
    then each checks consistency from the tiles and cosigns; ``witness add`` stores the
    lines, and the next export publishes the new size and verifies."""
    log_vkey = str(demo.log_key.verifier())
    states = {handle: tmp_path / f"state-{handle}" for _, handle, _ in WITNESSES}
    first = Path(shutil.copytree(demo.export, tmp_path / "first"))
    for handle, state in states.items():
        key = demo.keys / f"{handle}.key"
        proc = run("glasspocket", "witness", "cosign", first, "--key", key,
                   "--state", state, "--log-vkey", log_vkey)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
    size = append_donation(demo, copy)
    common = ("--db", copy, "--keys", demo.keys)
    newest = tmp_path / "newest"
    run("glasspocket", "log", "export", "-c", "demo", *common, "--unwitnessed", newest)
    for handle, state in states.items():
        key = demo.keys / f"{handle}.key"
        proc = run("glasspocket", "witness", "cosign", newest, "--key", key,
                   "--state", state, "--log-vkey", log_vkey)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("— demo-witnesses/")
        record = json.loads((state / "witness-state.json").read_text())
        assert record["logs"][demo.origin]["size"] == size
    assert len(checkpoint_of(newest / "checkpoint")[1]) == 3
    chain = json.loads((newest / "keychain").read_text())
    assert chain["checkpoint"] == (newest / "checkpoint").read_text()

    proc = run("glasspocket", "witness", "add", "-c", "demo", newest / "checkpoint", *common)
    assert proc.returncode == 0, proc.stderr
    published = tmp_path / "published"
    assert run("glasspocket", "log", "export", "-c", "demo", *common, published).returncode == 0
    assert checkpoint_of(published / "checkpoint")[0] == size
    proc = run("glasspocket-verify", "log", published, "--policy", demo.policy)
    assert proc.returncode == 0, proc.stdout


def test_offline_witness_refuses_a_forked_export(
    run: Run, demo: DemoExport, tmp_path: Path
) -> None:
    """Given a witness that cosigned the honest export, when shown a log of the same size in
    another order (signed by the real log key), then it refuses and keeps the request."""
    state = tmp_path / "state"
    key = demo.keys / "witness-residents.key"
    log_vkey = str(demo.log_key.verifier())
    honest = Path(shutil.copytree(demo.export, tmp_path / "honest"))
    args = ("--key", key, "--state", state, "--log-vkey", log_vkey)
    assert run("glasspocket", "witness", "cosign", honest, *args).returncode == 0
    entries = forgery.read_entries(demo.export)
    forked = forgery.write_export(forgery.swap(entries, 5, 6), tmp_path / "fork", demo.log_key)
    proc = run("glasspocket", "witness", "cosign", forked, *args)
    assert proc.returncode == 1
    assert "[witness_fork]" in proc.stderr
    assert len(list((state / "refused").iterdir())) == 1


def test_witness_add_refuses_a_stranger_cosignature(
    run: Run, demo: DemoExport, copy: str, tmp_path: Path
) -> None:
    """A cosignature by a key that is not in the policy is never stored."""
    stranger = tmp_path / "stranger.key"
    run("glasspocket", "key", "new", "demo-witnesses/juweihui", "--witness", "--out", stranger)
    state = tmp_path / "state"
    export = Path(shutil.copytree(demo.export, tmp_path / "export"))
    log_vkey = str(demo.log_key.verifier())
    run("glasspocket", "witness", "cosign", export, "--key", stranger, "--state", state,
        "--log-vkey", log_vkey)  # fmt: skip
    lines = (export / "checkpoint").read_text().splitlines(keepends=True)
    only = tmp_path / "only-stranger"
    stranger_line = lines[-1]
    only.write_text("".join(lines[:-3]) + stranger_line)
    proc = run("glasspocket", "witness", "add", "-c", "demo", only, "--db", copy)
    assert proc.returncode == 1
    assert "[bad_checkpoint]" in proc.stderr or "[policy]" in proc.stderr


# --- over HTTP: witness serve, witness collect --------------------------------------------------


@pytest.fixture
def served(demo: DemoExport, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``glasspocket witness serve`` with the committee's witness key on 127.0.0.1:<free port>."""
    state = tmp_path / "served-state"
    proc = subprocess.Popen(
        [str(BIN / "glasspocket"), "witness", "serve",
         "--key", str(demo.keys / "witness-committee.key"), "--state", str(state),
         "--port", "0", "--stop-after", "60", "--policy-log", str(demo.log_key.verifier())],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        assert " listening on " in banner, banner + (proc.stderr.read() if proc.stderr else "")
        url = banner.rsplit(" ", 1)[1].strip().removesuffix("/add-checkpoint")
        yield url, state
    finally:
        proc.terminate()
        proc.communicate(timeout=10)  # waits, and closes the pipes


def post(url: str, body: str) -> tuple[int, str, str]:
    request = urllib.request.Request(url + "/add-checkpoint", data=body.encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def test_collect_over_http_stores_the_cosignature_and_follows_growth(
    run: Run, demo: DemoExport, copy: str, served: tuple[str, Path]
) -> None:
    """Given the committee's witness serving add-checkpoint, when the log collects for its
    newest checkpoint, then the witness cosigns it; after one more entry, collect learns the
    witness's size from its 409 and sends the consistency proof from it, and is cosigned again."""
    url, state = served
    common = ("--db", copy, "--keys", demo.keys)
    proc = run("glasspocket", "witness", "collect", "-c", "demo", url, *common)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "witness-committee" in proc.stdout
    size = append_donation(demo, copy)
    proc = run("glasspocket", "witness", "collect", "-c", "demo", url, *common)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"{size} cosigned by witness-committee" in proc.stdout
    service = LedgerService(copy)
    try:
        assert set(service.cosignature_lines("demo", size)) == {"witness-committee"}
    finally:
        service.close()
    record = json.loads((state / "witness-state.json").read_text())
    assert record["logs"][demo.origin]["size"] == size


def test_http_witness_refuses_inconsistent_checkpoints(
    demo: DemoExport, served: tuple[str, Path], tmp_path: Path
) -> None:
    """Given the served witness cosigned the honest checkpoint, then over HTTP:
    a wrong old size is 409 with its size (text/x.tlog.size); the same size with another
    root is 409; a larger log of another history is 422; another log's checkpoint is 404."""
    url, _ = served
    honest_note = (demo.export / "checkpoint").read_text()
    size = parse_checkpoint(parse_note(honest_note).text).size
    status, _, body = post(url, format_add_checkpoint(0, [], honest_note))
    assert status == 200 and body.startswith("— demo-witnesses/committee-wang ")

    status, content_type, body = post(url, format_add_checkpoint(0, [], honest_note))
    assert (status, content_type.split(";")[0], body) == (409, "text/x.tlog.size", f"{size}\n")

    entries = forgery.read_entries(demo.export)
    swapped = forgery.swap(entries, 5, 6)
    same_size = forgery.write_export(swapped, tmp_path / "same", demo.log_key)
    status, _, body = post(url, format_add_checkpoint(size, [], read(same_size)))
    assert status == 409 and "witness_fork" in body

    grown = [*swapped, entries[3]]
    larger = forgery.write_export(grown, tmp_path / "larger", demo.log_key)
    tree = MemoryTree([leaf_hash(e) for e in grown])
    proof = consistency_proof(size, len(grown), tree)
    status, _, body = post(url, format_add_checkpoint(size, proof, read(larger)))
    assert status == 422 and "inconsistent" in body

    stranger = SigningKey.generate("elsewhere.example/c/x/log")
    other = forgery.write_export(entries[:3], tmp_path / "other", stranger)
    status, _, _ = post(url, format_add_checkpoint(0, [], read(other)))
    assert status == 404


def read(export: Path) -> str:
    return (export / "checkpoint").read_text()
