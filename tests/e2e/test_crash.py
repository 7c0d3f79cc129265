"""Faults: a server killed mid-ingest, a lost database connection, a full disk.

- ``kill -9`` of ``glasspocket serve`` while a client posts lawful signed entries as fast
  as it can, 20 times at random (seeded) moments, restarting each time. Afterwards every
  acknowledged entry (201, or 200 for an identical resubmission) is at the index it was
  acknowledged at, nothing is half-written (events, leaf hashes and full tiles agree), the
  entries whose answer was lost to the kill are either wholly there or wholly absent, and
  the exported log passes ``glasspocket-verify log``.
- A PostgreSQL connection terminated under the service (``pg_terminate_backend``), and a
  database on a dead port, give ``storage_unavailable`` with nothing half-written.
- A full disk (SQLite's page limit, the same error a full file system gives) gives
  ``storage_full`` in zh-CN and en, and nothing of the refused batch is stored.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import Run
from server_process import Server
from sqlalchemy import event, func, select, text

from ledger.core.entry import Entry, sign_entry
from ledger.core.errors import LedgerError, StorageError, StorageFullError
from ledger.core.keys import SigningKey
from ledger.core.merkle import leaf_hash
from ledger.core.policy import build_policy
from ledger.store import tables
from ledger.store.service import LedgerService

AT = "2025-06-01T08:00:00Z"
COMMUNITY = "acme"
UNIT = "1-1-101"
KILLS = 20
SEED = 20251123


@dataclass
class Acme:
    """A small community: its database, a keys folder holding only the log key, the treasurer."""

    db_url: str
    keys: Path
    log_key: SigningKey
    treasurer: SigningKey
    policy: Path

    def payment(self, amount_fen: int) -> Entry:
        body = {"fund": "property", "unit": UNIT, "amount_fen": amount_fen, "month": "2025-05"}
        return sign_entry(
            self.treasurer,
            community=COMMUNITY,
            type="contribution.received",
            at=AT,
            body=body,
            entry_id=str(uuid.uuid4()),
        )


def found_acme(db_url: str, folder: Path) -> Acme:
    log_key = SigningKey.generate(f"localhost/c/{COMMUNITY}/log")
    chair = SigningKey.generate(f"{COMMUNITY}/chair")
    treasurer = SigningKey.generate(f"{COMMUNITY}/treasurer")
    keys = folder / "keys"
    keys.mkdir()
    log_key.save(keys / "log.key")
    policy = str(build_policy(log_key.verifier(), [], "none"))
    (folder / "policy").write_text(policy)
    service = LedgerService(db_url, [log_key])
    try:

        def sign(key: SigningKey, entry_type: str, body: dict[str, Any]) -> Entry:
            return sign_entry(key, community=COMMUNITY, type=entry_type, at=AT, body=body)

        keys_body = [{"vkey": str(chair.verifier()), "role": "committee"}]
        founded = {"name": "Acme 阿克米", "origin": log_key.name, "keys": keys_body}
        service.found(sign(chair, "community.founded", founded), policy)
        register = {"vkey": str(treasurer.verifier()), "role": "treasurer"}
        service.submit(COMMUNITY, sign(chair, "key.registered", register))
        unit = {"unit": UNIT, "building": "1", "area_cm2": 89_200, "owner": "own-1"}
        service.submit(COMMUNITY, sign(treasurer, "unit.registered", unit))
    finally:
        service.close()
    return Acme(db_url, keys, log_key, treasurer, folder / "policy")


@pytest.fixture
def acme(tmp_path: Path) -> Acme:
    return found_acme(f"sqlite:///{tmp_path / 'acme.db'}", tmp_path)


# --- kill -9 during ingest ---------------------------------------------------------------------


@dataclass
class Ingest:
    """A client posting as fast as it can until the server stops answering."""

    acme: Acme
    url: str
    acked: dict[str, int] = field(default_factory=dict)  # id -> acknowledged index
    in_flight: list[Entry] = field(default_factory=list)  # posted, answer lost
    refused: list[str] = field(default_factory=list)

    def post(self, entry: Entry) -> int | None:
        """The acknowledged index, or None when the connection died before the answer."""
        request = urllib.request.Request(
            f"{self.url}/c/{COMMUNITY}/entries",
            data=entry.entry_bytes(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(json.loads(response.read())["index"])
        except urllib.error.HTTPError as exc:
            self.refused.append(f"{exc.code} {exc.read()[:200]!r}")
            return None
        except (urllib.error.URLError, OSError, http.client.HTTPException):
            return None  # killed before or while answering

    def run(self, stop: threading.Event, start: int) -> None:
        amount = start
        while not stop.is_set():
            amount += 1
            entry = self.acme.payment(amount)
            index = self.post(entry)
            if index is None:
                self.in_flight.append(entry)
                return
            self.acked[entry.id] = index


def test_kill_9_during_ingest_loses_nothing_acknowledged(
    acme: Acme, run: Run, tmp_path: Path
) -> None:
    """Given a server killed with SIGKILL at 20 random moments while a client posts,
    and restarted each time, then every acknowledged entry is there at its index, the
    answers lost to the kill are wholly there or wholly absent (and resubmitting them is
    safe), nothing is half-written, and the exported log verifies."""
    rng = random.Random(SEED)
    log = tmp_path / "serve.log"
    ingest: Ingest | None = None
    acked: dict[str, int] = {}
    lost: list[Entry] = []
    for kill in range(KILLS):
        server = Server.start(acme.db_url, acme.keys, log)
        ingest = Ingest(acme, server.url)
        if lost:  # the entry whose answer the last kill ate: resubmitting is safe
            index = ingest.post(lost[-1])
            assert index is not None, ingest.refused
            acked[lost[-1].id] = index
        stop = threading.Event()
        client = threading.Thread(target=ingest.run, args=(stop, kill * 1_000_000))
        client.start()
        time.sleep(rng.uniform(0.02, 0.5))
        server.kill()
        stop.set()
        client.join(timeout=30)
        assert ingest.refused == [], ingest.refused
        acked.update(ingest.acked)
        lost.extend(ingest.in_flight)
    assert len(acked) > KILLS, "the client hardly got any entry in"
    _check_stored(acme, acked, lost)
    server = Server.start(
        acme.db_url, acme.keys, log
    )  # signs the checkpoint a kill may have missed
    server.stop()
    export = tmp_path / "export"
    proc = run("glasspocket", "log", "export", "-c", COMMUNITY, "--db", acme.db_url,
               "--keys", acme.keys, export)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    verdict = run("glasspocket-verify", "--lang", "en", "log", export, "--policy", acme.policy)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr


def _check_stored(acme: Acme, acked: dict[str, int], lost: list[Entry]) -> None:
    service = LedgerService(acme.db_url)
    try:
        size = service.size(COMMUNITY)
        entries = service.entries(COMMUNITY, 0, size)
        assert len(entries) == size
        _assert_whole(service, entries)
        ids = [json.loads(e)["id"] for e in entries]
        assert len(set(ids)) == size, "an entry is stored twice"
        for entry_id, index in acked.items():
            assert ids[index] == entry_id, f"acknowledged {entry_id} is not at #{index}"
        allowed = set(acked) | {e.id for e in lost}
        assert set(ids[3:]) <= allowed, "an entry nobody posted is in the log"
    finally:
        service.close()


def _assert_whole(service: LedgerService, entries: list[bytes]) -> None:
    """Events, leaf hashes and full tiles describe the same entries: none half-written."""
    size = len(entries)
    hashes = service.hashes(COMMUNITY)
    assert hashes.elements(0, 0, size) == [leaf_hash(e) for e in entries]
    with service.engine.connect() as conn:
        leaves = conn.execute(select(func.count()).select_from(tables.leaves)).scalar_one()
        full = conn.execute(
            select(func.count()).select_from(tables.tiles).where(tables.tiles.c.level == 0)
        ).scalar_one()
    assert (leaves, full) == (size, size // 256)


# --- a lost database connection ------------------------------------------------------------------


def _terminate_others(pg_url: str) -> int:
    name = pg_url.rsplit("/", 1)[1]
    admin_url = pg_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return len(rows)


@pytest.mark.postgres
def test_a_connection_terminated_under_the_service_leaves_no_partial_state(
    pg_url: str, tmp_path: Path
) -> None:
    """Given the database server terminating the service's connections again and again
    while it appends, then each submission is either stored whole or refused with
    ``storage_unavailable`` (503), never half-written; a refused one resubmitted is
    stored once, and every acknowledged entry is at its index."""
    acme = found_acme(pg_url, tmp_path)
    service = LedgerService(pg_url, [acme.log_key])
    stop = threading.Event()

    def terminator() -> None:
        while not stop.is_set():
            _terminate_others(pg_url)
            time.sleep(0.03)

    killer = threading.Thread(target=terminator)
    acked: dict[str, int] = {}
    codes: list[str] = []
    failed: list[Entry] = []
    killer.start()
    try:
        for amount in range(1, 61):
            entry = acme.payment(amount)
            try:
                acked[entry.id] = service.submit(COMMUNITY, entry).index
            except LedgerError as exc:
                codes.append(exc.code)
                failed.append(entry)
    finally:
        stop.set()
        killer.join()
    assert codes, "no connection was terminated mid-run"
    assert set(codes) <= {"storage_unavailable", "conflict"}, codes
    assert "storage_unavailable" in codes
    for entry in failed:  # an identical resubmission is always safe
        acked[entry.id] = _resubmit(service, entry)
    entries = service.entries(COMMUNITY, 0, service.size(COMMUNITY))
    _assert_whole(service, entries)
    ids = [json.loads(e)["id"] for e in entries]
    assert len(ids) == len(set(ids)) == 3 + 60
    assert all(ids[index] == entry_id for entry_id, index in acked.items())
    service.close()


def _resubmit(service: LedgerService, entry: Entry) -> int:
    """Submit again until the pool has replaced the connections terminated while idle."""
    for _ in range(5):
        try:
            return service.submit(COMMUNITY, entry).index
        except StorageError:
            continue
    raise AssertionError("the service did not recover from lost connections")


@pytest.mark.postgres
def test_a_database_nobody_answers_for_is_a_clear_error(run: Run, tmp_path: Path) -> None:
    """Given a database URL on a port where no server listens, the command line says
    ``storage_unavailable`` in the user's language, with no traceback."""
    dead = "postgresql://postgres@127.0.0.1:1/nothing"
    for lang, words in (("en", "cannot be reached"), ("zh_CN", "无法连接数据库")):
        proc = run("glasspocket", "log", "export", "-c", COMMUNITY, "--db", dead,
                   tmp_path / "out", lang=lang)  # fmt: skip
        assert proc.returncode == 1
        assert "[storage_unavailable]" in proc.stderr and words in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr


