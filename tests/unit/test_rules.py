"""The fold (ledger.core.rules): who may write what, in which order refusals are decided.

Each test reads as given (a log so far) / when (one more entry) / then (accepted
and folded, or refused with a stable code and the state untouched).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.core.entry import SIGNING_CONTEXT, Entry, jcs, parse_entry, sign_entry
from ledger.core.errors import LedgerError
from ledger.core.keychain import KeychainItem, fold_keychain, key_valid_at
from ledger.core.keys import KEY_TYPE_COSIGNATURE, SigningKey
from ledger.core.merkle import MemoryTree, inclusion_proof, leaf_hash
from ledger.core.note import format_checkpoint, sign_note
from ledger.core.rules import apply, check_not_future
from ledger.core.state import CommunityState

COMMUNITY = "demo"
UNIT = {"unit": "3-1-502", "building": "3", "area_cm2": 895_000, "owner": "owner-0001"}
_ids = itertools.count()


def key(handle: str, community: str = COMMUNITY, key_type: int = 1) -> SigningKey:
    seed = hashlib.sha256(f"rules test {community}/{handle}/{key_type}".encode()).digest()
    return SigningKey(f"{community}/{handle}", key_type, seed)


def new_id() -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"rules-test/{next(_ids)}"))


def entry(signer: SigningKey, entry_type: str, body: Any, **fields: Any) -> Entry:
    options: dict[str, Any] = {"community": COMMUNITY, "at": "2025-01-02T09:00:00+08:00"}
    options.update(fields)
    options.setdefault("entry_id", new_id())
    return sign_entry(signer, type=entry_type, body=body, **options)


def founded(*members: tuple[str, str], signer: str = "chair") -> Entry:
    keys = [{"vkey": str(key(h).verifier()), "role": role} for h, role in members]
    body = {"name": "Demo Court", "origin": "example.org/c/demo/log", "keys": keys}
    return entry(key(signer), "community.founded", body)


def registered(signer: str, handle: str, role: str, **extra: Any) -> Entry:
    body = {"vkey": str(key(handle).verifier()), "role": role, **extra}
    return entry(key(signer), "key.registered", body)


def approved(signer: str, registration: Entry) -> Entry:
    """A committee member's approval of a treasurer or trustee key (the quorum makes it effective)."""
    return entry(key(signer), "approval.signed", {"subject_id": registration.id})


def revoked(signer: str, handle: str) -> Entry:
    return entry(key(signer), "key.revoked", {"name": f"{COMMUNITY}/{handle}"})


def unit(signer: str = "treasurer", code: str = "3-1-502") -> Entry:
    return entry(key(signer), "unit.registered", {**UNIT, "unit": code})


def fee(amount: int = 26_850, signer: str = "treasurer", **body: Any) -> Entry:
    fields = {"fund": "property", "unit": "3-1-502", "amount_fen": amount, "month": "2025-01"}
    return entry(key(signer), "contribution.received", {**fields, **body})


def deposit(amount: int = 1_074_000, kind: str = "initial", unit_code: str = "3-1-502") -> Entry:
    body = {"fund": "maintenance", "unit": unit_code, "amount_fen": amount, "deposit": kind}
    return entry(key("treasurer"), "contribution.received", body)


def fold(*entries: Entry) -> CommunityState:
    state = CommunityState()
    for item in entries:
        apply(state, item)
    return state


def standard() -> CommunityState:
    """Given: chair and wang on the committee (quorum 2), jiedao the authority, a treasurer
    registered by the chair and approved by wang, one unit."""
    treasurer = registered("chair", "treasurer", "treasurer")
    return fold(
        founded(("chair", "committee"), ("wang", "committee"), ("jiedao", "authority")),
        treasurer,
        approved("wang", treasurer),
        unit(),
    )


def refused(state: CommunityState, item: Entry) -> str:
    """Then: the entry is refused, and the state is exactly what it was."""
    before = copy.deepcopy(state)
    with pytest.raises(LedgerError) as caught:
        apply(state, item)
    assert state == before, "a refused entry changed the state"
    return caught.value.code


