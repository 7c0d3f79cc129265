"""The money rules through ``ledger.core.rules.apply`` (DOMAIN.md "The four funds" … "Corrections").

Every test reads given (a small community and its log so far) / when (one more entry) /
then (accepted with the books moved as DOMAIN.md says, or refused with a stable code
and the state exactly as it was).

The community: a chair, Wang and Li on the committee (quorum 2), a treasurer and a
trustee (each approved by Wang), an owner; units 1-101 (89.5 m²) and 1-102 (120 m²) in
building 1, 2-101 (60.25 m²) and 2-102 (100 m²) in building 2. Money out is authorised
as DOMAIN.md "Spending and who authorises it" demands: the owners of each scope the tests
draw over have voted to use the maintenance fund for it (budget 10,000 yuan each), and
the committee (Wang and Li; the chair wrote them) has approved one spending proposal per
fund (property, common revenue, community; 50,000 yuan each) for transfers, refunds and
non-routine expenses. All were submitted on 2025-01-01; the seven days of publicity
(2025-01-02 … 2025-01-08, the day of submission not counted) ended at 24:00 on
2025-01-08, so the votes close on 2025-01-09, the day before the tests' money moves.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import uuid
from typing import Any

import pytest

from ledger.core.catalogue import SIGNER_ROLES, TYPES
from ledger.core.entry import Entry, sign_entry
from ledger.core.errors import LedgerError
from ledger.core.keys import SigningKey
from ledger.core.money import apportion
from ledger.core.money_bodies import MONEY_SIGNERS
from ledger.core.rules import apply
from ledger.core.state import CommunityState

COMMUNITY = "money"
AT = "2025-01-10T09:00:00+08:00"
PROPOSED_AT = "2025-01-01T09:00:00+08:00"  # publicity (7 days): votes from 2025-01-09
VOTED_AT = "2025-01-09T09:00:00+08:00"
AREAS = {"1-101": 895_000, "1-102": 1_200_000, "2-101": 602_500, "2-102": 1_000_000}
ROLE_OF = {
    "chair": "committee",
    "wang": "committee",
    "li": "committee",
    "treasurer": "treasurer",
    "trustee": "trustee",
    "owner": "owner",
}
_ids = itertools.count()


def key(handle: str) -> SigningKey:
    seed = hashlib.sha256(f"money rules test {handle}".encode()).digest()
    return SigningKey(f"{COMMUNITY}/{handle}", 1, seed)


KEYS = {handle: key(handle) for handle in ROLE_OF}


def entry(signer: str, entry_type: str, body: dict[str, Any], at: str = AT) -> Entry:
    entry_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"money-rules-test/{next(_ids)}"))
    return sign_entry(
        KEYS[signer], community=COMMUNITY, type=entry_type, body=body, at=at, entry_id=entry_id
    )


OWNER_OF = {code: f"owner-000{n + 1}" for n, code in enumerate(AREAS)}
# The scopes (sorted unit codes) the tests draw over; each gets its own owners' vote.
DRAW_SCOPES = (
    ("1-101",),
    ("2-101",),
    ("1-101", "2-101"),
    ("1-101", "1-102"),  # building 1
    ("1-101", "1-102", "2-101"),
)


def approval(signer: str, subject: Entry, at: str = AT) -> Entry:
    return entry(signer, "approval.signed", {"subject_id": subject.id}, at)


VOTE_BUDGET = 1_000_000
SPENDING_BUDGET = 5_000_000
SPENDING_FUNDS = ("property", "community")  # the committee may approve spending from these


def proposal(
    matter: str, needs: str, fund: str, budget: int, at: str = PROPOSED_AT, **extra: Any
) -> Entry:
    body = {
        "title": f"{matter} proposal",
        "matter": matter,
        "needs": needs,
        "fund": fund,
        "budget_fen": budget,
        **extra,
    }
    return entry("chair", "proposal.submitted", {"description": "for the tests", **body}, at)


def owners_vote(scope: tuple[str, ...], choice: str = "yes") -> list[Entry]:
    """The owners of ``scope`` vote on using the maintenance fund for it (paper ballots
    transcribed by the chair); the vote closes after the publicity period."""
    submitted = proposal("maintenance_use", "owners", "maintenance", VOTE_BUDGET, units=list(scope))
    ballots = [
        entry(
            "chair",
            "ballot.recorded",
            {
                "proposal_id": submitted.id,
                "owner": OWNER_OF[code],
                "choice": choice,
                "scan_sha256": hashlib.sha256(f"ballot {code}".encode()).hexdigest(),
            },
            VOTED_AT,
        )
        for code in scope
    ]
    closed = entry("chair", "vote.closed", {"proposal_id": submitted.id}, VOTED_AT)
    return [submitted, *ballots, closed]


def base_log(units: bool = True) -> list[Entry]:
    founding = {
        "name": "Money Court",
        "origin": "example.org/c/money/log",
        "keys": [
            {"vkey": str(KEYS[h].verifier()), "role": "committee"} for h in ("chair", "wang", "li")
        ],
    }
    treasurer = entry(
        "chair", "key.registered", {"vkey": str(KEYS["treasurer"].verifier()), "role": "treasurer"}
    )
    trustee = entry(
        "chair", "key.registered", {"vkey": str(KEYS["trustee"].verifier()), "role": "trustee"}
    )
    spending = [proposal("spending", "committee", fund, SPENDING_BUDGET) for fund in SPENDING_FUNDS]
    log = [
        entry("chair", "community.founded", founding),
        treasurer,
        approval("wang", treasurer),
        trustee,
        approval("wang", trustee),
        entry(
            "chair",
            "key.registered",
            {"vkey": str(KEYS["owner"].verifier()), "role": "owner", "owner": "owner-0001"},
        ),
    ]
    for submitted in spending:
        log += [
            submitted,
            approval("wang", submitted, PROPOSED_AT),
            approval("li", submitted, PROPOSED_AT),
        ]
    if units:
        for code, area in AREAS.items():
            body = {"unit": code, "building": code[0], "area_cm2": area, "owner": OWNER_OF[code]}
            log.append(entry("treasurer", "unit.registered", body))
        for scope in DRAW_SCOPES:
            log.extend(owners_vote(scope))
        log.extend(common_revenue_vote())
    return log


def common_revenue_vote() -> list[Entry]:
    """Common revenue is spent as the owners decide: the whole estate votes yes on a budget."""
    submitted = proposal("spending", "owners", "public_revenue", SPENDING_BUDGET)
    ballots = [
        entry(
            "chair",
            "ballot.recorded",
            {
                "proposal_id": submitted.id,
                "owner": OWNER_OF[code],
                "choice": "yes",
                "scan_sha256": hashlib.sha256(f"revenue ballot {code}".encode()).hexdigest(),
            },
            VOTED_AT,
        )
        for code in AREAS
    ]
    return [
        submitted,
        *ballots,
        entry("chair", "vote.closed", {"proposal_id": submitted.id}, VOTED_AT),
    ]


BASE_LOG = base_log()
BASE = CommunityState()
for _e in BASE_LOG:
    apply(BASE, _e)
SPENDING = {
    e.body["fund"]: e
    for e in BASE_LOG
    if e.type == "proposal.submitted" and e.body["matter"] == "spending"
}
VOTES = {
    tuple(e.body["units"]): e
    for e in BASE_LOG
    if e.type == "proposal.submitted" and e.body["matter"] == "maintenance_use"
}


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


# --- entry makers -------------------------------------------------------------------------


def fee(
    unit: str = "1-101",
    amount: int = 26_850,
    month: str = "2025-01",
    at: str = AT,
    signer: str = "treasurer",
) -> Entry:
    body = {"fund": "property", "unit": unit, "amount_fen": amount, "month": month}
    return entry(signer, "contribution.received", body, at)


def deposit(unit: str = "1-101", amount: int = 100_000, kind: str = "initial") -> Entry:
    body = {"fund": "maintenance", "unit": unit, "amount_fen": amount, "deposit": kind}
    return entry("treasurer", "contribution.received", body)


def interest(amount: int, fund: str = "maintenance") -> Entry:
    return entry("treasurer", "interest.credited", {"fund": fund, "amount_fen": amount})


def revenue(amount: int, source: str = "parking") -> Entry:
    return entry("treasurer", "revenue.received", {"source": source, "amount_fen": amount})


def donation(amount: int, **extra: Any) -> Entry:
    return entry(
        "treasurer", "donation.received", {"kind": "donation", "amount_fen": amount, **extra}
    )


def expense(fund: str, amount: int, signer: str = "treasurer", at: str = AT, **extra: Any) -> Entry:
    """Property expenses up to the routine limit need no proposal; the other funds' cite the
    committee's spending proposal for the fund unless ``proposal_id`` is given (None: none)."""
    if fund != "property":
        extra.setdefault("proposal_id", SPENDING[fund].id)
    body = {
        "fund": fund,
        "category": "other",
        "amount_fen": amount,
        "payee": "Acme Services Ltd",
        "description": "a test expense",
        **extra,
    }
    return entry(signer, "expense.paid", _cited(body), at)


