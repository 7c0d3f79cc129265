"""The write side on a real database (SQLite and PostgreSQL): appends, refusals, tiles, proofs.

Every test founds its own tiny community with fresh keys: a committee chair who
signs the founding entry, a treasurer the chair registers, and one unit the
treasurer registers. The log key is held by the service unless a test says not.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, text

from ledger.core.entry import Entry, sign_entry
from ledger.core.errors import LedgerError
from ledger.core.keys import SigningKey
from ledger.core.merkle import (
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from ledger.core.note import parse_checkpoint, parse_note
from ledger.core.policy import Policy, build_policy
from ledger.core.tiles import TILE_HEIGHT, TILE_WIDTH, tiles_for_size
from ledger.store import tables
from ledger.store.service import Appended, ConflictError, LedgerService

AT = "2025-06-01T08:00:00Z"
COMMUNITY = "acme"
UNIT = "1-1-101"


@dataclass
class Community:
    """A tiny community on one database: its keys, its policy and the service holding its log."""

    url: str
    service: LedgerService
    log_key: SigningKey
    chair: SigningKey
    treasurer: SigningKey
    policy: str
    founding: Entry
    name: str = COMMUNITY
    opened: list[LedgerService] = field(default_factory=list)

    def sign(self, key: SigningKey, entry_type: str, body: dict[str, Any], **kw: Any) -> Entry:
        return sign_entry(key, community=self.name, type=entry_type, body=body, at=AT, **kw)

    def unit(self, code: str, key: SigningKey | None = None, **kw: Any) -> Entry:
        body = {"unit": code, "building": "1", "area_cm2": 89_200, "owner": f"own-{code}"}
        return self.sign(key or self.treasurer, "unit.registered", body, **kw)

    def contribution(
        self,
        unit: str = UNIT,
        amount_fen: int = 12_345,
        *,
        key: SigningKey | None = None,
        entry_id: str | None = None,
        **more: Any,
    ) -> Entry:
        body = {"fund": "property", "unit": unit, "amount_fen": amount_fen, "month": "2025-05"}
        return self.sign(
            key or self.treasurer, "contribution.received", {**body, **more}, entry_id=entry_id
        )

    def other_service(self, **kw: Any) -> LedgerService:
        """Another process's view of the same database (closed with the community)."""
        service = LedgerService(self.url, [self.log_key], **kw)
        self.opened.append(service)
        return service

    def close(self) -> None:
        for service in [self.service, *self.opened]:
            service.close()


def found_community(url: str, *, hold_log_key: bool = True) -> Community:
    origin = f"example.org/c/{COMMUNITY}/log"
    log_key = SigningKey.generate(origin)
    chair = SigningKey.generate(f"{COMMUNITY}/chair")
    treasurer = SigningKey.generate(f"{COMMUNITY}/treasurer")
    policy = str(build_policy(log_key.verifier(), [], "none"))
    service = LedgerService(url, [log_key] if hold_log_key else [])
    founding = sign_entry(
        chair,
        community=COMMUNITY,
        type="community.founded",
        at=AT,
        body={
            "name": "Acme Gardens 阿克米花园",
            "origin": origin,
            "keys": [{"vkey": str(chair.verifier()), "role": "committee"}],
        },
    )
    community = Community(url, service, log_key, chair, treasurer, policy, founding)
    service.found(founding, policy)
    service.submit(
        COMMUNITY,
        community.sign(
            chair, "key.registered", {"vkey": str(treasurer.verifier()), "role": "treasurer"}
        ),
    )
    service.submit(COMMUNITY, community.unit(UNIT))
    return community


@pytest.fixture
def acme(database_url: str) -> Iterator[Community]:
    community = found_community(database_url)
    yield community
    community.close()


@pytest.fixture
def acme_without_log_key(sqlite_url: str) -> Iterator[Community]:
    community = found_community(sqlite_url, hold_log_key=False)
    yield community
    community.close()


