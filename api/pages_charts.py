"""The charts of the residents' pages: flows by category per quarter, balances over time.

Each chart comes with the table of its numbers (``Chart.rows``), shown under it for screen
readers, for print and for anyone who prefers figures to bars. Flows are grouped into a
few categories a resident recognises (the largest five, the rest as "other"); transfers
between funds are left out, since they are neither income nor spending of the community.
Amounts stay integer fen until ``api.charts`` formats them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from api.charts import COLOURS, sparkline_svg, stacked_bar_chart_svg, trend_line_svg
from api.i18n import label, money, text, title_label
from api.pages_data import Quarter, Snapshot
from projections.queries import FlowTotal

TOP = 6
TRANSFERS = ("transfer_in", "transfer_out")
OTHER = "other"


@dataclass(frozen=True)
class Chart:
    """An inline SVG, the words that describe it, and its numbers as table rows."""

    svg: str
    caption: str
    columns: list[str]
    rows: list[tuple[str, list[int]]] = field(default_factory=list)


def quarter_label(lang: str, quarter: Quarter | None) -> str:
    if quarter is None:
        return text(lang, "opening")
    return quarter.period or text(lang, "so_far")


def chart_key(flow: FlowTotal) -> str | None:
    """What a flow is counted as on a chart (``None``: left out)."""
    if flow.category in TRANSFERS:
        return None
    if flow.category == "expense":
        return flow.detail or "expense"
    return flow.category


def flows_chart(
    snapshot: Snapshot,
    lang: str,
    direction: str,
    title: str,
    fund: str | None = None,
    *,
    leave_out: tuple[str, ...] = (),
    width: int = 420,
    height: int = 300,
) -> Chart:
    """One stacked bar per quarter: money in (or out) by category, for one fund or all."""
    quarters = [q for q, _ in snapshot.flows]
    per_key: dict[str, list[int]] = {}
    for i, (_, totals) in enumerate(snapshot.flows):
        for flow in totals:
            key = chart_key(flow)
            if key is None or key in leave_out or flow.direction != direction:
                continue
            if fund and flow.fund != fund:
                continue
            per_key.setdefault(key, [0] * len(quarters))[i] += flow.amount_fen
    ranked = sorted(per_key, key=lambda k: (-sum(per_key[k]), k))
    kept = ranked if len(ranked) <= TOP + 1 else ranked[:TOP]
    rows = [(label(lang, k), per_key[k]) for k in kept]
    rest = [per_key[k] for k in ranked if k not in kept]
    if rest:
        rows.append((text(lang, "other"), [sum(v) for v in zip(*rest, strict=True)]))
    labels = [quarter_label(lang, q) for q in quarters]
    svg = ""
    if rows:
        svg = stacked_bar_chart_svg(
            "", labels, rows, width=width, height=height, last_grey=bool(rest)
        )
    return Chart(svg, title, labels, rows)


def balance_chart(
    snapshot: Snapshot, lang: str, fund: str, *, width: int = 300, height: int = 170
) -> Chart:
    """The fund's balance at the start and at the end of each quarter."""
    labels = [quarter_label(lang, q) for q, _ in snapshot.balances]
    values = [balances[fund] for _, balances in snapshot.balances]
    caption = text(lang, "balance_trend", fund=title_label(lang, fund))
    svg = trend_line_svg("", labels, [(label(lang, fund), values)], width=width, height=height)
    return Chart(svg, caption, labels, [(label(lang, fund), values)])


def left_out(snapshot: Snapshot, lang: str, direction: str, key: str) -> list[tuple[str, int]]:
    """(quarter, amount) of one category a chart leaves out, where it is not zero."""
    out = []
    for quarter, totals in snapshot.flows:
        amount = sum(
            f.amount_fen for f in totals if f.direction == direction and chart_key(f) == key
        )
        if amount:
            out.append((quarter_label(lang, quarter), amount))
    return out


SPARK_COLOURS = {"property": COLOURS[0], "maintenance": "#c56f10", "public_revenue": "#2f6fa8"}


def balance_spark(snapshot: Snapshot, lang: str, fund: str) -> Chart:
    """A fund's balance over the quarters as a small line, its values in the aria label."""
    labels = [quarter_label(lang, q) for q, _ in snapshot.balances]
    values = [balances[fund] for _, balances in snapshot.balances]
    caption = text(lang, "balance_trend", fund=title_label(lang, fund))
    words = "；".join(f"{name} {money(v)}" for name, v in zip(labels, values, strict=True))
    svg = sparkline_svg(values, f"{caption}：{words}", colour=SPARK_COLOURS.get(fund, COLOURS[3]))
    return Chart(svg, caption, labels, [(label(lang, fund), values)])
