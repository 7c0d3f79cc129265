"""The governance rules through ``ledger.core.rules.apply`` (DOMAIN.md "Spending and who
authorises it", "Corrections, reconciliation, objections").

Every test reads given (a small community and its log so far) / when (one more entry) /
then (accepted with the state moved as DOMAIN.md says, or refused with a stable code and
the state exactly as it was, compared with a deep copy).

The community: chair, Wang and Li on the committee (quorum: a majority, 2), the
sub-district office (jiedao, an authority key from the founding entry), a treasurer
(registered by the chair, in effect once Wang approved it) and three owners: own-a
(1-101) and own-b (1-102) in building 1, own-c (2-101) in building 2, 100 m² each.
The funds hold money: maintenance deposits, property fees, common revenue, a donation.
Proposals are submitted on 1 February 2025 (Shanghai); their seven days of publicity
(2-8 February; the day of submission is not counted) end at 24:00 on 8 February, so
ballots come on 9 February, votes close on 10 February and spending starts on 11 February.
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
from ledger.core.governance_rules import authorised
from ledger.core.keys import SigningKey
from ledger.core.rules import apply
from ledger.core.state import CommunityState

COMMUNITY = "gov"
SETUP = "2025-01-10T09:00:00+08:00"
PROPOSED = "2025-02-01T09:00:00+08:00"
VOTING = "2025-02-09T09:00:00+08:00"
CLOSED = "2025-02-10T09:00:00+08:00"
SPENDING = "2025-02-11T09:00:00+08:00"
LAST_PUBLICITY_SECOND = "2025-02-08T23:59:59+08:00"
OWNERS = {"own-a": ("1-101", "1"), "own-b": ("1-102", "1"), "own-c": ("2-101", "2")}
AREA = 1_000_000
_ids = itertools.count()
_keys: dict[str, SigningKey] = {}


def key(handle: str) -> SigningKey:
    if handle not in _keys:
        seed = hashlib.sha256(f"governance rules test {handle}".encode()).digest()
        _keys[handle] = SigningKey(f"{COMMUNITY}/{handle}", 1, seed)
    return _keys[handle]


def name(handle: str) -> str:
    return key(handle).name


def entry(who: str, entry_type: str, body: dict[str, Any], at: str = SPENDING) -> Entry:
    entry_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"governance-rules-test/{next(_ids)}"))
    return sign_entry(
        key(who), community=COMMUNITY, type=entry_type, body=body, at=at, entry_id=entry_id
    )


def register(who: str, handle: str, role: str, **extra: Any) -> Entry:
    body = {"vkey": str(key(handle).verifier()), "role": role, **extra}
    return entry(who, "key.registered", body, SETUP)


def base_log() -> list[Entry]:
    founding = {
        "name": "Governance Court",
        "origin": "example.org/c/gov/log",
        "keys": [
            {"vkey": str(key(h).verifier()), "role": "committee"} for h in ("chair", "wang", "li")
        ]
        + [{"vkey": str(key("jiedao").verifier()), "role": "authority"}],
    }
    treasurer = register("chair", "treasurer", "treasurer")
    log = [
        entry("chair", "community.founded", founding, SETUP),
        treasurer,
        entry("wang", "approval.signed", {"subject_id": treasurer.id}, SETUP),
    ]
    for owner, (code, building) in OWNERS.items():
        log.append(register("chair", owner, "owner", owner=owner))
        unit = {"unit": code, "building": building, "area_cm2": AREA, "owner": owner}
        log.append(entry("treasurer", "unit.registered", unit, SETUP))
        deposit = {
            "fund": "maintenance",
            "unit": code,
            "amount_fen": 5_000_000,
            "deposit": "initial",
        }
        log.append(entry("treasurer", "contribution.received", deposit, SETUP))
        fee = {"fund": "property", "unit": code, "amount_fen": 10_000_000, "month": "2025-01"}
        log.append(entry("treasurer", "contribution.received", fee, SETUP))
    log.append(
        entry(
            "treasurer", "revenue.received", {"source": "parking", "amount_fen": 5_000_000}, SETUP
        )
    )
    log.append(
        entry(
            "treasurer", "donation.received", {"kind": "donation", "amount_fen": 10_000_000}, SETUP
        )
    )
    return log


BASE = CommunityState()
for _e in base_log():
    apply(BASE, _e)


def given(*entries: Entry) -> CommunityState:
    state = copy.deepcopy(BASE)
    for item in entries:
        apply(state, item)
    return state


def refused(state: CommunityState, item: Entry, code: str) -> LedgerError:
    """Then: ``item`` is refused with ``code`` and the state is exactly as it was."""
    before = copy.deepcopy(state)
    with pytest.raises(LedgerError) as caught:
        apply(state, item)
    assert caught.value.code == code, caught.value.en
    assert state == before
    return caught.value


# --- entry makers ---------------------------------------------------------------------------------


def proposal(
    needs: str = "committee",
    fund: str | None = "community",
    budget: int | None = 100_000,
    matter: str = "spending",
    author: str = "chair",
    at: str = PROPOSED,
    **extra: Any,
) -> Entry:
    body: dict[str, Any] = {"title": "Benches", "matter": matter, "needs": needs}
    body.update({"description": "three quotes", **extra})
    if fund is not None:
        body["fund"] = fund
    if budget is not None:
        body["budget_fen"] = budget
    return entry(author, "proposal.submitted", body, at)


def approve(subject: Entry, who: str, at: str = PROPOSED) -> Entry:
    return entry(who, "approval.signed", {"subject_id": subject.id}, at)


def approved(subject: Entry, *who: str) -> list[Entry]:
    return [subject, *(approve(subject, w) for w in who)]


def ballots(subject: Entry, choice: str, owners: tuple[str, ...] = tuple(OWNERS)) -> list[Entry]:
    body = {"proposal_id": subject.id, "choice": choice}
    return [entry(owner, "ballot.cast", body, VOTING) for owner in owners]


def voted(
    subject: Entry, choice: str = "yes", owners: tuple[str, ...] = tuple(OWNERS)
) -> list[Entry]:
    close = entry("chair", "vote.closed", {"proposal_id": subject.id}, CLOSED)
    return [subject, *ballots(subject, choice, owners), close]


def expense(
    amount: int, fund: str = "community", proposal_id: str | None = None, at: str = SPENDING,
    category: str = "other", who: str = "treasurer",
) -> Entry:  # fmt: skip
    body: dict[str, Any] = {
        "fund": fund, "category": category, "amount_fen": amount, "payee": "Acme Ltd",
        "description": "benches",
    }  # fmt: skip
    if proposal_id is not None:
        body["proposal_id"] = proposal_id
    return entry(who, "expense.paid", body, at)


def draw(amount: int, at: str = SPENDING, **cite_and_scope: Any) -> Entry:
    body = {"amount_fen": amount, "payee": "Lift Co", "description": "lift", **cite_and_scope}
    return entry("treasurer", "maintenance.drawn", body, at)


def reverse(item: Entry) -> Entry:
    return entry("treasurer", "entry.reversed", {"entry_id": item.id, "reason": "duplicate"})


# --- committee approvals ------------------------------------------------------------------------------


def test_k_of_n_committee_approvals_authorise_spending() -> None:
    """Given a committee proposal by the chair approved by Wang only (quorum 2 of 3), when the
    treasurer spends under it, then it is refused; after Li approves too, it is accepted."""
    subject = proposal()
    state = given(*approved(subject, "wang"))
    refused(state, expense(50_000, proposal_id=subject.id), "not_authorised")
    apply(state, approve(subject, "li"))
    apply(state, expense(50_000, proposal_id=subject.id))
    assert state.books.spent[subject.id] == 50_000


def test_the_author_never_approves_their_own_proposal() -> None:
    """Given the chair's proposal, when the chair approves it, then that is refused (403)."""
    subject = proposal()
    refused(given(subject), approve(subject, "chair"), "role_not_allowed")