def row_count(service: LedgerService, table: Any) -> int:
    with service.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def snapshot(service: LedgerService) -> dict[str, Any]:
    """Everything an append would change, read back from the database."""
    return {
        "size": service.size(COMMUNITY),
        "entries": service.entries(COMMUNITY, 0, 10**6),
        "leaves": row_count(service, tables.leaves),
        "tiles": row_count(service, tables.tiles),
        "checkpoints": service.checkpoint_sizes(COMMUNITY),
    }


def stored_leaf_hashes(service: LedgerService, size: int) -> list[bytes]:
    return service.hashes(COMMUNITY).elements(0, 0, size)


def assert_log_verifies(community: Community) -> None:
    """Leaves are the entries' hashes and the newest checkpoint signs their root under the policy."""
    service = community.service
    entries = service.entries(COMMUNITY, 0, 10**6)
    assert len(entries) == service.size(COMMUNITY) == service.state(COMMUNITY).size
    leaves = [leaf_hash(e) for e in entries]
    assert stored_leaf_hashes(service, len(entries)) == leaves
    latest = service.latest_checkpoint(COMMUNITY)
    assert latest is not None
    verified = Policy.parse(community.policy).check(latest[1])
    assert verified.size == len(entries)
    assert verified.root == root_from_leaf_hashes(leaves)


def reserialized(entry: Entry, style: str) -> str:
    """The same entry as other JSON text: any serialization is a valid submission."""
    fields = entry.as_dict()
    if style == "pretty":
        return json.dumps(fields, indent=4, ensure_ascii=False)
    if style == "reversed":
        return json.dumps(dict(reversed(list(fields.items()))), separators=(" , ", " : "))
    return json.dumps(fields, ensure_ascii=True)  # "ascii": non-ASCII as \\u escapes


# --- appending ------------------------------------------------------------------------------


def test_found_and_submit_append_in_order_with_a_checkpoint_per_commit(
    acme: Community,
) -> None:
    """Given a community founded, its treasurer and a unit registered,
    when a contribution is submitted,
    then the entries stand at indices 0..3, each commit got a checkpoint signed by the log key,
    and every checkpoint's root is the Merkle root of the leaf hashes of its entries."""
    service = acme.service

    appended = service.submit(COMMUNITY, acme.contribution())

    assert (appended.index, appended.created) == (3, True)
    entries = service.entries(COMMUNITY, 0, 4)
    assert [json.loads(e)["type"] for e in entries] == [
        "community.founded",
        "key.registered",
        "unit.registered",
        "contribution.received",
    ]
    assert entries[3] == appended.entry_bytes
    assert service.checkpoint_sizes(COMMUNITY) == [1, 2, 3, 4]
    policy = Policy.parse(acme.policy)
    for size in (1, 2, 3, 4):
        verified = policy.check(service.checkpoint_note(COMMUNITY, size))
        assert verified.size == size
        assert verified.origin == "example.org/c/acme/log"
        assert verified.root == root_from_leaf_hashes([leaf_hash(e) for e in entries[:size]])
    assert service.state(COMMUNITY).balance("property") == 12_345


def test_without_the_log_key_entries_append_and_the_checkpoint_waits(
    acme_without_log_key: Community,
) -> None:
    """Given a service that does not hold the log key,
    when entries are appended,
    then they are stored but no checkpoint is signed until the key is added."""
    acme = acme_without_log_key
    service = acme.service
    assert service.size(COMMUNITY) == 3
    assert service.checkpoint_sizes(COMMUNITY) == []
    assert service.sign_checkpoint(COMMUNITY) is None

    service.add_log_key(acme.log_key)
    note = service.sign_checkpoint(COMMUNITY)

    assert note is not None
    assert service.checkpoint_sizes(COMMUNITY) == [3]
    assert_log_verifies(acme)


