"""Notices: what the books ask people to look at, never a refusal (DOMAIN.md "Units and owners",
"Corrections, reconciliation, objections").

- ``bank_difference``: a fund's latest bank assertion differs from the books as they stood
  when it was recorded; it stays shown until a later assertion agrees.
- ``top_up_due``: a unit's maintenance sub-account is below the charter ratio (default 30%)
  of its first deposit (续筹); below zero, the unit owes the fund (补足).
- ``objection_open``: an owner's objection not yet answered (居民评议) stands until answered.

A pure function of the folded state: the pages, the statements and the verifier agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.core.money import yuan
from ledger.core.money_bodies import FUNDS
from ledger.core.state import CommunityState

FUND_NAMES_ZH = {
    "property": "物业费信托账户",
    "maintenance": "专项维修资金",
    "public_revenue": "公共收益",
    "community": "社区基金",
}


@dataclass(frozen=True)
class Notice:
    """One thing to look at: a stable ``code``, the text in both languages, and where (fund or unit)."""

    code: str
    en: str
    zh: str
    where: str


def notices(state: CommunityState, top_up_ratio_percent: int | None = None) -> list[Notice]:
    """Bank differences by fund (catalogue order), units due a top-up (by UTF-8 code order, at
    the charter's ratio unless one is given), then objections still open (in log order)."""
    ratio = (
        state.gov.charter.top_up_ratio_percent
        if top_up_ratio_percent is None
        else top_up_ratio_percent
    )
    return [*_bank_differences(state), *_top_ups_due(state, ratio), *_open_objections(state)]


def _open_objections(state: CommunityState) -> list[Notice]:
    out = []
    for objection_id, objection in state.gov.open_objections():
        out.append(
            Notice(
                "objection_open",
                f"objection {objection_id} (entry #{objection.index}) against entry "
                f"{objection.target_id} is still open, awaiting an answer",
                f"异议 {objection_id}（第 {objection.index} 条）针对条目 {objection.target_id}，"
                "尚待答复",
                objection_id,
            )
        )
    return out


def _bank_differences(state: CommunityState) -> list[Notice]:
    out = []
    for fund in [f for f in FUNDS if f in state.bank] + sorted(set(state.bank) - set(FUNDS)):
        record = state.bank[fund]
        difference = record.difference_fen
        if not difference:
            continue
        name_zh = FUND_NAMES_ZH.get(fund, fund)
        out.append(
            Notice(
                "bank_difference",
                f"{fund}: the bank statement of {record.as_of} says {yuan(record.balance_fen)} "
                f"yuan, the books {yuan(record.books_fen)} yuan (difference "
                f"{_signed_yuan(difference)} yuan)",
                f"{name_zh}：{record.as_of} 银行对账单余额 {yuan(record.balance_fen)} 元，"
                f"账面 {yuan(record.books_fen)} 元（差额 {_signed_yuan(difference)} 元）",
                fund,
            )
        )
    return out


def _top_ups_due(state: CommunityState, ratio_percent: int) -> list[Notice]:
    out = []
    books = state.books
    for unit in sorted(books.first_deposits, key=lambda code: code.encode("utf-8")):
        first = books.first_deposits[unit]
        if first <= 0:
            continue
        balance = books.subaccounts.get(unit, 0)
        if balance * 100 >= first * ratio_percent:
            continue
        if balance < 0:
            en = (
                f"unit {unit}: maintenance sub-account {yuan(balance)} yuan; the unit owes the "
                f"fund {yuan(-balance)} yuan and is due a top-up"
            )
            zh = f"房号 {unit}：维修资金分户余额 {yuan(balance)} 元，欠缴 {yuan(-balance)} 元，须补足并续筹"
        else:
            en = (
                f"unit {unit}: maintenance sub-account {yuan(balance)} yuan, below "
                f"{ratio_percent}% of its first deposit of {yuan(first)} yuan: top-up due"
            )
            zh = (
                f"房号 {unit}：维修资金分户余额 {yuan(balance)} 元，低于首期缴存 {yuan(first)} 元的 "
                f"{ratio_percent}%，须续筹"
            )
        out.append(Notice("top_up_due", en, zh, unit))
    return out


def _signed_yuan(fen: int) -> str:
    return f"+{yuan(fen)}" if fen > 0 else yuan(fen)
