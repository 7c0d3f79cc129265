"""What the paper notice (公示) shows, gathered from the log: a plain dict for the template.

Figures come from the PUBLISHED ``statement.published`` entry (``api.statement_export.
published_statement``), never recomputed. Proposals and open objections are read from the
state folded up to the statement (the same fold the rules use), so the notice shows what
the statement covered, even when printed later. The anchor is the newest checkpoint that
meets the community's policy (``ledger.store.publish.published_checkpoint``).
"""

from __future__ import annotations

from typing import Any

from api.charts import bar_chart_svg, horizontal_bar_chart_svg
from api.notice_labels import (
    category_label,
    fund_label,
    money,
    needs_label,
    period_dates,
    period_label,
    stage_label,
)
from api.statement_export import PublishedStatement, published_statement
from ledger.core.entry import parse_logged_entry
from ledger.core.money import percentage_text
from ledger.core.rules import evolve
from ledger.core.state import CommunityState
from ledger.store.publish import published_checkpoint
from ledger.store.service import LedgerService
from projections.proposals import proposal_figures


def state_before(service: LedgerService, community: str, end: int) -> CommunityState:
    """The fold of entries ``[0, end)``: what the rules knew just before the statement."""
    state = CommunityState()
    for data in service.iter_entries(community, 0, end):
        evolve(state, parse_logged_entry(data))
    return state


def fund_tables(figures: dict[str, Any], zh: bool) -> list[dict[str, Any]]:
    """One table per fund: opening, each inflow, each outflow, closing (display strings)."""
    tables = []
    for fund, f in figures["funds"].items():
        tables.append(
            {
                "code": fund,
                "name": fund_label(fund, zh),
                "opening": money(f["opening_fen"]),
                "inflows": [(category_label(k, zh), money(v)) for k, v in f["inflows"].items()],
                "in_total": money(f["in_fen"]),
                "outflows": [(category_label(k, zh), money(v)) for k, v in f["outflows"].items()],
                "out_total": money(f["out_fen"]),
                "closing": money(f["closing_fen"]),
            }
        )
    return tables


def fund_overview(figures: dict[str, Any], zh: bool) -> dict[str, Any]:
    """All funds on one table: opening, in, out, closing per fund, and the totals."""
    funds = figures["funds"]
    rows = [
        [fund_label(fund, zh)]
        + [money(f[k]) for k in ("opening_fen", "in_fen", "out_fen", "closing_fen")]
        for fund, f in funds.items()
    ]
    totals = [
        money(sum(f[k] for f in funds.values()))
        for k in ("opening_fen", "in_fen", "out_fen", "closing_fen")
    ]
    return {"rows": rows, "totals": totals}


def charts(figures: dict[str, Any], zh: bool) -> list[str]:
    """In and out per fund; where the property fees went (the trust account's spending)."""
    funds = figures["funds"]
    names = [fund_label(fund, zh) for fund in funds]
    first = bar_chart_svg(
        "本季度各项资金收支" if zh else "In and out of each fund this quarter",
        names,
        [
            ("收入" if zh else "In", [f["in_fen"] for f in funds.values()]),
            ("支出" if zh else "Out", [f["out_fen"] for f in funds.values()]),
        ],
        width=700,
        height=300,
    )
    spending = sorted(funds["property"]["outflows"].items(), key=lambda kv: kv[1])
    second = horizontal_bar_chart_svg(
        "物业费信托账户支出构成" if zh else "Where the property fees went",
        [category_label(k, zh) for k, _ in spending],
        [("支出" if zh else "Out", [v for _, v in spending])],
        width=700,
    )
    return [first, second]


def key_label(name: str, state: CommunityState, zh: bool) -> str:
    """A signer as "demo/treasurer（财务）"."""
    roles = {"treasurer": ("财务", "treasurer"), "committee": ("业委会委员", "committee member")}
    roles |= {"trustee": ("受托物业", "trustee"), "authority": ("街道", "authority")}
    record = state.keys.get(name)
    if record is None:
        return name
    role = roles.get(record.role, (record.role, record.role))[0 if zh else 1]
    return f"{name}（{role}）" if zh else f"{name} ({role})"


def proposal_rows(
    statement: PublishedStatement, state: CommunityState, zh: bool
) -> list[dict[str, Any]]:
    """The proposals the quarter touched, as of the statement: budget, spent, stage."""
    rows = []
    for line in statement.figures["proposals"]:
        proposal = state.gov.proposals.get(line["id"])
        if proposal is None:
            continue
        p = proposal_figures(state, proposal)
        budget, spent = p["budget_fen"], p["spent_fen"]
        tally = p["tally"]
        rows.append(
            {
                "title": p["title"],
                "needs": needs_label(p["needs"], zh),
                "fund": fund_label(p["fund"], zh) if p["fund"] else "—",
                "approved": p["approved"],
                "budget": money(budget),
                "spent": money(spent),
                "remaining": money(p["remaining_fen"]),
                "spent_percent": percentage_text(spent, budget) if budget else "—",
                "spent_num": min(spent, budget) if budget else 0,
                "budget_num": budget or 0,
                "stage": stage_label(p["stage"], zh),
                "vote": None if tally is None else ("passed" if tally["passed"] else "failed"),
            }
        )
    return rows


