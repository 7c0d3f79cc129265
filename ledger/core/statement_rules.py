"""The statement rules: ``statement.published``, its committee approvals, and the period's flows.

``ledger.core.rules`` calls ``check``/``evolve`` for statement entries (and for
``approval.signed`` citing a statement) and ``note_entry`` after every entry, which
keeps the period's flows (``ledger.core.statement_state``) and the compact Merkle range.

A statement for period P (DOMAIN.md "Statements") must be exactly what the rules compute:
its id is the UUID v5 of ``glasspocket/statement/<community>/<P>``, its ``at`` the period's
last second (Asia/Shanghai), ``start`` the previous statement's ``end`` (or 0), ``end`` its
own index, ``covered_root`` the RFC 6962 root of the first ``end`` entries, and every
figure equal to ``ledger.core.statements.figures``.
"""

from __future__ import annotations

import base64
from typing import Any

from ledger.core.effects import Effect
from ledger.core.entry import Entry
from ledger.core.errors import LedgerError, RuleViolation
from ledger.core.money_rules import is_money_type
from ledger.core.state import CommunityState
from ledger.core.statement_state import PeriodFlows, StatementRecord
from ledger.core.statements import (
    differences,
    figures,
    statement_at,
    statement_id,
)


class StatementMismatchError(RuleViolation):
    """A statement's field or figure differs from what the rules compute from the log."""

    code = "statement_mismatch"


def _violation(
    entry: Entry, en: str, zh: str, kind: type[LedgerError] = RuleViolation
) -> LedgerError:
    return kind(f"entry {entry.id}: {en}", f"条目 {entry.id}：{zh}", entry_id=entry.id)


def is_statement_entry(state: CommunityState, entry: Entry) -> bool:
    """``statement.published``, or an ``approval.signed`` whose subject is a statement."""
    if entry.type == "statement.published":
        return True
    return entry.type == "approval.signed" and entry.body["subject_id"] in state.statements.by_id


def expected_body(state: CommunityState, period: str) -> dict[str, Any]:
    """The body of the statement for ``period`` if it were published at this point."""
    return {
        "period": period,
        "start": state.statements.period.start,
        "end": state.size,
        "covered_root": base64.b64encode(state.statements.merkle.root()).decode("ascii"),
        "figures": figures(state, period),
    }


# --- checks -------------------------------------------------------------------------------------


def check(state: CommunityState, entry: Entry) -> None:
    if entry.type == "approval.signed":
        _check_approval(state, entry)
        return
    period = entry.body["period"]
    book = state.statements
    if period in book.published:
        raise _violation(
            entry,
            f"the statement for {period} was already published at index {book.published[period].index}",
            f"{period} 的报表已于第 {book.published[period].index} 条发布",
        )
    if book.last_period is not None and period <= book.last_period:
        raise _violation(
            entry,
            f"statements are published in order: {period} comes before {book.last_period}",
            f"报表须按期间顺序发布：{period} 早于已发布的 {book.last_period}",
        )
    _check_identity(state, entry, period)
    stated = dict(entry.body)
    computed = expected_body(state, period)
    found = differences(stated, computed)
    if found:
        raise mismatch_error(entry, found)


def _check_identity(state: CommunityState, entry: Entry, period: str) -> None:
    want_id, want_at = statement_id(state.community, period), statement_at(period)
    if entry.id != want_id:
        raise _violation(
            entry,
            f"the statement for {period} has id {want_id}",
            f"{period} 报表的编号应为 {want_id}",
            StatementMismatchError,
        )
    if entry.at != want_at:
        raise _violation(
            entry,
            f"the statement for {period} is dated {want_at}, not {entry.at}",
            f"{period} 报表的时间应为 {want_at}，而不是 {entry.at}",
            StatementMismatchError,
        )


def mismatch_error(entry: Entry, found: list[tuple[str, Any, Any]]) -> LedgerError:
    """One error naming every differing figure with its stated and recomputed values."""
    en = "; ".join(f"figure {p}: stated {a!r}, recomputed {b!r}" for p, a, b in found[:10])
    zh = "；".join(f"数字 {p}：报表为 {a!r}，重算为 {b!r}" for p, a, b in found[:10])
    more = f" (and {len(found) - 10} more)" if len(found) > 10 else ""
    return _violation(entry, en + more, zh + more, StatementMismatchError)


def _check_approval(state: CommunityState, entry: Entry) -> None:
    record = state.statements.published[state.statements.by_id[entry.body["subject_id"]]]
    if entry.signer in record.approvals:
        raise _violation(
            entry, "this member already approved that statement", "该委员已批准过此报表"
        )