# --- position ------------------------------------------------------------------------------


def test_index_0_must_be_community_founded() -> None:
    """Given an empty log, when the first entry is anything else, then it is refused (genesis)."""
    assert refused(CommunityState(), unit("chair")) == "genesis"


def test_community_founded_may_appear_nowhere_else() -> None:
    """Given a founded log, when another community.founded follows, then it is refused."""
    state = fold(founded(("chair", "committee")))
    assert refused(state, founded(("chair", "committee"))) == "genesis"


def test_founding_folds_keys_name_and_origin() -> None:
    state = standard()
    assert state.community == COMMUNITY and state.origin == "example.org/c/demo/log"
    assert {r.role for r in state.live_keys()} == {"committee", "authority", "treasurer"}
    assert state.size == 4 and state.index_of(unit().id) is None


def test_an_entry_of_another_community_is_refused() -> None:
    state = standard()
    other = entry(key("treasurer"), "unit.registered", UNIT, community="elsewhere")
    assert refused(state, other) == "wrong_community"


# --- founding signer and actor keys ------------------------------------------------------------


def test_founding_signer_must_be_listed() -> None:
    """Given an empty log, when the founding entry is signed by a key it does not list, then 401."""
    item = founded(("wang", "committee"), signer="chair")
    assert refused(CommunityState(), item) == "unknown_signer"


def test_founding_signer_must_be_a_committee_key() -> None:
    item = founded(("chair", "authority"), ("wang", "committee"), signer="chair")
    assert refused(CommunityState(), item) == "unknown_signer"


@pytest.mark.parametrize(
    "bad_key",
    [key("x", community="elsewhere"), key("x", key_type=KEY_TYPE_COSIGNATURE)],
    ids=["other-community-name", "cosignature-type"],
)
def test_actor_keys_are_type_1_named_community_slash_handle(bad_key: SigningKey) -> None:
    chair = {"vkey": str(key("chair").verifier()), "role": "committee"}
    body = {
        "name": "Demo",
        "origin": "example.org/c/demo/log",
        "keys": [chair, {"vkey": str(bad_key.verifier()), "role": "treasurer"}],
    }
    assert refused(CommunityState(), entry(key("chair"), "community.founded", body)) == (
        "rule_violation"
    )
    state = standard()
    later = entry(
        key("chair"), "key.registered", {"vkey": str(bad_key.verifier()), "role": "trustee"}
    )
    assert refused(state, later) == "rule_violation"


def test_founding_keys_must_be_distinct() -> None:
    item = founded(("chair", "committee"), ("chair", "treasurer"))
    assert refused(CommunityState(), item) == "key_conflict"


# --- key.registered ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("registrar", "role", "extra"),
    [
        ("chair", "treasurer", {}),
        ("chair", "trustee", {}),
        ("chair", "owner", {"owner": "owner-0001"}),
        ("treasurer", "owner", {"owner": "owner-0001"}),
        ("jiedao", "authority", {}),
    ],
)
def test_who_may_register_which_role(registrar: str, role: str, extra: dict[str, str]) -> None:
    """Given the standard log, when an allowed registrar registers a key, then it is live with its
    role; a treasurer or trustee key signs only once a second committee member approved it."""
    state = standard()
    registration = registered(registrar, "newcomer", role, **extra)
    apply(state, registration)
    record = state.keys[f"{COMMUNITY}/newcomer"]
    assert record.live and record.role == role and record.registered_at == 4
    assert record.owner == extra.get("owner")
    if role in ("treasurer", "trustee"):
        assert not record.valid_at(5)
        apply(state, approved("wang", registration))
    assert record.valid_at(6)


@pytest.mark.parametrize(
    ("registrar", "role", "extra"),
    [
        ("treasurer", "treasurer", {}),
        ("treasurer", "trustee", {}),
        ("chair", "authority", {}),
        ("treasurer", "authority", {}),
        ("jiedao", "treasurer", {}),
        ("jiedao", "owner", {"owner": "owner-0001"}),
        ("chair", "committee", {}),
        ("jiedao", "committee", {}),
    ],
)
def test_who_may_not_register_which_role(registrar: str, role: str, extra: dict[str, str]) -> None:
    """Given the standard log, when a registrar exceeds its powers, then 403 and nothing changes."""
    state = standard()
    assert refused(state, registered(registrar, "newcomer", role, **extra)) == "role_not_allowed"