# --- a full disk -----------------------------------------------------------------------------------


def limit_growth(service: LedgerService, pages: int = 3) -> None:
    """From now on, the service's SQLite file may grow by ``pages`` pages only."""
    with service.engine.connect() as conn:
        now = int(conn.execute(text("PRAGMA page_count")).scalar_one())

    def limit(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {now + pages}")

    event.listen(service.engine, "connect", limit)
    service.engine.dispose()  # every connection from now on has the limit


@pytest.fixture
def full_disk(acme: Acme) -> Iterator[LedgerService]:
    """The service on acme's SQLite file, which may grow by a few pages only."""
    service = LedgerService(acme.db_url, [acme.log_key])
    limit_growth(service)
    yield service
    service.close()


def test_a_full_disk_refuses_the_batch_and_stores_nothing(
    acme: Acme, full_disk: LedgerService
) -> None:
    """Given a database that cannot grow, a batch of entries is refused with
    ``storage_full`` (507) in zh-CN and en, and the log is as it was before it."""
    service = full_disk
    before = service.entries(COMMUNITY, 0, service.size(COMMUNITY))
    stored = 0
    with pytest.raises(StorageFullError) as refused:
        for _ in range(200):
            service.submit_batch(COMMUNITY, [acme.payment(i + 1) for i in range(50)])
            stored += 50
    error = refused.value
    assert (error.code, error.status) == ("storage_full", 507)
    assert "full" in error.en and "数据库空间已满" in error.zh
    assert isinstance(error, StorageError)
    after = service.entries(COMMUNITY, 0, service.size(COMMUNITY))
    assert len(after) == len(before) + stored
    _assert_whole(service, after)


def test_a_full_disk_is_a_clear_http_answer(acme: Acme) -> None:
    """Given the server on a database that cannot grow, a POST is answered 507 with
    ``{"code": "storage_full", "message_zh", "message_en"}``, and nothing is stored."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
        from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import Settings

    full_disk = LedgerService(acme.db_url, [acme.log_key])
    app = create_app(Settings(acme.db_url, acme.keys), full_disk)
    limit_growth(full_disk)
    size = full_disk.size(COMMUNITY)
    with TestClient(app) as client:
        answers = []
        for amount in range(1, 400):
            payment = acme.payment(amount).entry_bytes()
            response = client.post(f"/c/{COMMUNITY}/entries", content=payment)
            answers.append(response.status_code)
            if response.status_code != 201:
                break
    assert response.status_code == 507, answers[-3:]
    body = response.json()
    assert body["code"] == "storage_full" and "数据库空间已满" in body["message_zh"]
    assert full_disk.size(COMMUNITY) == size + answers.count(201)
    _assert_whole(full_disk, full_disk.entries(COMMUNITY, 0, full_disk.size(COMMUNITY)))
    full_disk.close()
