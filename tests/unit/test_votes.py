"""Owners' votes by Civil Code art. 278 (DOMAIN.md "Spending and who authorises it").

Every boundary is checked twice: through ``ledger.core.votes.count`` directly, and through
the fold (``ledger.core.rules.apply`` with ``proposal.submitted``, ``ballot.cast`` /
``ballot.recorded`` and ``vote.closed``), where the tally is computed at the close from the
electorate fixed at submission, never asserted.

A table row is a list of owners: (owner reference, the areas in cm² of the units they hold,
their choice or None when they do not vote). Through the fold every area is a unit of its
own; even-numbered owners sign their own ballot, odd-numbered ones vote on paper (a
committee member records it with the scan's hash).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import uuid
from typing import Any

import pytest

from ledger.core.entry import Entry, sign_entry
from ledger.core.errors import LedgerError
from ledger.core.governance_bodies import MATTERS, SCOPED_MATTERS
from ledger.core.keys import SigningKey
from ledger.core.rules import apply
from ledger.core.state import CommunityState
from ledger.core.votes import SPECIAL_MATTERS, Tally, count

COMMUNITY = "vote"
SUBMITTED = "2025-03-01T09:00:00+08:00"  # publicity: 2-8 March (7 days), Shanghai
VOTING = "2025-03-09T09:00:00+08:00"  # the first day a ballot counts
CLOSING = "2025-03-20T09:00:00+08:00"
SCAN = hashlib.sha256(b"paper ballot scan").hexdigest()
_ids = itertools.count()

Row = list[tuple[str, list[int], str | None]]


def key(handle: str) -> SigningKey:
    seed = hashlib.sha256(f"votes test {handle}".encode()).digest()
    return SigningKey(f"{COMMUNITY}/{handle}", 1, seed)


KEYS: dict[str, SigningKey] = {}


def signer(handle: str) -> SigningKey:
    if handle not in KEYS:
        KEYS[handle] = key(handle)
    return KEYS[handle]


def entry(who: str, entry_type: str, body: dict[str, Any], at: str = SUBMITTED) -> Entry:
    entry_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"votes-test/{next(_ids)}"))
    return sign_entry(
        signer(who), community=COMMUNITY, type=entry_type, body=body, at=at, entry_id=entry_id
    )


def refused(state: CommunityState, item: Entry, code: str) -> LedgerError:
    """Then: ``item`` is refused with ``code`` and the state is exactly as it was."""
    before = copy.deepcopy(state)
    with pytest.raises(LedgerError) as caught:
        apply(state, item)
    assert caught.value.code == code, caught.value.en
    assert state == before
    return caught.value


# --- building an estate and its vote --------------------------------------------------------------


def owner_key(owner: str) -> Entry:
    body = {"vkey": str(signer(owner).verifier()), "role": "owner", "owner": owner}
    return entry("chair", "key.registered", body)


def estate(row: Row, buildings: dict[str, str] | None = None) -> tuple[CommunityState, list[str]]:
    """Given: a community whose units are the row's areas, each owner with a key."""
    founding = {
        "name": "Vote Court",
        "origin": "example.org/c/vote/log",
        "keys": [{"vkey": str(signer("chair").verifier()), "role": "committee"}],
    }
    state = CommunityState()
    apply(state, entry("chair", "community.founded", founding))
    codes: list[str] = []
    for owner, areas, _choice in row:
        apply(state, owner_key(owner))
        for area in areas:
            code = f"u{len(codes) + 1}"
            building = (buildings or {}).get(owner, "1")
            body = {"unit": code, "building": building, "area_cm2": area, "owner": owner}
            apply(state, entry("chair", "unit.registered", body))
            codes.append(code)
    return state, codes


def propose(matter: str = "other", at: str = SUBMITTED, who: str = "chair", **extra: Any) -> Entry:
    body = {"title": "Repaint the gate", "matter": matter, "needs": "owners"}
    return entry(who, "proposal.submitted", {**body, "description": "quotes attached", **extra}, at)


