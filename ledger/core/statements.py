"""Quarterly statements (DOMAIN.md "Statements"): periods, ids, and every figure.

``figures(state)`` computes a statement's figures from the folded state just before
the statement (``state.statements.period`` holds the period's flows, kept by the fold),
so the write side, the rule that judges a ``statement.published`` entry, the verifier's
replay and the projections compute each figure with this one function.
``arithmetic_errors(figures)`` checks a statement's internal arithmetic without the log,
and ``differences(stated, computed)`` names every figure that differs.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from ledger.core.errors import MalformedError
from ledger.core.governance_rules import authorised
from ledger.core.money import SHANGHAI, monthly_charge_fen
from ledger.core.money_bodies import FUNDS
from ledger.core.state import CommunityState
from ledger.core.statement_bodies import PERIOD_PATTERN

_LAST_DAY = {1: "03-31", 2: "06-30", 3: "09-30", 4: "12-31"}


def _parse_period(period: str) -> tuple[int, int]:
    if not re.fullmatch(PERIOD_PATTERN, period):
        raise MalformedError(
            f"period {period!r} is not a quarter like 2025Q3",
            f"期间 {period!r} 不是形如 2025Q3 的季度",
        )
    return int(period[:4]), int(period[5])


def period_months(period: str) -> list[str]:
    """The three calendar months (YYYY-MM) of a quarter."""
    year, quarter = _parse_period(period)
    return [f"{year:04d}-{3 * (quarter - 1) + m:02d}" for m in (1, 2, 3)]


def statement_at(period: str) -> str:
    """The period's last second in Asia/Shanghai, e.g. 2025-09-30T23:59:59+08:00."""
    year, quarter = _parse_period(period)
    return f"{year:04d}-{_LAST_DAY[quarter]}T23:59:59+08:00"


def statement_end(period: str) -> datetime:
    return datetime.fromisoformat(statement_at(period)).astimezone(SHANGHAI)


def statement_id(community: str, period: str) -> str:
    """UUID v5 (namespace URL) of ``glasspocket/statement/<community>/<period>``."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"glasspocket/statement/{community}/{period}"))


# --- the figures --------------------------------------------------------------------------------


def figures(state: CommunityState, period: str) -> dict[str, Any]:
    """Every figure of the statement for ``period`` if it were published now."""
    return {
        "funds": _funds(state),
        "trust": _trust(state),
        "common_revenue": _common_revenue(state),
        "donations": _donations(state),
        "maintenance": _maintenance(state),
        "proposals": _proposals(state),
        "votes": _votes(state),
        "collection": _collection(state, period),
        "bank": _bank(state),
        "objections": [
            {"id": oid, "target_id": o.target_id} for oid, o in state.gov.open_objections()
        ],
    }


def _funds(state: CommunityState) -> dict[str, Any]:
    flows = state.statements.period
    out: dict[str, Any] = {}
    for fund in FUNDS:
        inflows = dict(sorted(flows.inflows.get(fund, {}).items()))
        outflows = dict(sorted(flows.outflows.get(fund, {}).items()))
        out[fund] = {
            "opening_fen": flows.opening.get(fund, 0),
            "inflows": inflows,
            "outflows": outflows,
            "in_fen": sum(inflows.values()),
            "out_fen": sum(outflows.values()),
            "closing_fen": state.balance(fund),
        }
    return out


def _trust(state: CommunityState) -> dict[str, int]:
    flows = state.statements.period
    inflows = flows.inflows.get("property", {})
    outflows = flows.outflows.get("property", {})
    remuneration = outflows.get("remuneration", 0)
    refunded = outflows.get("surplus_refund", 0)
    income = sum(inflows.values())
    costs = sum(outflows.values()) - remuneration - refunded
    return {
        "income_fen": income,
        "costs_fen": costs,
        "remuneration_fen": remuneration,
        "surplus_fen": income - costs - remuneration,
        "refunded_fen": refunded,
    }


def _common_revenue(state: CommunityState) -> dict[str, Any]:
    flows = state.statements.period
    inflows = flows.inflows.get("public_revenue", {})
    outflows = flows.outflows.get("public_revenue", {})
    gross = sum(v for k, v in inflows.items() if not k.startswith("transfer_from_"))
    costs = sum(v for k, v in outflows.items() if not k.startswith("transfer_to_"))
    went = {
        k.removeprefix("transfer_to_"): v
        for k, v in sorted(outflows.items())
        if k.startswith("transfer_to_")
    }
    return {"gross_fen": gross, "costs_fen": costs, "net_fen": gross - costs, "transferred": went}


def _donations(state: CommunityState) -> dict[str, Any]:
    by_purpose = state.statements.period.donations
    restricted = {p: v for p, v in sorted(by_purpose.items()) if p}
    unrestricted = by_purpose.get("", 0)
    return {
        "restricted": restricted,
        "unrestricted_fen": unrestricted,
        "total_fen": unrestricted + sum(restricted.values()),
    }


def _utf8(code: str) -> bytes:
    return code.encode("utf-8")


def _maintenance(state: CommunityState) -> dict[str, Any]:
    books = state.books
    ratio = state.gov.charter.top_up_ratio_percent
    top_up = [
        unit
        for unit, first in books.first_deposits.items()
        if first > 0 and books.subaccounts.get(unit, 0) * 100 < first * ratio
    ]
    owing = [unit for unit, balance in books.subaccounts.items() if balance < 0]
    return {
        "subaccounts_total_fen": sum(books.subaccounts.values()),
        "top_up_ratio_percent": ratio,
        "top_up_units": sorted(top_up, key=_utf8),
        "units_owing": sorted(owing, key=_utf8),
    }


def _proposals(state: CommunityState) -> list[dict[str, Any]]:
    out = []
    for proposal_id in state.statements.period.proposals:
        proposal = state.gov.proposals[proposal_id]
        line: dict[str, Any] = {
            "id": proposal.id,
            "title": proposal.title,
            "needs": proposal.needs,
            "approved": authorised(state, proposal, ""),
            "spent_fen": state.books.spent.get(proposal.id, 0),
            "stage": proposal.stage or "none",
        }
        if proposal.fund is not None:
            line["fund"] = proposal.fund
        if proposal.budget_fen is not None:
            line["budget_fen"] = proposal.budget_fen
        out.append(line)
    return out


def _votes(state: CommunityState) -> list[dict[str, Any]]:
    out = []
    for proposal_id in state.statements.period.votes_closed:
        proposal = state.gov.proposals[proposal_id]
        tally = proposal.tally
        assert tally is not None
        out.append(
            {
                "proposal_id": proposal_id,
                "title": proposal.title,
                "special": tally.special,
                "total_area_cm2": tally.total_area_cm2,
                "total_owners": tally.total_owners,
                "voted_area_cm2": tally.voted_area_cm2,
                "voted_owners": tally.voted_owners,
                "yes_area_cm2": tally.yes_area_cm2,
                "yes_owners": tally.yes_owners,
                "no_area_cm2": tally.no_area_cm2,
                "no_owners": tally.no_owners,
                "passed": tally.passed,
            }
        )
    return out


def _collection(state: CommunityState, period: str) -> dict[str, Any]:
    """Fen received by now for the quarter's months, over the fen due for them."""
    months = period_months(period)
    due = 0
    for month in months:
        rate = state.fee_rate(month)
        if rate is not None:
            due += sum(monthly_charge_fen(rate, unit.area_cm2) for unit in state.units.values())
    received = sum(state.statements.fees_by_month.get(month, 0) for month in months)
    return {"months": months, "received_fen": received, "due_fen": due}


