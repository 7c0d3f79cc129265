"""``glasspocket log restore``: a published log is its own backup.

The demo's export is restored into a fresh SQLite file and a fresh PostgreSQL database
with the real command line; the restored database exports the same tiles and entry
bundles byte for byte and the same cosigned checkpoint, and the resident's verifier
passes on that re-export. A tampered export is refused before anything is written, a
target that holds the community is refused, a failure part way leaves nothing, and a
log is restored over HTTP from a running ``glasspocket serve``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Run
from forgery import DemoExport
from server_process import Server
from sqlalchemy import func, select, text

from ledger.core.errors import StorageError
from ledger.core.keys import SigningKey
from ledger.core.policy import Policy, build_policy
from ledger.core.tiles import (
    entries_path,
    entry_bundles_for_size,
    tile_path,
    tiles_for_size,
    verified_entries,
)
from ledger.store import tables
from ledger.store.restore import restore_log
from ledger.store.service import LedgerService
from verify.sources import DirectorySource


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def restore(run: Run, source: str | Path, db: str, *more: str | Path) -> Any:
    return run("glasspocket", "log", "restore", source, "--db", db, *more)


def export(run: Run, db: str, out: Path) -> None:
    proc = run("glasspocket", "log", "export", "-c", "demo", "--db", db, "--keys", out / "no", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def assert_same_publication(original: Path, again: Path) -> None:
    """Every file of the re-export is the original's, byte for byte, and none is missing
    for the published size (the original also keeps partial tiles of older checkpoints)."""
    before, after = files(original), files(again)
    assert after["checkpoint"] == before["checkpoint"]
    for path, data in after.items():
        assert data == before[path], path
    size = int(before["checkpoint"].decode().split("\n")[1])
    needed = [tile_path(*t) for t in tiles_for_size(size)]
    needed += [entries_path(*b) for b in entry_bundles_for_size(size)]
    assert set(needed) <= set(after), set(needed) - set(after)


def community_rows(db_url: str) -> dict[str, int]:
    service = LedgerService(db_url)
    try:
        with service.engine.connect() as conn:
            counts = {
                t.name: int(
                    conn.execute(
                        select(func.count()).select_from(t).where(t.c.community == "demo")
                    ).scalar_one()
                )
                for t in (tables.communities, tables.leaves, tables.tiles, tables.checkpoints)
            }
            counts["events"] = int(
                conn.execute(text(f"SELECT count(*) FROM {tables.EVENTS_TABLE}")).scalar_one()
            )
        return counts
    finally:
        service.close()


# --- restore, re-export, verify ----------------------------------------------------------------


def test_restore_rebuilds_a_byte_identical_publication(
    run: Run, demo: DemoExport, database_url: str, tmp_path: Path
) -> None:
    """Given the demo's export, when it is restored into an empty database (SQLite and
    PostgreSQL) and exported again, then the tiles, entry bundles and cosigned checkpoint
    are the same bytes, the verifier passes on the re-export, and the read models are built."""
    proc = restore(run, demo.export, database_url, "--community", "demo", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    info = json.loads(proc.stdout)
    checkpoint = Policy.parse(demo.policy.read_bytes()).check(
        (demo.export / "checkpoint").read_bytes()
    )
    assert (info["community"], info["size"]) == ("demo", checkpoint.size)
    assert info["root"] == checkpoint.root.hex()
    assert info["projected"] == checkpoint.size
    assert info["read_replica"] is True  # no --keys: nobody here can sign a new checkpoint
    again = tmp_path / "re-export"
    export(run, database_url, again)
    assert_same_publication(demo.export, again)
    verdict = run("glasspocket-verify", "--lang", "en", "log", again, "--policy", demo.policy)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    assert "no violation" in verdict.stdout
    accounts = run("glasspocket", "accounts", "-c", "demo", "--db", database_url, "--json")
    assert accounts.returncode == 0, accounts.stdout + accounts.stderr


def test_restore_with_the_log_key_can_sign_again(
    run: Run, demo: DemoExport, tmp_path: Path
) -> None:
    """Given a keys folder holding the log key, the restore says so (not a read replica)."""
    db = f"sqlite:///{tmp_path / 'r.db'}"
    proc = restore(run, demo.export, db, "--keys", demo.keys, "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["log_key"] is True


def test_a_target_holding_the_community_is_refused(
    run: Run, demo: DemoExport, tmp_path: Path
) -> None:
    """Given a database that already holds 'demo', a restore into it is refused and
    changes nothing."""
    db = f"sqlite:///{tmp_path / 'r.db'}"
    assert restore(run, demo.export, db).returncode == 0
    before = community_rows(db)
    proc = restore(run, demo.export, db)
    assert proc.returncode == 1
    assert "[target_not_empty]" in proc.stderr
    assert community_rows(db) == before


# --- refusals ------------------------------------------------------------------------------------


def test_an_export_under_another_policy_than_the_pinned_one_is_refused(
    run: Run, demo: DemoExport, tmp_path: Path
) -> None:
    """Given ``--policy`` naming another log key than the export's policy, nothing is
    written: the pinned policy is what residents trust, not whatever the export carries."""
    other = build_policy(SigningKey.generate(demo.origin).verifier(), [], "none")
    pinned = tmp_path / "pinned-policy"
    pinned.write_text(str(other))
    db = tmp_path / "r.db"
    proc = restore(run, demo.export, f"sqlite:///{db}", "--policy", pinned)
    assert proc.returncode == 1
    assert "[restore_unverified]" in proc.stderr and "--policy" in proc.stderr
    assert not db.exists()


@pytest.fixture
def tampered(demo: DemoExport, tmp_path: Path) -> Path:
    """The demo's export with one byte of its first full level-0 tile changed."""
    copy = tmp_path / "tampered"
    shutil.copytree(demo.export, copy)
    tile = copy / tile_path(0, 0)
    data = bytearray(tile.read_bytes())
    data[100] ^= 0x01
    tile.write_bytes(bytes(data))
    return copy


