"""``glasspocket accounts`` and ``glasspocket unit``: the figures, as a treasurer checks them.

Both catch the projections up with the log first (a progress bar on a terminal), then
read them: ``accounts`` prints the funds, the flows by category, the trust account,
common revenue, donations by purpose and the notices over a range of the log;
``unit`` prints one unit's property dues, receipts and arrears by month, its
maintenance sub-account and its refunds. ``--json`` gives the same figures in fen.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from api.cli_common import (
    CommunityOpt,
    DbOpt,
    JsonOpt,
    KeysOpt,
    guard,
    is_zh,
    out,
    print_json,
    progress_bar,
    usage,
)
from api.cli_labels import label, money_table, words, yuan_cell
from api.settings import Settings
from ledger.core.entry import parse_logged_entry
from ledger.core.money import shanghai_month
from ledger.core.money_bodies import FUNDS
from ledger.core.notices import Notice, notices
from ledger.core.rules import apply
from ledger.core.state import CommunityState
from ledger.store.service import LedgerService
from projections.accounts import UnitAccount, unit_account
from projections.disclosures import (
    CommonRevenue,
    TrustAccount,
    common_revenue,
    donations_by_purpose,
    trust_account,
)
from projections.queries import flows_by_category, fund_balances
from projections.runner import Projector


def caught_up(db: str | None, keys: str | None, community: str) -> tuple[LedgerService, int]:
    """The service with its projections current, and the community's log size."""
    service = guard(Settings.resolve(db, keys).open_service)
    size = guard(lambda: service.state(community).size)  # refuses an unknown community
    with progress_bar(words(is_zh(), "更新报表", "projecting")) as bar:
        task = bar.add_task("project", total=None)
        guard(
            lambda: Projector(service).catch_up(
                lambda done, total: bar.update(task, completed=done, total=total)
            )
        )
    return service, size


def _state_at(service: LedgerService, community: str, end: int) -> CommunityState:
    """The fold of the first ``end`` entries (the notices as they stood at ``end``)."""
    state = service.state(community)
    if end == state.size:
        return state
    folded = CommunityState()
    for data in service.iter_entries(community, 0, end):
        apply(folded, parse_logged_entry(data))
    return folded


# --- accounts ------------------------------------------------------------------------------------