@pytest.mark.parametrize("signer_role", ["owner", "trustee"])
def test_owner_and_trustee_keys_may_not_register_anyone(signer_role: str) -> None:
    state = standard()
    extra = {"owner": "owner-0001"} if signer_role == "owner" else {}
    registration = registered("chair", "member", signer_role, **extra)
    apply(state, registration)
    if signer_role == "trustee":
        apply(state, approved("wang", registration))
    attempt = registered("member", "newcomer", "owner", owner="owner-0002")
    assert refused(state, attempt) == "role_not_allowed"


def test_owner_keys_need_the_owner_field_and_only_they_have_it() -> None:
    state = standard()
    assert refused(state, registered("chair", "newcomer", "owner")) == "rule_violation"
    assert refused(state, registered("chair", "newcomer", "trustee", owner="x-01")) == (
        "rule_violation"
    )


def test_a_key_name_is_registered_once() -> None:
    state = standard()
    assert refused(state, registered("chair", "treasurer", "trustee")) == "key_conflict"


def test_a_public_key_is_registered_once_whatever_its_name() -> None:
    state = standard()
    twin = SigningKey(
        f"{COMMUNITY}/twin", 1, hashlib.sha256(b"rules test demo/treasurer/1").digest()
    )
    body = {"vkey": str(twin.verifier()), "role": "trustee"}
    assert refused(state, entry(key("chair"), "key.registered", body)) == "key_conflict"


# --- key.revoked -----------------------------------------------------------------------------


def test_a_key_may_revoke_itself() -> None:
    state = standard()
    apply(state, revoked("treasurer", "treasurer"))
    assert state.keys[f"{COMMUNITY}/treasurer"].revoked_at == 4


def test_the_committee_may_revoke_non_authority_keys() -> None:
    state = standard()
    apply(state, revoked("chair", "treasurer"))
    apply(state, revoked("chair", "wang"))
    assert [r.vkey.name for r in state.live_keys()] == ["demo/chair", "demo/jiedao"]


def test_authority_keys_are_revoked_only_by_authority() -> None:
    state = standard()
    assert refused(state, revoked("chair", "jiedao")) == "role_not_allowed"
    apply(state, registered("jiedao", "district", "authority"))
    apply(state, revoked("district", "jiedao"))
    assert not state.keys[f"{COMMUNITY}/jiedao"].live


def test_other_roles_may_not_revoke_others() -> None:
    state = standard()
    apply(state, registered("chair", "owner-a", "owner", owner="owner-0001"))
    assert refused(state, revoked("treasurer", "owner-a")) == "role_not_allowed"
    assert refused(state, revoked("jiedao", "treasurer")) == "role_not_allowed"


def test_the_last_committee_key_cannot_be_revoked() -> None:
    """Given chair and wang on the committee, when wang goes, then chair may not go too."""
    state = standard()
    apply(state, revoked("wang", "wang"))
    assert refused(state, revoked("chair", "chair")) == "rule_violation"


def test_revoking_a_key_that_is_not_live_is_refused() -> None:
    state = standard()
    apply(state, revoked("chair", "treasurer"))
    assert refused(state, revoked("chair", "treasurer")) == "key_conflict"
    assert refused(state, revoked("chair", "nobody")) == "key_conflict"


def test_a_revoked_name_cannot_be_registered_again() -> None:
    state = standard()
    apply(state, revoked("chair", "treasurer"))
    assert refused(state, registered("chair", "treasurer", "treasurer")) == "key_conflict"