@pytest.mark.parametrize("style", ["pretty", "reversed", "ascii"])
def test_identical_resubmission_returns_the_original_result(acme: Community, style: str) -> None:
    """Given an entry already in the log,
    when the same entry is submitted again, serialized with other whitespace and key order,
    then the original index comes back with created=False and nothing is appended."""
    service = acme.service
    entry = acme.contribution(reference="银行流水 0042")
    first = service.submit(COMMUNITY, entry)
    before = snapshot(service)

    again = service.submit(COMMUNITY, reserialized(entry, style))

    assert (again.index, again.entry_id, again.created) == (first.index, first.entry_id, False)
    assert again.entry_bytes == first.entry_bytes == entry.entry_bytes()
    assert snapshot(service) == before


def test_founding_again_returns_index_zero(acme: Community) -> None:
    """Given a founded community,
    when its founding entry is submitted to ``found`` again,
    then index 0 comes back with created=False and nothing is appended."""
    before = snapshot(acme.service)

    again = acme.service.found(acme.founding, acme.policy)

    assert (again.index, again.created) == (0, False)
    assert snapshot(acme.service) == before


def test_a_second_founding_entry_is_refused(acme: Community) -> None:
    """Given a founded community,
    when another community.founded entry for it (a new id) is given to ``found`` or ``submit``,
    then it is refused as a genesis violation and nothing is appended."""
    body = {
        "name": "Acme again",
        "origin": "example.org/c/acme/log",
        "keys": [{"vkey": str(acme.chair.verifier()), "role": "committee"}],
    }
    rival = acme.sign(acme.chair, "community.founded", body)
    before = snapshot(acme.service)

    for attempt in (
        lambda: acme.service.found(rival, acme.policy),
        lambda: acme.service.submit(COMMUNITY, rival),
    ):
        with pytest.raises(LedgerError) as refused:
            attempt()
        assert refused.value.code == "genesis"

    assert snapshot(acme.service) == before


# --- refusals -------------------------------------------------------------------------------

Case = Callable[[Community], tuple["bytes | str | Entry", str]]


def _duplicate_id(acme: Community) -> tuple[Entry, str]:
    first = acme.service.submit(COMMUNITY, acme.contribution())
    return acme.contribution(amount_fen=99, entry_id=first.entry_id), "duplicate_id"


def _unknown_signer(acme: Community) -> tuple[Entry, str]:
    stranger = SigningKey.generate(f"{COMMUNITY}/stranger")
    return acme.contribution(key=stranger), "unknown_signer"


def _impostor(acme: Community) -> tuple[Entry, str]:
    """A key that takes the treasurer's name but is not the registered key."""
    impostor = SigningKey.generate(acme.treasurer.name)
    return acme.contribution(key=impostor), "unknown_signer"


def _revoked_signer(acme: Community) -> tuple[Entry, str]:
    revoke = acme.sign(acme.chair, "key.revoked", {"name": acme.treasurer.name})
    acme.service.submit(COMMUNITY, revoke)
    return acme.contribution(), "unknown_signer"


def _role_may_not_sign_type(acme: Community) -> tuple[Entry, str]:
    return acme.contribution(key=acme.chair), "role_not_allowed"


def _role_may_not_register_role(acme: Community) -> tuple[Entry, str]:
    deputy = SigningKey.generate(f"{COMMUNITY}/deputy")
    body = {"vkey": str(deputy.verifier()), "role": "treasurer"}
    return acme.sign(acme.treasurer, "key.registered", body), "role_not_allowed"


def _bad_signature(acme: Community) -> tuple[str, str]:
    fields = acme.contribution().as_dict()
    fields["body"] = {**fields["body"], "amount_fen": 1_234_500}
    return json.dumps(fields), "bad_signature"


def _too_large(acme: Community) -> tuple[str, str]:
    fields = acme.contribution().as_dict()
    fields["body"] = {**fields["body"], "reference": "x" * 16_500}
    return json.dumps(fields), "too_large"


