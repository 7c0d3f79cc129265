"""Four processes writing to one PostgreSQL database at once: one linear log per community.

Each worker is a separate OS process (``python -c WORKER``) with its own ``LedgerService``
on the same database, holding the log keys as a server would. All start at the same
instant and submit lawful signed entries (the treasurer's property-fee payments) as fast
as they can, either all to one community or spread over three. Afterwards:

- every acknowledged entry is in its log exactly once, at the index it was acknowledged
  at, and nothing unacknowledged is (nothing lost, nothing duplicated);
- each log is one linear history, indices 0..n-1, and its leaves, tiles and entries agree
  with a tree built from the entries;
- every stored checkpoint is signed by the log key over the stored tree at its size, and
  is consistent with the one before it (RFC 6962 consistency proofs over stored hashes);
- two app instances on the database publish the same checkpoints, tiles and entries.

A worker whose submission meets a concurrent append (``conflict``, HTTP 409) resubmits the
identical entry, as an HTTP client would. ``test_concurrent_writers_are_never_refused``
states what the service owes its clients beyond that: a lawful entry is never refused
because another process appended at the same moment.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from ledger.core.entry import sign_entry
from ledger.core.keys import SigningKey
from ledger.core.merkle import MemoryTree, consistency_proof, leaf_hash, root_at, verify_consistency
from ledger.core.note import parse_checkpoint, parse_note, verify_note_signature
from ledger.core.policy import build_policy
from ledger.core.tiles import tile_path, tiles_for_size
from ledger.store.service import LedgerService

pytestmark = pytest.mark.postgres

AT = "2025-06-01T08:00:00Z"
UNIT = "1-1-101"
WORKERS = 4
PER_WORKER = 30

WORKER = r"""
import fcntl, json, sys, time, uuid
from ledger.core.entry import sign_entry
from ledger.core.errors import LedgerError
from ledger.core.keys import SigningKey
from ledger.store.service import LedgerService

job = json.loads(open(sys.argv[1]).read())
with open(job["start_lock"], "w") as lock:  # starts one at a time: see test_services_start_at_once
    fcntl.flock(lock, fcntl.LOCK_EX)
    service = LedgerService(job["db"], [SigningKey.from_private_line(k) for k in job["log_keys"]])
treasurers = {c: SigningKey.from_private_line(k) for c, k in job["treasurers"].items()}
acked, refused, conflicts = [], [], 0
while time.time() < job["start_at"]:
    time.sleep(0.001)
for i in range(job["count"]):
    community = job["communities"][(i + job["worker"]) % len(job["communities"])]
    entry = sign_entry(
        treasurers[community], community=community, type="contribution.received",
        at=job["at"], entry_id=str(uuid.uuid4()),
        body={"fund": "property", "unit": job["unit"], "month": "2025-05",
              "amount_fen": 1 + job["worker"] * 10_000 + i},
    )
    for attempt in range(job["attempts"]):
        try:
            appended = service.submit(community, entry)
        except LedgerError as exc:
            if exc.code == "conflict":
                conflicts += 1
                continue
            refused.append({"id": entry.id, "code": exc.code, "en": exc.en})
            break
        acked.append({"community": community, "index": appended.index, "id": entry.id,
                      "created": appended.created})
        break
    else:
        refused.append({"id": entry.id, "code": "conflict", "en": "gave up"})
service.close()
print(json.dumps({"acked": acked, "refused": refused, "conflicts": conflicts}))
"""


@dataclass
class Community:
    name: str
    log_key: SigningKey
    treasurer: SigningKey
    setup: int  # entries written before the workers start


def found(service: LedgerService, name: str) -> Community:
    log_key = SigningKey.generate(f"example.org/c/{name}/log")
    chair = SigningKey.generate(f"{name}/chair")
    treasurer = SigningKey.generate(f"{name}/treasurer")
    policy = str(build_policy(log_key.verifier(), [], "none"))
    service.add_log_key(log_key)

    def sign(key: SigningKey, entry_type: str, body: dict[str, Any]) -> Any:
        return sign_entry(key, community=name, type=entry_type, at=AT, body=body)

    service.found(
        sign(
            chair,
            "community.founded",
            {
                "name": f"{name} gardens",
                "origin": log_key.name,
                "keys": [{"vkey": str(chair.verifier()), "role": "committee"}],
            },
        ),
        policy,
    )
    service.submit(
        name,
        sign(chair, "key.registered", {"vkey": str(treasurer.verifier()), "role": "treasurer"}),
    )
    unit = {"unit": UNIT, "building": "1", "area_cm2": 89_200, "owner": "own-1"}
    service.submit(name, sign(treasurer, "unit.registered", unit))
    return Community(name, log_key, treasurer, 3)


def run_workers(
    db: str,
    communities: list[Community],
    names_per_worker: list[list[str]],
    attempts: int,
    folder: Path,
) -> list[dict[str, Any]]:
    start_at = time.time() + 4.0  # after every interpreter has started and imported
    processes = []
    for worker, names in enumerate(names_per_worker):
        job = {
            "db": db,
            "worker": worker,
            "count": PER_WORKER,
            "communities": names,
            "log_keys": [c.log_key.private_line() for c in communities],
            "treasurers": {c.name: c.treasurer.private_line() for c in communities},
            "unit": UNIT,
            "at": AT,
            "start_at": start_at,
            "attempts": attempts,
            "start_lock": str(folder / "start.lock"),
        }
        job_file = folder / f"job-{worker}.json"  # holds private keys: 0600, like key files
        job_file.touch(mode=0o600)
        job_file.write_text(json.dumps(job))
        process = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(job_file)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        processes.append(process)
    results = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
        results.append(json.loads(stdout))
    return results


def check_log(service: LedgerService, community: Community, acked: list[dict[str, Any]]) -> None:
    """One linear log holding exactly the setup and every acknowledged entry, once each."""
    name = community.name
    size = service.size(name)
    entries = service.entries(name, 0, size)
    assert len(entries) == size == community.setup + len(acked)
    ids = [json.loads(e)["id"] for e in entries]
    assert len(set(ids)) == size, "an entry is in the log twice"
    for ack in acked:
        assert ids[ack["index"]] == ack["id"], f"acknowledged {ack} is not at its index"
    tree = MemoryTree([leaf_hash(e) for e in entries])
    hashes = service.hashes(name)
    assert hashes.elements(0, 0, size) == [leaf_hash(e) for e in entries]
    assert root_at(size, hashes) == tree.root()


def check_checkpoints(service: LedgerService, community: Community) -> list[int]:
    """Every checkpoint is the log key's, over the stored tree, consistent with the one before."""
    name, hashes = community.name, service.hashes(community.name)
    sizes = service.checkpoint_sizes(name)
    assert sizes and sizes[-1] == service.size(name), "the newest entries have no checkpoint"
    previous: tuple[int, bytes] | None = None
    for size in sizes:
        note = service.checkpoint_note(name, size)
        verify_note_signature(note, community.log_key.verifier())
        checkpoint = parse_checkpoint(parse_note(note).text)
        assert (checkpoint.size, checkpoint.root) == (size, root_at(size, hashes))
        if previous is not None:
            proof = consistency_proof(previous[0], size, hashes)
            verify_consistency(previous[0], size, proof, previous[1], checkpoint.root)
        previous = (size, checkpoint.root)
    return sizes


