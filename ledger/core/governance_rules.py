"""The governance rules: proposals, approvals, owners' votes, emergencies, progress, objections,
and the authorisation every money-out entry needs (DOMAIN.md "Spending and who authorises it").

As in ``setup_rules``: each type has a check (raises, changes nothing) and an evolver.
``check_authorisation`` is called by ``ledger.core.rules`` for money entries.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from ledger.core.effects import Effect
from ledger.core.entry import Entry
from ledger.core.errors import LedgerError, RoleNotAllowedError, RuleViolation, UnknownUnitError
from ledger.core.governance_bodies import SCOPED_MATTERS
from ledger.core.governance_state import STAGES, Emergency, Objection, Proposal
from ledger.core.money import shanghai_date, yuan
from ledger.core.money_rules import draw_scope
from ledger.core.state import CommunityState
from ledger.core.votes import SPECIAL_MATTERS, count

Rule = Callable[[CommunityState, Entry], None]


class AuthorisationError(RuleViolation):
    """Money left a fund without the authorisation its rule demands."""

    code = "not_authorised"


def _violation(
    entry: Entry, en: str, zh: str, kind: type[LedgerError] = RuleViolation
) -> LedgerError:
    return kind(f"entry {entry.id}: {en}", f"条目 {entry.id}：{zh}", entry_id=entry.id)


def _approvals(state: CommunityState, names: set[str], exclude: set[str]) -> int:
    live = {k.vkey.name for k in state.live_keys("committee")}
    return len((names & live) - exclude)


def _proposal(
    state: CommunityState, entry: Entry, proposal_id: str, kind: type[LedgerError] = RuleViolation
) -> Proposal:
    proposal = state.gov.proposals.get(proposal_id)
    if proposal is None:
        raise _violation(
            entry,
            f"proposal {proposal_id} does not exist in this log",
            f"方案 {proposal_id} 不在本日志中",
            kind,
        )
    return proposal


def _scope(state: CommunityState, entry: Entry) -> tuple[str, ...]:
    body = entry.body
    if "units" in body and "buildings" in body:
        raise _violation(
            entry, "a scope names units or buildings, not both", "范围须为房屋或楼栋，二者择一"
        )
    if "units" in body:
        missing = [u for u in body["units"] if u not in state.units]
        if missing:
            raise _violation(
                entry, f"unknown units {missing}", f"未登记的房号 {missing}", UnknownUnitError
            )
        return tuple(sorted(set(body["units"])))
    if "buildings" in body:
        buildings = set(body["buildings"])
        units = tuple(sorted(c for c, u in state.units.items() if u.building in buildings))
        if not units:
            raise _violation(
                entry,
                f"no units in buildings {sorted(buildings)}",
                f"楼栋 {sorted(buildings)} 中没有登记的房屋",
                UnknownUnitError,
            )
        return units
    return tuple(sorted(state.units))


def publicity_over(proposal: Proposal, entry: Entry) -> bool:
    return shanghai_date(entry.at_datetime()) >= proposal.publicity_ends


def authorised(state: CommunityState, proposal: Proposal, spender: str) -> bool:
    """Whether the proposal stands authorised for ``spender`` (who never counts as approver)."""
    if proposal.needs == "committee":
        exclude = {proposal.author, spender}
        return _approvals(state, proposal.approvals, exclude) >= state.committee_quorum()
    if proposal.needs == "owners":
        return proposal.tally is not None and proposal.tally.passed
    return proposal.emergency is not None


# --- proposals and approvals -------------------------------------------------------------------


def _check_proposal(state: CommunityState, entry: Entry) -> None:
    body = entry.body
    scoped = "units" in body or "buildings" in body
    if scoped and body["matter"] not in SCOPED_MATTERS:
        raise _violation(
            entry,
            f"a {body['matter']} matter is decided by the whole estate, not a scope",
            f"{body['matter']} 类事项须由全体业主表决，不能限定范围",
        )
    if body["needs"] == "emergency" and (
        body["matter"] != "maintenance_use" or body.get("fund") != "maintenance"
    ):
        raise _violation(
            entry,
            "the emergency path is for maintenance-fund repairs only",
            "应急程序只适用于动用维修资金的维修",
        )
    if body["needs"] == "committee" and body["matter"] in SPECIAL_MATTERS | {
        "maintenance_use",
        "charter",
        "committee_election",
        "property_company",
    }:
        raise _violation(
            entry,
            f"a {body['matter']} matter needs the owners' vote",
            f"{body['matter']} 类事项须经业主表决",
        )
    if body["needs"] == "committee" and body.get("fund") in ("maintenance", "public_revenue"):
        raise _violation(
            entry,
            f"the {body['fund']} fund is spent as the owners decide, not the committee",
            f"{body['fund']} 基金的使用由业主表决决定，而非业委会",
        )
    _scope(state, entry)


def _evolve_proposal(state: CommunityState, entry: Entry) -> None:
    body = entry.body
    units = _scope(state, entry)
    electorate: dict[str, int] = {}
    for code in units:
        unit = state.units[code]
        electorate[unit.owner] = electorate.get(unit.owner, 0) + unit.area_cm2
    days = max(state.gov.charter.publicity_days, body.get("publicity_days", 0))
    # Civil Code arts. 201 and 203: the day of submission is not counted and the period
    # ends at 24:00 of its last day, so action may start the day after: date + days + 1.
    ends = date.fromisoformat(shanghai_date(entry.at_datetime())) + timedelta(days=days + 1)
    state.gov.proposals[entry.id] = Proposal(
        index=state.size, id=entry.id, author=entry.signer, title=body["title"],
        matter=body["matter"], needs=body["needs"], fund=body.get("fund"),
        budget_fen=body.get("budget_fen"), units=units,
        whole_estate=not ("units" in body or "buildings" in body),
        electorate=electorate, publicity_ends=ends.isoformat(),
    )  # fmt: skip


def _check_approval(state: CommunityState, entry: Entry) -> None:
    subject = entry.body["subject_id"]
    if subject in state.gov.pending_keys:
        name = state.gov.pending_keys[subject]
        if entry.signer in state.gov.key_approvals.get(name, set()):
            raise _violation(entry, "this member already approved that key", "该委员已批准过此密钥")
        return
    proposal = state.gov.proposals.get(subject)
    if proposal is None:
        raise _violation(
            entry, f"nothing to approve with id {subject}", f"没有编号为 {subject} 的待批事项"
        )
    if proposal.needs != "committee":
        raise _violation(
            entry,
            "that proposal is decided by the owners or an authority, not approvals",
            "该方案由业主表决或主管部门确认，不由委员会批准",
        )
    if entry.signer == proposal.author:
        raise _violation(
            entry,
            "the author of a proposal never counts as its approver",
            "方案提出人不能作为其批准人",
            RoleNotAllowedError,
        )
    if entry.signer in proposal.approvals:
        raise _violation(
            entry, "this member already approved that proposal", "该委员已批准过此方案"
        )


def _evolve_approval(state: CommunityState, entry: Entry) -> None:
    subject = entry.body["subject_id"]
    if subject in state.gov.pending_keys:
        name = state.gov.pending_keys[subject]
        approvers = state.gov.key_approvals.setdefault(name, set())
        approvers.add(entry.signer)
        record = state.keys[name]
        if (
            record.effective_at is None
            and _approvals(state, approvers, set()) >= state.committee_quorum()
        ):
            record.effective_at = state.size
            del state.gov.pending_keys[subject]
        state.key_history.append(state.size)
        return
    state.gov.proposals[subject].approvals.add(entry.signer)


# --- owners' votes ---------------------------------------------------------------------------------


def _check_ballot(state: CommunityState, entry: Entry, owner: str | None) -> None:
    proposal = _proposal(state, entry, entry.body["proposal_id"])
    if proposal.needs != "owners":
        raise _violation(
            entry, "that proposal is not put to the owners' vote", "该方案不需业主表决"
        )
    if proposal.closed:
        raise _violation(entry, "the vote is closed", "表决已结束")
    if not publicity_over(proposal, entry):
        raise _violation(
            entry,
            f"voting opens on {proposal.publicity_ends}, after the publicity period",
            f"公示期满后（{proposal.publicity_ends} 起）方可投票",
        )
    if owner is None or owner not in proposal.electorate:
        raise _violation(
            entry,
            f"owner {owner} may not vote on this proposal (not in its scope)",
            f"业主 {owner} 不在该方案表决范围内",
            RoleNotAllowedError,
        )
    if owner in proposal.ballots:
        raise _violation(
            entry,
            f"owner {owner} has already voted on this proposal",
            f"业主 {owner} 已对该方案投过票",
        )


def _check_ballot_cast(state: CommunityState, entry: Entry) -> None:
    _check_ballot(state, entry, state.keys[entry.signer].owner)


def _evolve_ballot_cast(state: CommunityState, entry: Entry) -> None:
    owner = state.keys[entry.signer].owner
    assert owner is not None
    state.gov.proposals[entry.body["proposal_id"]].ballots[owner] = entry.body["choice"]


def _check_ballot_recorded(state: CommunityState, entry: Entry) -> None:
    _check_ballot(state, entry, entry.body["owner"])


def _evolve_ballot_recorded(state: CommunityState, entry: Entry) -> None:
    state.gov.proposals[entry.body["proposal_id"]].ballots[entry.body["owner"]] = entry.body[
        "choice"
    ]


def _check_vote_closed(state: CommunityState, entry: Entry) -> None:
    proposal = _proposal(state, entry, entry.body["proposal_id"])
    if proposal.needs != "owners":
        raise _violation(
            entry, "that proposal is not put to the owners' vote", "该方案不需业主表决"
        )
    if proposal.closed:
        raise _violation(entry, "the vote is already closed", "表决已结束")
    if not publicity_over(proposal, entry):
        raise _violation(
            entry,
            f"a vote closes only after its publicity period (from {proposal.publicity_ends})",
            f"公示期满后（{proposal.publicity_ends} 起）方可结束表决",
        )


def _evolve_vote_closed(state: CommunityState, entry: Entry) -> None:
    proposal = state.gov.proposals[entry.body["proposal_id"]]
    proposal.tally = count(
        proposal.electorate, proposal.ballots, proposal.matter in SPECIAL_MATTERS
    )


# --- emergencies, progress, reviews ------------------------------------------------------------------


def _check_emergency(state: CommunityState, entry: Entry) -> None:
    proposal = _proposal(state, entry, entry.body["proposal_id"])
    if proposal.needs != "emergency":
        raise _violation(
            entry, "that proposal did not ask for the emergency path", "该方案未申请应急程序"
        )
    if proposal.emergency is not None:
        raise _violation(entry, "that emergency is already declared", "该应急事项已确认")
    _scope(state, entry)


def _evolve_emergency(state: CommunityState, entry: Entry) -> None:
    proposal = state.gov.proposals[entry.body["proposal_id"]]
    proposal.emergency = Emergency(state.size, entry.body["cap_fen"], _scope(state, entry))
    state.gov.emergencies[entry.id] = proposal.id


def _check_progress(state: CommunityState, entry: Entry) -> None:
    proposal = _proposal(state, entry, entry.body["proposal_id"])
    if not authorised(state, proposal, ""):
        raise _violation(
            entry,
            "progress is recorded only for an authorised proposal",
            "只有已获授权的方案才能登记进度",
        )
    current = STAGES.index(proposal.stage) if proposal.stage else -1
    if STAGES.index(entry.body["stage"]) != current + 1:
        expected = STAGES[current + 1] if current + 1 < len(STAGES) else "none"
        raise _violation(
            entry,
            f"the next stage is {expected}, not {entry.body['stage']}",
            f"下一阶段应为 {expected}，而非 {entry.body['stage']}",
        )


def _evolve_progress(state: CommunityState, entry: Entry) -> None:
    state.gov.proposals[entry.body["proposal_id"]].stage = entry.body["stage"]


def _check_review(state: CommunityState, entry: Entry) -> None:
    proposal = _proposal(state, entry, entry.body["proposal_id"])
    if proposal.stage not in ("completed", "accepted"):
        raise _violation(
            entry, "an outcome review comes only after completion", "完工后方可进行问效评议"
        )
    if proposal.reviewed:
        raise _violation(entry, "this project was already reviewed", "该项目已完成问效评议")


def _evolve_review(state: CommunityState, entry: Entry) -> None:
    state.gov.proposals[entry.body["proposal_id"]].reviewed = True


# --- objections --------------------------------------------------------------------------------------


def _check_objection(state: CommunityState, entry: Entry) -> None:
    if state.index_of(entry.body["target_id"]) is None:
        raise _violation(
            entry, "an objection names an entry of this log", "异议须针对本日志中的条目"
        )


def _evolve_objection(state: CommunityState, entry: Entry) -> None:
    state.gov.objections[entry.id] = Objection(state.size, entry.body["target_id"])


def _check_answer(state: CommunityState, entry: Entry) -> None:
    objection = state.gov.objections.get(entry.body["objection_id"])
    if objection is None:
        raise _violation(entry, "no such objection", "没有这项异议")
    if objection.answered_at is not None:
        raise _violation(entry, "that objection is already answered", "该异议已答复")
    if "correction_id" in entry.body and state.index_of(entry.body["correction_id"]) is None:
        raise _violation(
            entry, "the correction it cites is not in the log", "所引更正条目不在日志中"
        )
    if entry.body["outcome"] == "corrected" and "correction_id" not in entry.body:
        raise _violation(entry, "a correction cites the correcting entry", "更正须引用更正条目")


def _evolve_answer(state: CommunityState, entry: Entry) -> None:
    state.gov.objections[entry.body["objection_id"]].answered_at = state.size


# --- the charter -------------------------------------------------------------------------------------


def _check_charter(state: CommunityState, entry: Entry) -> None:
    proposal = _proposal(state, entry, entry.body["proposal_id"])
    if proposal.matter != "charter" or not authorised(state, proposal, entry.signer):
        raise _violation(
            entry,
            "the charter changes only by an owners' vote on the charter that passed",
            "管理规约只能依业主表决通过的规约方案修改",
            AuthorisationError,
        )
    if proposal.amended_at is not None:
        raise _violation(
            entry,
            f"the charter vote {proposal.id} was already enacted at index {proposal.amended_at}",
            f"规约表决 {proposal.id} 已于第 {proposal.amended_at} 条执行，不能再次引用",
            AuthorisationError,
        )


def evolve_charter(state: CommunityState, entry: Entry) -> None:
    changes = {k: v for k, v in entry.body.items() if k not in ("proposal_id", "text_sha256")}
    state.gov.charter = state.gov.charter.amended(changes)
    proposal = state.gov.proposals.get(entry.body["proposal_id"])
    if proposal is not None:  # a key chain carries the amendment without its vote
        proposal.amended_at = state.size
    state.key_history.append(state.size)
    _recount_pending_keys(state)


def _recount_pending_keys(state: CommunityState) -> None:
    """A lower quorum may put waiting treasurer or trustee keys into effect at once."""
    for registration, name in list(state.gov.pending_keys.items()):
        approvers = state.gov.key_approvals.get(name, set())
        if _approvals(state, approvers, set()) >= state.committee_quorum():
            state.keys[name].effective_at = state.size
            del state.gov.pending_keys[registration]


GOVERNANCE_CHECKS: dict[str, Rule] = {
    "charter.amended": _check_charter,
    "proposal.submitted": _check_proposal,
    "approval.signed": _check_approval,
    "ballot.cast": _check_ballot_cast,
    "ballot.recorded": _check_ballot_recorded,
    "vote.closed": _check_vote_closed,
    "emergency.declared": _check_emergency,
    "project.progressed": _check_progress,
    "project.reviewed": _check_review,
    "objection.raised": _check_objection,
    "objection.answered": _check_answer,
}

GOVERNANCE_EVOLVERS: dict[str, Rule] = {
    "charter.amended": evolve_charter,
    "proposal.submitted": _evolve_proposal,
    "approval.signed": _evolve_approval,
    "ballot.cast": _evolve_ballot_cast,
    "ballot.recorded": _evolve_ballot_recorded,
    "vote.closed": _evolve_vote_closed,
    "emergency.declared": _evolve_emergency,
    "project.progressed": _evolve_progress,
    "project.reviewed": _evolve_review,
    "objection.raised": _evolve_objection,
    "objection.answered": _evolve_answer,
}


# --- authorising money out ----------------------------------------------------------------------------


def spending_of(state: CommunityState, entry: Entry, effect: Effect) -> Effect:
    """The effect with the amount it spends under its proposal (budgets and caps count it)."""
    proposal_id = entry.body.get("proposal_id")
    if "emergency_id" in entry.body:
        proposal_id = state.gov.emergencies.get(entry.body["emergency_id"], proposal_id)
    if proposal_id is None or entry.type == "entry.reversed":
        return effect
    return Effect(**{**effect.__dict__, "spent": {proposal_id: entry.body["amount_fen"]}})


def needs_authorisation(state: CommunityState, entry: Entry) -> bool:
    body, charter = entry.body, state.gov.charter
    if entry.type == "expense.paid":
        routine = body["fund"] == "property" or (
            body["fund"] == "public_revenue" and body["category"] == "revenue_cost"
        )
        return not routine or body["amount_fen"] > charter.routine_limit_fen
    return entry.type in ("maintenance.drawn", "transfer.made", "surplus.refunded")


def check_authorisation(state: CommunityState, entry: Entry) -> None:
    """A money-out entry that needs it cites an authorised proposal, after its publicity
    period, within its budget (or an emergency, within its cap and scope)."""
    body = entry.body
    if "emergency_id" in body:
        _check_emergency_draw(state, entry)
        return
    if "proposal_id" not in body:
        if needs_authorisation(state, entry):
            raise _violation(
                entry,
                f"{entry.type} of {yuan(body['amount_fen'])} yuan needs an authorised proposal",
                f"{entry.type}（{yuan(body['amount_fen'])} 元）须引用已获授权的方案",
                AuthorisationError,
            )
        return
    proposal = _proposal(state, entry, body["proposal_id"], AuthorisationError)
    _check_proposal_covers(state, entry, proposal)


def _check_proposal_covers(state: CommunityState, entry: Entry, proposal: Proposal) -> None:
    body = entry.body
    fund = (
        body.get("fund")
        or body.get("from_fund")
        or ("maintenance" if entry.type == "maintenance.drawn" else "property")
    )
    if proposal.fund is None or proposal.budget_fen is None:
        raise _violation(
            entry,
            f"proposal {proposal.id} names no fund or no budget: nothing may be spent under it",
            f"方案 {proposal.id} 未写明基金或预算，不能据以支出",
            AuthorisationError,
        )
    if proposal.fund != fund:
        raise _violation(
            entry,
            f"proposal {proposal.id} is for the {proposal.fund} fund, not {fund}",
            f"方案 {proposal.id} 针对 {proposal.fund} 基金，而非 {fund}",
            AuthorisationError,
        )
    if entry.type == "maintenance.drawn" and (
        proposal.needs != "owners" or proposal.matter != "maintenance_use"
    ):
        raise _violation(
            entry,
            "a maintenance draw needs the owners' vote on using the fund (or an emergency)",
            "动用维修资金须经业主表决（或应急程序）",
            AuthorisationError,
        )
    if entry.type == "maintenance.drawn" and tuple(draw_scope(state, entry)) != proposal.units:
        raise _violation(
            entry,
            "a draw is apportioned to exactly the units its proposal's vote covered",
            "维修资金支取的分摊范围须与方案表决范围一致",
            AuthorisationError,
        )
    spent = state.books.spent.get(proposal.id, 0)
    if (
        fund == "property"
        and spent + body["amount_fen"] > state.gov.charter.committee_limit_fen
        and proposal.needs != "owners"
    ):
        raise _violation(
            entry,
            "property spending above the committee's limit (in total under one proposal) "
            "needs the owners' vote",
            "物业费支出（同一方案累计）超出业委会权限的，须经业主表决",
            AuthorisationError,
        )
    if fund == "public_revenue" and proposal.needs != "owners":
        raise _violation(
            entry,
            "common revenue (公共收益) is spent as the owners decide: cite an owners' vote",
            "公共收益的使用须经业主表决，请引用已通过的业主表决方案",
            AuthorisationError,
        )
    if not publicity_over(proposal, entry):
        raise _violation(
            entry,
            f"spending under proposal {proposal.id} may start on {proposal.publicity_ends}",
            f"方案 {proposal.id} 的支出须在公示期满（{proposal.publicity_ends}）后进行",
            AuthorisationError,
        )
    if not authorised(state, proposal, entry.signer):
        raise _violation(
            entry,
            f"proposal {proposal.id} is not authorised (approvals or vote)",
            f"方案 {proposal.id} 未获授权（批准人数不足或表决未通过）",
            AuthorisationError,
        )
    _check_budget(state, entry, proposal, proposal.budget_fen)


def _check_budget(
    state: CommunityState, entry: Entry, proposal: Proposal, limit: int | None
) -> None:
    spent = state.books.spent.get(proposal.id, 0)
    if limit is not None and spent + entry.body["amount_fen"] > limit:
        raise _violation(
            entry,
            f"spending under {proposal.id} would reach {yuan(spent + entry.body['amount_fen'])} yuan, "
            f"over its {yuan(limit)} yuan",
            f"方案 {proposal.id} 项下支出将达 {yuan(spent + entry.body['amount_fen'])} 元，超过 {yuan(limit)} 元",
            AuthorisationError,
        )


def _check_emergency_draw(state: CommunityState, entry: Entry) -> None:
    proposal_id = state.gov.emergencies.get(entry.body["emergency_id"])
    if entry.type != "maintenance.drawn" or proposal_id is None:
        raise _violation(
            entry,
            "only a maintenance draw may cite a declared emergency",
            "只有维修资金支取可引用已确认的应急事项",
            AuthorisationError,
        )
    proposal = state.gov.proposals[proposal_id]
    assert proposal.emergency is not None
    if tuple(draw_scope(state, entry)) != proposal.emergency.units:
        raise _violation(
            entry,
            "an emergency draw stays within the declared scope",
            "应急支取须在确认的范围内",
            AuthorisationError,
        )
    _check_budget(state, entry, proposal, proposal.emergency.cap_fen)
