"""Where proposals stand: budget, approvals, spending, stage and the vote's tally.

A read model computed from the fold (``CommunityState.gov`` and ``books.spent``) by the
same functions the rules use, so ``glasspocket proposals``, the pages and the statements
show what the rules decided. Fractions are exact integer pairs with a display percentage.
"""

from __future__ import annotations

from typing import Any

from ledger.core.governance_rules import authorised
from ledger.core.governance_state import Proposal
from ledger.core.money import percentage_text
from ledger.core.state import CommunityState


def fraction(numerator: int, denominator: int) -> dict[str, Any]:
    return {
        "numerator": numerator,
        "denominator": denominator,
        "percent": percentage_text(numerator, denominator),
    }


def proposal_figures(state: CommunityState, proposal: Proposal) -> dict[str, Any]:
    """One proposal as ``proposals --json`` prints it, computed from the fold."""
    spent = state.books.spent.get(proposal.id, 0)
    live = {k.vkey.name for k in state.live_keys("committee")}
    counted = sorted((proposal.approvals & live) - {proposal.author})
    figures: dict[str, Any] = {
        "id": proposal.id,
        "index": proposal.index,
        "title": proposal.title,
        "matter": proposal.matter,
        "needs": proposal.needs,
        "author": proposal.author,
        "fund": proposal.fund,
        "budget_fen": proposal.budget_fen,
        "publicity_ends": proposal.publicity_ends,
        "units": list(proposal.units),
        "whole_estate": proposal.whole_estate,
        "approved": authorised(state, proposal, ""),
        "approvals": {"count": len(counted), "by": counted, "quorum": state.committee_quorum()},
        "spent_fen": spent,
        "remaining_fen": None if proposal.budget_fen is None else proposal.budget_fen - spent,
        "stage": proposal.stage,
        "reviewed": proposal.reviewed,
        "emergency": proposal.emergency is not None,
        "emergency_cap_fen": proposal.emergency.cap_fen if proposal.emergency else None,
        "tally": None,
    }
    tally = proposal.tally
    if tally is not None:
        figures["tally"] = {
            **tally.as_dict(),
            "participation": {
                "area": fraction(tally.voted_area_cm2, tally.total_area_cm2),
                "owners": fraction(tally.voted_owners, tally.total_owners),
            },
            "approval": {
                "area": fraction(tally.yes_area_cm2, tally.voted_area_cm2),
                "owners": fraction(tally.yes_owners, tally.voted_owners),
            },
        }
    return figures


def all_proposals(state: CommunityState) -> list[dict[str, Any]]:
    """Every proposal in log order."""
    listed = sorted(state.gov.proposals.values(), key=lambda p: p.index)
    return [proposal_figures(state, p) for p in listed]