def _unknown_field(acme: Community) -> tuple[str, str]:
    return json.dumps({**acme.contribution().as_dict(), "note": "hi"}), "unknown_field"


def _unknown_body_field(acme: Community) -> tuple[str, str]:
    fields = acme.contribution().as_dict()
    fields["body"] = {**fields["body"], "payer_name": "张三"}
    return json.dumps(fields), "unknown_field"


def _float(acme: Community) -> tuple[bytes, str]:
    data = acme.contribution().entry_bytes()
    assert b'"amount_fen":12345,' in data
    return data.replace(b'"amount_fen":12345,', b'"amount_fen":12345.0,'), "malformed"


def _unknown_unit(acme: Community) -> tuple[Entry, str]:
    return acme.contribution(unit="9-9-909"), "unknown_unit"


def _other_community(acme: Community) -> tuple[Entry, str]:
    body = {"fund": "property", "unit": UNIT, "amount_fen": 100, "month": "2025-05"}
    entry = sign_entry(
        acme.treasurer, community="other", type="contribution.received", body=body, at=AT
    )
    return entry, "wrong_community"


def _not_json(acme: Community) -> tuple[bytes, str]:
    return b"\xff{not json", "malformed"


REFUSALS: dict[str, Case] = {
    "duplicate id, other content": _duplicate_id,
    "unknown signer": _unknown_signer,
    "impostor key under a registered name": _impostor,
    "role may not sign the type": _role_may_not_sign_type,
    "role may not register that role": _role_may_not_register_role,
    "bad signature": _bad_signature,
    "over 16 KiB": _too_large,
    "unknown field": _unknown_field,
    "unknown body field": _unknown_body_field,
    "float": _float,
    "unknown unit": _unknown_unit,
    "other community": _other_community,
    "not JSON": _not_json,
    "revoked signer": _revoked_signer,  # last: it revokes the treasurer the others sign with
}


def test_refused_entries_append_nothing(acme: Community, subtests: pytest.Subtests) -> None:
    """Given a community, and one after another the entries that SPEC §2 refuses,
    when each is submitted,
    then it is refused with its stable code, the database is unchanged (events, leaves,
    tiles, checkpoints), and the next good entry appends where it would have."""
    service = acme.service
    for n, (name, case) in enumerate(REFUSALS.items()):
        with subtests.test(name):
            data, code = case(acme)
            before = snapshot(service)

            with pytest.raises(LedgerError) as refused:
                service.submit(COMMUNITY, data)

            assert refused.value.code == code
            assert refused.value.en and refused.value.zh
            assert snapshot(service) == before
            after = service.submit(COMMUNITY, acme.unit(f"8-{n}", key=acme.chair))
            assert (after.index, after.created) == (before["size"], True)
    assert_log_verifies(acme)


def test_an_at_more_than_five_minutes_ahead_of_the_server_clock_is_refused(acme: Community) -> None:
    """Given a server whose clock reads 2025-06-01T08:00:00Z,
    when entries dated 08:05:01Z and 08:05:00Z (or 09:05:01+01:00) arrive,
    then the one more than five minutes ahead is refused (future_at) and appends nothing,
    and the one exactly five minutes ahead is accepted."""
    noon = datetime(2025, 6, 1, 8, 0, 0, tzinfo=UTC)
    service = acme.other_service(clock=lambda: noon)
    before = snapshot(service)

    for at in ("2025-06-01T08:05:01Z", "2025-06-01T09:05:01+01:00"):
        ahead = sign_entry(
            acme.treasurer,
            community=COMMUNITY,
            type="unit.registered",
            body={"unit": "1-1-103", "building": "1", "area_cm2": 1, "owner": "own-103"},
            at=at,
        )
        with pytest.raises(LedgerError) as refused:
            service.submit(COMMUNITY, ahead)
        assert refused.value.code == "future_at"
        assert snapshot(service) == before

    on_time = sign_entry(
        acme.treasurer,
        community=COMMUNITY,
        type="unit.registered",
        body={"unit": "1-1-103", "building": "1", "area_cm2": 1, "owner": "own-103"},
        at="2025-06-01T08:05:00Z",
    )
    assert service.submit(COMMUNITY, on_time).index == before["size"]


