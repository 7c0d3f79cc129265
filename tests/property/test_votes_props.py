"""Properties of votes and of authorised spending (DOMAIN.md "Spending and who authorises it").

- The art. 278 tally does not depend on the order of the ballots (directly, and through the
  fold with the ballot entries in any order).
- No stream of entries lets money leave a fund without the authorisation its rule demands:
  random streams of proposals, approvals, ballots, closes, emergencies, expenses, draws,
  transfers, refunds and reversals, with random signers and dates, are folded with
  ``apply`` (refusals skipped); every accepted money-out entry is then checked against a
  model kept here from the accepted entries only, with its own date and vote arithmetic
  (``fractions.Fraction``), not ``ledger.core.governance_rules``.

Keys are made once; each example signs a few dozen entries at most.
"""

from __future__ import annotations

import copy
import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from ledger.core.entry import Entry, sign_entry
from ledger.core.errors import LedgerError
from ledger.core.keys import SigningKey
from ledger.core.rules import apply
from ledger.core.state import CommunityState
from ledger.core.votes import count

PURE = settings(max_examples=200, deadline=None)
STREAMS = settings(max_examples=300, deadline=None)

COMMUNITY = "vprops"
# unit -> (building, area cm², owner); own-d holds two units, the developer one unsold
UNITS = {
    "1-101": ("1", 900_000, "own-a"),
    "1-102": ("1", 1_100_000, "own-b"),
    "1-103": ("1", 700_000, "own-d"),
    "2-101": ("2", 1_300_000, "own-c"),
    "2-102": ("2", 800_000, "own-d"),
    "2-103": ("2", 950_000, "developer"),
}
OWNERS = ("own-a", "own-b", "own-c", "own-d", "developer")
COMMITTEE = ("chair", "wang", "li")
SHANGHAI = timezone(timedelta(hours=8))
ROUTINE_LIMIT, COMMITTEE_LIMIT, QUORUM, PUBLICITY_DAYS = 500_000, 5_000_000, 2, 7


def _key(handle: str) -> SigningKey:
    seed = hashlib.sha256(f"votes props {handle}".encode()).digest()
    return SigningKey(f"{COMMUNITY}/{handle}", 1, seed)


KEYS = {h: _key(h) for h in (*COMMITTEE, "jiedao", "treasurer", *OWNERS)}


def _sign(who: str, entry_type: str, body: dict[str, Any], n: int, at: str) -> Entry:
    entry_id = str(uuid.UUID(int=(1 << 78) | n, version=4))
    return sign_entry(
        KEYS[who], community=COMMUNITY, type=entry_type, body=body, at=at, entry_id=entry_id
    )


def _base() -> CommunityState:
    at = "2025-01-05T09:00:00+08:00"
    founding = {
        "name": "Vote Props Court",
        "origin": "example.org/c/vprops/log",
        "keys": [{"vkey": str(KEYS[h].verifier()), "role": "committee"} for h in COMMITTEE]
        + [{"vkey": str(KEYS["jiedao"].verifier()), "role": "authority"}],
    }
    treasurer = {"vkey": str(KEYS["treasurer"].verifier()), "role": "treasurer"}
    log = [("chair", "community.founded", founding), ("chair", "key.registered", treasurer)]
    state = CommunityState()
    for n, (who, kind, body) in enumerate(log):
        apply(state, _sign(who, kind, body, n, at))
    registration = state.gov.pending_keys and next(iter(state.gov.pending_keys))
    later: list[tuple[str, str, dict[str, Any]]] = [
        ("wang", "approval.signed", {"subject_id": registration})
    ]
    for owner in OWNERS:
        body = {"vkey": str(KEYS[owner].verifier()), "role": "owner", "owner": owner}
        later.append(("chair", "key.registered", body))
    for code, (building, area, owner) in UNITS.items():
        unit = {"unit": code, "building": building, "area_cm2": area, "owner": owner}
        later.append(("treasurer", "unit.registered", unit))
        later.append(
            ("treasurer", "contribution.received",
             {"fund": "maintenance", "unit": code, "amount_fen": 3_000_000, "deposit": "initial"})
        )  # fmt: skip
        later.append(
            ("treasurer", "contribution.received",
             {"fund": "property", "unit": code, "amount_fen": 3_000_000, "month": "2025-01"})
        )  # fmt: skip
    later.append(("treasurer", "revenue.received", {"source": "parking", "amount_fen": 8_000_000}))
    later.append(("treasurer", "donation.received", {"kind": "grant", "amount_fen": 8_000_000}))
    for n, (who, kind, body) in enumerate(later, start=len(log)):
        apply(state, _sign(who, kind, body, n, at))
    return state


