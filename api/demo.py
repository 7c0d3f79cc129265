"""The demo community ``demo``: deterministic people, units and a quarter of money.

Everything derives from the seed: the keys (so ``--keys`` writes the same files
each time), the entry ids, the amounts. Every entry is signed by its actor's own
key and goes through the same write path as any submission. The story is of a
year that has already ended (2025), so every period can be published.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.core.entry import Entry, sign_entry
from ledger.core.keys import KEY_TYPE_ED25519, SigningKey
from ledger.core.money import monthly_charge_fen
from ledger.core.policy import build_policy
from ledger.store.service import LedgerService

COMMUNITY = "demo"
NAME = "玻璃口袋示范小区 Glass Pocket Demo Estate"
PROPERTY_RATE_FEN_PER_M2 = 250  # 2.50 yuan per m² per month
MAINTENANCE_FIRST_DEPOSIT_FEN_PER_M2 = 8_000  # 80 yuan per m²
BATCH = 250

Progress = Callable[[int, int], None]


def origin_for(public_host: str, community: str = COMMUNITY) -> str:
    return f"{public_host}/c/{community}/log"


@dataclass
class DemoCast:
    """The demo's people: every key derives from the seed."""

    seed: int
    public_host: str
    keys: dict[str, SigningKey] = field(default_factory=dict)

    def key(self, handle: str, name: str | None = None) -> SigningKey:
        if handle not in self.keys:
            material = hashlib.sha256(f"glasspocket-demo/{self.seed}/{handle}".encode()).digest()
            self.keys[handle] = SigningKey(
                name or f"{COMMUNITY}/{handle}", KEY_TYPE_ED25519, material
            )
        return self.keys[handle]

    @property
    def log_key(self) -> SigningKey:
        return self.key("log", origin_for(self.public_host))

    def write(self, folder: Path) -> list[Path]:
        """Write every key, one file each, directly in ``folder`` (mode 0600); keep existing ones."""
        folder.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        for handle, key in sorted(self.keys.items()):
            path = folder / f"{handle}.key"
            if path.exists():
                existing = SigningKey.load(path)
                if existing.private_line() != key.private_line():
                    raise FileExistsError(
                        f"{path} holds another key; remove it or use another --keys"
                    )
            else:
                key.save(path)
            written.append(path)
        return written


@dataclass(frozen=True)
class DemoUnit:
    code: str
    building: str
    area_cm2: int
    owner: str


def demo_units(rng: random.Random) -> list[DemoUnit]:
    """About 200 units in 3 buildings; some owners hold two; the developer keeps a few unsold."""
    units: list[DemoUnit] = []
    for building in ("1", "2", "3"):
        for entrance in (1, 2):
            for floor in range(1, 12):
                for room in (1, 2, 3):
                    code = f"{building}-{entrance}-{floor}{room:02d}"
                    area_m2 = rng.choice((68, 76, 89, 96, 108, 121, 135))
                    area_cm2 = area_m2 * 10_000 + rng.randrange(0, 10_000)
                    units.append(DemoUnit(code, building, area_cm2, _owner_ref(code)))
    for index in range(0, len(units), 37):
        units[index] = DemoUnit(
            units[index].code, units[index].building, units[index].area_cm2, "developer"
        )
    for index in range(5, len(units) - 1, 53):
        nxt = units[index + 1]
        units[index + 1] = DemoUnit(nxt.code, nxt.building, nxt.area_cm2, units[index].owner)
    return units


def _owner_ref(code: str) -> str:
    return "o-" + hashlib.sha256(f"demo-owner/{code}".encode()).hexdigest()[:12]


class DemoWriter:
    """Signs the demo's entries, each with its actor's key, with ids derived from the seed."""

    def __init__(self, cast: DemoCast) -> None:
        self.cast = cast
        self.counter = 0

    def entry(self, handle: str, entry_type: str, at: str, body: dict[str, Any]) -> Entry:
        self.counter += 1
        digest = hashlib.sha256(f"demo-entry/{self.cast.seed}/{self.counter}".encode()).digest()
        entry_id = str(uuid.UUID(bytes=digest[:16], version=4))
        return sign_entry(
            self.cast.key(handle),
            community=COMMUNITY,
            type=entry_type,
            body=body,
            at=at,
            entry_id=entry_id,
        )