def check_two_apps_agree(db: str, tmp_keys: Path, communities: list[Community]) -> None:
    """Two app instances on the database serve the same checkpoint, tiles and entry bundles."""
    settings = Settings(db, tmp_keys)
    services = [LedgerService(db, [c.log_key for c in communities]) for _ in range(2)]
    try:
        clients = [TestClient(create_app(settings, s)) for s in services]
        for community in communities:
            base = f"/c/{community.name}/log"
            seen = [c.get(f"{base}/checkpoint") for c in clients]
            assert all(r.status_code == 200 for r in seen)
            assert seen[0].text == seen[1].text
            size = parse_checkpoint(parse_note(seen[0].text).text).size
            paths = [tile_path(*t) for t in tiles_for_size(size)] + ["policy", "keychain"]
            for path in paths:
                a, b = (c.get(f"{base}/{path}") for c in clients)
                assert a.status_code == b.status_code == 200, path
                assert a.content == b.content, path
    finally:
        for service in services:
            service.close()


def scenario(pg_url: str, spread: bool, attempts: int, tmp_path: Path) -> list[dict[str, Any]]:
    setup = LedgerService(pg_url)
    try:
        names = ["acme", "beta", "gamma"] if spread else ["acme"]
        communities = [found(setup, name) for name in names]
    finally:
        setup.close()
    per_worker = [names] * WORKERS  # each worker round-robins over every community
    results = run_workers(pg_url, communities, per_worker, attempts, tmp_path)
    service = LedgerService(pg_url, [c.log_key for c in communities])
    try:
        for community in communities:
            acked = [a for r in results for a in r["acked"] if a["community"] == community.name]
            assert all(a["created"] for a in acked)
            check_log(service, community, acked)
            check_checkpoints(service, community)
    finally:
        service.close()
    check_two_apps_agree(pg_url, tmp_path, communities)
    return results


@pytest.mark.parametrize("spread", [False, True], ids=["one-community", "three-communities"])
def test_concurrent_writers_keep_one_linear_log(pg_url: str, spread: bool, tmp_path: Path) -> None:
    """Given four processes submitting at once (to one community, or round-robin over
    three), every acknowledged entry is stored once at its index, each log is linear,
    every checkpoint is consistent with the one before, and two apps agree."""
    results = scenario(pg_url, spread, attempts=50, tmp_path=tmp_path)
    assert [r["refused"] for r in results] == [[]] * WORKERS
    assert sum(len(r["acked"]) for r in results) == WORKERS * PER_WORKER


def test_concurrent_writers_are_never_refused(pg_url: str, tmp_path: Path) -> None:
    """Given four processes submitting lawful entries to one community at once, each
    submitted once, then every one is acknowledged: a concurrent append is the service's
    to retry, never the client's refusal."""
    results = scenario(pg_url, False, attempts=1, tmp_path=tmp_path)
    refused = [r for result in results for r in result["refused"]]
    assert refused == [], f"{len(refused)} lawful entries refused, e.g. {refused[:2]}"


STARTER = r"""
import sys, time
from ledger.store.service import LedgerService
start_at = float(sys.argv[2])
while time.time() < start_at:
    time.sleep(0.001)
LedgerService(sys.argv[1]).close()
"""


def test_services_start_at_once(pg_url: str) -> None:
    """Given four processes opening the ledger service on one fresh database at the same
    instant (two ``serve`` processes started together), then every one starts: creating
    the tables and triggers is safe to race."""
    start_at = str(time.time() + 3.0)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", STARTER, pg_url, start_at],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(WORKERS)
    ]
    failures = []
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        if process.returncode != 0:
            failures.append(next(x for x in stderr.splitlines() if "Error" in x))
    assert failures == []