def _cited(body: dict[str, Any]) -> dict[str, Any]:
    """``proposal_id: None`` in a maker's arguments means: cite no proposal."""
    return {k: v for k, v in body.items() if not (k == "proposal_id" and v is None)}


def _scope_of(scope: dict[str, Any]) -> tuple[str, ...]:
    if "buildings" in scope:
        return tuple(sorted(c for c in AREAS if c[0] in scope["buildings"]))
    return tuple(sorted(set(scope.get("units", ()))))


def draw(amount: int, **scope: Any) -> Entry:
    """A draw citing the owners' vote over exactly its scope, unless ``proposal_id`` is given."""
    if "proposal_id" not in scope and _scope_of(scope) in VOTES:
        scope["proposal_id"] = VOTES[_scope_of(scope)].id
    body = {"amount_fen": amount, "payee": "Lift Co", "description": "lift repair", **scope}
    return entry("treasurer", "maintenance.drawn", _cited(body))


def transfer(source: str, target: str, amount: int, at: str = AT, **extra: Any) -> Entry:
    """A transfer citing the committee's spending proposal for the fund it leaves, unless
    ``proposal_id`` is given (None: none)."""
    body = {
        "from_fund": source,
        "to_fund": target,
        "amount_fen": amount,
        "description": "move",
        "proposal_id": SPENDING[source].id if source in SPENDING else None,
        **extra,
    }
    return entry("treasurer", "transfer.made", _cited(body), at)


def contract(from_month: str = "2025-01", signer: str = "chair", **pay: Any) -> Entry:
    return entry(
        signer,
        "trustee.contract_set",
        {"trustee": "Trust Property Co", "from_month": from_month, **pay},
    )


def remunerated(month: str, amount: int, signer: str = "trustee") -> Entry:
    return entry(signer, "trustee.remunerated", {"month": month, "amount_fen": amount})


def surplus(amount: int, proposal_id: str | None = None) -> Entry:
    body = {"amount_fen": amount, "year": 2025, "description": "2025 surplus"}
    body["proposal_id"] = proposal_id or SPENDING["property"].id
    return entry("treasurer", "surplus.refunded", body)


def reversal(cited: Entry, signer: str = "treasurer") -> Entry:
    return entry(signer, "entry.reversed", {"entry_id": cited.id, "reason": "recorded in error"})


def deposits_for_all(amount: int = 100_000) -> list[Entry]:
    return [deposit(code, amount) for code in AREAS]


# --- contributions ------------------------------------------------------------------------