BASE = _base()
FIRST_ID = BASE.size


# --- the tally does not depend on ballot order -----------------------------------------------------

_owner_ref = st.text("abcdefgh", min_size=3, max_size=5)


@PURE
@given(
    st.dictionaries(_owner_ref, st.integers(1, 10**7), min_size=1, max_size=12),
    st.data(),
    st.booleans(),
)
def test_the_tally_does_not_depend_on_ballot_order(
    electorate: dict[str, int], data: st.DataObject, special: bool
) -> None:
    owners = sorted(electorate)
    voters = data.draw(st.lists(st.sampled_from(owners), unique=True))
    choices = data.draw(
        st.lists(
            st.sampled_from(("yes", "no", "abstain")), min_size=len(voters), max_size=len(voters)
        )
    )
    ballots = list(zip(voters, choices, strict=True))
    shuffled = data.draw(st.permutations(ballots))
    assert count(electorate, dict(ballots), special) == count(electorate, dict(shuffled), special)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.sampled_from(("yes", "no", "abstain", None)), min_size=5, max_size=5),
    st.lists(st.booleans(), min_size=5, max_size=5),
    st.randoms(use_true_random=False),
)
def test_the_folded_tally_does_not_depend_on_the_order_of_ballot_entries(
    choices: list[str | None], paper: list[bool], rnd: Any
) -> None:
    """Given the same ballots logged in two orders, when the vote closes, the tallies agree."""
    tallies = []
    for order in range(2):
        state = copy.deepcopy(BASE)
        n = FIRST_ID
        body = {"title": "t", "matter": "alteration", "needs": "owners", "description": "d"}
        apply(state, _sign("chair", "proposal.submitted", body, n, "2025-02-01T09:00:00+08:00"))
        pid = _id(n)
        items = [(o, c, p) for o, c, p in zip(OWNERS, choices, paper, strict=True) if c]
        if order:
            rnd.shuffle(items)
        for owner, choice, on_paper in items:
            n += 1
            if on_paper:
                ballot = {
                    "proposal_id": pid,
                    "owner": owner,
                    "choice": choice,
                    "scan_sha256": "0" * 64,
                }
                apply(state, _sign("li", "ballot.recorded", ballot, n, "2025-02-09T09:00:00+08:00"))
            else:
                ballot = {"proposal_id": pid, "choice": choice}
                apply(state, _sign(owner, "ballot.cast", ballot, n, "2025-02-09T09:00:00+08:00"))
        apply(
            state,
            _sign("wang", "vote.closed", {"proposal_id": pid}, n + 1, "2025-02-10T09:00:00+08:00"),
        )
        tallies.append(state.gov.proposals[pid].tally)
    assert tallies[0] == tallies[1] is not None


def _id(n: int) -> str:
    return str(uuid.UUID(int=(1 << 78) | n, version=4))


# --- no money leaves a fund without its authorisation ------------------------------------------------