def test_an_approval_counts_once() -> None:
    """Given Wang approved, when Wang approves again, then it is refused."""
    subject = proposal()
    refused(given(*approved(subject, "wang")), approve(subject, "wang"), "rule_violation")


def test_the_spender_never_counts_as_an_approver() -> None:
    """Given a proposal approved by Wang and Li (quorum 2), when one of them is the spender,
    then the proposal does not stand authorised for that spender; for the treasurer it does."""
    subject = proposal()
    state = given(*approved(subject, "wang", "li"))
    held = state.gov.proposals[subject.id]
    assert authorised(state, held, name("treasurer"))
    assert not authorised(state, held, name("wang"))
    assert not authorised(state, held, name("li"))


def test_only_committee_proposals_take_approvals() -> None:
    subject = proposal(needs="owners")
    refused(given(subject), approve(subject, "wang"), "rule_violation")


def test_an_approval_names_something_to_approve() -> None:
    refused(given(), approve(proposal(), "wang"), "rule_violation")


@pytest.mark.parametrize(
    "matter",
    ["maintenance_use", "maintenance_raise", "alteration", "common_use_change", "charter",
     "committee_election", "property_company"],
)  # fmt: skip
def test_owners_matters_cannot_be_left_to_the_committee(matter: str) -> None:
    """Given any matter art. 278 leaves to the owners, when it is proposed for the committee
    to approve, then it is refused."""
    refused(given(), proposal(matter=matter, fund="maintenance"), "rule_violation")