def test_a_property_fee_counts_as_income_of_the_shanghai_month_it_was_received() -> None:
    """Given a fee for January received at 2025-01-31T16:30Z, then it is February's income."""
    state = given(fee("1-101", 26_850, month="2025-01", at="2025-01-31T16:30:00Z"))
    assert state.funds == {"property": 26_850}
    assert state.books.fee_income == {"2025-02": 26_850}
    assert state.books.property_paid == {"1-101": 26_850}
    assert state.books.subaccounts == {}


def test_fees_add_up_per_unit_and_per_month() -> None:
    state = given(
        fee("1-101", 100, at="2025-01-05T09:00:00+08:00"),
        fee("1-101", 200, month="2025-02", at="2025-01-06T09:00:00+08:00"),
        fee("2-101", 300, at="2025-02-01T00:00:00+08:00"),
    )
    assert state.books.fee_income == {"2025-01": 300, "2025-02": 300}
    assert state.books.property_paid == {"1-101": 300, "2-101": 300}


def test_an_initial_deposit_is_the_first_deposit_and_a_top_up_is_not() -> None:
    state = given(
        deposit("1-101", 100_000),
        deposit("1-101", 20_000, "top_up"),
        deposit("1-102", 5_000, "top_up"),
    )
    assert state.funds == {"maintenance": 125_000}
    assert state.books.subaccounts == {"1-101": 120_000, "1-102": 5_000}
    assert state.books.first_deposits == {"1-101": 100_000}


def test_a_contribution_for_an_unknown_unit_is_refused() -> None:
    refused(given(), fee("9-999"), "unknown_unit")
    refused(given(), deposit("9-999"), "unknown_unit")


def test_property_fee_and_deposit_fields_do_not_mix() -> None:
    body = {
        "fund": "property",
        "unit": "1-101",
        "amount_fen": 1,
        "month": "2025-01",
        "deposit": "initial",
    }
    refused(given(), entry("treasurer", "contribution.received", body), "rule_violation")
    body = {
        "fund": "maintenance",
        "unit": "1-101",
        "amount_fen": 1,
        "deposit": "initial",
        "month": "2025-01",
    }
    refused(given(), entry("treasurer", "contribution.received", body), "rule_violation")


# --- interest -------------------------------------------------------------------------------


def test_maintenance_interest_is_weighted_by_positive_balances_just_before() -> None:
    """Given 1-101 at 3000, 1-102 at 1000, 2-101 below zero and 2-102 with nothing,
    when 101 fen of interest arrive, then only the positive balances share it (3:1)."""
    state = given(
        deposit("1-101", 3_000),
        deposit("1-102", 1_000),
        draw(500, units=["2-101"]),
    )
    assert state.books.subaccounts == {"1-101": 3_000, "1-102": 1_000, "2-101": -500}
    apply(state, interest(101))
    # 101 × 3000/4000 = 75.75, 101 × 1000/4000 = 25.25: one fen left, to the larger remainder.
    assert state.books.subaccounts == {"1-101": 3_076, "1-102": 1_025, "2-101": -500}
    assert state.balance("maintenance") == 3_601


def test_interest_uses_balances_just_before_not_first_deposits() -> None:
    state = given(deposit("1-101", 1_000), deposit("1-102", 1_000), draw(900, units=["1-101"]))
    apply(state, interest(1_000))
    assert state.books.subaccounts == {"1-101": 100 + 91, "1-102": 1_000 + 909}


def test_interest_with_no_positive_balance_is_refused() -> None:
    """Given no deposit, or deposits drawn to zero (the fund is the sum of sub-accounts, so
    none can be below zero without another above it), then maintenance interest has no weight."""
    refused(given(), interest(100), "rule_violation")
    state = given(deposit("1-101", 1_000), draw(1_000, units=["1-101"]))
    assert state.books.subaccounts == {} and state.funds == {}
    refused(state, interest(1), "rule_violation")


@pytest.mark.parametrize("fund", ["property", "public_revenue", "community"])
def test_interest_on_other_funds_is_just_income(fund: str) -> None:
    state = given(interest(123, fund))
    assert state.funds == {fund: 123}
    assert state.books.subaccounts == {}


# --- revenue and donations ---------------------------------------------------------------


def test_common_revenue_goes_to_public_revenue() -> None:
    state = given(revenue(50_000), revenue(1_000, "advertising"))
    assert state.funds == {"public_revenue": 51_000}


def test_a_restricted_donation_holds_its_purpose() -> None:
    state = given(
        donation(10_000, purpose="elderly care"),
        donation(5_000),
        donation(2_000, purpose="elderly care"),
    )
    assert state.funds == {"community": 17_000}
    assert state.books.purposes == {"elderly care": 12_000}
    assert state.books.unrestricted_community() == 5_000


def test_a_donor_is_named_only_with_consent() -> None:
    refused(given(), donation(100, donor="Li Hua"), "rule_violation")
    refused(given(), donation(100, donor="Li Hua", donor_consent=False), "rule_violation")
    state = given(donation(100, donor="Li Hua", donor_consent=True))
    assert state.funds == {"community": 100}
    assert given(donation(100, donor_consent=False)).funds == {"community": 100}


# --- expenses -----------------------------------------------------------------------------


def test_an_expense_cannot_overdraw_its_fund() -> None:
    state = given(fee("1-101", 1_000))
    refused(state, expense("property", 1_001), "insufficient_funds")
    refused(state, expense("public_revenue", 1), "insufficient_funds")
    apply(state, expense("property", 1_000))
    assert state.funds == {}


def test_a_restricted_purpose_cannot_be_overspent_even_if_the_fund_could_pay() -> None:
    """Given 1000 for elderly care and 500 unrestricted, when 1001 are spent on elderly care, refused."""
    state = given(donation(1_000, purpose="elderly care"), donation(500))
    refused(state, expense("community", 1_001, purpose="elderly care"), "insufficient_funds")
    refused(state, expense("community", 1, purpose="library"), "insufficient_funds")
    apply(state, expense("community", 1_000, purpose="elderly care"))
    assert state.books.purposes == {}
    assert state.funds == {"community": 500}