def test_a_batch_with_one_bad_entry_appends_none_of_it(acme: Community) -> None:
    """Given a batch of three entries whose middle one names an unknown unit,
    when it is submitted as one batch,
    then the batch is refused and none of it is appended; without the bad entry it appends."""
    service = acme.service
    good_a, good_b = acme.unit("2-1-101"), acme.unit("2-1-102")
    before = snapshot(service)

    with pytest.raises(LedgerError) as refused:
        service.submit_batch(COMMUNITY, [good_a, acme.contribution(unit="9-9-909"), good_b])

    assert refused.value.code == "unknown_unit"
    assert snapshot(service) == before
    assert "2-1-101" not in service.state(COMMUNITY).units
    results = service.submit_batch(COMMUNITY, [good_a, good_b])
    assert [(r.index, r.created) for r in results] == [(3, True), (4, True)]
    assert service.checkpoint_sizes(COMMUNITY)[-1] == 5
    assert_log_verifies(acme)


def test_an_entry_twice_in_one_batch_is_stored_once(acme: Community) -> None:
    """Given a batch holding the same entry twice (once re-serialized),
    when it is submitted,
    then it is appended once and the second result is the first's index with created=False."""
    entry = acme.unit("2-1-101")

    first, second = acme.service.submit_batch(COMMUNITY, [entry, reserialized(entry, "pretty")])

    assert (first.index, first.created) == (3, True)
    assert (second.index, second.created) == (3, False)
    assert acme.service.size(COMMUNITY) == 4
    assert_log_verifies(acme)


def test_one_id_twice_with_other_content_in_one_batch_is_refused(acme: Community) -> None:
    """Given a batch of two entries sharing an id with different content,
    when it is submitted,
    then it is refused as duplicate_id and nothing is appended."""
    entry = acme.unit("2-1-101")
    clash = acme.unit("2-1-102", entry_id=entry.id)
    before = snapshot(acme.service)

    with pytest.raises(LedgerError) as refused:
        acme.service.submit_batch(COMMUNITY, [entry, clash])

    assert refused.value.code == "duplicate_id"
    assert snapshot(acme.service) == before


def test_a_failure_inside_the_commit_stores_no_event(acme: Community) -> None:
    """Given a stray leaf row where the next entry's leaf must go,
    when an entry is submitted,
    then the commit fails and the entry's event is not stored either (one transaction)."""
    service = acme.service
    with service.engine.begin() as conn:
        conn.execute(tables.leaves.insert().values(community=COMMUNITY, idx=3, hash=b"\x00" * 32))

    with pytest.raises(LedgerError):
        service.submit(COMMUNITY, acme.unit("2-1-101"))

    fresh = acme.other_service()
    assert len(fresh.entries(COMMUNITY, 0, 100)) == 3
    assert fresh.state(COMMUNITY).size == 3


# --- immutability ---------------------------------------------------------------------------

CHANGES = {
    tables.EVENTS_TABLE: ("UPDATE {t} SET topic = topic", "DELETE FROM {t}"),
    "gp_leaves": ("UPDATE {t} SET hash = hash", "DELETE FROM {t}"),
    "gp_tiles": ("UPDATE {t} SET data = data", "DELETE FROM {t}"),
    "gp_checkpoints": ("UPDATE {t} SET note = note", "DELETE FROM {t}"),
}