def ballot(proposal: Entry, owner: str, choice: str, paper: bool, at: str = VOTING) -> Entry:
    pid = proposal.id
    if paper:
        body = {"proposal_id": pid, "owner": owner, "choice": choice, "scan_sha256": SCAN}
        return entry("chair", "ballot.recorded", body, at)
    return entry(owner, "ballot.cast", {"proposal_id": pid, "choice": choice}, at)


def close(proposal: Entry, at: str = CLOSING) -> Entry:
    return entry("chair", "vote.closed", {"proposal_id": proposal.id}, at)


def fold_tally(row: Row, special: bool) -> Tally:
    """When: the row's owners vote on a proposal and the vote closes; then: its tally."""
    state, _codes = estate(row)
    matter = "alteration" if special else "other"
    proposal = propose(matter)
    apply(state, proposal)
    for n, (owner, _areas, choice) in enumerate(row):
        if choice is not None:
            apply(state, ballot(proposal, owner, choice, paper=n % 2 == 1))
    apply(state, close(proposal))
    tally = state.gov.proposals[proposal.id].tally
    assert tally is not None
    return tally


def direct_tally(row: Row, special: bool) -> Tally:
    electorate = {owner: sum(areas) for owner, areas, _ in row}
    ballots = {owner: choice for owner, _, choice in row if choice is not None}
    return count(electorate, ballots, special)


# --- the boundary table ----------------------------------------------------------------------------

# (name, special, row, participation_met, approval_met)
TABLE: list[tuple[str, bool, Row, bool, bool]] = [
    (
        "participation: exactly 2/3 of the area and of the owners",
        False,
        [("own-a", [100], "yes"), ("own-b", [100], "yes"), ("own-c", [100], None)],
        True,
        True,
    ),
    (
        "participation: one cm² short of 2/3 of the area",
        False,
        [("own-a", [100], "yes"), ("own-b", [99], "yes"), ("own-c", [101], None)],
        False,
        True,
    ),
    (
        "participation: exactly 2/3 of the owners (4 of 6)",
        False,
        [(f"own-{c}", [1000], "yes") for c in "abcd"]
        + [("own-e", [1], None), ("own-f", [1], None)],
        True,
        True,
    ),
    (
        "participation: one owner short of 2/3 (3 of 6), though nearly all the area",
        False,
        [(f"own-{c}", [1000], "yes") for c in "abc"] + [(f"own-{c}", [1], None) for c in "def"],
        False,
        True,
    ),
    (
        "approval: exactly 1/2 of the participating area fails",
        False,
        [("own-a", [50], "yes"), ("own-b", [50], "yes"), ("own-c", [100], "no")],
        True,
        False,
    ),
    (
        "approval: one cm² over 1/2 of the area, owners 2 of 3, passes",
        False,
        [("own-a", [50], "yes"), ("own-b", [51], "yes"), ("own-c", [99], "no")],
        True,
        True,
    ),
    (
        "approval: exactly 1/2 of the participating owners fails, whatever the area",
        False,
        [
            ("own-a", [100], "yes"),
            ("own-b", [100], "yes"),
            ("own-c", [1], "no"),
            ("own-d", [1], "no"),
        ],
        True,
        False,
    ),
    (
        "special: exactly 3/4 of the area and the owners passes",
        True,
        [(f"own-{c}", [100], "yes") for c in "abc"] + [("own-d", [100], "no")],
        True,
        True,
    ),
    (
        "special: one cm² short of 3/4 of the area fails",
        True,
        [
            ("own-a", [100], "yes"),
            ("own-b", [100], "yes"),
            ("own-c", [99], "yes"),
            ("own-d", [101], "no"),
        ],
        True,
        False,
    ),
    (
        "special: one owner short of 3/4 (5 of 8) fails, whatever the area",
        True,
        [(f"own-{c}", [1000], "yes") for c in "abcde"] + [(f"own-{c}", [1], "no") for c in "fgh"],
        True,
        False,
    ),
    (
        "special: 6 of 8 owners is exactly 3/4 and passes",
        True,
        [(f"own-{c}", [1000], "yes") for c in "abcdef"] + [(f"own-{c}", [1], "no") for c in "gh"],
        True,
        True,
    ),
    (
        "abstentions participate (2/3 reached) but do not approve (1 of 2)",
        False,
        [("own-a", [100], "yes"), ("own-b", [100], "abstain"), ("own-c", [100], None)],
        True,
        False,
    ),
    (
        "an abstention among three: 2/3 approve, enough for an ordinary matter",
        False,
        [("own-a", [100], "yes"), ("own-b", [100], "yes"), ("own-c", [100], "abstain")],
        True,
        True,
    ),
    (
        "an abstention among three: 2/3 approve, short of 3/4 for a special matter",
        True,
        [("own-a", [100], "yes"), ("own-b", [100], "yes"), ("own-c", [100], "abstain")],
        True,
        False,
    ),
    (
        "one owner of two units is one person: 1 yes of 2 voters fails on headcount",
        False,
        [("own-multi", [50, 51], "yes"), ("own-b", [99], "no"), ("own-c", [100], None)],
        True,
        False,
    ),
    (
        "the developer's unsold units are one person carrying all their area",
        False,
        [("developer", [100, 100, 100], None), ("own-a", [100], "yes"), ("own-b", [100], "yes")],
        False,
        True,
    ),
    (
        "nobody votes: nothing is met",
        False,
        [("own-a", [100], None), ("own-b", [100], None)],
        False,
        False,
    ),
]