NEEDS = ("committee", "owners", "emergency")
MATTERS = ("spending", "maintenance_use", "other", "alteration", "charter")
FUNDS = ("property", "maintenance", "public_revenue", "community", None)
BUDGETS = (600_000, 100_000, 6_000_000, None)
AMOUNTS = (1, 50_000, 100_000, 500_000, 500_001, 5_000_000, 5_000_001)
SCOPES: tuple[dict[str, list[str]], ...] = (
    {}, {"buildings": ["1"]}, {"buildings": ["2"]}, {"units": ["1-101", "1-102", "1-103"]},
    {"units": ["2-101"]},
)  # fmt: skip
TEMPLATES: tuple[tuple[str, str, str | None, dict[str, list[str]]], ...] = (
    ("committee", "spending", "community", {}),
    ("committee", "spending", "property", {}),
    ("committee", "spending", "public_revenue", {}),
    ("owners", "maintenance_use", "maintenance", {"buildings": ["1"]}),
    ("owners", "maintenance_use", "maintenance", {}),
    ("owners", "spending", "public_revenue", {}),
    ("owners", "alteration", "property", {}),
    ("emergency", "maintenance_use", "maintenance", {"buildings": ["2"]}),
    ("emergency", "maintenance_use", "maintenance", {"units": ["1-101", "1-102", "1-103"]}),
)
CATEGORIES = ("repairs", "revenue_cost", "other")
KINDS = ("propose", "approve", "ballot", "close", "declare", "expense", "draw", "transfer",
         "refund", "reverse", "approve_all", "vote_all", "wait")  # fmt: skip

Action = tuple[str, int, int, int, int, int, int]
# Streams open with a few proposals; the macros (every member approves, every owner votes
# and the vote closes, eight days pass) make authorised spending common enough to matter.
WEIGHTED = (*KINDS, "approve_all", "vote_all", "wait", "expense", "draw", "draw", "transfer")


def _actions(kinds: tuple[str, ...], min_size: int, max_size: int) -> Any:
    action = st.tuples(
        st.sampled_from(kinds), *(st.integers(0, 15) for _ in range(5)), st.integers(0, 3)
    )
    return st.lists(action, min_size=min_size, max_size=max_size)


actions = st.tuples(_actions(("propose",), 1, 4), _actions(WEIGHTED, 8, 30)).map(
    lambda parts: parts[0] + parts[1]
)


def _scope_units(scope: dict[str, list[str]]) -> frozenset[str]:
    if "units" in scope:
        return frozenset(scope["units"])
    if "buildings" in scope:
        return frozenset(c for c, (b, _, _) in UNITS.items() if b in scope["buildings"])
    return frozenset(UNITS)


def _shanghai_date(at: str) -> date:
    return datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(SHANGHAI).date()


@dataclass
class Model:
    """What the accepted entries decided, computed here without the product's governance code."""

    needs: str
    matter: str
    fund: str | None
    budget: int | None
    units: frozenset[str]
    author: str
    ends: date  # the first Shanghai date a ballot, close or spending may bear
    approvals: set[str] = field(default_factory=set)
    ballots: dict[str, str] = field(default_factory=dict)
    passed: bool | None = None
    emergency: tuple[int, frozenset[str]] | None = None
    spent: int = 0

    def electorate(self) -> dict[str, int]:
        areas: dict[str, int] = {}
        for code in self.units:
            _, area, owner = UNITS[code]
            areas[owner] = areas.get(owner, 0) + area
        return areas

    def outcome(self) -> bool:
        areas = self.electorate()
        voted = [o for o in self.ballots if o in areas]
        yes = [o for o in voted if self.ballots[o] == "yes"]
        total_area, voted_area = sum(areas.values()), sum(areas[o] for o in voted)
        yes_area = sum(areas[o] for o in yes)
        if not voted:
            return False
        if Fraction(voted_area, total_area) < Fraction(2, 3) or Fraction(
            len(voted), len(areas)
        ) < Fraction(2, 3):
            return False
        shares = (Fraction(yes_area, voted_area), Fraction(len(yes), len(voted)))
        if self.matter in ("maintenance_raise", "alteration", "common_use_change"):
            return all(s >= Fraction(3, 4) for s in shares)
        return all(s > Fraction(1, 2) for s in shares)