def test_the_database_refuses_to_change_stored_rows(
    acme: Community, subtests: pytest.Subtests
) -> None:
    """Given a community with a full tile stored (256 entries),
    when any row of the events, leaves, tiles or checkpoints table is updated or deleted,
    then the database refuses and every row is still there."""
    service = acme.service
    service.submit_batch(COMMUNITY, [acme.unit(f"3-{n}") for n in range(253)])
    before = snapshot(service)
    assert before["tiles"] == 1

    for table, statements in CHANGES.items():
        for statement in statements:
            sql = statement.format(t=table)
            refused = pytest.raises(Exception, match="immutable")
            with subtests.test(sql), refused, service.engine.begin() as conn:
                conn.execute(text(sql))

    assert snapshot(service) == before


# --- tiles and proofs -----------------------------------------------------------------------


def expected_tile(tree: MemoryTree, level: int, index: int, width: int) -> bytes:
    start = index * TILE_WIDTH
    return b"".join(tree.hash_at(TILE_HEIGHT * level, start + j) for j in range(width))


def assert_tiles_match(service: LedgerService, size: int) -> None:
    """Every tile of the stored tree of ``size`` equals the tile computed from scratch."""
    tree = MemoryTree([leaf_hash(e) for e in service.entries(COMMUNITY, 0, size)])
    hashes = service.hashes(COMMUNITY)
    for level, index, width in tiles_for_size(size):
        assert hashes.tile(level, index, width) == expected_tile(tree, level, index, width), (
            level,
            index,
            width,
        )
    t = tables.tiles
    with service.engine.connect() as conn:
        stored = {(r.level, r.idx): bytes(r.data) for r in conn.execute(select(t))}
    assert stored == {
        (level, index): expected_tile(tree, level, index, width)
        for level, index, width in tiles_for_size(size)
        if width == TILE_WIDTH
    }


def checkpoint_root(note: str) -> bytes:
    return parse_checkpoint(parse_note(note).text).root


def test_stored_tiles_equal_tiles_from_scratch_and_proofs_verify(acme: Community) -> None:
    """Given a community grown to 700 entries in batches of odd sizes (one ending exactly
    on a tile boundary, others crossing one),
    when the stored tiles and proofs are read back after each batch,
    then every tile equals the tile computed from the leaf hashes, one checkpoint was signed
    per batch, and inclusion and consistency proofs from the store verify."""
    service = acme.service
    sizes = [3]
    for n, count in enumerate((253, 1, 300, 143)):
        units = [
            acme.unit(f"{n}-{i}", key=acme.chair if i % 2 else acme.treasurer) for i in range(count)
        ]
        results = service.submit_batch(COMMUNITY, units)
        assert [r.index for r in results] == list(range(sizes[-1], sizes[-1] + count))
        sizes.append(sizes[-1] + count)
        assert_tiles_match(service, sizes[-1])

    size = sizes[-1]
    assert size == 700
    assert service.checkpoint_sizes(COMMUNITY) == [1, 2, *sizes]
    assert_log_verifies(acme)
    hashes = service.hashes(COMMUNITY)
    tree = MemoryTree(stored_leaf_hashes(service, size))
    root = checkpoint_root(service.checkpoint_note(COMMUNITY, size))
    entries = service.entries(COMMUNITY, 0, size)
    for index in (0, 1, 2, 255, 256, 257, 511, 512, 556, 557, 698, 699):
        proof = inclusion_proof(index, size, hashes)
        assert proof == inclusion_proof(index, size, tree)
        verify_inclusion(leaf_hash(entries[index]), index, size, proof, root)
    for old in service.checkpoint_sizes(COMMUNITY)[:-1]:
        proof = consistency_proof(old, size, hashes)
        assert proof == consistency_proof(old, size, tree)
        old_root = checkpoint_root(service.checkpoint_note(COMMUNITY, old))
        verify_consistency(old, size, proof, old_root, root)


# --- more than one writer -------------------------------------------------------------------


def assert_one_linear_log(acme: Community, appended: Sequence[Appended]) -> None:
    """Each appended entry stands once, at the index it was given, and the log verifies."""
    entries = acme.service.entries(COMMUNITY, 0, 10**6)
    ids = [json.loads(e)["id"] for e in entries]
    assert len(ids) == len(set(ids))
    for result in appended:
        assert entries[result.index] == result.entry_bytes
    assert_log_verifies(acme)


