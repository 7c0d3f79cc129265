"""Words and tables for the figures the command line prints, in Chinese or English.

Labels of funds, flow categories and the catalogue's values (``label``), money as yuan
with thousands separators (``yuan_cell``), and rich tables whose money columns are
right-aligned (``money_table``). Unknown names print as they are.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text

from ledger.core.money import yuan

# name -> (zh, en)
LABELS: dict[str, tuple[str, str]] = {
    # funds
    "property": ("物业费信托账户", "property (trust account)"),
    "maintenance": ("专项维修资金", "maintenance fund"),
    "public_revenue": ("公共收益", "common revenue"),
    "community": ("社区基金", "community fund"),
    "refund": ("结余退还", "surplus refunds"),
    # flow categories
    "property_fees": ("物业费", "property fees"),
    "maintenance_deposits": ("维修资金缴存", "maintenance deposits"),
    "interest": ("利息", "interest"),
    "revenue": ("公共收益收入", "common revenue"),
    "donation": ("捐赠", "donations"),
    "expense": ("支出", "expenses"),
    "maintenance_draw": ("维修资金支取", "maintenance draws"),
    "transfer_in": ("转入", "transfers in"),
    "transfer_out": ("转出", "transfers out"),
    "trustee_remuneration": ("物业酬金", "trustee remuneration"),
    "surplus_refund": ("结余退还", "surplus refunds"),
    # details
    "initial": ("首期", "initial"),
    "top_up": ("续筹", "top-up"),
    "emergency": ("应急", "emergency"),
    "parking": ("停车", "parking"),
    "advertising": ("广告", "advertising"),
    "venue": ("场地", "venue"),
    "locker": ("储物柜", "lockers"),
    "telecom": ("通信基站", "telecom"),
    "other": ("其他", "other"),
    "sponsorship": ("赞助", "sponsorship"),
    "grant": ("补助", "grant"),
    "cleaning": ("保洁", "cleaning"),
    "security": ("安保", "security"),
    "greening": ("绿化", "greening"),
    "repairs": ("维修", "repairs"),
    "elevator": ("电梯", "elevator"),
    "fire_safety": ("消防", "fire safety"),
    "utilities": ("公共水电", "utilities"),
    "insurance": ("保险", "insurance"),
    "management": ("管理", "management"),
    "office": ("办公", "office"),
    "events": ("活动", "events"),
    "revenue_cost": ("经营成本", "cost of revenue"),
    # directions
    "in": ("收入", "in"),
    "out": ("支出", "out"),
}


def label(name: str | None, zh: bool) -> str:
    """The word for a fund, category or value; ``None`` is a dash."""
    if name is None:
        return "—"
    pair = LABELS.get(name)
    return name if pair is None else pair[0 if zh else 1]


def words(zh: bool, zh_text: str, en_text: str) -> str:
    return zh_text if zh else en_text


def yuan_cell(fen: int | None) -> Text:
    """Fen as yuan with thousands separators, red when negative; ``None`` is a dash."""
    if fen is None:
        return Text("—")
    return Text(yuan(fen), style="red" if fen < 0 else "")


def money_table(title: str, columns: Sequence[str], money: Sequence[str]) -> Table:
    """A table titled ``title``; the columns named in ``money`` are right-aligned."""
    table = Table(title=title, title_justify="left", show_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column, justify="right" if column in money else "left", no_wrap=True)
    return table