def approved(state: CommunityState, period: str) -> bool:
    """Whether the committee quorum has approved the statement for ``period``."""
    record = state.statements.published.get(period)
    if record is None:
        return False
    live = {k.vkey.name for k in state.live_keys("committee")}
    return len(record.approvals & live) >= state.committee_quorum()


# --- evolving -----------------------------------------------------------------------------------


def evolve(state: CommunityState, entry: Entry) -> None:
    book = state.statements
    if entry.type == "approval.signed":
        book.published[book.by_id[entry.body["subject_id"]]].approvals.add(entry.signer)
        return
    period = entry.body["period"]
    book.published[period] = StatementRecord(state.size, entry.id, period, entry.body["end"])
    book.by_id[entry.id] = period
    book.last_period = period
    book.period = PeriodFlows(start=state.size, opening=dict(state.books.funds))


def note_entry(state: CommunityState, entry: Entry, effect: Effect | None = None) -> None:
    """After ``entry`` (at index ``state.size``) is folded: the period's flows and the tree.

    ``effect``: a money entry's effect as folded (else it is read back from the state).
    """
    book = state.statements
    if is_money_type(entry.type):
        _note_money(state, entry, effect)
    for proposal_id in _proposals_touched(state, entry):
        if proposal_id not in book.period.proposals:
            book.period.proposals.append(proposal_id)
    if entry.type == "vote.closed":
        book.period.votes_closed.append(entry.body["proposal_id"])
    book.merkle.append(entry.leaf_hash())


def _proposals_touched(state: CommunityState, entry: Entry) -> list[str]:
    body = entry.body
    candidates = [body.get("proposal_id"), body.get("subject_id")]
    if entry.type == "proposal.submitted":
        candidates.append(entry.id)
    if "emergency_id" in body:
        candidates.append(state.gov.emergencies.get(body["emergency_id"]))
    if entry.type == "entry.reversed":
        cited = state.index_of(body["entry_id"])
        effect = state.effects.get(cited) if cited is not None else None
        candidates.extend(effect.spent if effect is not None else ())
    return [c for c in candidates if isinstance(c, str) and c in state.gov.proposals]


def _note_money(state: CommunityState, entry: Entry, folded: Effect | None) -> None:
    book, index = state.statements, state.size
    if entry.type == "entry.reversed":
        cited = state.index_of(entry.body["entry_id"])
        assert cited is not None
        effect, cited_type = state.effects[cited].negated(), state.money_types[cited]
        month = book.fee_month_at.get(cited)
    else:
        effect = folded if folded is not None else state.effects[index]
        cited_type = entry.type
        month = entry.body.get("month") if entry.type == "contribution.received" else None
        if month is not None and entry.body["fund"] == "property":
            book.fee_month_at[index] = month
        else:
            month = None
    if month is not None:
        _add(book.fees_by_month, month, effect.funds.get("property", 0))
    if cited_type == "donation.received":
        for purpose, fen in _donation_lines(effect).items():
            _add(book.period.donations, purpose, fen)
    for fund, delta in effect.funds.items():
        flows = book.period.inflows if delta > 0 else book.period.outflows
        _add(flows.setdefault(fund, {}), category(entry, fund, delta), abs(delta))


def _donation_lines(effect: Effect) -> dict[str, int]:
    if effect.purposes:
        return dict(effect.purposes)
    return {"": effect.funds.get("community", 0)}


def _add(target: dict[str, int], key: str, delta: int) -> None:
    value = target.get(key, 0) + delta
    if value:
        target[key] = value
    else:
        target.pop(key, None)


def category(entry: Entry, fund: str, delta: int) -> str:
    """The line a money entry's movement on ``fund`` is shown under."""
    body = entry.body
    match entry.type:
        case "contribution.received":
            return "fees" if body["fund"] == "property" else f"deposits_{body['deposit']}"
        case "interest.credited":
            return "interest"
        case "revenue.received":
            return str(body["source"])
        case "donation.received":
            return str(body["kind"])
        case "expense.paid":
            return str(body["category"])
        case "maintenance.drawn":
            return "emergency_repairs" if "emergency_id" in body else "repairs"
        case "transfer.made":
            if delta < 0:
                return f"transfer_to_{body['to_fund']}"
            return f"transfer_from_{body['from_fund']}"
        case "trustee.remunerated":
            return "remuneration"
        case "surplus.refunded":
            return "surplus_refund"
    return "reversals"