def test_unrestricted_spending_cannot_eat_restricted_money() -> None:
    state = given(donation(1_000, purpose="elderly care"), donation(500))
    refused(state, expense("community", 501), "insufficient_funds")
    apply(state, expense("community", 500))
    assert state.funds == {"community": 1_000}
    assert state.books.purposes == {"elderly care": 1_000}


@pytest.mark.parametrize("fund", ["property", "public_revenue"])
def test_only_community_expenses_name_a_purpose(fund: str) -> None:
    state = given(fee("1-101", 1_000), revenue(1_000))
    refused(state, expense(fund, 10, purpose="elderly care"), "rule_violation")


def test_the_trustee_may_spend_but_an_owner_may_not() -> None:
    state = given(fee("1-101", 1_000))
    refused(state, expense("property", 10, signer="owner"), "role_not_allowed")
    apply(state, expense("property", 10, signer="trustee"))
    assert state.funds == {"property": 990}


# --- maintenance draws --------------------------------------------------------------------


def test_a_draw_is_apportioned_to_the_listed_units_by_area() -> None:
    state = given(*deposits_for_all())
    apply(state, draw(10_000, units=["2-101", "1-101"]))
    # 10000 × 895000/1497500 = 5976.6…, × 602500/1497500 = 4023.3…: the fen goes to 1-101.
    assert state.books.subaccounts == {
        "1-101": 100_000 - 5_977,
        "1-102": 100_000,
        "2-101": 100_000 - 4_023,
        "2-102": 100_000,
    }
    assert state.balance("maintenance") == 390_000


def test_a_draw_over_buildings_covers_all_their_units() -> None:
    state = given(*deposits_for_all())
    apply(state, draw(20_951, buildings=["1"]))
    shares = apportion(20_951, {"1-101": 895_000, "1-102": 1_200_000})
    assert sum(shares.values()) == 20_951
    assert state.books.subaccounts == {
        "1-101": 100_000 - shares["1-101"],
        "1-102": 100_000 - shares["1-102"],
        "2-101": 100_000,
        "2-102": 100_000,
    }


def test_a_draw_with_agreed_weights_follows_them() -> None:
    """Elevator costs weighted by floor (art. 283 有约定的按照约定): 1-101 weight 1, 1-102 weight 3."""
    state = given(*deposits_for_all())
    weights = [{"unit": "1-101", "weight": 1}, {"unit": "1-102", "weight": 3}]
    apply(state, draw(1_001, buildings=["1"], weights=weights))
    assert state.books.subaccounts["1-101"] == 100_000 - 250
    assert state.books.subaccounts["1-102"] == 100_000 - 751


def test_a_zero_agreed_weight_bears_nothing() -> None:
    state = given(*deposits_for_all())
    weights = [{"unit": "1-101", "weight": 0}, {"unit": "1-102", "weight": 3}]
    apply(state, draw(1_001, units=["1-101", "1-102"], weights=weights))
    assert state.books.subaccounts["1-101"] == 100_000
    assert state.books.subaccounts["1-102"] == 100_000 - 1_001


@pytest.mark.parametrize(
    "weights",
    [
        [{"unit": "1-101", "weight": 1}],  # misses 1-102
        [
            {"unit": "1-101", "weight": 1},
            {"unit": "1-102", "weight": 1},
            {"unit": "2-101", "weight": 1},
        ],
        [
            {"unit": "1-101", "weight": 1},
            {"unit": "1-102", "weight": 1},
            {"unit": "1-101", "weight": 2},
        ],
        [{"unit": "1-101", "weight": 0}, {"unit": "1-102", "weight": 0}],
    ],
    ids=["missing", "extra", "twice", "all-zero"],
)
def test_agreed_weights_must_cover_the_scope_exactly(weights: list[dict[str, Any]]) -> None:
    state = given(*deposits_for_all())
    refused(state, draw(1_000, buildings=["1"], weights=weights), "rule_violation")


def test_a_draw_names_units_or_buildings_not_both_nor_neither() -> None:
    state = given(*deposits_for_all())
    vote = VOTES[("1-101",)].id
    refused(
        state, draw(1_000, units=["1-101"], buildings=["1"], proposal_id=vote), "rule_violation"
    )
    refused(state, draw(1_000, proposal_id=vote), "rule_violation")


def test_a_draw_over_unknown_units_or_empty_buildings_is_refused() -> None:
    state = given(*deposits_for_all())
    vote = VOTES[("1-101",)].id
    refused(state, draw(1_000, units=["1-101", "9-999"], proposal_id=vote), "unknown_unit")
    refused(state, draw(1_000, buildings=["9"], proposal_id=vote), "unknown_unit")


def test_the_fund_as_a_whole_must_cover_a_draw() -> None:
    state = given(deposit("1-101", 1_000), deposit("2-101", 1_000))
    refused(state, draw(2_001, units=["1-101"]), "insufficient_funds")


def test_a_units_sub_account_may_go_below_zero_when_the_fund_covers_the_draw() -> None:
    """Then the unit owes the fund (补足) and the fund still equals the sum of sub-accounts."""
    state = given(deposit("1-101", 1_000), deposit("2-101", 1_000))
    apply(state, draw(1_500, units=["1-101"]))
    assert state.books.subaccounts == {"1-101": -500, "2-101": 1_000}
    assert state.balance("maintenance") == 500 == sum(state.books.subaccounts.values())


def test_only_the_treasurer_records_a_draw() -> None:
    state = given(*deposits_for_all())
    body = {"amount_fen": 1, "payee": "x", "description": "y", "units": ["1-101"]}
    refused(state, entry("trustee", "maintenance.drawn", body), "role_not_allowed")