def accounts(
    community: CommunityOpt,
    start: Annotated[
        int | None, typer.Option("--from", help="first log index of the range (default 0)")
    ] = None,
    end: Annotated[
        int | None, typer.Option("--to", help="end of the range, exclusive (default: log size)")
    ] = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The community's figures over a range of the log: funds, flows, trust account, common revenue, donations, notices. 资金概况。"""
    service, size = caught_up(db, keys, community)
    first, last = start or 0, size if end is None else end
    if not 0 <= first <= last <= size:
        raise usage(
            f"the range must lie within 0..{size} with --from ≤ --to",
            f"范围须在 0..{size} 之内，且 --from ≤ --to",
        )
    engine = service.engine
    figures: dict[str, Any] = {
        "community": community,
        "from": first,
        "to": last,
        "size": size,
        "funds": {
            fund: {"opening_fen": fund_balances(engine, community, first)[fund], "closing_fen": c}
            for fund, c in fund_balances(engine, community, last).items()
        },
        "flows": [asdict(f) for f in flows_by_category(engine, community, first, last)],
        "trust_account": _trust_json(trust_account(engine, community, first, last)),
        "common_revenue": _revenue_json(common_revenue(engine, community, first, last)),
        "donations": [asdict(p) for p in donations_by_purpose(engine, community, first, last)],
        "notices": [asdict(n) for n in notices(guard(lambda: _state_at(service, community, last)))],
    }
    if as_json:
        print_json(figures)
    else:
        _print_accounts(figures, is_zh())


def _trust_json(trust: TrustAccount) -> dict[str, Any]:
    return {
        **asdict(trust),
        "income_fen": trust.income_fen,
        "costs_fen": trust.costs_fen,
        "remuneration_fen": trust.remuneration_fen,
        "surplus_fen": trust.surplus_fen,
        "remuneration": [
            {**asdict(month), "within_cap": month.within_cap} for month in trust.remuneration
        ],
    }


def _revenue_json(revenue: CommonRevenue) -> dict[str, Any]:
    return {
        **asdict(revenue),
        "gross_fen": revenue.gross_fen,
        "costs_fen": revenue.costs_fen,
        "net_fen": revenue.net_fen,
    }


def _print_accounts(figures: dict[str, Any], zh: bool) -> None:
    out.print(
        words(
            zh,
            f"小区 {figures['community']}：日志第 #{figures['from']} 至 #{figures['to'] - 1} 条"
            f"（日志共 {figures['size']} 条）",
            f"community {figures['community']}: log entries #{figures['from']} to "
            f"#{figures['to'] - 1} (the log holds {figures['size']})",
        ),
        highlight=False,
    )
    opening, closing = words(zh, "期初", "opening"), words(zh, "期末", "closing")
    funds = money_table(
        words(zh, "基金余额", "Funds"),
        [words(zh, "基金", "fund"), opening, closing],
        [opening, closing],
    )
    for fund in FUNDS:
        row = figures["funds"][fund]
        funds.add_row(label(fund, zh), yuan_cell(row["opening_fen"]), yuan_cell(row["closing_fen"]))
    out.print(funds)
    amount = words(zh, "金额", "amount")
    flows = money_table(
        words(zh, "收支分类", "Flows by category"),
        [
            words(zh, "基金", "fund"),
            words(zh, "收/支", "in/out"),
            words(zh, "类别", "category"),
            words(zh, "明细", "detail"),
            amount,
        ],
        [amount],
    )
    for flow in figures["flows"]:
        flows.add_row(
            label(flow["fund"], zh),
            label(flow["direction"], zh),
            label(flow["category"], zh),
            label(flow["detail"], zh),
            yuan_cell(flow["amount_fen"]),
        )
    out.print(flows)
    out.print(_trust_table(figures["trust_account"], zh))
    out.print(_revenue_table(figures["common_revenue"], zh))
    out.print(_donations_table(figures["donations"], zh))
    _print_notices([Notice(**n) for n in figures["notices"]], zh)


def _summary(title: str, zh: bool, rows: list[tuple[str, int | None]]) -> Table:
    amount = words(zh, "金额（元）", "yuan")
    table = money_table(title, [words(zh, "项目", "item"), amount], [amount])
    for name, fen in rows:
        table.add_row(name, yuan_cell(fen))
    return table


def _trust_table(trust: dict[str, Any], zh: bool) -> Table:
    rows = [
        (words(zh, "期初余额", "opening balance"), trust["opening_fen"]),
        (words(zh, "收入", "income"), trust["income_fen"]),
        (words(zh, "服务成本", "service costs"), trust["costs_fen"]),
        (words(zh, "物业酬金", "remuneration"), trust["remuneration_fen"]),
        (words(zh, "本期结余", "surplus of the period"), trust["surplus_fen"]),
        (words(zh, "结余退还", "refunded"), trust["refunded_fen"]),
        (words(zh, "转出", "transferred out"), trust["transferred_out_fen"]),
        (words(zh, "期末余额", "closing balance"), trust["closing_fen"]),
    ]
    for month in trust["remuneration"]:
        cap = yuan_cell(month["cap_fen"]).plain
        rows.append(
            (
                words(
                    zh,
                    f"  {month['month']} 酬金（上限 {cap}）",
                    f"  {month['month']} remuneration (cap {cap})",
                ),
                month["paid_fen"],
            )
        )
    return _summary(words(zh, "物业费信托账户", "Trust account (property fund)"), zh, rows)


def _revenue_table(revenue: dict[str, Any], zh: bool) -> Table:
    rows: list[tuple[str, int | None]] = [
        (words(zh, "期初余额", "opening balance"), revenue["opening_fen"])
    ]
    rows += [
        (f"  {label(g['category'], zh)} {label(g['detail'], zh)}", g["amount_fen"])
        for g in revenue["gross"]
    ]
    rows += [
        (words(zh, "收入合计", "gross"), revenue["gross_fen"]),
        (words(zh, "成本", "costs"), revenue["costs_fen"]),
        (words(zh, "净收益", "net"), revenue["net_fen"]),
    ]
    rows += [
        (
            words(zh, f"  转入 {label(w['detail'], zh)}", f"  to {label(w['detail'], zh)}"),
            w["amount_fen"],
        )
        for w in revenue["went_to"]
    ]
    rows.append((words(zh, "期末余额", "closing balance"), revenue["closing_fen"]))
    return _summary(words(zh, "公共收益", "Common revenue"), zh, rows)


def _donations_table(donations: list[dict[str, Any]], zh: bool) -> Table:
    money = [
        words(zh, "捐赠", "donated"),
        words(zh, "其他收入", "other in"),
        words(zh, "支出", "spent"),
        words(zh, "余额", "balance"),
    ]
    table = money_table(
        words(zh, "社区基金（按用途）", "Donations by purpose"),
        [words(zh, "用途", "purpose"), *money],
        money,
    )
    for p in donations:
        purpose = p["purpose"] or words(zh, "不限用途", "unrestricted")
        table.add_row(
            purpose,
            *(yuan_cell(p[k]) for k in ("donated_fen", "other_in_fen", "spent_fen", "balance_fen")),
        )
    return table


def _print_notices(items: list[Notice], zh: bool) -> None:
    if not items:
        out.print(words(zh, "提示：无", "notices: none"), highlight=False)
        return
    out.print(words(zh, "提示：", "notices:"), highlight=False)
    for notice in items:
        out.print(
            f"  [{notice.code}] {notice.zh if zh else notice.en}", highlight=False, markup=False
        )


# --- one unit ------------------------------------------------------------------------------------


def unit(
    code: Annotated[str, typer.Argument(help="the unit code, e.g. 1-1-102")],
    community: CommunityOpt,
    until: Annotated[
        str | None,
        typer.Option("--until", help="dues up to this month, YYYY-MM (default: this month)"),
    ] = None,
    db: DbOpt = None,
    keys: KeysOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One unit's account: property dues and arrears by month, maintenance sub-account, refunds. 房屋账户。"""
    month = until or shanghai_month(datetime.now(UTC))
    service, _ = caught_up(db, keys, community)
    account = guard(lambda: unit_account(service.engine, community, code, month))
    if as_json:
        print_json(_unit_json(account, month))
    else:
        _print_unit(account, month, is_zh())


def _unit_json(account: UnitAccount, until: str) -> dict[str, Any]:
    return {
        **asdict(account),
        "until": until,
        "arrears_fen": account.arrears_fen,
        "needs_top_up": account.needs_top_up(),
    }


def _area(area_cm2: int) -> str:
    whole, rest = divmod(area_cm2, 10_000)
    return (
        f"{whole}.{rest:04d}".rstrip("0").rstrip(".")
        if rest % 100
        else f"{whole}.{rest // 100:02d}"
    )


def _print_unit(a: UnitAccount, until: str, zh: bool) -> None:
    out.print(
        words(
            zh,
            f"房号 {a.unit}（楼栋 {a.building}，面积 {_area(a.area_cm2)} m²，业主编号 {a.owner}）",
            f"unit {a.unit} (building {a.building}, {_area(a.area_cm2)} m², owner {a.owner})",
        ),
        highlight=False,
    )
    money = [
        words(zh, "费率（元/m²）", "rate (yuan/m²)"),
        words(zh, "应缴", "due"),
        words(zh, "实缴", "received"),
        words(zh, "欠缴", "arrears"),
    ]
    fees = money_table(
        words(zh, f"物业费（至 {until}）", f"Property fees (to {until})"),
        [words(zh, "月份", "month"), *money],
        money,
    )
    for m in a.months:
        fees.add_row(
            m.month,
            yuan_cell(m.rate_fen_per_m2),
            yuan_cell(m.due_fen),
            yuan_cell(m.received_fen),
            yuan_cell(m.due_fen - m.received_fen),
        )
    fees.add_row(
        words(zh, "合计", "total"),
        "",
        yuan_cell(a.due_fen),
        yuan_cell(a.received_fen),
        yuan_cell(a.arrears_fen),
        style="bold",
    )
    out.print(fees)
    if a.prepaid_fen:
        out.print(
            words(zh, f"预缴（{until} 之后的月份）：", f"paid ahead (months after {until}): ")
            + yuan_cell(a.prepaid_fen).plain,
            highlight=False,
        )
    amount = words(zh, "金额", "amount")
    lines = money_table(
        words(zh, "维修资金分户账", "Maintenance sub-account"),
        ["#", words(zh, "类型", "kind"), words(zh, "明细", "detail"), amount],
        [amount, "#"],
    )
    for line in a.maintenance:
        kind = label(line.kind, zh) + (
            words(zh, "（冲正）", " (reversal)") if line.reverses else ""
        )
        lines.add_row(str(line.idx), kind, label(line.detail, zh), yuan_cell(line.amount_fen))
    lines.add_row("", words(zh, "余额", "balance"), "", yuan_cell(a.maintenance_fen), style="bold")
    out.print(lines)
    if a.needs_top_up():
        out.print(
            words(
                zh,
                f"须续筹：余额低于首期 {yuan_cell(a.first_deposit_fen).plain} 元的 30%",
                f"top-up due: below 30% of the first deposit of {yuan_cell(a.first_deposit_fen).plain} yuan",
            ),
            style="yellow",
            highlight=False,
        )
    if a.refunds:
        refunds = money_table(
            words(zh, "结余退还", "Surplus refunds"),
            ["#", words(zh, "年度", "year"), amount],
            [amount, "#"],
        )
        for line in a.refunds:
            refunds.add_row(str(line.idx), label(line.detail, zh), yuan_cell(line.amount_fen))
        out.print(refunds)