def test_a_revoked_key_cannot_sign_afterwards_but_its_earlier_entries_stay_valid() -> None:
    """Given a fee signed by the treasurer, when the key is revoked, then it signs no more,
    and a replay of the whole log (the fee included) still passes."""
    treasurer = registered("chair", "treasurer", "treasurer")
    log = [
        founded(("chair", "committee"), ("wang", "committee")),
        treasurer,
        approved("wang", treasurer),
        unit(),
        fee(),
        revoked("chair", "treasurer"),
    ]
    state = fold(*log)
    assert refused(state, fee(month="2025-02")) == "unknown_signer"
    replay = fold(*log)
    record = replay.keys[f"{COMMUNITY}/treasurer"]
    assert replay.balance("property") == 26_850
    assert key_valid_at(record, 4) and not key_valid_at(record, 6)
    assert not key_valid_at(record, 2)  # not before wang's approval (index 2) took effect


def test_a_key_chain_with_an_elected_committee_key_folds_without_the_election() -> None:
    """Given the owners elect Wang and the chair registers Wang's committee key citing the
    election, when the log's key chain (which holds no votes) is folded, then Wang is a
    committee key there too, valid from the entry after the registration."""
    election = entry(
        key("chair"),
        "proposal.submitted",
        {
            "title": "Elect Wang",
            "matter": "committee_election",
            "needs": "owners",
            "description": "-",
        },
    )
    voted = "2025-01-10T09:00:00+08:00"  # the seven days of publicity (3-9 January) are over
    ballot = {"proposal_id": election.id, "owner": "owner-0001", "choice": "yes"}
    log = [
        founded(("chair", "committee")),
        unit("chair"),
        election,
        entry(key("chair"), "ballot.recorded", {**ballot, "scan_sha256": "ab" * 32}, at=voted),
        entry(key("chair"), "vote.closed", {"proposal_id": election.id}, at=voted),
        registered("chair", "wang", "committee", election_id=election.id),
    ]
    state = fold(*log)
    tree = MemoryTree([leaf_hash(e.entry_bytes()) for e in log])
    note = sign_note(
        format_checkpoint("example.org/c/demo/log", tree.size, tree.root()), [key("log")]
    )
    items = [
        KeychainItem(i, log[i].entry_bytes(), inclusion_proof(i, tree.size, tree))
        for i in state.key_history
    ]
    assert [item.index for item in items] == [0, 5]
    chain = fold_keychain(note, items)
    wang = chain.keys[f"{COMMUNITY}/wang"]
    assert wang.role == "committee" and key_valid_at(wang, 6) and not key_valid_at(wang, 5)


# --- unit.registered -----------------------------------------------------------------------------


def test_a_unit_is_registered_once() -> None:
    state = standard()
    assert refused(state, unit("chair")) == "duplicate_unit"
    apply(state, unit("chair", "3-1-602"))
    assert set(state.units) == {"3-1-502", "3-1-602"}


# --- contribution.received --------------------------------------------------------------------


def test_a_contribution_needs_a_registered_unit() -> None:
    state = standard()
    assert refused(state, fee(unit="9-9-999")) == "unknown_unit"


def test_property_fees_name_a_month_and_no_deposit() -> None:
    state = standard()
    without_month = {"fund": "property", "unit": "3-1-502", "amount_fen": 100}
    assert refused(state, entry(key("treasurer"), "contribution.received", without_month)) == (
        "rule_violation"
    )
    assert refused(state, fee(deposit="initial")) == "rule_violation"


def test_maintenance_deposits_name_a_kind_and_no_month() -> None:
    state = standard()
    without_kind = {"fund": "maintenance", "unit": "3-1-502", "amount_fen": 100}
    assert refused(state, entry(key("treasurer"), "contribution.received", without_kind)) == (
        "rule_violation"
    )
    with_month = {**without_kind, "deposit": "top_up", "month": "2025-01"}
    assert refused(state, entry(key("treasurer"), "contribution.received", with_month)) == (
        "rule_violation"
    )


def test_funds_and_sub_accounts_add_up() -> None:
    """Given two units, when fees and deposits arrive, then every total is the sum of its parts."""
    state = standard()
    apply(state, unit("chair", "3-1-602"))
    for item in (
        fee(26_850),
        fee(30_000, month="2025-02"),
        deposit(1_000_000),
        deposit(50_000, "top_up"),
        deposit(900_000, unit_code="3-1-602"),
    ):
        apply(state, item)
    assert state.funds == {"property": 56_850, "maintenance": 1_950_000}
    assert state.books.property_paid == {"3-1-502": 56_850}
    assert state.books.subaccounts == {"3-1-502": 1_050_000, "3-1-602": 900_000}
    assert state.books.first_deposits == {"3-1-502": 1_000_000, "3-1-602": 900_000}
    assert sum(state.books.subaccounts.values()) == state.balance("maintenance")