def test_a_second_service_loads_the_log_and_both_keep_appending(acme: Community) -> None:
    """Given a second service on the same database (another process's view),
    when the two append alternately,
    then each loads what the other appended, every entry lands once at the next index,
    and the log verifies."""
    second = acme.other_service()
    assert second.state(COMMUNITY).size == 3
    assert second.community_info(COMMUNITY) == acme.service.community_info(COMMUNITY)
    appended: list[Appended] = []

    for n in range(8):
        writer = (acme.service, second)[n % 2]
        appended.append(writer.submit(COMMUNITY, acme.unit(f"4-{n}")))

    assert [a.index for a in appended] == list(range(3, 11))
    assert second.state(COMMUNITY).size == acme.service.state(COMMUNITY).size == 11
    assert_one_linear_log(acme, appended)


def test_a_key_registered_through_one_service_signs_through_another(acme: Community) -> None:
    """Given a second service that loaded the community before a new treasurer was registered
    through the first,
    when the new treasurer's entry is submitted to the second,
    then it sees the registration and appends the entry (no stale refusal)."""
    second = acme.other_service()
    assert second.state(COMMUNITY).size == 3
    deputy = SigningKey.generate(f"{COMMUNITY}/deputy")
    acme.service.submit(
        COMMUNITY,
        acme.sign(
            acme.chair, "key.registered", {"vkey": str(deputy.verifier()), "role": "trustee"}
        ),
    )

    appended = second.submit(COMMUNITY, acme.contribution(key=deputy))

    assert (appended.index, appended.created) == (4, True)
    assert_one_linear_log(acme, [appended])


def test_writers_racing_for_the_same_index_reload_and_lose_nothing(
    acme: Community, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given two services, the first having checked an entry for index 3,
    when the second appends index 3 before the first commits,
    then the first's commit conflicts, stores nothing, reloads, judges its entry again
    and lands it at 4 (the conflict (409) reaches a caller only when it keeps losing:
    tests/integration/test_group_commit.py)."""
    first, second = acme.service, acme.other_service()
    mine, theirs = acme.unit("5-1"), acme.unit("5-2")
    commit = first._commit
    raced: list[bool] = []

    def second_commits_first(*args: Any, **kwargs: Any) -> None:
        raced.append(second.submit(COMMUNITY, theirs).created)
        commit(*args, **kwargs)

    monkeypatch.setattr(first, "_commit", second_commits_first)
    landed = first.submit(COMMUNITY, mine)
    monkeypatch.undo()

    assert raced == [True, False]  # the first attempt lost the race, the second won
    assert (landed.index, landed.created) == (4, True)
    assert first.size(COMMUNITY) == 5
    assert_one_linear_log(acme, [landed, second.submit(COMMUNITY, theirs)])


def test_writers_in_parallel_threads_keep_one_linear_log(acme: Community) -> None:
    """Given two services on one database, each in its own thread,
    when each appends twelve entries, submitting again after a conflict,
    then all twenty-four land exactly once and the log verifies."""
    import threading

    second = acme.other_service()
    appended: list[Appended] = []
    failures: list[BaseException] = []

    def write(service: LedgerService, prefix: str) -> None:
        try:
            for n in range(12):
                entry = acme.unit(f"{prefix}-{n}")
                for _ in range(50):
                    try:
                        appended.append(service.submit(COMMUNITY, entry))
                        break
                    except ConflictError:
                        continue
        except BaseException as exc:  # surfaced to the test thread below
            failures.append(exc)

    threads = [
        threading.Thread(target=write, args=(service, prefix))
        for service, prefix in ((acme.service, "6"), (second, "7"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert len(appended) == 24
    assert sorted(a.index for a in appended) == list(range(3, 27))
    assert_one_linear_log(acme, appended)