@pytest.mark.parametrize(
    ("special", "row", "participation", "approval"),
    [pytest.param(*case[1:], id=case[0]) for case in TABLE],
)
def test_art_278_boundaries_directly_and_through_the_fold(
    special: bool, row: Row, participation: bool, approval: bool
) -> None:
    """Given owners with these areas and choices, when the vote is counted (directly, and
    by closing it in the log), then participation and approval are met exactly as art. 278
    says, and the fold's tally is the direct count's."""
    direct = direct_tally(row, special)
    assert (direct.participation_met, direct.approval_met) == (participation, approval)
    assert direct.passed == (participation and approval)
    assert fold_tally(row, special) == direct


def test_headcount_and_area_of_owners_with_several_units() -> None:
    """Given the developer with three unsold units and an owner with two, when they and one
    other owner are counted, then each is one person carrying the sum of their areas."""
    row: Row = [
        ("developer", [100, 200, 300], "no"),
        ("own-multi", [40, 60], "yes"),
        ("own-one", [50], "abstain"),
    ]
    tally = fold_tally(row, special=False)
    assert (tally.total_owners, tally.total_area_cm2) == (3, 750)
    assert (tally.voted_owners, tally.voted_area_cm2) == (3, 750)
    assert (tally.yes_owners, tally.yes_area_cm2) == (1, 100)
    assert (tally.no_owners, tally.no_area_cm2) == (1, 600)
    figures = tally.as_dict()
    assert figures["participation_owners"] == "100.00%"
    assert figures["approval_area"] == "13.33%"
    assert figures["approval_owners"] == "33.33%"


# --- the fold's own rules --------------------------------------------------------------------------

THREE: Row = [("own-a", [100], None), ("own-b", [100], None), ("own-c", [100], None)]


def opened(row: Row = THREE, matter: str = "other", **extra: Any) -> tuple[CommunityState, Entry]:
    state, _ = estate(row)
    proposal = propose(matter, **extra)
    apply(state, proposal)
    return state, proposal


def test_eligibility_and_area_are_fixed_at_submission() -> None:
    """Given a proposal submitted while own-c holds u3, when u3 is sold to a buyer and a new
    unit is registered afterwards, then the buyer may not vote, own-c still votes with u3's
    area, and the new unit is not in the tally."""
    state, proposal = opened()
    apply(state, owner_key("buyer"))
    apply(state, entry("chair", "unit.owner_changed", {"unit": "u3", "owner": "buyer"}))
    new_unit = {"unit": "u4", "building": "1", "area_cm2": 500, "owner": "buyer"}
    apply(state, entry("chair", "unit.registered", new_unit))
    refused(state, ballot(proposal, "buyer", "yes", paper=False), "role_not_allowed")
    refused(state, ballot(proposal, "buyer", "yes", paper=True), "role_not_allowed")
    apply(state, ballot(proposal, "own-c", "yes", paper=False))
    apply(state, ballot(proposal, "own-a", "yes", paper=True))
    apply(state, close(proposal))
    tally = state.gov.proposals[proposal.id].tally
    assert tally is not None
    assert (tally.total_owners, tally.total_area_cm2, tally.yes_area_cm2) == (3, 300, 200)
    assert tally.passed