def test_the_trustee_may_record_contributions_but_an_owner_may_not() -> None:
    state = standard()
    trustee = registered("chair", "trustee", "trustee")
    apply(state, trustee)
    apply(state, approved("wang", trustee))
    apply(state, fee(signer="trustee"))
    apply(state, registered("chair", "owner-a", "owner", owner="owner-0001"))
    assert refused(state, fee(signer="owner-a", month="2025-02")) == "role_not_allowed"


# --- identity ----------------------------------------------------------------------------------


def test_an_id_is_used_once() -> None:
    state = standard()
    first = fee()
    apply(state, first)
    again = entry(key("treasurer"), "contribution.received", dict(fee().body), entry_id=first.id)
    assert refused(state, again) == "duplicate_id"
    assert refused(state, first) == "duplicate_id"


# --- check order -------------------------------------------------------------------------------


def _unsigned_as(signer: SigningKey, item: Entry, sig_by: SigningKey) -> Entry:
    """``item`` claimed by ``signer`` but signed by ``sig_by``: a bad signature."""
    unsigned = {**item.unsigned(), "signer": signer.name, "key_id": signer.verifier().key_id_hex}
    signature = base64.b64encode(sig_by.sign(SIGNING_CONTEXT + jcs(unsigned))).decode()
    return parse_entry({**unsigned, "sig": signature})


def test_position_is_decided_before_the_signer() -> None:
    """A second founding entry by a stranger is a genesis error (422), not 401."""
    state = standard()
    assert refused(state, founded(("stranger", "committee"), signer="stranger")) == "genesis"


def test_signer_401_before_role_403() -> None:
    """An unknown key making a type no role of it could make: 401."""
    state = standard()
    assert refused(state, registered("stranger", "newcomer", "committee")) == "unknown_signer"
    bad_sig = _unsigned_as(key("wang"), fee(), sig_by=key("treasurer"))
    assert refused(state, bad_sig) == "bad_signature"


def test_role_403_before_duplicate_id_409() -> None:
    state = standard()
    first = fee()
    apply(state, first)
    by_committee = entry(key("chair"), "contribution.received", dict(first.body), entry_id=first.id)
    assert refused(state, by_committee) == "role_not_allowed"


def test_duplicate_id_409_before_type_rules_422() -> None:
    state = standard()
    first = fee()
    apply(state, first)
    unknown_unit = fee(unit="9-9-999")
    reused = entry(
        key("treasurer"), "contribution.received", dict(unknown_unit.body), entry_id=first.id
    )
    assert refused(state, reused) == "duplicate_id"


def test_statuses_follow_the_check_order() -> None:
    state = standard()
    cases = [
        (registered("stranger", "x", "owner", owner="owner-0001"), 401),
        (fee(signer="chair"), 403),
        (fee(unit="9-9-999"), 422),
    ]
    for item, status in cases:
        with pytest.raises(LedgerError) as caught:
            apply(state, item)
        assert caught.value.status == status


# --- the clock ---------------------------------------------------------------------------------


def test_at_more_than_five_minutes_ahead_is_refused() -> None:
    now = datetime(2025, 1, 2, 1, 0, 0, tzinfo=UTC)  # 09:00 in +08:00
    body = dict(fee().body)
    check_not_future(entry(key("treasurer"), "contribution.received", body), now)
    edge = entry(key("treasurer"), "contribution.received", body, at="2025-01-02T09:05:00+08:00")
    check_not_future(edge, now)
    late = entry(key("treasurer"), "contribution.received", body, at="2025-01-02T01:05:01Z")
    with pytest.raises(LedgerError) as caught:
        check_not_future(late, now)
    assert caught.value.code == "future_at"
