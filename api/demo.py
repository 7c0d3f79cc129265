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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api.demo_governance import GovernanceStory
from api.demo_story import BANK_FEE_NOT_YET_BOOKED_FEN, BOOKS, Draft, StoryUnit, YearStory
from api.demo_witnesses import demo_policy, witness_demo
from ledger.core.entry import Entry, sign_entry
from ledger.core.errors import DemoOtherHostError, KeyFileExistsError
from ledger.core.keys import KEY_TYPE_ED25519, SigningKey
from ledger.core.rules import apply
from ledger.core.state import CommunityState
from ledger.core.statement_rules import expected_body
from ledger.core.statements import statement_id
from ledger.store.service import LedgerService

COMMUNITY = "demo"
NAME = "玻璃口袋示范小区 Glass Pocket Demo Estate"
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

    def key(
        self, handle: str, name: str | None = None, key_type: int = KEY_TYPE_ED25519
    ) -> SigningKey:
        if handle not in self.keys:
            material = hashlib.sha256(f"glasspocket-demo/{self.seed}/{handle}".encode()).digest()
            self.keys[handle] = SigningKey(name or f"{COMMUNITY}/{handle}", key_type, material)
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
                    raise KeyFileExistsError(
                        f"{path} holds another key; remove it or use another --keys",
                        f"{path} 中是另一把密钥；请移除它或使用另一个 --keys",
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

    def entry(
        self, handle: str, entry_type: str, at: str, body: dict[str, Any], entry_id: str = ""
    ) -> Entry:
        self.counter += 1
        digest = hashlib.sha256(f"demo-entry/{self.cast.seed}/{self.counter}".encode()).digest()
        entry_id = entry_id or str(uuid.UUID(bytes=digest[:16], version=4))
        return sign_entry(
            self.cast.key(handle),
            community=COMMUNITY,
            type=entry_type,
            body=body,
            at=at,
            entry_id=entry_id,
        )


def _check_same_host(service: LedgerService, cast: DemoCast) -> None:
    """The stored demo's log origin names its host and port: a demo for another is refused."""
    stored = service.community_info(COMMUNITY)["origin"]
    if stored != cast.log_key.name:
        port = stored.split("/", 1)[0].rpartition(":")[2]
        raise DemoOtherHostError(
            f"this database holds the demo built for {stored}; run glasspocket demo with "
            f"--port {port}, or give another --db",
            f"此数据库中的示范小区是为 {stored} 生成的；请使用 --port {port} 运行，"
            "或指定另一个 --db",
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
    policy = demo_policy(cast.log_key, cast.key)
    state = apply(CommunityState(), founded)
    story_units = [StoryUnit(u.code, u.building, u.area_cm2, u.owner) for u in units]
    e_voters = {u.owner: f"owner-{u.code}" for u in owner_key_units(units)}
    drafts = _people(cast, units) + YearStory(story_units, rng).drafts()
    drafts += GovernanceStory(story_units, random.Random(seed + 1), e_voters).drafts()
    drafts.sort(key=lambda draft: draft.at)
    story = sign_drafts(writer, drafts, state)
    if COMMUNITY in service.communities():
        _check_same_host(service, cast)
        return cast  # every key is derived, so --keys can write them
    service.found(founded, policy)
    for start in range(0, len(story), BATCH):
        service.submit_batch(COMMUNITY, story[start : start + BATCH])
        if progress is not None:
            progress(min(start + BATCH, len(story)), len(story))
    witness_demo(service, cast.key, cast.log_key)
    return cast


def _founding(writer: DemoWriter, cast: DemoCast) -> Entry:
    founders = [
        ("committee-chair", "committee"),
        ("committee-wang", "committee"),
        ("committee-li", "committee"),
        ("jiedao", "authority"),
    ]
    keys = [{"vkey": str(cast.key(handle).verifier()), "role": role} for handle, role in founders]
    charter = {"routine_limit_fen": 2_000_000, "committee_limit_fen": 10_000_000}
    body = {"name": NAME, "origin": origin_for(cast.public_host), "keys": keys, "charter": charter}
    return writer.entry("committee-chair", "community.founded", "2025-01-02T09:00:00+08:00", body)


def owner_key_units(units: list[DemoUnit]) -> list[DemoUnit]:
    """Owners who vote with their own keys: three in building 1, two in building 2."""
    return [*units[1:4], *units[67:69]]


def _people(cast: DemoCast, units: list[DemoUnit]) -> list[Draft]:
    """The chair registers the treasurer and the trustee's accountant (each then needs a second
    member's approval), and the owners who vote with their own keys."""
    day = "2025-01-02T10:00:00+08:00"
    drafts = [
        Draft(
            day,
            "committee-chair",
            "key.registered",
            {"vkey": str(cast.key("treasurer").verifier()), "role": "treasurer"},
            "treasurer-key",
        ),
        Draft(
            day,
            "committee-chair",
            "key.registered",
            {"vkey": str(cast.key("trustee").verifier()), "role": "trustee"},
            "trustee-key",
        ),
    ]
    for unit in owner_key_units(units):
        vkey = str(cast.key(f"owner-{unit.code}").verifier())
        drafts.append(
            Draft(
                day,
                "committee-wang",
                "key.registered",
                {"vkey": vkey, "role": "owner", "owner": unit.owner},
            )
        )
    for unit in units:
        drafts.append(
            Draft(
                "2025-01-03T09:00:00+08:00",
                "treasurer",
                "unit.registered",
                {
                    "unit": unit.code,
                    "building": unit.building,
                    "area_cm2": unit.area_cm2,
                    "owner": unit.owner,
                },
            )
        )
    return drafts


def sign_drafts(writer: DemoWriter, drafts: list[Draft], state: CommunityState) -> list[Entry]:
    """Sign each draft with its actor's key, in order, folding as we go (the demo must be lawful).

    Placeholders resolve against the state at that point: ``@tag`` cites an earlier
    draft's entry id; a bank assertion's BOOKS balance is what the books then say; a
    statement's body is computed by the rules' own function, with its deterministic id.
    """
    ids: dict[str, str] = {}
    entries: list[Entry] = []
    for draft in drafts:
        body = {
            k: ids[v[1:]] if isinstance(v, str) and v.startswith("@") else v
            for k, v in draft.body.items()
        }
        if draft.type == "bank.balance_asserted" and body["balance_fen"] == BOOKS:
            body["balance_fen"] = state.balance(body["fund"]) - (
                BANK_FEE_NOT_YET_BOOKED_FEN if draft.tag == "bank-fee" else 0
            )
        entry_id = ""
        if draft.type == "statement.published":
            body = expected_body(state, body["period"])
            entry_id = statement_id(COMMUNITY, body["period"])
        entry = writer.entry(draft.actor, draft.type, draft.at, body, entry_id)
        apply(state, entry)
        if draft.tag is not None:
            ids[draft.tag] = entry.id
        entries.append(entry)
    return entries
