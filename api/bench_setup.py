"""The benchmark's community and inputs: keys, the founded log, a bank file, pre-signed entries.

``glasspocket bench`` (``api.bench``) builds a fresh community ``bench`` in its own
database: a committee key founds it (a policy without witnesses, so every signed
checkpoint is published), a treasurer key is registered, and everything after
that is the treasurer's money entries (parking, advertising and venue revenue):
``bank_file`` writes N rows of them for ``glasspocket import`` and
``signed_entries`` pre-signs more for the HTTP clients (signing is the clients'
work, not the server's, so it is done before the clock starts).
"""

from __future__ import annotations

import csv
import uuid
from dataclasses import dataclass
from pathlib import Path

from ledger.core.entry import Entry, sign_entry
from ledger.core.keys import SigningKey
from ledger.core.policy import build_policy
from ledger.store.service import LedgerService

COMMUNITY = "bench"
ORIGIN = f"localhost/c/{COMMUNITY}/log"
KINDS = (("停车", "parking"), ("广告", "advertising"), ("场地", "venue"))


@dataclass(frozen=True)
class Bench:
    """Where a run keeps its files, and the keys it signs with."""

    folder: Path
    db_url: str
    committee: SigningKey
    treasurer: SigningKey
    log_key: SigningKey

    @property
    def keys_dir(self) -> Path:
        return self.folder / "keys"

    @property
    def treasurer_file(self) -> Path:
        return self.folder / "treasurer.key"

    @property
    def policy_file(self) -> Path:
        return self.folder / "policy.txt"


def found_bench(folder: Path, db_url: str) -> Bench:
    """Create the keys and found ``bench`` with its treasurer registered (2 entries)."""
    folder.mkdir(parents=True, exist_ok=True)
    bench = Bench(
        folder,
        db_url,
        SigningKey.generate(f"{COMMUNITY}/committee"),
        SigningKey.generate(f"{COMMUNITY}/treasurer"),
        SigningKey.generate(ORIGIN),
    )
    bench.keys_dir.mkdir(exist_ok=True)
    bench.log_key.save(bench.keys_dir / f"{COMMUNITY}-log.key")
    bench.treasurer.save(bench.treasurer_file)
    policy = str(build_policy(bench.log_key.verifier(), [], "none"))
    bench.policy_file.write_text(policy, encoding="utf-8")
    service = LedgerService(db_url, [bench.log_key])
    try:
        founded = _sign(
            bench.committee,
            "community.founded",
            {
                "name": "基准小区 Benchmark",
                "origin": ORIGIN,
                "keys": [{"vkey": str(bench.committee.verifier()), "role": "committee"}],
            },
        )
        service.found(founded, policy)
        registered = _sign(
            bench.committee,
            "key.registered",
            {"vkey": str(bench.treasurer.verifier()), "role": "treasurer"},
        )
        service.submit(COMMUNITY, registered)
    finally:
        service.close()
    return bench


def _sign(key: SigningKey, entry_type: str, body: dict[str, object], at: str = "") -> Entry:
    return sign_entry(
        key,
        community=COMMUNITY,
        type=entry_type,
        body=body,
        at=at or "2026-01-02T09:00:00+08:00",
        entry_id=str(uuid.uuid4()),
    )


def bank_file(path: Path, rows: int, seed: str = "") -> Path:
    """A bank statement CSV of ``rows`` revenue rows (distinct references, 2026 dates)."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["日期", "金额", "类型", "摘要", "流水号"])
        for i in range(rows):
            kind = KINDS[i % len(KINDS)][0]
            day = f"2026-{1 + i % 10:02d}-{1 + (i // 10) % 28:02d}"
            amount = f"{10 + i % 900}.{i % 100:02d}"
            writer.writerow([day, amount, kind, f"{kind} {i}", f"B{seed}{i:08d}"])
    return path


def signed_entries(bench: Bench, count: int) -> list[bytes]:
    """``count`` revenue entries signed by the treasurer, as clients would POST them."""
    out = []
    for i in range(count):
        source = KINDS[i % len(KINDS)][1]
        entry = _sign(
            bench.treasurer,
            "revenue.received",
            {
                "source": source,
                "amount_fen": 1000 + i % 50_000,
                "description": f"HTTP {source} {i}",
            },
            at=f"2026-11-{1 + i % 20:02d}T10:00:00+08:00",
        )
        out.append(entry.entry_bytes())
    return out