# --- authorising money out ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "item",
    [
        pytest.param(lambda: expense(500_000, fund="property"), id="property-up-to-routine-limit"),
        pytest.param(
            lambda: expense(500_000, fund="public_revenue", category="revenue_cost"),
            id="revenue-cost-up-to-routine-limit",
        ),
    ],
)
def test_routine_spending_needs_no_proposal(item: Any) -> None:
    """Given the charter's routine limit (5,000 yuan), when the treasurer pays a property
    cost or a cost of earning common revenue up to it without a proposal, then it is accepted."""
    state = given()
    apply(state, item())


@pytest.mark.parametrize(
    "item",
    [
        pytest.param(lambda: expense(500_001, fund="property"), id="property-over-routine"),
        pytest.param(
            lambda: expense(500_001, fund="public_revenue", category="revenue_cost"),
            id="revenue-cost-over-routine",
        ),
        pytest.param(lambda: expense(1, fund="public_revenue"), id="other-revenue-spending"),
        pytest.param(lambda: expense(1, fund="community"), id="community-spending"),
        pytest.param(lambda: draw(1, buildings=["1"]), id="maintenance-draw"),
        pytest.param(
            lambda: entry(
                "treasurer",
                "transfer.made",
                {
                    "from_fund": "public_revenue",
                    "to_fund": "maintenance",
                    "amount_fen": 1,
                    "description": "net revenue",
                },
            ),
            id="transfer",
        ),
        pytest.param(
            lambda: entry(
                "treasurer",
                "surplus.refunded",
                {"amount_fen": 1, "year": 2024, "description": "refund"},
            ),
            id="surplus-refund",
        ),
    ],
)
def test_other_money_out_needs_a_proposal(item: Any) -> None:
    """Given no proposal, when money leaves a fund beyond routine spending, then it is
    refused with not_authorised."""
    refused(given(), item(), "not_authorised")


def test_a_cited_proposal_must_exist() -> None:
    refused(given(), expense(1, proposal_id=str(uuid.uuid4())), "not_authorised")


def test_spending_waits_for_the_publicity_period() -> None:
    """Given an approved committee proposal of 1 February (Shanghai), when the treasurer
    spends at 23:59:59 on 8 February Shanghai (the seventh day), then it is refused; on
    9 February (00:00 Shanghai, 16:00 UTC the day before) it is accepted."""
    subject = proposal()
    state = given(*approved(subject, "wang", "li"))
    refused(state, expense(1, proposal_id=subject.id, at=LAST_PUBLICITY_SECOND), "not_authorised")
    apply(state, expense(1, proposal_id=subject.id, at="2025-02-08T16:00:00Z"))


@pytest.mark.parametrize(
    ("choice", "owners"),
    [("no", tuple(OWNERS)), ("yes", ("own-a",))],
    ids=["rejected", "too-few-voted"],
)
def test_spending_needs_a_vote_that_passed(choice: str, owners: tuple[str, ...]) -> None:
    """Given an owners' proposal whose vote failed, when the treasurer spends under it,
    then it is refused."""
    subject = proposal(needs="owners", fund="public_revenue", budget=100_000)
    refused(
        given(*voted(subject, choice, owners)),
        expense(1, "public_revenue", subject.id),
        "not_authorised",
    )