@pytest.mark.parametrize("matter", sorted(SCOPED_MATTERS))
def test_scoped_matters_are_voted_by_the_units_that_bear_them(matter: str) -> None:
    """Given units in buildings 1 and 2, when a maintenance-use (or particular-costs)
    proposal is scoped to building 1, then only building 1's owners vote, on their area."""
    row: Row = [("own-a", [100], None), ("own-b", [300], None), ("own-c", [900], None)]
    state, _ = estate(row, buildings={"own-c": "2"})
    extra = {"fund": "maintenance", "budget_fen": 10_000} if matter == "maintenance_use" else {}
    proposal = propose(matter, buildings=["1"], **extra)
    apply(state, proposal)
    assert state.gov.proposals[proposal.id].electorate == {"own-a": 100, "own-b": 300}
    refused(state, ballot(proposal, "own-c", "yes", paper=False), "role_not_allowed")
    apply(state, ballot(proposal, "own-a", "no", paper=False))
    apply(state, ballot(proposal, "own-b", "yes", paper=True))
    apply(state, close(proposal))
    tally = state.gov.proposals[proposal.id].tally
    assert tally is not None and (tally.total_area_cm2, tally.total_owners) == (400, 2)
    assert not tally.passed  # 300 of 400 cm² yes, but 1 of 2 owners is not more than half


@pytest.mark.parametrize("matter", sorted(set(MATTERS) - SCOPED_MATTERS))
@pytest.mark.parametrize("scope", [{"units": ["u1"]}, {"buildings": ["1"]}])
def test_every_other_matter_is_voted_by_the_whole_estate(
    matter: str, scope: dict[str, list[str]]
) -> None:
    """Given an estate, when a proposal of any other matter names a scope, then it is
    refused: the charter, the property company, the committee and common parts are voted
    by the whole estate."""
    state, _ = estate(THREE)
    refused(state, propose(matter, **scope), "rule_violation")


def test_special_matters_are_the_three_of_art_278() -> None:
    assert {"maintenance_raise", "alteration", "common_use_change"} == SPECIAL_MATTERS


@pytest.mark.parametrize(
    ("first_paper", "second_paper"),
    [(False, True), (True, False), (False, False), (True, True)],
    ids=["cast-then-recorded", "recorded-then-cast", "cast-twice", "recorded-twice"],
)
def test_one_ballot_per_owner(first_paper: bool, second_paper: bool) -> None:
    """Given own-a has voted (signed or on paper), when another ballot for own-a comes in
    either way, then it is refused and the first ballot stands."""
    state, proposal = opened()
    apply(state, ballot(proposal, "own-a", "yes", paper=first_paper))
    refused(state, ballot(proposal, "own-a", "no", paper=second_paper), "rule_violation")
    assert state.gov.proposals[proposal.id].ballots == {"own-a": "yes"}


@pytest.mark.parametrize(
    "submitted",
    ["2025-03-01T09:00:00+08:00", "2025-02-28T17:00:00Z"],
    ids=["1-march", "28-february-utc-is-1-march-in-shanghai"],
)
def test_publicity_days_are_counted_as_the_civil_code_counts_them(submitted: str) -> None:
    """The rule (Civil Code arts. 201 and 203): the day of submission is not counted and
    the period ends at 24:00 of its last day; the date is the one in Shanghai.

    Given a proposal submitted on 1 March 2025 in Shanghai (at 09:00 there, or at
    2025-02-28T17:00:00Z, which is already 01:00 on 1 March there) with 7 days of
    publicity, then the days counted are 2-8 March: a ballot on 8 March is refused and a
    ballot on 9 March is accepted."""
    state, proposal = opened(at=submitted)
    assert state.gov.proposals[proposal.id].publicity_ends == "2025-03-09"
    refused(
        state,
        ballot(proposal, "own-a", "yes", False, at="2025-03-08T09:00:00+08:00"),
        "rule_violation",
    )
    apply(state, ballot(proposal, "own-a", "yes", False, at="2025-03-09T09:00:00+08:00"))
    assert state.gov.proposals[proposal.id].ballots == {"own-a": "yes"}