class Stream:
    """Turns actions into signed entries, folds them, and checks each accepted money-out."""

    def __init__(self) -> None:
        self.state = copy.deepcopy(BASE)
        self.n = FIRST_ID
        self.day = 0
        self.proposals: list[str] = []  # every proposal id signed, accepted or not
        self.model: dict[str, Model] = {}
        self.emergencies: dict[str, str] = {}  # declared id -> proposal id
        self.money: list[str] = []  # accepted money-out entry ids
        self.spent_under: dict[str, tuple[str, int]] = {}  # money entry id -> (proposal, amount)
        self.reversed: set[str] = set()
        self.authorised: list[str] = []  # the authorised money-out entries accepted, by kind

    def at(self, late: int) -> str:
        day = date(2025, 2, 1) + timedelta(days=min(self.day, 40))
        if late % 2:  # 00:00 Shanghai, written in UTC: the day before
            return f"{day - timedelta(days=1)}T16:00:00Z"
        return f"{day}T23:59:59+08:00"

    def ref(self, k: int) -> str:
        if not self.proposals or k == 15:
            return str(uuid.UUID(int=k + 1, version=4))
        return self.proposals[k % len(self.proposals)]

    def cite(self, kind: int, k: int) -> dict[str, str]:
        if kind % 3 == 0:
            decided = [pid for pid, m in self.model.items() if m.passed or len(m.approvals) >= 2]
            if decided and k < 10:  # steer towards proposals that look decided
                return {"proposal_id": decided[k % len(decided)]}
            return {"proposal_id": self.ref(k)}
        if kind % 3 == 1:
            return {}
        declared = list(self.emergencies) or [str(uuid.UUID(int=99, version=4))]
        return {"emergency_id": declared[k % len(declared)]}

    def build(self, action: Action) -> Entry:
        kind, a, b, c, d, e, step = action
        self.day += (1, 0, 2, 7)[step]
        at = self.at(a + b)
        who, body, entry_type = "treasurer", {}, ""
        if kind == "propose":
            entry_type, who = "proposal.submitted", COMMITTEE[e % 3]
            if a < len(TEMPLATES):  # a lawful proposal, most of the time
                needs, matter, fund, scope = TEMPLATES[a]
            else:  # anything the schema allows
                needs, matter, fund = NEEDS[b % 3], MATTERS[a % len(MATTERS)], FUNDS[c % 5]
                scope = SCOPES[d % len(SCOPES)]
            body = {"title": "p", "matter": matter, "needs": needs, "description": "d", **scope}
            budget = BUDGETS[e % len(BUDGETS)]
            body.update({k: v for k, v in (("fund", fund), ("budget_fen", budget)) if v})
            if a == 14:
                body["publicity_days"] = 9
        elif kind == "approve":
            entry_type, who = "approval.signed", (*COMMITTEE, "treasurer")[b % 4]
            body = {"subject_id": self.ref(a)}
        elif kind == "ballot" and c % 2:
            entry_type, who = "ballot.recorded", COMMITTEE[d % 3]
            body = {"proposal_id": self.ref(a), "owner": OWNERS[b % 5],
                    "choice": ("yes", "no", "abstain", "yes")[e % 4], "scan_sha256": "0" * 64}  # fmt: skip
        elif kind == "ballot":
            entry_type, who = "ballot.cast", OWNERS[b % 5]
            body = {"proposal_id": self.ref(a), "choice": ("yes", "no", "abstain", "yes")[e % 4]}
        elif kind == "close":
            entry_type, who = "vote.closed", COMMITTEE[b % 3]
            body = {"proposal_id": self.ref(a)}
        elif kind == "declare":
            entry_type, who = "emergency.declared", ("jiedao", "chair", "jiedao")[b % 3]
            body = {"proposal_id": self.ref(a), "cap_fen": AMOUNTS[c % len(AMOUNTS)],
                    "reason": "r", **SCOPES[d % len(SCOPES)]}  # fmt: skip
        elif kind == "expense":
            entry_type, cite = "expense.paid", self.cite(d, e)
            fund = ("property", "public_revenue", "community")[a % 3]
            cited = self.model.get(cite.get("proposal_id", ""))
            if cited and cited.fund in ("property", "public_revenue", "community") and a < 8:
                fund = cited.fund  # steer towards lawful spending half the time
            body = {"fund": fund, "category": CATEGORIES[b % 3],
                    "amount_fen": AMOUNTS[c % len(AMOUNTS)], "payee": "x", "description": "d",
                    **cite}  # fmt: skip
        elif kind == "draw":
            entry_type, cite = "maintenance.drawn", self.cite(c, d)
            scope = SCOPES[b % (len(SCOPES) - 1) + 1]
            cited = self.model.get(self.emergencies.get(cite.get("emergency_id", ""), ""))
            cited = cited or self.model.get(cite.get("proposal_id", ""))
            if cited and b < 8:  # steer towards the scope that was voted or declared
                units = cited.emergency[1] if cited.emergency else cited.units
                scope = {"units": sorted(units)}
            body = {"amount_fen": AMOUNTS[a % len(AMOUNTS)], "payee": "x", "description": "d",
                    **scope, **cite}  # fmt: skip
        elif kind == "transfer":
            entry_type = "transfer.made"
            funds = ("public_revenue", "property", "community", "maintenance")
            source, target = funds[a % 4], funds[(a + 1 + b % 3) % 4]
            body = {"from_fund": source, "to_fund": target, "amount_fen": AMOUNTS[c % len(AMOUNTS)],
                    "description": "d", **self.cite(d, e)}  # fmt: skip
        elif kind == "refund":
            entry_type = "surplus.refunded"
            body = {"amount_fen": AMOUNTS[a % len(AMOUNTS)], "year": 2024, "description": "d",
                    **self.cite(b, c)}  # fmt: skip
        else:
            entry_type = "entry.reversed"
            target_id = self.money[a % len(self.money)] if self.money else self.ref(a)
            body = {"entry_id": target_id, "reason": "r"}
        self.n += 1
        item = _sign(who, entry_type, body, self.n, at)
        if entry_type == "proposal.submitted":
            self.proposals.append(item.id)
        return item

    def run(self, action: Action) -> None:
        kind, a, b, c, d, e, step = action
        if kind == "wait":  # long enough for a 7-day publicity period to be over
            self.day += 8
        elif kind == "approve_all":  # every committee member (the author's is refused)
            for member in range(3):
                self.run(("approve", a, member, 0, 0, 0, step if member == 0 else 0))
        elif kind == "vote_all":  # every owner, choices and paper from the bits of b and c
            for n in range(len(OWNERS)):
                choice = 1 if b >> n & 1 else 0
                self.run(("ballot", a, n, c >> n & 1, d, choice, step if n == 0 else 0))
            self.run(("close", a, e, 0, 0, 0, 0))
        else:
            self.run_one(action)

    def run_one(self, action: Action) -> None:
        try:  # a body its type's schema refuses (emergency_id on a transfer) never gets signed
            item = self.build(action)
            apply(self.state, item)
        except LedgerError:
            return
        self.accepted(item)

    # --- the model --------------------------------------------------------------------------

    def accepted(self, item: Entry) -> None:
        body, kind = item.body, item.type
        handle = item.signer.split("/", 1)[1]
        if kind in ("expense.paid", "maintenance.drawn", "transfer.made", "surplus.refunded"):
            self.check_money_out(item)
        elif kind == "proposal.submitted":
            days = max(PUBLICITY_DAYS, body.get("publicity_days", 0))
            # Civil Code arts. 201 and 203: the day of submission is not counted and the
            # last day ends at 24:00, so the first day to act is date + days + 1.
            ends = _shanghai_date(item.at) + timedelta(days=days + 1)
            self.model[item.id] = Model(
                body["needs"], body["matter"], body.get("fund"), body.get("budget_fen"),
                _scope_units(body), handle, ends,
            )  # fmt: skip
        elif kind == "approval.signed" and body["subject_id"] in self.model:
            assert handle in COMMITTEE
            self.model[body["subject_id"]].approvals.add(handle)
        elif kind in ("ballot.cast", "ballot.recorded"):
            model = self.model[body["proposal_id"]]
            owner = body.get("owner", handle)
            assert model.needs == "owners" and model.passed is None
            assert owner in model.electorate() and owner not in model.ballots
            assert _shanghai_date(item.at) >= model.ends
            model.ballots[owner] = body["choice"]
        elif kind == "vote.closed":
            model = self.model[body["proposal_id"]]
            model.passed = model.outcome()
            tally = self.state.gov.proposals[body["proposal_id"]].tally
            assert tally is not None and tally.passed == model.passed
        elif kind == "emergency.declared":
            assert handle == "jiedao"
            model = self.model[body["proposal_id"]]
            assert model.needs == "emergency" and model.emergency is None
            model.emergency = (body["cap_fen"], _scope_units(body))
            self.emergencies[item.id] = body["proposal_id"]
        elif kind == "entry.reversed" and body["entry_id"] in self.spent_under:
            proposal_id, amount = self.spent_under[body["entry_id"]]
            assert body["entry_id"] not in self.reversed
            self.reversed.add(body["entry_id"])
            self.model[proposal_id].spent -= amount

    def check_money_out(self, item: Entry) -> None:
        body, kind = item.body, item.type
        amount = body["amount_fen"]
        fund = (
            body.get("fund")
            or body.get("from_fund")
            or ("maintenance" if kind == "maintenance.drawn" else "property")
        )
        assert fund != "maintenance" or kind == "maintenance.drawn"
        routine = (
            kind == "expense.paid"
            and (
                fund == "property"
                or (fund == "public_revenue" and body["category"] == "revenue_cost")
            )
            and amount <= ROUTINE_LIMIT
        )
        self.money.append(item.id)
        if "emergency_id" in body:
            assert kind == "maintenance.drawn"
            proposal_id = self.emergencies[body["emergency_id"]]
            model = self.model[proposal_id]
            assert model.emergency is not None
            cap, units = model.emergency
            assert _scope_units(body) == units
            assert model.spent + amount <= cap
            self.authorised.append("emergency draw")
        elif "proposal_id" in body:
            proposal_id = body["proposal_id"]
            model = self.model[proposal_id]
            if model.needs == "committee":
                assert len(model.approvals - {model.author}) >= QUORUM
                assert fund != "property" or model.spent + amount <= COMMITTEE_LIMIT
            else:
                assert model.needs == "owners" and model.passed is True
            assert _shanghai_date(item.at) >= model.ends
            assert model.fund == fund and model.budget is not None
            assert model.spent + amount <= model.budget
            if kind == "maintenance.drawn":
                assert model.matter == "maintenance_use" and _scope_units(body) == model.units
            self.authorised.append(f"{kind} under a {model.needs} proposal")
        else:
            assert routine, f"{kind} of {amount} from {fund} accepted without authorisation"
            return
        model.spent += amount
        self.spent_under[item.id] = (proposal_id, amount)
        assert self.state.books.spent.get(proposal_id, 0) == model.spent