# --- transfers ------------------------------------------------------------------------------


def test_a_transfer_moves_money_between_two_funds() -> None:
    state = given(revenue(10_000))
    apply(state, transfer("public_revenue", "property", 4_000))
    assert state.funds == {"public_revenue": 6_000, "property": 4_000}
    assert state.books.fee_income == {}


def test_a_transfer_into_maintenance_is_apportioned_over_all_units_by_area() -> None:
    state = given(revenue(10_000))
    apply(state, transfer("public_revenue", "maintenance", 10_000))
    assert state.books.subaccounts == apportion(10_000, AREAS)
    assert state.balance("maintenance") == 10_000 == sum(state.books.subaccounts.values())


def test_a_transfer_into_maintenance_without_units_is_refused() -> None:
    """Given no units, when community money moves into the maintenance fund, then there is no
    sub-account to credit: refused."""
    state = CommunityState()
    log = base_log(units=False)
    for item in [*log, donation(100)]:
        apply(state, item)
    spending = spending_proposal(log, "community")
    move = transfer("community", "maintenance", 100, proposal_id=spending.id)
    refused(state, move, "rule_violation")


def spending_proposal(log: list[Entry], fund: str) -> Entry:
    return next(e for e in log if e.type == "proposal.submitted" and e.body["fund"] == fund)


def test_a_transfer_into_the_community_fund_may_be_restricted() -> None:
    state = given(revenue(10_000))
    apply(state, transfer("public_revenue", "community", 3_000, purpose="playground"))
    assert state.books.purposes == {"playground": 3_000}
    refused(
        state, transfer("public_revenue", "property", 1, purpose="playground"), "rule_violation"
    )


def test_transfers_refused_same_fund_out_of_maintenance_overdraft_or_restricted() -> None:
    state = given(revenue(10_000), *deposits_for_all(), donation(1_000, purpose="elderly care"))
    refused(state, transfer("public_revenue", "public_revenue", 1), "rule_violation")
    # Not even under the owners' vote on using the maintenance fund:
    vote = VOTES[("1-101",)].id
    refused(state, transfer("maintenance", "property", 1, proposal_id=vote), "rule_violation")
    refused(state, transfer("public_revenue", "property", 10_001), "insufficient_funds")
    refused(state, transfer("community", "property", 1), "insufficient_funds")


# --- authorising money out (DOMAIN.md "Spending and who authorises it") -------------------


def test_money_out_that_needs_a_proposal_is_refused_without_one() -> None:
    """Given funded books, when a draw, a transfer, a refund or a non-routine expense cites no
    proposal, then it is refused (not_authorised); property spending up to the routine limit
    (5,000 yuan) and common-revenue costs of earning it need none."""
    state = given(*deposits_for_all(), fee("1-101", 600_000), revenue(10_000), donation(1_000))
    refused(state, draw(1_000, units=["1-101"], proposal_id=None), "not_authorised")
    refused(state, transfer("public_revenue", "property", 1, proposal_id=None), "not_authorised")
    refund = {"amount_fen": 1, "year": 2025, "description": "2025 surplus"}
    refused(state, entry("treasurer", "surplus.refunded", refund), "not_authorised")
    refused(state, expense("public_revenue", 1, proposal_id=None), "not_authorised")
    refused(state, expense("community", 1, proposal_id=None), "not_authorised")
    refused(state, expense("property", 500_001), "not_authorised")
    apply(state, expense("property", 500_000))
    apply(state, expense("public_revenue", 100, category="revenue_cost", proposal_id=None))
    assert state.funds["property"] == 100_000 and state.funds["public_revenue"] == 9_900


def test_a_draw_cites_a_passed_vote_over_exactly_its_scope() -> None:
    """Given the owners' votes, when a draw cites a vote over another scope, a committee
    proposal, or a vote that failed, then not_authorised; the vote over its scope passes."""
    failed = owners_vote(("2-102",), choice="no")
    state = given(*deposits_for_all(), *failed)
    one = VOTES[("1-101",)].id
    refused(state, draw(1_000, units=["1-101", "1-102"], proposal_id=one), "not_authorised")
    refused(
        state, draw(1_000, units=["1-101"], proposal_id=SPENDING["property"].id), "not_authorised"
    )
    refused(state, draw(1_000, units=["2-102"], proposal_id=failed[0].id), "not_authorised")
    apply(state, draw(1_000, units=["1-101"]))
    assert state.books.subaccounts["1-101"] == 99_000


def test_spending_waits_for_the_quorum_and_the_publicity_period_and_stays_within_budget() -> None:
    """Given a committee proposal of 100 yuan from the community fund submitted on 2025-01-10
    (seven days of publicity, 2025-01-11 … 2025-01-17, ending at 24:00 on 2025-01-17) and
    approved by Wang only, then nothing may be spent under it until Li approves too (quorum 2;
    the chair wrote it), nor before 2025-01-18 in Shanghai, nor beyond its budget in total."""
    submitted = proposal("spending", "committee", "community", 10_000, at=AT)
    state = given(donation(50_000), submitted, approval("wang", submitted))

    def spend(amount: int, at: str = "2025-01-18T09:00:00+08:00") -> Entry:
        return expense("community", amount, proposal_id=submitted.id, at=at)

    refused(state, spend(1), "not_authorised")
    apply(state, approval("li", submitted))
    refused(state, spend(1, at="2025-01-17T15:59:59Z"), "not_authorised")  # 23:59:59 in Shanghai
    apply(state, spend(6_000, at="2025-01-17T16:00:00Z"))  # 00:00 on 2025-01-18
    refused(state, spend(4_001), "not_authorised")
    apply(state, spend(4_000))
    assert state.funds == {"community": 40_000}
    assert state.books.spent[submitted.id] == 10_000


# --- trustee remuneration -----------------------------------------------------------------


