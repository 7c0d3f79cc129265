"""Properties of the money rules: exact apportionment, and conserved money over any stream of entries.

Signing is the slow part, so keys are made once and streams stay short; each example
signs at most a couple of dozen entries. Money out is authorised as the governance rules
demand: the base log holds owners' votes (proposals of 2025-01-01, closed after publicity)
for every fund money may leave and every draw scope, and streams mostly cite them.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.entry import Entry, sign_entry
from ledger.core.errors import LedgerError
from ledger.core.keys import SigningKey
from ledger.core.money import apportion, basis_points_of
from ledger.core.money_bodies import FUNDS
from ledger.core.rules import apply
from ledger.core.state import CommunityState

PURE = settings(max_examples=200, deadline=None)
STREAMS = settings(max_examples=40, deadline=None)

COMMUNITY = "mprops"
UNITS = {"1-101": ("1", 895_000), "1-102": ("1", 1_200_000), "2-101": ("2", 602_500)}
PURPOSES = ("elderly care", "playground")
MONTHS = ("2025-01", "2025-02")
AT_BY_MONTH = {"2025-01": "2025-01-31T15:59:59Z", "2025-02": "2025-01-31T16:00:00Z"}
BASIS_POINTS = 1_000


def _key(handle: str) -> SigningKey:
    seed = hashlib.sha256(f"money props {handle}".encode()).digest()
    return SigningKey(f"{COMMUNITY}/{handle}", 1, seed)


CHAIR, TREASURER, TRUSTEE, OWNER = (_key(h) for h in ("chair", "treasurer", "trustee", "owner"))


def _sign(
    signer: SigningKey, entry_type: str, body: dict[str, Any], entry_id: str, at: str
) -> Entry:
    return sign_entry(
        signer, community=COMMUNITY, type=entry_type, body=body, at=at, entry_id=entry_id
    )


def _base_log() -> list[Entry]:
    def nth(n: int) -> str:
        return f"00000000-0000-4000-8000-{n:012d}"

    at = "2025-01-01T09:00:00+08:00"
    founding = {
        "name": "Money Props Court",
        "origin": "example.org/c/mprops/log",
        "keys": [{"vkey": str(CHAIR.verifier()), "role": "committee"}],
    }
    log = [
        _sign(CHAIR, "community.founded", founding, nth(0), at),
        _sign(
            CHAIR,
            "key.registered",
            {"vkey": str(TREASURER.verifier()), "role": "treasurer"},
            nth(1),
            at,
        ),
        _sign(
            CHAIR,
            "key.registered",
            {"vkey": str(TRUSTEE.verifier()), "role": "trustee"},
            nth(2),
            at,
        ),
        _sign(
            CHAIR,
            "key.registered",
            {"vkey": str(OWNER.verifier()), "role": "owner", "owner": "owner-0001"},
            nth(3),
            at,
        ),
        _sign(
            CHAIR,
            "trustee.contract_set",
            {"trustee": "Trust Co", "from_month": "2025-01", "basis_points": BASIS_POINTS},
            nth(4),
            at,
        ),
    ]
    for n, (code, (building, area)) in enumerate(UNITS.items(), start=5):
        body = {"unit": code, "building": building, "area_cm2": area, "owner": f"owner-{n:04d}"}
        log.append(_sign(TREASURER, "unit.registered", body, nth(n), at))
    # Money already in, so that money out is mostly covered (and reversals have a past).
    funding: list[tuple[str, dict[str, Any]]] = [
        *(
            (
                "contribution.received",
                {"fund": "maintenance", "unit": code, "amount_fen": 50_000, "deposit": "initial"},
            )
            for code in UNITS
        ),
        (
            "contribution.received",
            {"fund": "property", "unit": "1-101", "amount_fen": 100_000, "month": "2025-01"},
        ),
        ("revenue.received", {"source": "parking", "amount_fen": 50_000}),
        ("donation.received", {"kind": "donation", "amount_fen": 20_000, "purpose": PURPOSES[0]}),
        ("donation.received", {"kind": "grant", "amount_fen": 10_000}),
    ]
    for n, (entry_type, body) in enumerate(funding, start=len(log)):
        log.append(_sign(TREASURER, entry_type, body, nth(n), "2025-01-05T09:00:00+08:00"))
    owners = {code: f"owner-{n:04d}" for n, code in enumerate(UNITS, start=5)}
    for placeholder, (fund, scope) in _VOTES.items():
        body: dict[str, Any] = {"title": placeholder, "matter": "spending", "needs": "owners"}
        body |= {"fund": fund, "budget_fen": 10**9, "description": placeholder}
        if scope:
            body |= {"matter": "maintenance_use", "units": list(scope)}
        proposal = _sign(CHAIR, "proposal.submitted", body, nth(len(log)), at)
        log.append(proposal)
        for code in scope or UNITS:
            ballot = {"proposal_id": proposal.id, "owner": owners[code], "choice": "yes"}
            ballot["scan_sha256"] = hashlib.sha256(placeholder.encode()).hexdigest()
            log.append(_sign(CHAIR, "ballot.recorded", ballot, nth(len(log)), VOTED_AT))
        closed = {"proposal_id": proposal.id}
        log.append(_sign(CHAIR, "vote.closed", closed, nth(len(log)), VOTED_AT))
        VOTE_IDS[placeholder] = proposal.id
    return log


VOTED_AT = "2025-01-09T09:00:00+08:00"  # the publicity of the proposals of 2025-01-01 is over
DRAW_SCOPES = [scope for size in (1, 2, 3) for scope in itertools.combinations(sorted(UNITS), size)]
# placeholder -> (fund, draw scope or () for the whole estate); ids filled in by _base_log
_VOTES: dict[str, tuple[str, tuple[str, ...]]] = {
    **{f"fund {fund}": (fund, ()) for fund in ("property", "public_revenue", "community")},
    **{f"scope {scope}": ("maintenance", scope) for scope in DRAW_SCOPES},
}
VOTE_IDS: dict[str, str] = {}


BASE_LOG = _base_log()
BASE_MONEY = [
    e for e in BASE_LOG if e.type.split(".")[0] in ("contribution", "revenue", "donation")
]
BASE_STATE = CommunityState()
for _entry in BASE_LOG:
    apply(BASE_STATE, _entry)


# --- apportionment -----------------------------------------------------------------------

unit_codes = st.text(alphabet="0123456789-AaZé栋", min_size=1, max_size=6)
weight_maps = st.dictionaries(unit_codes, st.integers(0, 10**9), min_size=1, max_size=12).filter(
    lambda w: sum(w.values()) > 0
)


@PURE
@given(st.integers(-(10**12), 10**12), weight_maps)
def test_shares_sum_exactly_and_each_is_within_one_fen_of_its_exact_part(
    amount: int, weights: dict[str, int]
) -> None:
    shares = apportion(amount, weights)
    total = sum(weights.values())
    assert set(shares) == set(weights)
    assert sum(shares.values()) == amount
    for key, w in weights.items():
        assert abs(shares[key] * total - amount * w) < total
        if w == 0:
            assert shares[key] == 0


@PURE
@given(st.integers(-(10**9), 10**9), weight_maps, st.randoms(use_true_random=False))
def test_apportionment_does_not_depend_on_dict_order(
    amount: int, weights: dict[str, int], rnd: Any
) -> None:
    items = list(weights.items())
    rnd.shuffle(items)
    assert apportion(amount, dict(items)) == apportion(amount, weights)


@PURE
@given(st.integers(0, 10**9), weight_maps)
def test_a_larger_weight_never_gets_a_smaller_share(amount: int, weights: dict[str, int]) -> None:
    shares = apportion(amount, weights)
    for a in weights:
        for b in weights:
            if weights[a] > weights[b]:
                assert shares[a] >= shares[b]


# --- streams of money entries --------------------------------------------------------------

fen = st.integers(min_value=1, max_value=200_000)
small_fen = st.integers(min_value=1, max_value=30_000)  # money out: mostly covered, not always


def _cite(draw: st.DrawFn, placeholder: str) -> dict[str, str]:
    """Mostly the proposal that authorises it, sometimes none (refused unless routine)."""
    if placeholder in VOTE_IDS and draw(st.integers(0, 4)):
        return {"proposal_id": VOTE_IDS[placeholder]}
    return {}


@st.composite
def money_body(draw: st.DrawFn) -> tuple[str, dict[str, Any], str]:
    """(type, body, month of ``at``): mostly plausible entries, some that the rules refuse."""
    kind = draw(
        st.sampled_from(
            [
                "fee",
                "deposit",
                "deposit",
                "interest",
                "revenue",
                "donation",
                "expense",
                "draw",
                "transfer",
                "remuneration",
                "surplus",
                "bank",
            ]
        )
    )
    amount = draw(fen if kind in ("fee", "deposit", "revenue", "donation") else small_fen)
    unit = draw(st.sampled_from([*UNITS, "9-999"]))
    month = draw(st.sampled_from(MONTHS))
    if kind == "fee":
        body = {"fund": "property", "unit": unit, "amount_fen": amount, "month": month}
        return "contribution.received", body, month
    if kind == "deposit":
        deposit = draw(st.sampled_from(["initial", "top_up"]))
        body = {"fund": "maintenance", "unit": unit, "amount_fen": amount, "deposit": deposit}
        return "contribution.received", body, month
    if kind == "interest":
        body = {"fund": draw(st.sampled_from(FUNDS)), "amount_fen": draw(st.integers(1, 500))}
        return "interest.credited", body, month
    if kind == "revenue":
        return "revenue.received", {"source": "parking", "amount_fen": amount}, month
    if kind == "donation":
        body = {"kind": "donation", "amount_fen": amount}
        if draw(st.booleans()):
            body["purpose"] = draw(st.sampled_from(PURPOSES))
        return "donation.received", body, month
    if kind == "expense":
        fund = draw(st.sampled_from(["property", "public_revenue", "community"]))
        body = {
            "fund": fund,
            "category": "other",
            "amount_fen": amount,
            "payee": "Acme",
            "description": "x",
        }
        if draw(st.integers(0, 2)) == 0:
            body["purpose"] = draw(st.sampled_from(PURPOSES))
        return "expense.paid", body | _cite(draw, f"fund {fund}"), month
    if kind == "draw":
        body = {"amount_fen": amount, "payee": "Lift Co", "description": "repair"}
        if draw(st.booleans()):
            scope = draw(
                st.lists(st.sampled_from(list(UNITS)), min_size=1, max_size=3, unique=True)
            )
            body["units"] = scope
        else:
            body["buildings"] = draw(st.sampled_from([["1"], ["2"], ["1", "2"]]))
            scope = [c for c, (b, _a) in UNITS.items() if b in body["buildings"]]
        if draw(st.integers(0, 3)) == 0:
            body["weights"] = [{"unit": c, "weight": draw(st.integers(0, 5))} for c in scope]
        return "maintenance.drawn", body | _cite(draw, f"scope {tuple(sorted(scope))}"), month
    if kind == "transfer":
        body = {
            "from_fund": draw(st.sampled_from(FUNDS)),
            "to_fund": draw(st.sampled_from(FUNDS)),
            "amount_fen": amount,
            "description": "move",
        }
        if draw(st.integers(0, 3)) == 0:
            body["purpose"] = draw(st.sampled_from(PURPOSES))
        return "transfer.made", body | _cite(draw, f"fund {body['from_fund']}"), month
    if kind == "remuneration":
        return (
            "trustee.remunerated",
            {"month": month, "amount_fen": draw(st.integers(1, 3_000))},
            month,
        )
    if kind == "surplus":
        body = {"amount_fen": amount, "year": 2025, "description": "x"}
        return "surplus.refunded", body | _cite(draw, "fund property"), month
    body = {"fund": draw(st.sampled_from(FUNDS)), "balance_fen": amount, "as_of": "2025-01-31"}
    return "bank.balance_asserted", body, month


@st.composite
def streams(draw: st.DrawFn) -> list[Entry]:
    """A stream of signed money entries; reversals cite earlier entries of the stream (or any)."""
    out: list[Entry] = []
    for n in range(draw(st.integers(0, 20))):
        entry_id = f"10000000-0000-4000-8000-{n:012d}"
        signer = draw(st.sampled_from([TREASURER] * 6 + [TRUSTEE, OWNER]))
        if draw(st.integers(0, 4)) == 0:
            cited = draw(st.sampled_from(out + BASE_MONEY))
            body = {"entry_id": cited.id, "reason": "error"}
            out.append(_sign(signer, "entry.reversed", body, entry_id, "2025-02-10T09:00:00+08:00"))
            continue
        entry_type, body, month = draw(money_body())
        out.append(_sign(signer, entry_type, body, entry_id, AT_BY_MONTH[month]))
    return out


def _fund_deltas(entry: Entry, by_id: dict[str, Entry]) -> dict[str, int]:
    """An independent model of what an accepted entry does to the fund balances."""
    body = entry.body
    amount = body.get("amount_fen", 0)
    match entry.type:
        case "contribution.received" | "interest.credited":
            return {body["fund"]: amount}
        case "revenue.received":
            return {"public_revenue": amount}
        case "donation.received":
            return {"community": amount}
        case "expense.paid":
            return {body["fund"]: -amount}
        case "maintenance.drawn":
            return {"maintenance": -amount}
        case "transfer.made":
            return {body["from_fund"]: -amount, body["to_fund"]: amount}
        case "trustee.remunerated" | "surplus.refunded":
            return {"property": -amount}
        case "entry.reversed":
            cited = _fund_deltas(by_id[body["entry_id"]], by_id)
            return {fund: -delta for fund, delta in cited.items()}
    return {}


def _assert_lawful(state: CommunityState) -> None:
    books = state.books
    assert all(balance >= 0 for balance in books.funds.values()), books.funds
    assert all(balance >= 0 for balance in books.purposes.values()), books.purposes
    assert books.unrestricted_community() >= 0
    assert state.balance("maintenance") == sum(books.subaccounts.values())
    assert sum(books.fee_income.values()) == sum(books.property_paid.values())
    for month, paid in books.remuneration.items():
        assert 0 < paid <= basis_points_of(books.fee_income.get(month, 0), BASIS_POINTS)
    assert all(v for v in books.subaccounts.values())  # zero balances are dropped


def _fold(state: CommunityState, entries: list[Entry]) -> list[Entry]:
    accepted = []
    for entry in entries:
        try:
            apply(state, entry)
        except LedgerError:
            continue
        accepted.append(entry)
    return accepted


@STREAMS
@given(streams())
def test_money_is_conserved_and_every_balance_stays_lawful(entries: list[Entry]) -> None:
    """Whatever the stream, refusals change nothing, the maintenance fund is the sum of its
    sub-accounts, no fund or purpose goes below zero, and each fund is the sum of the effects
    of the accepted entries (by an independent model of the entry types)."""
    state = copy.deepcopy(BASE_STATE)
    by_id = {e.id: e for e in BASE_LOG}
    expected: dict[str, int] = dict(BASE_STATE.funds)
    accepted = 0
    for entry in entries:
        before = copy.deepcopy(state)
        try:
            apply(state, entry)
        except LedgerError:
            assert state == before
            continue
        accepted += 1
        by_id[entry.id] = entry
        for fund, delta in _fund_deltas(entry, by_id).items():
            expected[fund] = expected.get(fund, 0) + delta
        _assert_lawful(state)
    assert state.funds == {fund: v for fund, v in expected.items() if v}
    assert state.size == len(BASE_LOG) + accepted
    # The effects on record and the reversals add up to the books' funds.
    summed: dict[str, int] = {}
    for index, effect in state.effects.items():
        sign = 0 if index in state.reversed else 1
        for fund, delta in effect.funds.items():
            summed[fund] = summed.get(fund, 0) + sign * delta
    assert {f: v for f, v in summed.items() if v} == state.funds


@STREAMS
@given(streams(), st.data())
def test_replaying_a_prefix_then_the_rest_equals_replaying_the_whole(
    entries: list[Entry], data: Any
) -> None:
    whole = copy.deepcopy(BASE_STATE)
    _fold(whole, entries)
    cut = data.draw(st.integers(min_value=0, max_value=len(entries)))
    split = copy.deepcopy(BASE_STATE)
    _fold(split, entries[:cut])
    split = copy.deepcopy(split)
    _fold(split, entries[cut:])
    assert split == whole
    from_scratch = CommunityState()
    _fold(from_scratch, BASE_LOG + entries)
    assert from_scratch == whole


@STREAMS
@given(streams())
def test_reversing_every_reversible_entry_restores_the_funds(entries: list[Entry]) -> None:
    """Given an accepted stream, when its money entries are reversed newest first (when the
    rules allow), then whatever was not refused is undone: the funds equal those of the
    entries whose reversal was refused."""
    state = copy.deepcopy(BASE_STATE)
    accepted = _fold(state, entries)
    by_id = {e.id: e for e in BASE_LOG + accepted}
    left: dict[str, int] = dict(state.funds)
    for n, entry in enumerate(reversed(accepted)):
        index = state.index_of(entry.id)
        if index not in state.effects or index in state.reversed:
            continue
        undo = _sign(
            TREASURER,
            "entry.reversed",
            {"entry_id": entry.id, "reason": "undo"},
            f"20000000-0000-4000-8000-{n:012d}",
            "2025-03-01T09:00:00+08:00",
        )
        try:
            apply(state, undo)
        except LedgerError:
            continue
        for fund, delta in _fund_deltas(undo, by_id).items():
            left[fund] = left.get(fund, 0) + delta
        _assert_lawful(state)
    assert state.funds == {fund: v for fund, v in left.items() if v}