@STREAMS
@given(actions)
def test_no_money_leaves_a_fund_without_the_authorisation_its_rule_demands(
    stream: list[Action],
) -> None:
    folding = Stream()
    for action in stream:
        folding.run(action)
    for kind in sorted(set(folding.authorised)):
        event(f"accepted: {kind}")


def test_the_stream_model_sees_authorised_spending() -> None:
    """The property is not vacuous: a hand-made stream through the same machinery spends
    under an owners' vote, a committee approval and an emergency."""
    folding = Stream()
    script: list[Action] = [
        ("propose", 3, 0, 0, 0, 2, 1),  # owners: maintenance use, building 1, 60,000 (li)
        ("propose", 0, 0, 0, 0, 0, 1),  # committee: community fund, 6,000 (chair)
        ("propose", 7, 0, 0, 0, 1, 1),  # emergency: building 2 (wang)
        ("declare", 2, 0, 2, 2, 0, 1),  # jiedao: cap 1,000, building 2
        ("draw", 2, 1, 2, 0, 0, 1),  # 1,000 from building 2 under the emergency, same day
        ("approve_all", 1, 0, 0, 0, 0, 1),  # wang and li approve (the chair may not)
        ("vote_all", 0, 0, 0, 0, 0, 3),  # a week later: building 1's owners all vote yes
        ("draw", 3, 0, 0, 0, 0, 1),  # 5,000 from building 1 under the vote
        ("expense", 2, 2, 2, 0, 1, 1),  # 1,000 from the community fund, committee-approved
    ]
    for action in script:
        folding.run(action)
    spent = {pid: m.spent for pid, m in folding.model.items() if m.spent}
    assert sorted(spent.values()) == [100_000, 100_000, 500_000]
