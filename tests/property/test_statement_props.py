"""Statement figures hold for every money stream: opening + in − out = closing, totals = lines.

Random streams of money entries (fees, deposits, interest, revenue, donations, expenses,
transfers, reversals) are folded with the real rules; entries the rules refuse are dropped,
as the write side would. At random points a statement is computed and published: its
arithmetic holds, its closing balances are the books', and the rule accepts it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.entry import Entry, sign_entry
from ledger.core.errors import LedgerError
from ledger.core.keys import SigningKey
from ledger.core.merkle import MemoryTree, leaf_hash
from ledger.core.money_bodies import FUNDS
from ledger.core.rules import apply
from ledger.core.state import CommunityState
from ledger.core.statement_rules import expected_body
from ledger.core.statement_state import CompactRange
from ledger.core.statements import arithmetic_errors, statement_at, statement_id

COMMUNITY = "props"


def _key(handle: str) -> SigningKey:
    return SigningKey(f"{COMMUNITY}/{handle}", 1, hashlib.sha256(handle.encode()).digest())


CHAIR, TREASURER = _key("chair"), _key("treasurer")
UNITS = {"1-101": 900_000, "1-102": 1_200_000, "2-201": 750_000}


class Log:
    def __init__(self) -> None:
        self.state = CommunityState()
        self.count = 0
        self.quarter = 1
        self.published: list[dict[str, Any]] = []

    def add(self, signer: SigningKey, entry_type: str, body: dict[str, Any]) -> Entry | None:
        self.count += 1
        entry = sign_entry(
            signer,
            community=COMMUNITY,
            type=entry_type,
            body=body,
            at=f"2025-01-02T10:{self.count // 60 % 60:02d}:{self.count % 60:02d}+08:00",
            entry_id=f"00000000-0000-4000-8000-{self.count:012d}",
        )
        try:
            apply(self.state, entry)
        except LedgerError:
            return None
        return entry

    def publish(self) -> None:
        period = f"{2025 + (self.quarter - 1) // 4}Q{(self.quarter - 1) % 4 + 1}"
        self.quarter += 1
        body = expected_body(self.state, period)
        entry = sign_entry(
            TREASURER,
            community=COMMUNITY,
            type="statement.published",
            body=body,
            at=statement_at(period),
            entry_id=statement_id(COMMUNITY, period),
        )
        apply(self.state, entry)  # the rule recomputes every figure: it must accept its own
        self.published.append(body)


def founded_log() -> Log:
    log = Log()
    keys = [{"vkey": str(CHAIR.verifier()), "role": "committee"}]
    founding = {"name": "Props", "origin": f"example.org/c/{COMMUNITY}/log", "keys": keys}
    assert log.add(CHAIR, "community.founded", founding) is not None
    assert log.add(
        CHAIR, "key.registered", {"vkey": str(TREASURER.verifier()), "role": "treasurer"}
    )
    for code, area in UNITS.items():
        body = {"unit": code, "building": code[0], "area_cm2": area, "owner": f"owner-{code}"}
        assert log.add(TREASURER, "unit.registered", body) is not None
    return log


amounts = st.integers(min_value=1, max_value=2_000_000)
units = st.sampled_from(sorted(UNITS))
MONEY = st.one_of(
    st.builds(
        lambda u, a, m: ("contribution.received", {"fund": "property", "unit": u, "amount_fen": a, "month": f"2025-0{m}"}),
        units, amounts, st.integers(1, 6),
    ),
    st.builds(
        lambda u, a, d: ("contribution.received", {"fund": "maintenance", "unit": u, "amount_fen": a, "deposit": d}),
        units, amounts, st.sampled_from(["initial", "top_up"]),
    ),
    st.builds(lambda f, a: ("interest.credited", {"fund": f, "amount_fen": a}), st.sampled_from(FUNDS), amounts),
    st.builds(lambda s, a: ("revenue.received", {"source": s, "amount_fen": a}), st.sampled_from(["parking", "advertising"]), amounts),
    st.builds(
        lambda a, p: ("donation.received", {"kind": "donation", "amount_fen": a, **({"purpose": p} if p else {})}),
        amounts, st.sampled_from(["", "lift", "garden"]),
    ),
    st.builds(
        lambda c, a: ("expense.paid", {"fund": "property", "category": c, "amount_fen": a, "payee": "Co", "description": "d"}),
        st.sampled_from(["cleaning", "security", "repairs"]), st.integers(1, 500_000),
    ),
    st.builds(
        lambda a: ("expense.paid", {"fund": "public_revenue", "category": "revenue_cost", "amount_fen": a, "payee": "Co", "description": "d"}),
        st.integers(1, 500_000),
    ),
    st.builds(lambda back: ("entry.reversed", back), st.integers(1, 30)),
    st.just(("statement", None)),
)  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(st.lists(MONEY, min_size=1, max_size=40))
def test_statement_arithmetic_holds_for_any_money_stream(stream: list[tuple[str, Any]]) -> None:
    """Given any stream of money entries with statements between them,
    when each statement is computed and published,
    then opening + in − out = closing for every fund, every total is the sum of its lines,
    each closing balance is the books' balance, and the next statement opens where it closed."""
    log = founded_log()
    money_ids: list[str] = []
    for entry_type, body in stream:
        if entry_type == "statement":
            log.publish()
            continue
        if entry_type == "entry.reversed":
            if not money_ids:
                continue
            body = {"entry_id": money_ids[-min(body, len(money_ids))], "reason": "r"}
        entry = log.add(TREASURER, entry_type, body)
        if entry is not None and entry_type != "entry.reversed":
            money_ids.append(entry.id)
    log.publish()
    for before, after in zip(log.published, log.published[1:], strict=False):
        for fund in FUNDS:
            closing = before["figures"]["funds"][fund]["closing_fen"]
            assert after["figures"]["funds"][fund]["opening_fen"] == closing
        assert after["start"] == before["end"]
    for body in log.published:
        assert arithmetic_errors(body["figures"]) == []
    last = log.published[-1]["figures"]["funds"]
    assert {fund: last[fund]["closing_fen"] for fund in FUNDS} == {
        fund: log.state.balance(fund) for fund in FUNDS
    }


@given(st.lists(st.binary(min_size=0, max_size=8), max_size=70))
def test_compact_range_root_is_the_rfc6962_root(leaves: list[bytes]) -> None:
    """Given any list of leaves, when they are appended to a compact range one by one,
    then its root after each is the RFC 6962 root of that prefix."""
    compact = CompactRange()
    hashes: list[bytes] = []
    for data in leaves:
        compact.append(leaf_hash(data))
        hashes.append(leaf_hash(data))
        assert compact.root() == MemoryTree(hashes).root()
    assert len(compact.nodes) <= max(1, len(leaves)).bit_length()