def test_remuneration_needs_a_contract_covering_the_month() -> None:
    state = given(fee("1-101", 100_000))
    refused(state, remunerated("2025-01", 1), "rule_violation")
    apply(state, contract("2025-02", basis_points=1_000))
    refused(state, remunerated("2025-01", 1), "rule_violation")


def test_remuneration_cap_is_basis_points_of_fees_received_that_shanghai_month_rounded_down() -> (
    None
):
    """Given 8.00% and fees received in January of 26850 + 12345 fen (and 99999 received on
    2025-01-31T16:30Z, which is February in Shanghai), then January's cap is
    floor(800 × 39195 / 10000) = 3135 fen: exactly the cap passes, one fen more does not."""
    state = given(
        contract("2025-01", basis_points=800),
        fee("1-101", 26_850, at="2025-01-03T09:00:00+08:00"),
        fee("1-102", 12_345, month="2024-12", at="2025-01-20T09:00:00+08:00"),
        fee("2-101", 99_999, at="2025-01-31T16:30:00Z"),
    )
    assert state.books.fee_income == {"2025-01": 39_195, "2025-02": 99_999}
    refused(state, remunerated("2025-01", 3_136), "rule_violation")
    apply(state, remunerated("2025-01", 3_135))
    assert state.books.remuneration == {"2025-01": 3_135}
    assert state.balance("property") == 39_195 + 99_999 - 3_135


def test_the_cap_is_cumulative_per_month() -> None:
    state = given(contract("2025-01", basis_points=1_000), fee("1-101", 10_009))
    apply(state, remunerated("2025-01", 600))
    refused(state, remunerated("2025-01", 401), "rule_violation")
    apply(state, remunerated("2025-01", 400))  # 1000 = floor(1000 × 10009 / 10000)
    refused(state, remunerated("2025-01", 1), "rule_violation")
    refused(state, remunerated("2025-02", 1), "rule_violation")  # nothing received in February


def test_a_fixed_monthly_remuneration_is_capped_at_that_sum() -> None:
    state = given(contract("2025-01", fixed_monthly_fen=5_000), fee("1-101", 20_000))
    refused(state, remunerated("2025-01", 5_001), "rule_violation")
    apply(state, remunerated("2025-01", 5_000))
    apply(state, remunerated("2025-02", 5_000))  # fixed: whatever was received that month
    refused(state, remunerated("2025-02", 1), "rule_violation")
    apply(state, expense("property", 6_000))
    refused(state, remunerated("2025-03", 4_001), "insufficient_funds")


def test_a_month_is_judged_by_the_contract_that_covered_it() -> None:
    """Given 10% from January and a fixed 50 yuan from March, then February keeps its 10% cap."""
    state = given(
        contract("2025-01", basis_points=1_000),
        fee("1-101", 20_000, at="2025-02-10T09:00:00+08:00"),
        contract("2025-03", fixed_monthly_fen=5_000),
    )
    refused(state, remunerated("2025-02", 2_001), "rule_violation")
    apply(state, remunerated("2025-02", 2_000))
    apply(state, remunerated("2025-03", 5_000))
    assert state.trustee_contract is not None and state.trustee_contract["from_month"] == "2025-03"


def test_remuneration_cannot_overdraw_the_property_fund() -> None:
    state = given(contract("2025-01", fixed_monthly_fen=5_000), fee("1-101", 4_999))
    refused(state, remunerated("2025-01", 5_000), "insufficient_funds")


def test_the_treasurer_or_trustee_records_remuneration_never_an_owner() -> None:
    state = given(contract("2025-01", fixed_monthly_fen=5_000), fee("1-101", 10_000))
    refused(state, remunerated("2025-01", 1, signer="owner"), "role_not_allowed")
    refused(state, remunerated("2025-01", 1, signer="chair"), "role_not_allowed")
    apply(state, remunerated("2025-01", 1, signer="treasurer"))


# --- surplus refunds ------------------------------------------------------------------------


def test_a_surplus_is_refunded_by_area() -> None:
    state = given(fee("1-101", 50_000))
    apply(state, surplus(10_001))
    assert state.books.refunds == apportion(10_001, AREAS)
    assert sum(state.books.refunds.values()) == 10_001
    assert state.funds == {"property": 39_999}


def test_a_surplus_refund_cannot_exceed_the_property_balance() -> None:
    state = given(fee("1-101", 50_000))
    refused(state, surplus(50_001), "insufficient_funds")


# --- reversals ------------------------------------------------------------------------------


def _books_after(entries: list[Entry]) -> Any:
    return given(*entries).books


REVERSIBLE: dict[str, tuple[list[str], str]] = {
    # name -> (the setup story by name, the entry reversed)
    "fee": ([], "fee"),
    "deposit": ([], "deposit"),
    "interest": (["deposit", "deposit2"], "interest"),
    "revenue": ([], "revenue"),
    "restricted-donation": ([], "donation"),
    "expense": (["fee"], "expense"),
    "restricted-expense": (["donation"], "restricted_expense"),
    "draw-into-negative": (["deposit", "deposit2"], "draw"),
    "transfer-into-maintenance": (["revenue"], "transfer"),
    "remuneration": (["contract", "fee"], "remuneration"),
    "surplus": (["fee"], "surplus"),
}


def _story() -> dict[str, Entry]:
    return {
        "fee": fee("1-101", 30_000),
        "deposit": deposit("1-101", 1_000),
        "deposit2": deposit("2-101", 3_000),
        "interest": interest(7),
        "revenue": revenue(10_000),
        "donation": donation(5_000, purpose="elderly care"),
        "expense": expense("property", 1_234),
        "restricted_expense": expense("community", 2_000, purpose="elderly care"),
        "draw": draw(2_500, units=["1-101", "2-101", "1-102"]),
        "transfer": transfer("public_revenue", "maintenance", 9_999),
        "contract": contract("2025-01", basis_points=1_000),
        "remuneration": remunerated("2025-01", 3_000),
        "surplus": surplus(7_777),
    }


