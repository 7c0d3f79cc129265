"""Words for the paper notice and the statement export, in Chinese or English.

Funds and most categories come from ``api.cli_labels``; this module adds the category
names only statements use (``fees``, ``deposits_initial``, ``transfer_to_<fund>``…), the
stages of a proposal and the periods ("2025年第二季度" / "Q2 2025"). Unknown names print
as they are.
"""

from __future__ import annotations

from api.cli_labels import LABELS

# name -> (zh, en)
STATEMENT_LABELS: dict[str, tuple[str, str]] = {
    "fees": ("物业费", "property fees"),
    "deposits_initial": ("维修资金首期缴存", "maintenance deposits (initial)"),
    "deposits_top_up": ("维修资金续筹", "maintenance deposits (top-up)"),
    "remuneration": ("物业酬金", "trustee remuneration"),
    "reversals": ("冲正", "reversals"),
    "emergency_repairs": ("应急维修", "emergency repairs"),
    "repairs": ("维修", "repairs"),
    "donation": ("捐赠", "donations"),
    "surplus_refund": ("结余退还业主", "surplus refunded to owners"),
}

STAGES: dict[str, tuple[str, str]] = {
    "none": ("未登记进度", "no progress reported"),
    "contracted": ("已签约", "contracted"),
    "started": ("已开工", "started"),
    "in_progress": ("进行中", "in progress"),
    "completed": ("已完工", "completed"),
    "accepted": ("已验收", "accepted"),
}

NEEDS: dict[str, tuple[str, str]] = {
    "committee": ("业委会决定", "committee"),
    "owners": ("业主表决", "owners' vote"),
    "emergency": ("应急", "emergency"),
}

_QUARTERS_ZH = {"1": "第一季度", "2": "第二季度", "3": "第三季度", "4": "第四季度"}
_QUARTER_MONTHS = {"1": ("01-01", "03-31"), "2": ("04-01", "06-30")}
_QUARTER_MONTHS |= {"3": ("07-01", "09-30"), "4": ("10-01", "12-31")}


def _pick(pair: tuple[str, str] | None, name: str, zh: bool) -> str:
    return name if pair is None else pair[0 if zh else 1]


def fund_label(fund: str, zh: bool) -> str:
    return _pick(LABELS.get(fund), fund, zh)


def category_label(name: str, zh: bool) -> str:
    """A statement line: ``transfer_to_maintenance`` → "转入专项维修资金"-style words."""
    for prefix, zh_word, en_word in (
        ("transfer_to_", "转出至", "transfer to "),
        ("transfer_from_", "转入自", "transfer from "),
    ):
        if name.startswith(prefix):
            fund = fund_label(name.removeprefix(prefix), zh)
            return f"{zh_word}{fund}" if zh else f"{en_word}{fund}"
    return _pick(STATEMENT_LABELS.get(name) or LABELS.get(name), name, zh)


def stage_label(stage: str | None, zh: bool) -> str:
    return _pick(STAGES.get(stage or "none"), stage or "none", zh)


def needs_label(needs: str, zh: bool) -> str:
    return _pick(NEEDS.get(needs), needs, zh)


def period_label(period: str, zh: bool) -> str:
    """2025Q2 → "2025年第二季度" or "Q2 2025"."""
    year, quarter = period[:4], period[5:]
    return f"{year}年{_QUARTERS_ZH.get(quarter, quarter)}" if zh else f"Q{quarter} {year}"


def period_dates(period: str) -> tuple[str, str]:
    """The first and last day of a quarter (YYYY-MM-DD)."""
    first, last = _QUARTER_MONTHS[period[5:]]
    return f"{period[:4]}-{first}", f"{period[:4]}-{last}"


def money(fen: int | None) -> str:
    """Fen as "¥12,345.67" for a table cell (integer arithmetic); ``None`` is a dash."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"