def vote_rows(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """Votes closed in the quarter with participation and approval, by area and headcount."""
    rows = []
    for v in figures["votes"]:
        rows.append(
            {
                "title": v["title"],
                "special": v["special"],
                "part_area": percentage_text(v["voted_area_cm2"], v["total_area_cm2"]),
                "part_owners": f"{v['voted_owners']}/{v['total_owners']}",
                "yes_area": percentage_text(v["yes_area_cm2"], v["voted_area_cm2"]),
                "yes_owners": f"{v['yes_owners']}/{v['voted_owners']}",
                "passed": v["passed"],
            }
        )
    return rows


def objection_rows(
    service: LedgerService, statement: PublishedStatement, state: CommunityState
) -> list[dict[str, Any]]:
    """Objections still open when the statement was published, with their text."""
    rows = []
    for item in statement.figures["objections"]:
        objection = state.gov.objections.get(item["id"])
        if objection is None:
            continue
        entry = parse_logged_entry(
            service.entries(statement.community, objection.index, objection.index + 1)[0]
        )
        rows.append(
            {
                "date": entry.at[:10],
                "text": entry.body["text"],
                "target": _target(service, statement.community, state, item["target_id"]),
                "id": item["id"],
            }
        )
    return rows


def _target(service: LedgerService, community: str, state: CommunityState, target_id: str) -> str:
    """What an objection is about: a proposal's title, or the cited entry (and its proposal)."""
    proposal = state.gov.proposals.get(target_id)
    if proposal is not None:
        return proposal.title
    index = state.index_of(target_id)
    if index is None:
        return target_id
    target = parse_logged_entry(service.entries(community, index, index + 1)[0])
    cited = state.gov.proposals.get(str(target.body.get("proposal_id", "")))
    return f"#{index} · {cited.title}" if cited is not None else f"#{index} {target.type}"


def highlights(figures: dict[str, Any], zh: bool) -> list[tuple[str, str]]:
    """The few numbers a resident looks for first."""
    trust, common = figures["trust"], figures["common_revenue"]
    collection = figures["collection"]
    return [
        ("物业费收缴率" if zh else "Fee collection rate",
         percentage_text(collection["received_fen"], collection["due_fen"])),
        ("物业费收入" if zh else "Fee income", money(trust["income_fen"])),
        ("物业服务成本" if zh else "Service costs", money(trust["costs_fen"])),
        ("物业酬金" if zh else "Trustee remuneration", money(trust["remuneration_fen"])),
        ("信托结余" if zh else "Trust surplus", money(trust["surplus_fen"])),
        ("公共收益净额" if zh else "Net common revenue", money(common["net_fen"])),
    ]  # fmt: skip


def bank_rows(figures: dict[str, Any], zh: bool) -> list[list[str]]:
    return [
        [
            fund_label(b["fund"], zh),
            b["as_of"],
            money(b["balance_fen"]),
            money(b["books_fen"]),
            money(b["difference_fen"]),
        ]
        for b in figures["bank"]
    ]


def notice_context(
    service: LedgerService, community: str, period: str, zh: bool, bundle_url: str
) -> dict[str, Any]:
    """Everything the template needs, as display strings (money already "¥12,345.67")."""
    statement = published_statement(service, community, period)
    latest = service.state(community)
    before = state_before(service, community, statement.index)
    figures = statement.figures
    anchor = published_checkpoint(service, community).verified
    root_hex = anchor.checkpoint.root.hex()
    return {
        "zh": zh,
        "lang": "zh-CN" if zh else "en",
        "community": community,
        "name": statement.name,
        "period": period,
        "period_label": period_label(period, zh),
        "dates": period_dates(period),
        "statement": statement,
        "signer": key_label(statement.signer, latest, zh),
        "approvals": [key_label(name, latest, zh) for name in statement.approvals],
        "quorum": latest.committee_quorum(),
        "highlights": highlights(figures, zh),
        "overview": fund_overview(figures, zh),
        "funds": fund_tables(figures, zh),
        "charts": charts(figures, zh),
        "proposals": proposal_rows(statement, before, zh),
        "votes": vote_rows(figures),
        "objections": objection_rows(service, statement, before),
        "bank": bank_rows(figures, zh),
        "donations": [(k, money(v)) for k, v in figures["donations"]["restricted"].items()],
        "checkpoint": {
            "origin": anchor.origin,
            "size": anchor.size,
            "root_hex": root_hex,
            "root_head": root_hex[:16],
            "witnesses": list(anchor.witnesses),
            "covers_statement": anchor.size > statement.index,
        },
        "policy": service.community_info(community)["policy"],
        "bundle_url": bundle_url,
    }
