"""The money rules (DOMAIN.md "The four funds" … "Corrections"): each money entry's effect.

``effect_of(state, entry)`` computes what an entry does to the books from the state
before it, raising a ``RuleViolation`` when the entry makes no sense on its own terms
(an unknown unit, a remuneration above the contract's formula, a second reversal).
``ledger.core.rules`` then checks the effect against the books (no fund, no restricted
purpose below zero) and applies it. Nothing here changes the state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ledger.core.effects import Effect
from ledger.core.entry import Entry
from ledger.core.errors import LedgerError, RoleNotAllowedError, RuleViolation, UnknownUnitError
from ledger.core.money import apportion, basis_points_of, shanghai_month, yuan
from ledger.core.money_bodies import MONEY_SIGNERS
from ledger.core.setup_rules import signer_role
from ledger.core.state import CommunityState


def _violation(
    entry: Entry, en: str, zh: str, kind: type[LedgerError] = RuleViolation
) -> LedgerError:
    return kind(f"entry {entry.id}: {en}", f"条目 {entry.id}：{zh}", entry_id=entry.id)


def _require_unit(state: CommunityState, entry: Entry, unit: str) -> None:
    if unit not in state.units:
        raise _violation(
            entry, f"unit {unit} is not registered", f"房号 {unit} 未登记", UnknownUnitError
        )


def area_weights(state: CommunityState, units: Iterable[str] | None = None) -> dict[str, int]:
    codes = state.units if units is None else units
    return {code: state.units[code].area_cm2 for code in codes}


# --- money in ---------------------------------------------------------------------------------


def _contribution(state: CommunityState, entry: Entry) -> Effect:
    body = entry.body
    unit, amount = body["unit"], body["amount_fen"]
    _require_unit(state, entry, unit)
    if body["fund"] == "property":
        if "month" not in body or "deposit" in body:
            raise _violation(
                entry,
                "a property fee names the month it pays for, and no deposit kind",
                "物业费须注明所缴月份，且不带维修资金缴存类型",
            )
        month = shanghai_month(entry.at_datetime())
        return Effect(
            funds={"property": amount}, property_paid={unit: amount}, fee_income={month: amount}
        )
    if "deposit" not in body or "month" in body:
        raise _violation(
            entry,
            "a maintenance deposit names its kind (initial or top_up), and no month",
            "维修资金缴存须注明类型（首期或续筹），且不带月份",
        )
    first = {unit: amount} if body["deposit"] == "initial" else {}
    return Effect(funds={"maintenance": amount}, subaccounts={unit: amount}, first_deposits=first)


def _interest(state: CommunityState, entry: Entry) -> Effect:
    fund, amount = entry.body["fund"], entry.body["amount_fen"]
    if fund != "maintenance":
        return Effect(funds={fund: amount})
    weights = {unit: bal for unit, bal in state.books.subaccounts.items() if bal > 0}
    if not weights:
        raise _violation(
            entry,
            "no unit has a positive maintenance balance to earn interest",
            "没有房屋的维修资金分户余额为正，无法分配利息",
        )
    return Effect(funds={"maintenance": amount}, subaccounts=apportion(amount, weights))


def _revenue(state: CommunityState, entry: Entry) -> Effect:
    return Effect(funds={"public_revenue": entry.body["amount_fen"]})


def _donation(state: CommunityState, entry: Entry) -> Effect:
    body = entry.body
    if "donor" in body and body.get("donor_consent") is not True:
        raise _violation(
            entry,
            "a donor is named only with their consent (donor_consent: true)",
            "只有在捐赠人同意时才可署名（donor_consent: true）",
        )
    purposes = {body["purpose"]: body["amount_fen"]} if "purpose" in body else {}
    return Effect(funds={"community": body["amount_fen"]}, purposes=purposes)


# --- money out --------------------------------------------------------------------------------


def _expense(state: CommunityState, entry: Entry) -> Effect:
    body = entry.body
    fund, amount = body["fund"], body["amount_fen"]
    if "purpose" in body and fund != "community":
        raise _violation(
            entry, "only the community fund holds restricted purposes", "只有社区基金设有定向用途"
        )
    purposes = {body["purpose"]: -amount} if "purpose" in body else {}
    return Effect(funds={fund: -amount}, purposes=purposes)


def draw_scope(state: CommunityState, entry: Entry) -> list[str]:
    """The units a maintenance draw is apportioned to: listed units, or whole buildings."""
    body = entry.body
    if ("units" in body) == ("buildings" in body):
        raise _violation(
            entry,
            "a draw names its scope: units or buildings, not both",
            "维修资金支取须指明范围：房屋或楼栋，二者择一",
        )
    if "units" in body:
        for unit in body["units"]:
            _require_unit(state, entry, unit)
        return sorted(set(body["units"]))
    buildings = set(body["buildings"])
    scope = sorted(code for code, unit in state.units.items() if unit.building in buildings)
    if not scope:
        raise _violation(
            entry,
            f"no units in buildings {sorted(buildings)}",
            f"楼栋 {sorted(buildings)} 中没有登记的房屋",
            UnknownUnitError,
        )
    return scope


def _draw(state: CommunityState, entry: Entry) -> Effect:
    amount = entry.body["amount_fen"]
    scope = draw_scope(state, entry)
    weights = (
        _agreed_weights(state, entry, scope)
        if "weights" in entry.body
        else area_weights(state, scope)
    )
    return Effect(funds={"maintenance": -amount}, subaccounts=apportion(-amount, weights))


def _agreed_weights(state: CommunityState, entry: Entry, scope: list[str]) -> dict[str, int]:
    weights = {item["unit"]: item["weight"] for item in entry.body["weights"]}
    if sorted(weights) != scope or len(weights) != len(entry.body["weights"]):
        raise _violation(
            entry,
            "agreed weights must name each unit of the scope exactly once",
            "约定分摊权重须对范围内每户各列一次",
        )
    if sum(weights.values()) <= 0:
        raise _violation(entry, "agreed weights must not all be zero", "约定分摊权重不能全为零")
    return weights


def _transfer(state: CommunityState, entry: Entry) -> Effect:
    body = entry.body
    source, target, amount = body["from_fund"], body["to_fund"], body["amount_fen"]
    if source == target:
        raise _violation(
            entry, "a transfer moves money between two different funds", "转账须在两个不同基金之间"
        )
    if source == "maintenance":
        raise _violation(
            entry,
            "maintenance money leaves only by maintenance.drawn",
            "维修资金只能通过 maintenance.drawn 支取",
        )
    if "purpose" in body and target != "community":
        raise _violation(
            entry,
            "only transfers into the community fund carry a purpose",
            "只有转入社区基金时才可指定用途",
        )
    if target == "maintenance" and not state.units:
        raise _violation(
            entry,
            "money moved into the maintenance fund is apportioned to the units, and none is registered",
            "转入维修资金须按面积分摊到各户，但尚无登记的房屋",
        )
    subaccounts = apportion(amount, area_weights(state)) if target == "maintenance" else {}
    purposes = {body["purpose"]: amount} if "purpose" in body else {}
    return Effect(
        funds={source: -amount, target: amount}, subaccounts=subaccounts, purposes=purposes
    )


def remuneration_cap(state: CommunityState, month: str) -> int | None:
    """The most the trustee may be paid for ``month`` by its contract (None: no contract)."""
    contract = state.contract_for(month)
    if contract is None:
        return None
    if "basis_points" in contract:
        return basis_points_of(state.books.fee_income.get(month, 0), contract["basis_points"])
    return int(contract["fixed_monthly_fen"])


def _remuneration(state: CommunityState, entry: Entry) -> Effect:
    month, amount = entry.body["month"], entry.body["amount_fen"]
    cap = remuneration_cap(state, month)
    if cap is None:
        raise _violation(
            entry, f"no trustee contract covers {month}", f"没有覆盖 {month} 的信托物业合同"
        )
    paid = state.books.remuneration.get(month, 0)
    if paid + amount > cap:
        raise _violation(
            entry,
            f"remuneration for {month} would be {yuan(paid + amount)} yuan, above the contract's "
            f"{yuan(cap)} yuan",
            f"{month} 的物业酬金将达 {yuan(paid + amount)} 元，超过合同约定的 {yuan(cap)} 元",
        )
    return Effect(funds={"property": -amount}, remuneration={month: amount})


def _surplus(state: CommunityState, entry: Entry) -> Effect:
    amount = entry.body["amount_fen"]
    if not state.units:
        raise _violation(entry, "no units to refund", "没有可退款的房屋")
    reserve = state.gov.charter.reserve_fen
    if reserve and 0 <= state.balance("property") - amount < reserve:
        raise _violation(
            entry,
            f"the refund would leave the property fund below the charter's reserve of {yuan(reserve)} yuan",
            f"退款后物业费账户将低于管理规约规定的储备金 {yuan(reserve)} 元",
        )
    return Effect(funds={"property": -amount}, refunds=apportion(amount, area_weights(state)))


def _reversal(state: CommunityState, entry: Entry) -> Effect:
    cited = entry.body["entry_id"]
    index = state.index_of(cited)
    cited_type = state.money_types.get(index) if index is not None else None
    if cited_type == "entry.reversed":
        raise _violation(
            entry,
            f"entry {cited} is a reversal; a reversal is not reversed (record the entry again)",
            f"条目 {cited} 本身是冲正条目，不能再冲正（请重新记录原条目）",
        )
    effect = state.effects.get(index) if index is not None else None
    if effect is None or cited_type is None:
        raise _violation(
            entry,
            f"entry {cited} is not a money entry in this log",
            f"条目 {cited} 不是本日志中的资金条目",
        )
    if index in state.reversed:
        raise _violation(
            entry, f"entry {cited} has already been reversed", f"条目 {cited} 已被冲正过"
        )
    role = signer_role(state, entry)
    if role not in MONEY_SIGNERS[cited_type]:
        raise _violation(
            entry,
            f"a {role} key may not reverse {cited_type}, which it may not record",
            f"{role} 角色无权冲正其无权记录的 {cited_type}",
            RoleNotAllowedError,
        )
    undo = effect.negated()
    for month, delta in undo.fee_income.items():
        _keep_remuneration_within_cap(state, entry, month, delta)
    return undo


def _keep_remuneration_within_cap(
    state: CommunityState, entry: Entry, month: str, fee_delta: int
) -> None:
    """Refuse taking back fees if the remuneration already paid for the month would exceed its cap."""
    contract = state.contract_for(month)
    paid = state.books.remuneration.get(month, 0)
    if contract is None or "basis_points" not in contract or not paid:
        return
    income = state.books.fee_income.get(month, 0) + fee_delta
    cap = basis_points_of(income, contract["basis_points"])
    if paid > cap:
        raise _violation(
            entry,
            f"the remuneration paid for {month} ({yuan(paid)} yuan) would exceed the contract's "
            f"{yuan(cap)} yuan; reverse the remuneration first",
            f"{month} 已付物业酬金 {yuan(paid)} 元将超过合同约定的 {yuan(cap)} 元；请先冲正酬金",
        )


EffectRule = Callable[[CommunityState, Entry], Effect]

EFFECTS: Mapping[str, EffectRule] = {
    "contribution.received": _contribution,
    "interest.credited": _interest,
    "revenue.received": _revenue,
    "donation.received": _donation,
    "expense.paid": _expense,
    "maintenance.drawn": _draw,
    "transfer.made": _transfer,
    "trustee.remunerated": _remuneration,
    "surplus.refunded": _surplus,
    "entry.reversed": _reversal,
}


def effect_of(state: CommunityState, entry: Entry) -> Effect:
    return EFFECTS[entry.type](state, entry)


def is_money_type(entry_type: str) -> bool:
    return entry_type in EFFECTS


def cited_entry(entry: Entry) -> Any:
    return entry.body.get("entry_id") if entry.type == "entry.reversed" else None