def test_an_open_vote_authorises_nothing() -> None:
    """Given an owners' proposal with ballots but no vote.closed, when the treasurer spends
    under it, then it is refused: the outcome exists only once computed at the close."""
    subject = proposal(needs="owners", fund="public_revenue")
    state = given(subject, *ballots(subject, "yes"))
    refused(state, expense(1, "public_revenue", subject.id), "not_authorised")


def test_cumulative_spending_stays_within_budget_and_reversals_give_it_back() -> None:
    """Given an approved budget of 1,000 yuan with 600 spent, when 400.01 more is spent,
    then it is refused; 400 is accepted; after the first 600 is reversed, 600 fits again."""
    subject = proposal(budget=100_000)
    first = expense(60_000, proposal_id=subject.id)
    state = given(*approved(subject, "wang", "li"), first)
    refused(state, expense(40_001, proposal_id=subject.id), "not_authorised")
    apply(state, expense(40_000, proposal_id=subject.id))
    refused(state, expense(1, proposal_id=subject.id), "not_authorised")
    apply(state, reverse(first))
    assert state.books.spent[subject.id] == 40_000
    apply(state, expense(60_000, proposal_id=subject.id))
    assert state.books.spent[subject.id] == 100_000


def test_the_proposal_fund_must_match() -> None:
    """Given an approved proposal for the community fund, when the property fund pays under it,
    then it is refused."""
    subject = proposal(fund="community")
    state = given(*approved(subject, "wang", "li"))
    refused(state, expense(600_000, "property", subject.id), "not_authorised")


@pytest.mark.parametrize(("fund", "budget"), [(None, 100_000), ("community", None)])
def test_a_proposal_without_fund_or_budget_authorises_no_spending(
    fund: str | None, budget: int | None
) -> None:
    """Given an approved proposal that names no fund (or no budget), when money is spent
    under it, then it is refused: spending stays within a named fund's budget."""
    subject = proposal(fund=fund, budget=budget)
    refused(
        given(*approved(subject, "wang", "li")),
        expense(1, proposal_id=subject.id),
        "not_authorised",
    )


def test_property_spending_above_the_committee_limit_needs_the_owners() -> None:
    """Given a committee-approved property proposal of 60,000 yuan (limit 50,000), when
    50,000.01 yuan is spent under it, then it is refused; 50,000 is accepted, and one fen
    more under the same proposal is refused; under an owners' proposal 50,000.01 is accepted."""
    committee = proposal(fund="property", budget=6_000_000)
    state = given(*approved(committee, "wang", "li"))
    refused(state, expense(5_000_001, "property", committee.id), "not_authorised")
    apply(state, expense(5_000_000, "property", committee.id))
    refused(state, expense(1, "property", committee.id), "not_authorised")
    owners = proposal(needs="owners", fund="property", budget=6_000_000)
    for item in voted(owners):
        apply(state, item)
    apply(state, expense(5_000_001, "property", owners.id))


def owners_maintenance(buildings: list[str], budget: int = 3_000_000) -> Entry:
    return proposal(
        needs="owners", fund="maintenance", budget=budget, matter="maintenance_use",
        buildings=buildings,
    )  # fmt: skip


def test_a_draw_is_apportioned_to_exactly_the_units_that_voted() -> None:
    """Given building 1's owners voted to use the fund for building 1, when a draw is scoped to
    one unit of it, or to both buildings, then it is refused; scoped to building 1 (or to its
    two units listed) it is accepted."""
    subject = owners_maintenance(["1"])
    state = given(*voted(subject, "yes", ("own-a", "own-b")))
    refused(state, draw(1_000, proposal_id=subject.id, units=["1-101"]), "not_authorised")
    refused(state, draw(1_000, proposal_id=subject.id, buildings=["1", "2"]), "not_authorised")
    apply(state, draw(1_000, proposal_id=subject.id, buildings=["1"]))
    apply(state, draw(1_000, proposal_id=subject.id, units=["1-102", "1-101"]))
    assert state.books.subaccounts["2-101"] == 5_000_000


def test_a_draw_needs_the_owners_vote_on_using_the_fund() -> None:
    """Given a committee proposal on the maintenance fund (other spending), then it is refused
    when submitted: using the fund is the owners' decision; and a draw citing an owners' vote
    on another matter is refused too."""
    refused(given(), proposal(fund="maintenance", matter="spending"), "rule_violation")
    other = proposal(fund="maintenance", matter="spending", needs="owners")
    state = given(other)
    refused(state, draw(1_000, proposal_id=other.id, buildings=["1", "2"]), "not_authorised")