def test_a_tampered_export_is_refused_and_nothing_is_written(
    run: Run, tampered: Path, database_url: str
) -> None:
    """Given an export with one tile byte changed, the restore is refused with the
    verifier's finding, in English and in Chinese, and the target holds nothing."""
    proc = restore(run, tampered, database_url)
    assert proc.returncode == 1
    assert "[restore_unverified]" in proc.stderr and "tiles" in proc.stderr
    proc_zh = run("glasspocket", "log", "restore", tampered, "--db", database_url, lang="zh_CN")
    assert "未通过验证" in proc_zh.stderr
    assert all(count == 0 for count in community_rows(database_url).values())


def test_a_failure_part_way_leaves_no_trace(
    demo: DemoExport, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a database that fails on the third chunk (a lost connection), the restore
    raises, every row it wrote is gone (snapshots too), the rows stay immutable, and a
    second restore into the same database then succeeds."""
    # a snapshot every 300 entries, so that one is taken before the failure
    monkeypatch.setattr("ledger.store.service.SNAPSHOT_INTERVAL", 300, raising=False)
    policy = Policy.parse(demo.policy.read_bytes())
    verified = policy.check((demo.export / "checkpoint").read_bytes())
    source = DirectorySource(demo.export)

    def entries() -> Iterator[bytes]:
        return (d for _, d in verified_entries(verified.size, verified.root, source.read))

    service = LedgerService(database_url)
    try:
        real = service.submit_batch
        calls: list[int] = []

        def flaky(community: str, items: Any) -> Any:
            calls.append(len(items))
            if len(calls) == 3:
                raise StorageError("connection lost (simulated)", "连接中断（模拟）")
            return real(community, items)

        monkeypatch.setattr(service, "submit_batch", flaky)
        with pytest.raises(StorageError):
            restore_log(service, policy, verified, entries(), chunk=256)
        assert service.communities() == []
        assert all(count == 0 for count in community_rows(database_url).values())
        assert snapshot_rows(service) == 0
        _assert_still_immutable(service)
        monkeypatch.setattr(service, "submit_batch", real)
        restored = restore_log(service, policy, verified, entries(), chunk=256)
        assert restored.size == verified.size
        assert snapshot_rows(service) > 0
        assert service.state("demo").size == verified.size
        _assert_still_immutable(service)
    finally:
        service.close()


def snapshot_rows(service: LedgerService) -> int:
    if service.app.snapshots is None:
        return 0
    recorder: Any = service.app.snapshots.recorder
    table = recorder.events_record_cls.__table__
    with service.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _assert_still_immutable(service: LedgerService) -> None:
    with pytest.raises(Exception, match="immutable"), service.engine.begin() as conn:
        conn.execute(text("INSERT INTO gp_leaves (community, idx, hash) VALUES ('x', 0, :h)"),
                     {"h": b"\0" * 32})  # fmt: skip
        conn.execute(text("DELETE FROM gp_leaves WHERE community = 'x'"))


# --- over HTTP ------------------------------------------------------------------------------------


def test_restore_over_http_from_a_running_server(
    run: Run, demo: DemoExport, tmp_path: Path
) -> None:
    """Given ``glasspocket serve`` publishing the demo, when the log is restored from its
    URL, then the restored database publishes the same checkpoint and tiles."""
    shutil.copy(demo.db_url.removeprefix("sqlite:///"), tmp_path / "served.db")
    server = Server.start(f"sqlite:///{tmp_path / 'served.db'}", demo.keys, tmp_path / "serve.log")
    try:
        db = f"sqlite:///{tmp_path / 'replica.db'}"
        proc = restore(run, f"{server.url}/c/demo/log", db, "--community", "demo")
        assert proc.returncode == 0, proc.stdout + proc.stderr + server.output()
        assert "read replica" in proc.stderr
    finally:
        server.stop()
    again = tmp_path / "re-export"
    export(run, db, again)
    assert_same_publication(demo.export, again)