@pytest.mark.parametrize("paper", [False, True], ids=["cast", "recorded"])
def test_no_ballot_before_the_publicity_period_ends(paper: bool) -> None:
    """Given a proposal submitted on 1 March (Shanghai; that day is not counted), when a
    ballot is dated 8 March 23:59:59 Shanghai, the last moment of the seven days, then it
    is refused; from 9 March 00:00 Shanghai (8 March 16:00 UTC) it is accepted."""
    state, proposal = opened()
    refused(
        state,
        ballot(proposal, "own-a", "yes", paper, at="2025-03-08T23:59:59+08:00"),
        "rule_violation",
    )
    refused(
        state, ballot(proposal, "own-a", "yes", paper, at="2025-03-08T15:59:59Z"), "rule_violation"
    )
    apply(state, ballot(proposal, "own-a", "yes", paper, at="2025-03-08T16:00:00Z"))


def test_a_longer_publicity_period_asked_by_the_proposal_holds() -> None:
    """Given a proposal of 1 March asking for 10 days of publicity (2-11 March), when a
    ballot comes on 9 March (when seven days would be over) or on 11 March (the tenth
    day), then it is refused, and on 12 March it is accepted."""
    state, proposal = opened(publicity_days=10)
    refused(state, ballot(proposal, "own-a", "yes", False, at=VOTING), "rule_violation")
    refused(
        state,
        ballot(proposal, "own-a", "yes", False, at="2025-03-11T23:59:59+08:00"),
        "rule_violation",
    )
    apply(state, ballot(proposal, "own-a", "yes", False, at="2025-03-12T00:00:00+08:00"))


def test_a_vote_closes_only_after_publicity_and_once() -> None:
    """Given an open vote, when it is closed before its publicity ends, then that is refused;
    after it, the close is accepted, and a second close is refused."""
    state, proposal = opened()
    refused(state, close(proposal, at="2025-03-08T12:00:00+08:00"), "rule_violation")
    apply(state, close(proposal))
    refused(state, close(proposal, at="2025-03-21T09:00:00+08:00"), "rule_violation")


@pytest.mark.parametrize("paper", [False, True], ids=["cast", "recorded"])
def test_no_ballot_after_the_close(paper: bool) -> None:
    """Given a closed vote, when a ballot comes in, then it is refused and the tally stays."""
    state, proposal = opened()
    apply(state, ballot(proposal, "own-a", "yes", paper=False))
    apply(state, close(proposal))
    refused(state, ballot(proposal, "own-b", "yes", paper, at=CLOSING), "rule_violation")
    tally = state.gov.proposals[proposal.id].tally
    assert tally is not None and tally.voted_owners == 1


def test_ballots_only_on_owners_proposals() -> None:
    """Given a proposal for the committee to approve, when an owner casts a ballot on it or
    the committee closes a vote on it, then both are refused."""
    state, _ = estate(THREE)
    committee = entry(
        "chair",
        "proposal.submitted",
        {"title": "Buy brooms", "matter": "spending", "needs": "committee", "description": "."},
    )
    apply(state, committee)
    refused(state, ballot(committee, "own-a", "yes", paper=False), "rule_violation")
    refused(state, close(committee), "rule_violation")


def test_a_ballot_cites_an_existing_proposal() -> None:
    state, _ = estate(THREE)
    ghost = propose()  # signed, never logged
    refused(state, ballot(ghost, "own-a", "yes", paper=False), "rule_violation")


def test_the_outcome_is_never_asserted() -> None:
    """Given the schema of vote.closed, when someone adds an outcome to it, then the entry is
    malformed: the outcome is computed from the ballots only."""
    with pytest.raises(LedgerError) as caught:
        entry("chair", "vote.closed", {"proposal_id": str(uuid.uuid4()), "passed": True})
    assert caught.value.code == "unknown_field"