@pytest.mark.parametrize("name", sorted(REVERSIBLE))
def test_a_reversal_undoes_exactly_the_cited_entry(name: str) -> None:
    """Given a story, when X then its reversal are folded, then the books are as if X never happened."""
    story = _story()
    setup, reversed_name = REVERSIBLE[name]
    before = [story[n] for n in setup]
    cited = story[reversed_name]
    without = _books_after(before)
    state = given(*before, cited)
    assert state.books != without
    apply(state, reversal(cited))
    assert state.books == without
    assert state.index_of(cited.id) in state.reversed


def test_only_money_entries_are_reversed() -> None:
    state = given(deposit())
    unit_entry = next(e for e in BASE_LOG if e.type == "unit.registered")
    refused(state, reversal(unit_entry), "rule_violation")
    stranger = entry("treasurer", "revenue.received", {"source": "parking", "amount_fen": 1})
    refused(state, reversal(stranger), "rule_violation")  # not in the log
    asserted = entry(
        "treasurer",
        "bank.balance_asserted",
        {"fund": "maintenance", "balance_fen": 1, "as_of": "2025-01-10"},
    )
    apply(state, asserted)
    refused(state, reversal(asserted), "rule_violation")


def test_an_entry_is_reversed_once_and_a_reversal_is_not_reversed() -> None:
    cited = deposit("1-101", 1_000)
    undo = reversal(cited)
    state = given(cited, undo)
    refused(state, reversal(cited), "rule_violation")
    error = refused(state, reversal(undo), "rule_violation")
    assert "reversal" in error.en


def test_a_reversal_that_would_take_a_fund_below_zero_is_refused() -> None:
    cited = deposit("1-101", 1_000)
    state = given(cited, draw(800, units=["1-101"]))
    refused(state, reversal(cited), "insufficient_funds")
    donated = donation(1_000, purpose="elderly care")
    state = given(donated, expense("community", 600, purpose="elderly care"))
    refused(state, reversal(donated), "insufficient_funds")


def test_taking_back_fees_that_paid_remuneration_is_refused_until_the_remuneration_is_reversed() -> (
    None
):
    """Given 10% of 30000 fen paid as 3000, reversing the fee would leave 3000 above a cap of 0."""
    received = fee("1-101", 30_000)
    paid = remunerated("2025-01", 3_000)
    state = given(contract("2025-01", basis_points=1_000), received, fee("1-102", 100), paid)
    refused(state, reversal(received), "rule_violation")
    apply(state, reversal(paid))
    apply(state, reversal(received))
    assert state.books.remuneration == {}
    assert state.books.fee_income == {"2025-01": 100}


def test_a_reversal_is_signed_only_by_a_role_that_may_record_the_cited_type() -> None:
    story = given(*deposits_for_all())
    drawn = draw(1_000, units=["1-101"])
    apply(story, drawn)
    refused(story, reversal(drawn, signer="trustee"), "role_not_allowed")
    refused(story, reversal(drawn, signer="owner"), "role_not_allowed")
    received = fee("1-101", 100, signer="trustee")
    apply(story, received)
    apply(story, reversal(received, signer="trustee"))


# --- setup entries that money depends on ---------------------------------------------------


def test_fee_rate_follows_the_schedule_by_month() -> None:
    state = given(
        entry("chair", "fee.schedule_set", {"rate_fen_per_m2": 320, "from_month": "2025-07"}),
        entry("chair", "fee.schedule_set", {"rate_fen_per_m2": 300, "from_month": "2025-01"}),
    )
    assert state.fee_rate("2024-12") is None
    assert state.fee_rate("2025-01") == 300
    assert state.fee_rate("2025-06") == 300
    assert state.fee_rate("2025-07") == 320
    assert state.fee_rate("2026-03") == 320
    apply(
        state, entry("chair", "fee.schedule_set", {"rate_fen_per_m2": 310, "from_month": "2025-07"})
    )
    assert state.fee_rate("2025-07") == 310  # the latest entry for a month wins


def test_only_the_committee_sets_fees_and_contracts() -> None:
    refused(
        given(),
        entry("treasurer", "fee.schedule_set", {"rate_fen_per_m2": 1, "from_month": "2025-01"}),
        "role_not_allowed",
    )
    refused(given(), contract("2025-01", signer="trustee", basis_points=800), "role_not_allowed")


@pytest.mark.parametrize(
    ("pay", "ok"),
    [
        ({"basis_points": 800}, True),
        ({"fixed_monthly_fen": 5_000}, True),
        ({"basis_points": 800, "fixed_monthly_fen": 5_000}, False),
        ({}, False),
    ],
)
def test_a_trustee_contract_fixes_exactly_one_remuneration_formula(
    pay: dict[str, int], ok: bool
) -> None:
    if ok:
        state = given(contract("2025-01", **pay))
        assert state.contract_for("2025-01") is not None
        assert state.contract_for("2024-12") is None
    else:
        refused(given(), contract("2025-01", **pay), "rule_violation")


def test_an_owner_change_keeps_the_unit_and_its_money() -> None:
    state = given(deposit("1-101", 1_000))
    apply(state, entry("treasurer", "unit.owner_changed", {"unit": "1-101", "owner": "owner-0099"}))
    unit = state.units["1-101"]
    assert (unit.owner, unit.building, unit.area_cm2) == ("owner-0099", "1", 895_000)
    assert state.books.subaccounts == {"1-101": 1_000}
    refused(
        state,
        entry("chair", "unit.owner_changed", {"unit": "1-101", "owner": "owner-0099"}),
        "rule_violation",
    )
    refused(
        state,
        entry("chair", "unit.owner_changed", {"unit": "9-9", "owner": "owner-0099"}),
        "unknown_unit",
    )
    refused(
        state,
        entry("trustee", "unit.owner_changed", {"unit": "1-101", "owner": "owner-0100"}),
        "role_not_allowed",
    )


