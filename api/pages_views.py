"""What each residents' page shows, as plain dicts for the templates (no HTML here).

Every figure comes from a ``Snapshot`` (``api.pages_data``): the fold, the projections
and the published statements. Money stays integer fen; the templates format it with
``api.i18n.money``. Progress bars and charts are inline SVG from ``api.charts``.
"""

from __future__ import annotations

from typing import Any

from api.charts import progress_bar_svg
from api.i18n import label, text, title_label
from api.pages_charts import balance_chart, balance_spark, flows_chart, left_out
from api.pages_data import Snapshot, StatementView
from ledger.core.errors import NotFoundError
from ledger.core.money import percentage_text
from ledger.core.money_bodies import FUNDS
from projections.accounts import unit_account, unit_lines_on

STAGES = ("contracted", "started", "completed", "accepted")
HISTORY_TYPES = (
    "proposal.submitted",
    "approval.signed",
    "emergency.declared",
    "vote.closed",
    "project.progressed",
    "project.reviewed",
    "expense.paid",
    "maintenance.drawn",
    "transfer.made",
    "surplus.refunded",
    "charter.amended",
)


def links(community: str, period: str | None) -> dict[str, str]:
    """The paths a page links to (the templates add ``?lang=``)."""
    base = f"/c/{community}"
    out = {
        "dashboard": f"{base}/",
        "proposals": f"{base}/proposals",
        "statements": f"{base}/statements",
        "objections": f"{base}/objections",
        "policy": f"{base}/log/policy",
    }
    if period is not None:
        bundle = f"{base}/statements/{period}/bundle"
        out["bundle"] = bundle
        out["verify"] = f"/verify?bundle={bundle}&policy={base}/log/policy"
    return out


def common(snapshot: Snapshot) -> dict[str, Any]:
    """What every page of a community needs: its name, size, latest statement, links."""
    latest = snapshot.statements[-1] if snapshot.statements else None
    published = snapshot.published
    return {
        "community": snapshot.community,
        "name": snapshot.state.name or snapshot.community,
        "size": snapshot.size,
        "latest": latest,
        "links": links(snapshot.community, latest.period if latest else None),
        "checkpoint": None
        if published is None
        else {
            "size": published.verified.size,
            "root": published.verified.root.hex()[:16],
            "witnesses": len(published.verified.witnesses),
        },
    }


# --- the dashboard ------------------------------------------------------------------------------


def dashboard(snapshot: Snapshot, lang: str) -> dict[str, Any]:
    page = common(snapshot)
    latest: StatementView | None = page["latest"]
    page["funds"] = [fund_card(snapshot, lang, fund, latest) for fund in FUNDS]
    page["trust"] = trust_box(snapshot, latest)
    page["collection"] = None
    if latest is not None:
        c = latest.figures["collection"]
        page["collection"] = {
            "period": latest.period,
            "percent": percentage_text(c["received_fen"], c["due_fen"]),
            "received": c["received_fen"],
            "due": c["due_fen"],
            "bar": progress_bar_svg(c["received_fen"], c["due_fen"], ""),
        }
    page["open_objections"] = [o for o in snapshot.objections if o.answer is None]
    deposits = ("maintenance_deposits",)  # the owners' own savings, and far larger: said apart
    page["income"] = flows_chart(
        snapshot, lang, "in", text(lang, "income_chart"), leave_out=deposits
    )
    page["deposits"] = left_out(snapshot, lang, "in", deposits[0])
    page["spending"] = flows_chart(snapshot, lang, "out", text(lang, "spending_chart"))
    page["proposals"] = [proposal_summary(snapshot, lang, p) for p in reversed(snapshot.proposals)]
    return page


def fund_card(
    snapshot: Snapshot, lang: str, fund: str, latest: StatementView | None
) -> dict[str, Any]:
    figures = latest.figures["funds"][fund] if latest is not None else None
    return {
        "fund": fund,
        "name": label(lang, fund),
        "balance": snapshot.balances[-1][1][fund],
        "period_in": figures["in_fen"] if figures else None,
        "period_out": figures["out_fen"] if figures else None,
        "chart": balance_spark(snapshot, lang, fund),
        "url": f"/c/{snapshot.community}/funds/{fund}",
    }


def trust_box(snapshot: Snapshot, latest: StatementView | None) -> dict[str, Any] | None:
    if latest is None:
        return None
    return {
        "statement": latest,
        "quorum": snapshot.state.committee_quorum(),
        "ok": snapshot.statement_ok(latest.period),
    }


def proposal_status(p: dict[str, Any]) -> tuple[str, str]:
    """(phrase key, css tone) of where a proposal stands."""
    if p["emergency"]:
        return "emergency_flag", "warn"
    if p["tally"] is not None:
        return ("vote_passed", "ok") if p["tally"]["passed"] else ("vote_failed", "bad")
    if p["needs"] == "owners":
        return "vote_open", "neutral"
    return ("approved", "ok") if p["approved"] else ("pending", "neutral")


def proposal_summary(snapshot: Snapshot, lang: str, p: dict[str, Any]) -> dict[str, Any]:
    key, tone = proposal_status(p)
    budget = p["budget_fen"]
    bar = None
    if budget:
        bar = progress_bar_svg(p["spent_fen"], budget, text(lang, "spent_of_budget"))
    stage_at = STAGES.index(p["stage"]) if p["stage"] in STAGES else -1
    return {
        **p,
        "status": text(lang, key),
        "tone": tone,
        "bar": bar,
        "stages": [(label(lang, s), i <= stage_at) for i, s in enumerate(STAGES)],
        "has_stages": stage_at >= 0,
        "url": f"/c/{snapshot.community}/proposals/{p['id']}",
    }