# --- the emergency path ------------------------------------------------------------------------------


def emergency_proposal(at: str = PROPOSED) -> Entry:
    return proposal(
        needs="emergency", fund="maintenance", budget=2_000_000, matter="maintenance_use",
        buildings=["1"], at=at, title="Lift stopped",
    )  # fmt: skip


def declare(subject: Entry, who: str = "jiedao", cap: int = 1_500_000, **scope: Any) -> Entry:
    body = {"proposal_id": subject.id, "cap_fen": cap, "reason": "lift stopped", **scope}
    return entry(who, "emergency.declared", body, PROPOSED)


@pytest.mark.parametrize("who", ["chair", "treasurer"])
def test_only_an_authority_declares_an_emergency(who: str) -> None:
    """Given the committee's emergency application, when a committee member or the treasurer
    declares the emergency, then it is refused (403): the committee cannot open the path."""
    subject = emergency_proposal()
    refused(given(subject), declare(subject, who, buildings=["1"]), "role_not_allowed")


def test_emergency_draws_need_no_vote_nor_publicity_but_stay_within_cap_and_scope() -> None:
    """Given an emergency declared by the sub-district office for building 1 with a cap of
    15,000 yuan, when the treasurer draws the same day, without any vote, then it is
    accepted and counted against the cap; beyond the cap, or outside the scope, it is refused."""
    subject = emergency_proposal()
    declared = declare(subject, buildings=["1"])
    state = given(subject, declared)
    same_day = PROPOSED
    refused(
        state,
        draw(1_500_001, same_day, emergency_id=declared.id, buildings=["1"]),
        "not_authorised",
    )
    refused(
        state,
        draw(1_000, same_day, emergency_id=declared.id, buildings=["1", "2"]),
        "not_authorised",
    )
    refused(
        state, draw(1_000, same_day, emergency_id=declared.id, units=["1-101"]), "not_authorised"
    )
    apply(state, draw(1_000_000, same_day, emergency_id=declared.id, buildings=["1"]))
    refused(
        state, draw(500_001, same_day, emergency_id=declared.id, buildings=["1"]), "not_authorised"
    )
    apply(state, draw(500_000, same_day, emergency_id=declared.id, buildings=["1"]))
    held = state.gov.proposals[subject.id]
    assert held.emergency is not None and held.emergency.cap_fen == 1_500_000
    assert state.gov.emergencies == {declared.id: subject.id}
    assert state.books.spent[subject.id] == 1_500_000


def test_an_emergency_is_declared_once_and_only_on_an_emergency_application() -> None:
    subject = emergency_proposal()
    declared = declare(subject, buildings=["1"])
    state = given(subject, declared)
    refused(state, declare(subject, buildings=["1"]), "rule_violation")
    ordinary = proposal()
    apply(state, ordinary)
    refused(state, declare(ordinary), "rule_violation")


def test_an_emergency_draw_cites_a_declared_emergency() -> None:
    """Given an emergency application not yet confirmed, when a draw cites the application
    (as proposal or as emergency), then it is refused."""
    subject = emergency_proposal()
    state = given(subject)
    refused(state, draw(1, emergency_id=subject.id, buildings=["1"]), "not_authorised")
    refused(state, draw(1, proposal_id=subject.id, buildings=["1"]), "not_authorised")


@pytest.mark.parametrize(
    ("matter", "fund"), [("spending", "maintenance"), ("maintenance_use", "community")]
)
def test_the_emergency_path_is_for_maintenance_repairs_only(matter: str, fund: str) -> None:
    refused(given(), proposal(needs="emergency", fund=fund, matter=matter), "rule_violation")


# --- progress, reviews, objections ------------------------------------------------------------------


STAGES = ("contracted", "started", "completed", "accepted")


def progress(subject: Entry, stage: str, who: str = "treasurer") -> Entry:
    return entry(who, "project.progressed", {"proposal_id": subject.id, "stage": stage})


def review(subject: Entry) -> Entry:
    body = {"proposal_id": subject.id, "rating": 4, "summary": "works"}
    return entry("chair", "project.reviewed", body)