def test_a_bank_assertion_records_the_books_and_the_difference_without_refusing() -> None:
    state = given(deposit("1-101", 10_000))
    asserted = entry(
        "treasurer",
        "bank.balance_asserted",
        {"fund": "maintenance", "balance_fen": 10_050, "as_of": "2025-01-31"},
    )
    apply(state, asserted)
    record = state.bank["maintenance"]
    assert (record.balance_fen, record.books_fen, record.difference_fen) == (10_050, 10_000, 50)
    assert record.index == state.index_of(asserted.id)
    assert record.as_of == "2025-01-31"
    assert state.funds == {"maintenance": 10_000}  # the books are not changed by the bank's word
    apply(
        state,
        entry(
            "treasurer",
            "bank.balance_asserted",
            {"fund": "maintenance", "balance_fen": 10_000, "as_of": "2025-02-28"},
        ),
    )
    assert state.bank["maintenance"].difference_fen == 0
    refused(
        state,
        entry(
            "trustee",
            "bank.balance_asserted",
            {"fund": "property", "balance_fen": 0, "as_of": "2025-02-28"},
        ),
        "role_not_allowed",
    )


# --- who may sign what ---------------------------------------------------------------------

EXPECTED_MONEY_SIGNERS = {
    "contribution.received": {"treasurer", "trustee"},
    "interest.credited": {"treasurer"},
    "revenue.received": {"treasurer", "trustee"},
    "donation.received": {"treasurer", "committee"},
    "expense.paid": {"treasurer", "trustee"},
    "maintenance.drawn": {"treasurer"},
    "transfer.made": {"treasurer"},
    "trustee.remunerated": {"treasurer", "trustee"},
    "surplus.refunded": {"treasurer"},
    "entry.reversed": {"treasurer", "trustee"},
    "bank.balance_asserted": {"treasurer"},
    "unit.owner_changed": {"committee", "treasurer"},
    "fee.schedule_set": {"committee"},
    "trustee.contract_set": {"committee"},
}


def test_the_role_table_is_the_documented_one() -> None:
    for entry_type, roles in EXPECTED_MONEY_SIGNERS.items():
        assert SIGNER_ROLES[entry_type] == roles, entry_type
    assert all(SIGNER_ROLES[t] == roles for t, roles in MONEY_SIGNERS.items())
    assert set(MONEY_SIGNERS) <= TYPES
    assert all("owner" not in SIGNER_ROLES[t] for t in EXPECTED_MONEY_SIGNERS)


SAMPLE_BODIES: dict[str, dict[str, Any]] = {
    "contribution.received": {
        "fund": "property",
        "unit": "1-101",
        "amount_fen": 100,
        "month": "2025-01",
    },
    "interest.credited": {"fund": "property", "amount_fen": 1},
    "revenue.received": {"source": "parking", "amount_fen": 100},
    "donation.received": {"kind": "donation", "amount_fen": 100},
    "expense.paid": {
        "fund": "property",
        "category": "other",
        "amount_fen": 1,
        "payee": "x",
        "description": "y",
    },
    "maintenance.drawn": {
        "amount_fen": 1,
        "units": ["1-101"],
        "payee": "x",
        "description": "y",
        "proposal_id": VOTES[("1-101",)].id,
    },
    "transfer.made": {
        "from_fund": "property",
        "to_fund": "community",
        "amount_fen": 1,
        "description": "y",
        "proposal_id": SPENDING["property"].id,
    },
    "trustee.remunerated": {"month": "2025-01", "amount_fen": 1},
    "surplus.refunded": {
        "amount_fen": 1,
        "year": 2025,
        "description": "y",
        "proposal_id": SPENDING["property"].id,
    },
    "bank.balance_asserted": {"fund": "property", "balance_fen": 0, "as_of": "2025-01-31"},
    "unit.owner_changed": {"unit": "1-101", "owner": "owner-0042"},
    "fee.schedule_set": {"rate_fen_per_m2": 300, "from_month": "2025-01"},
    "trustee.contract_set": {"trustee": "T", "from_month": "2025-01", "fixed_monthly_fen": 1},
}


@pytest.mark.parametrize(
    ("entry_type", "handle"),
    [(t, h) for t in sorted(SAMPLE_BODIES) for h in ROLE_OF if h not in ("wang", "li")],
)
def test_each_role_may_sign_exactly_the_types_of_the_table(entry_type: str, handle: str) -> None:
    """Given a funded community, when each role signs each type, then the table decides: accepted
    if the role is listed, refused with role_not_allowed (403) otherwise."""
    state = given(
        deposit("1-101", 1_000), fee("1-101", 1_000), contract("2025-01", fixed_monthly_fen=10)
    )
    item = entry(handle, entry_type, SAMPLE_BODIES[entry_type])
    if ROLE_OF[handle] in SIGNER_ROLES[entry_type]:
        apply(state, item)
    else:
        refused(state, item, "role_not_allowed")


def test_common_revenue_is_spent_only_as_the_owners_decide() -> None:
    """Given common revenue, when a committee proposal names the common-revenue fund, then it
    is refused at submission; spending from it must cite an owners' vote."""
    refused(given(), proposal("spending", "committee", "public_revenue", 1_000), "rule_violation")
    state = given(revenue(10_000))
    apply(state, transfer("public_revenue", "property", 1_000))  # cites the owners' vote
    assert state.funds["public_revenue"] == 9_000


def test_a_refund_keeps_the_charters_reserve() -> None:
    """Given a charter reserve, then a surplus refund that would leave less is refused."""
    state = given(fee("1-101", 100_000))
    state.gov.charter = state.gov.charter.amended({"reserve_fen": 60_000})
    refused(state, surplus(40_001), "rule_violation")
    apply(state, surplus(40_000))
    assert state.funds["property"] == 60_000