# --- funds, proposals ---------------------------------------------------------------------------


def fund_page(snapshot: Snapshot, lang: str, fund: str) -> dict[str, Any]:
    if fund not in FUNDS:
        raise NotFoundError(f"no fund {fund!r}", f"没有资金账户 {fund!r}")
    page = common(snapshot)
    name = title_label(lang, fund)
    latest = page["latest"]
    page.update(
        period=latest.figures["funds"][fund] if latest is not None else None,
        fund=fund,
        fund_name=name,
        balance=snapshot.balances[-1][1][fund],
        trend=balance_chart(snapshot, lang, fund, width=420, height=260),
        income=flows_chart(snapshot, lang, "in", f"{name} · {text(lang, 'income_chart')}", fund),
        spending=flows_chart(
            snapshot, lang, "out", f"{name} · {text(lang, 'spending_chart')}", fund
        ),
        lines=snapshot.fund_lines(fund),
    )
    return page


def proposals_page(snapshot: Snapshot, lang: str) -> dict[str, Any]:
    page = common(snapshot)
    page["proposals"] = [proposal_summary(snapshot, lang, p) for p in reversed(snapshot.proposals)]
    return page


def proposal_page(snapshot: Snapshot, lang: str, proposal_id: str) -> dict[str, Any]:
    found = [p for p in snapshot.proposals if p["id"] == proposal_id]
    if not found:
        raise NotFoundError(f"no proposal {proposal_id}", f"没有方案 {proposal_id}")
    page = common(snapshot)
    p = proposal_summary(snapshot, lang, found[0])
    state = snapshot.state
    buildings = sorted({state.units[u].building for u in p["units"] if u in state.units})
    history = proposal_history(snapshot, proposal_id)
    reached = {h["stage"]: h["at"] for h in history if h["type"] == "project.progressed"}
    page.update(
        stage_dates=[reached.get(stage) for stage in STAGES],
        p=p,
        scope=text(lang, "whole_estate", n=len(p["units"]))
        if p["whole_estate"]
        else text(lang, "some_units", n=len(p["units"]), buildings="、".join(buildings)),
        history=history,
        description=description(snapshot, p["index"]),
    )
    return page


def description(snapshot: Snapshot, index: int) -> str:
    return str(snapshot.entry(index).body.get("description", ""))


def proposal_history(snapshot: Snapshot, proposal_id: str) -> list[dict[str, Any]]:
    """The entries that cite the proposal (ballots are counted in the tally instead)."""
    emergencies = snapshot.state.gov.emergencies
    out = []
    for index, entry in enumerate(snapshot.entries):
        if entry.type not in HISTORY_TYPES:
            continue
        body = entry.body
        cites = proposal_id in (body.get("proposal_id"), body.get("subject_id"))
        cites = cites or emergencies.get(str(body.get("emergency_id"))) == proposal_id
        if cites or (entry.type == "proposal.submitted" and entry.id == proposal_id):
            out.append(
                {
                    "index": index,
                    "id": entry.id,
                    "type": entry.type,
                    "at": entry.at,
                    "signer": entry.signer,
                    "amount": body.get("amount_fen"),
                    "stage": body.get("stage"),
                    "note": body.get("note") or body.get("summary") or body.get("reason"),
                    "rating": body.get("rating"),
                }
            )
    return out


# --- statements, units, objections ----------------------------------------------------------------


def statements_page(snapshot: Snapshot) -> dict[str, Any]:
    page = common(snapshot)
    page["statements"] = [
        {"s": s, "ok": snapshot.statement_ok(s.period), "quorum": snapshot.state.committee_quorum()}
        for s in reversed(snapshot.statements)
    ]
    return page


def statement_page(snapshot: Snapshot, period: str) -> dict[str, Any]:
    view = snapshot.statement(period)
    page = common(snapshot)
    page["links"] = links(snapshot.community, period)
    f = view.figures
    c = f["collection"]
    page.update(
        s=view,
        f=f,
        ok=snapshot.statement_ok(period),
        quorum=snapshot.state.committee_quorum(),
        collection=percentage_text(c["received_fen"], c["due_fen"]),
        funds=[(fund, f["funds"][fund]) for fund in FUNDS if fund in f["funds"]],
    )
    return page


def unit_page(snapshot: Snapshot, unit: str) -> dict[str, Any]:
    account = unit_account(snapshot.engine, snapshot.community, unit, snapshot.books_month)
    with snapshot.engine.connect() as conn:
        lines = unit_lines_on(conn, snapshot.community, unit, None)
    page = common(snapshot)
    page.update(
        a=account,
        until=snapshot.books_month,
        payments=[line for line in lines if line.account == "property"],
        top_up=account.needs_top_up((snapshot.state.gov.charter.top_up_ratio_percent, 100)),
        dates=snapshot.dates({line.idx for line in lines}),
    )
    return page


def objections_page(snapshot: Snapshot) -> dict[str, Any]:
    page = common(snapshot)
    page["objections"] = list(reversed(snapshot.objections))
    return page