def test_progress_goes_through_the_stages_in_order() -> None:
    """Given an authorised project, when its stages come out of order (a skip, a repeat, a
    step back, anything after acceptance), then each is refused; in order each is accepted."""
    subject = proposal()
    state = given(*approved(subject, "wang", "li"))
    refused(state, progress(subject, "started"), "rule_violation")
    for n, stage in enumerate(STAGES):
        apply(state, progress(subject, stage, who=("treasurer", "chair")[n % 2]))
        assert state.gov.proposals[subject.id].stage == stage
        for other in STAGES[: n + 1]:
            refused(state, progress(subject, other), "rule_violation")


def test_progress_only_for_an_authorised_proposal() -> None:
    subject = proposal()
    refused(given(*approved(subject, "wang")), progress(subject, "contracted"), "rule_violation")


def test_the_outcome_review_comes_after_completion_and_once() -> None:
    """Given a started project, when it is reviewed, then that is refused; once completed the
    review is accepted, and a second review is refused."""
    subject = proposal()
    state = given(*approved(subject, "wang", "li"), progress(subject, "contracted"))
    apply(state, progress(subject, "started"))
    refused(state, review(subject), "rule_violation")
    apply(state, progress(subject, "completed"))
    apply(state, review(subject))
    assert state.gov.proposals[subject.id].reviewed
    refused(state, review(subject), "rule_violation")


def objection(target: Entry) -> Entry:
    return entry("own-a", "objection.raised", {"target_id": target.id, "text": "why so dear?"})


def answer(raised: Entry, outcome: str, correction: Entry | None = None) -> Entry:
    body = {"objection_id": raised.id, "outcome": outcome, "text": "see the quotes"}
    if correction is not None:
        body["correction_id"] = correction.id
    return entry("treasurer", "objection.answered", body)


def test_an_objection_stays_open_until_answered_once() -> None:
    """Given an owner's objection to an expense, then it is open; when it is answered, then
    it is closed, and a second answer is refused."""
    paid = expense(100_000, "property")
    raised = objection(paid)
    state = given(paid, raised)
    assert [oid for oid, _ in state.gov.open_objections()] == [raised.id]
    apply(state, answer(raised, "explained"))
    assert state.gov.open_objections() == []
    refused(state, answer(raised, "accepted"), "rule_violation")


def test_a_correction_cites_the_correcting_entry() -> None:
    """Given an objection to an expense, when it is answered "corrected" without citing the
    correction, or citing an entry not in the log, then it is refused; citing the reversal
    that corrects it, it is accepted."""
    paid = expense(100_000, "property")
    raised = objection(paid)
    state = given(paid, raised)
    refused(state, answer(raised, "corrected"), "rule_violation")
    refused(state, answer(raised, "corrected", expense(1, "property")), "rule_violation")
    fix = reverse(paid)
    apply(state, fix)
    apply(state, answer(raised, "corrected", fix))
    assert state.gov.open_objections() == []


def test_an_objection_names_an_entry_of_the_log() -> None:
    refused(given(), objection(expense(1, "property")), "rule_violation")
    refused(given(), answer(objection(expense(1, "property")), "explained"), "rule_violation")


# --- the charter ------------------------------------------------------------------------------------


def charter(subject: Entry, **numbers: Any) -> Entry:
    return entry("chair", "charter.amended", {"proposal_id": subject.id, **numbers}, CLOSED)


def test_the_charter_changes_only_by_a_passed_charter_vote_and_its_numbers_apply() -> None:
    """Given a charter vote that passed, when the committee amends the charter citing it
    (publicity 3 days), then the next proposal, of 11 February, is public for 3 days
    (12-14 February) and may be acted on from 15 February; citing the same vote again is
    refused."""
    subject = proposal(needs="owners", fund=None, budget=None, matter="charter")
    state = given(*voted(subject))
    apply(state, charter(subject, publicity_days=3))
    assert state.gov.charter.publicity_days == 3
    later = proposal(at=SPENDING)
    apply(state, later)
    assert state.gov.proposals[later.id].publicity_ends == "2025-02-15"
    refused(state, charter(subject, routine_limit_fen=10**12), "not_authorised")
    assert state.gov.charter.routine_limit_fen == 500_000