def _bank(state: CommunityState) -> list[dict[str, Any]]:
    return [
        {
            "fund": fund,
            "as_of": a.as_of,
            "balance_fen": a.balance_fen,
            "books_fen": a.books_fen,
            "difference_fen": a.difference_fen,
        }
        for fund, a in sorted(state.bank.items())
    ]


# --- checking figures -----------------------------------------------------------------------------


def _leaves(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key in sorted(value):
            yield from _leaves(value[key], f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        yield f"{path}.length", len(value)
        for i, item in enumerate(value):
            yield from _leaves(item, f"{path}[{i}]")
    else:
        yield path, value


def differences(stated: Any, computed: Any) -> list[tuple[str, Any, Any]]:
    """Every figure (dotted path) whose stated value differs from the computed one."""
    left, right = dict(_leaves(stated, "")), dict(_leaves(computed, ""))
    missing = object()
    out = []
    for path in sorted(left.keys() | right.keys()):
        a, b = left.get(path, missing), right.get(path, missing)
        if a != b or type(a) is not type(b):
            out.append((path, None if a is missing else a, None if b is missing else b))
    return out


def arithmetic_errors(figs: Any) -> list[tuple[str, Any, Any]]:
    """The internal arithmetic of a statement: (figure, stated, what its lines give)."""
    errors: list[tuple[str, Any, Any]] = []

    def expect(path: str, stated: Any, computed: Any) -> None:
        if stated != computed:
            errors.append((path, stated, computed))

    try:
        for fund, f in figs["funds"].items():
            expect(f"funds.{fund}.in_fen", f["in_fen"], sum(f["inflows"].values()))
            expect(f"funds.{fund}.out_fen", f["out_fen"], sum(f["outflows"].values()))
            expect(
                f"funds.{fund}.closing_fen",
                f["closing_fen"],
                f["opening_fen"] + f["in_fen"] - f["out_fen"],
            )
        trust, prop = figs["trust"], figs["funds"]["property"]
        expect("trust.income_fen", trust["income_fen"], prop["in_fen"])
        expect(
            "trust.costs_fen",
            trust["costs_fen"],
            prop["out_fen"] - trust["remuneration_fen"] - trust["refunded_fen"],
        )
        expect(
            "trust.surplus_fen",
            trust["surplus_fen"],
            trust["income_fen"] - trust["costs_fen"] - trust["remuneration_fen"],
        )
        common = figs["common_revenue"]
        expect(
            "common_revenue.net_fen", common["net_fen"], common["gross_fen"] - common["costs_fen"]
        )
        donations = figs["donations"]
        expect(
            "donations.total_fen",
            donations["total_fen"],
            donations["unrestricted_fen"] + sum(donations["restricted"].values()),
        )
        expect(
            "maintenance.subaccounts_total_fen",
            figs["maintenance"]["subaccounts_total_fen"],
            figs["funds"]["maintenance"]["closing_fen"],
        )
        for i, line in enumerate(figs["bank"]):
            expect(
                f"bank[{i}].difference_fen",
                line["difference_fen"],
                line["balance_fen"] - line["books_fen"],
            )
    except (KeyError, TypeError, AttributeError) as exc:
        errors.append(("figures", f"malformed ({exc!r})", "a complete set of figures"))
    return errors