def build_demo(
    service: LedgerService,
    seed: int = 2025,
    public_host: str = "localhost:8000",
    progress: Progress | None = None,
) -> DemoCast:
    """Found the demo community (if absent) and record its story; returns the cast."""
    cast = DemoCast(seed, public_host)
    rng = random.Random(seed)
    units = demo_units(rng)
    writer = DemoWriter(cast)
    service.add_log_key(cast.log_key)
    founded = _founding(writer, cast)
    policy = str(build_policy(cast.log_key.verifier(), [], "none"))
    if COMMUNITY in service.communities():
        _ = list(_story(writer, units, rng))  # derive every key, so --keys can write them
        return cast
    service.found(founded, policy)
    story = list(_story(writer, units, rng))
    for start in range(0, len(story), BATCH):
        service.submit_batch(COMMUNITY, story[start : start + BATCH])
        if progress is not None:
            progress(min(start + BATCH, len(story)), len(story))
    return cast


def _founding(writer: DemoWriter, cast: DemoCast) -> Entry:
    founders = [
        ("committee-chair", "committee"),
        ("committee-wang", "committee"),
        ("committee-li", "committee"),
        ("jiedao", "authority"),
    ]
    keys = [{"vkey": str(cast.key(handle).verifier()), "role": role} for handle, role in founders]
    body = {"name": NAME, "origin": origin_for(cast.public_host), "keys": keys}
    return writer.entry("committee-chair", "community.founded", "2025-01-02T09:00:00+08:00", body)


def _story(writer: DemoWriter, units: list[DemoUnit], rng: random.Random) -> Iterator[Entry]:
    cast = writer.cast
    day = "2025-01-02T10:00:00+08:00"
    yield writer.entry(
        "committee-chair",
        "key.registered",
        day,
        {"vkey": str(cast.key("treasurer").verifier()), "role": "treasurer"},
    )
    for unit in units[1:4]:
        yield writer.entry(
            "committee-wang",
            "key.registered",
            day,
            {
                "vkey": str(cast.key(f"owner-{unit.code}").verifier()),
                "role": "owner",
                "owner": unit.owner,
            },
        )
    for unit in units:
        yield writer.entry(
            "treasurer",
            "unit.registered",
            "2025-01-03T09:00:00+08:00",
            {
                "unit": unit.code,
                "building": unit.building,
                "area_cm2": unit.area_cm2,
                "owner": unit.owner,
            },
        )
    yield from _deposits(writer, units, rng)
    yield from _property_fees(writer, units, rng)


def _deposits(writer: DemoWriter, units: list[DemoUnit], rng: random.Random) -> Iterator[Entry]:
    for unit in units:
        amount = unit.area_cm2 * MAINTENANCE_FIRST_DEPOSIT_FEN_PER_M2 // 10_000
        day = 6 + rng.randrange(0, 20)
        yield writer.entry(
            "treasurer",
            "contribution.received",
            f"2025-01-{day:02d}T10:30:00+08:00",
            {
                "fund": "maintenance",
                "unit": unit.code,
                "amount_fen": amount,
                "deposit": "initial",
                "method": "bank",
            },
        )


def _property_fees(
    writer: DemoWriter, units: list[DemoUnit], rng: random.Random
) -> Iterator[Entry]:
    late_payers = {u.code for u in units if rng.random() < 0.12}
    for month in (1, 2, 3):
        for unit in units:
            if unit.owner == "developer" or (unit.code in late_payers and month > 1):
                continue
            charge = monthly_charge_fen(PROPERTY_RATE_FEN_PER_M2, unit.area_cm2)
            day = 5 + rng.randrange(0, 20)
            yield writer.entry(
                "treasurer",
                "contribution.received",
                f"2025-{month:02d}-{day:02d}T14:00:00+08:00",
                {
                    "fund": "property",
                    "unit": unit.code,
                    "amount_fen": charge,
                    "month": f"2025-{month:02d}",
                    "method": rng.choice(("bank", "wechat", "alipay")),
                },
            )