@pytest.mark.parametrize("how", ["failed", "open", "not-charter", "committee"])
def test_the_charter_does_not_change_without_a_passed_charter_vote(how: str) -> None:
    """Given a charter vote that failed, one still open, a passed vote on another matter, or a
    committee proposal, when the charter is amended citing it, then it is refused."""
    if how == "failed":
        subject = proposal(needs="owners", fund=None, budget=None, matter="charter")
        setup = voted(subject, "no")
    elif how == "open":
        subject = proposal(needs="owners", fund=None, budget=None, matter="charter")
        setup = [subject]
    elif how == "not-charter":
        subject = proposal(needs="owners", fund=None, budget=None, matter="other")
        setup = voted(subject)
    else:
        subject = proposal()
        setup = approved(subject, "wang", "li")
    state = given(*setup)
    refused(state, charter(subject, publicity_days=0), "not_authorised")


def test_a_charter_quorum_changes_the_approvals_needed() -> None:
    """Given the charter amended to a committee quorum of 1, when a proposal approved by
    Wang alone is spent under, then it is accepted (with the default 2, it would not be)."""
    vote = proposal(needs="owners", fund=None, budget=None, matter="charter")
    subject = proposal()
    state = given(*voted(vote), charter(vote, committee_quorum=1), *approved(subject, "wang"))
    apply(state, expense(1, proposal_id=subject.id))


# --- keys ---------------------------------------------------------------------------------------------


def contribution(who: str) -> Entry:
    body = {"fund": "property", "unit": "1-101", "amount_fen": 100, "month": "2025-02"}
    return entry(who, "contribution.received", body)


def test_a_treasurer_key_waits_for_the_committee_quorum() -> None:
    """Given the chair registered a second treasurer key (its first approval, of 2 needed),
    when that key signs, then it is refused as not yet in effect; the chair approving again is
    refused; once Li approves, the key signs."""
    registered = register("chair", "treasurer2", "treasurer")
    state = given(registered)
    assert state.keys[name("treasurer2")].effective_at is None
    refused(state, contribution("treasurer2"), "unknown_signer")
    refused(state, approve(registered, "chair"), "rule_violation")
    apply(state, approve(registered, "li"))
    apply(state, contribution("treasurer2"))


def test_with_a_single_committee_key_a_treasurer_is_in_effect_at_once() -> None:
    founding = {
        "name": "Small",
        "origin": "example.org/c/gov/log",
        "keys": [{"vkey": str(key("chair").verifier()), "role": "committee"}],
    }
    state = CommunityState()
    apply(state, entry("chair", "community.founded", founding, SETUP))
    apply(state, register("chair", "treasurer", "treasurer"))
    unit = {"unit": "1-101", "building": "1", "area_cm2": AREA, "owner": "own-a"}
    apply(state, entry("treasurer", "unit.registered", unit))


def test_a_committee_key_needs_a_passed_election() -> None:
    """Given no election, or a failed one, when the chair registers a new committee key, then
    it is refused (403); citing an election that passed, it is accepted and the new member
    may approve from the next entry on."""
    state = given()
    refused(state, register("chair", "zhao", "committee"), "role_not_allowed")
    failed = proposal(needs="owners", fund=None, budget=None, matter="committee_election")
    for item in voted(failed, "no"):
        apply(state, item)
    refused(
        state, register("chair", "zhao", "committee", election_id=failed.id), "role_not_allowed"
    )
    elected = proposal(needs="owners", fund=None, budget=None, matter="committee_election")
    for item in voted(elected):
        apply(state, item)
    apply(state, register("chair", "zhao", "committee", election_id=elected.id))
    subject = proposal()
    apply(state, subject)
    apply(state, approve(subject, "zhao"))


def test_only_committee_keys_cite_an_election() -> None:
    elected = proposal(needs="owners", fund=None, budget=None, matter="committee_election")
    state = given(*voted(elected))
    refused(
        state,
        register("chair", "own-x", "owner", owner="own-x", election_id=elected.id),
        "rule_violation",
    )


def test_authority_keys_come_only_from_an_authority() -> None:
    """Given the founding authority key, when the committee registers an authority key, then
    it is refused (403); when the authority registers one, it is accepted and may declare."""
    state = given()
    refused(state, register("chair", "zhujian", "authority"), "role_not_allowed")
    refused(state, register("treasurer", "zhujian", "authority"), "role_not_allowed")
    apply(state, register("jiedao", "zhujian", "authority"))
    subject = emergency_proposal()
    apply(state, subject)
    apply(state, declare(subject, "zhujian", buildings=["1"]))
