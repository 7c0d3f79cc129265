"""The column mapping of an import (docs/import.md): header names, kinds and their aliases.

``Mapping`` says which header names feed which field, adds names for kinds, and gives
defaults; ``Mapping.load(path)`` reads a mapping file (JSON). ``KINDS`` says what a row
of each kind records; the alias tables read the names a treasurer writes (物业费, 停车,
保洁…) as the catalogue's values.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from api.import_files import HEADER_COLUMNS, ImportFileError, locate_columns
from ledger.core.money_bodies import EXPENSE_CATEGORIES, FUNDS

DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    **HEADER_COLUMNS,
    "unit": ("房号", "房屋", "户号", "unit"),
    "kind": ("类型", "科目", "款项类型", "kind"),
    "month": ("所属月份", "月份", "month"),
    "counterparty": ("对方户名", "对方名称", "收款人", "付款人", "counterparty", "payee", "donor"),
    "description": ("摘要", "用途", "说明", "description"),
    "reference": ("流水号", "凭证号", "交易流水号", "reference"),
    "fund": ("基金", "账户", "fund"),
    "category": ("支出类别", "费用类别", "category"),
    "purpose": ("定向用途", "限定用途", "purpose"),
    "donor_consent": ("同意署名", "署名", "donor_consent"),
    "method": ("支付方式", "收款方式", "method"),
}


@dataclass(frozen=True)
class Kind:
    """What a row of this kind records: the entry type and its fixed body fields."""

    type: str
    fixed: tuple[tuple[str, str], ...] = ()


KINDS: dict[str, Kind] = {
    "property_fee": Kind("contribution.received", (("fund", "property"),)),
    "maintenance_initial": Kind(
        "contribution.received", (("fund", "maintenance"), ("deposit", "initial"))
    ),
    "maintenance_top_up": Kind(
        "contribution.received", (("fund", "maintenance"), ("deposit", "top_up"))
    ),
    **{
        source: Kind("revenue.received", (("source", source),))
        for source in ("parking", "advertising", "venue", "locker", "telecom")
    },
    "other_revenue": Kind("revenue.received", (("source", "other"),)),
    **{k: Kind("donation.received", (("kind", k),)) for k in ("donation", "sponsorship", "grant")},
    "interest": Kind("interest.credited"),
    "expense": Kind("expense.paid"),
}

KIND_ALIASES: dict[str, str] = {
    **{name: name for name in KINDS},
    **dict.fromkeys(("物业费", "物业服务费", "property", "property_fees"), "property_fee"),
    **dict.fromkeys(
        ("维修资金", "首期", "维修资金首期", "首期维修资金", "maintenance"), "maintenance_initial"
    ),
    **dict.fromkeys(("续筹", "维修资金续筹", "top_up", "maintenance_topup"), "maintenance_top_up"),
    **dict.fromkeys(("停车", "停车费", "车位", "车位租金"), "parking"),
    **dict.fromkeys(("广告", "广告费", "ads"), "advertising"),
    **dict.fromkeys(("场地", "场地租赁", "场地费", "rental"), "venue"),
    **dict.fromkeys(("储物", "储物柜", "快递柜", "lockers"), "locker"),
    **dict.fromkeys(("通信", "基站", "通信基站"), "telecom"),
    **dict.fromkeys(("公共收益", "其他收益", "revenue"), "other_revenue"),
    **dict.fromkeys(("捐赠", "捐款", "gift"), "donation"),
    **dict.fromkeys(("赞助",), "sponsorship"),
    **dict.fromkeys(("补助", "补贴", "拨款", "政府补助", "subsidy"), "grant"),
    **dict.fromkeys(("利息", "结息", "利息收入"), "interest"),
    **dict.fromkeys(("支出", "费用", "付款", "expenses", "payment"), "expense"),
}

FUND_ALIASES: dict[str, str] = {
    **{f: f for f in FUNDS},
    **dict.fromkeys(("物业", "物业费", "物业费信托账户", "信托账户"), "property"),
    **dict.fromkeys(("维修", "维修资金", "专项维修资金"), "maintenance"),
    **dict.fromkeys(("公共收益", "公共"), "public_revenue"),
    **dict.fromkeys(("社区", "社区基金", "捐赠", "专项经费"), "community"),
}

CATEGORY_ALIASES: dict[str, str] = {
    **{c: c for c in EXPENSE_CATEGORIES},
    **dict.fromkeys(("保洁", "清洁", "环卫"), "cleaning"),
    **dict.fromkeys(("安保", "保安", "秩序维护"), "security"),
    **dict.fromkeys(("绿化",), "greening"),
    **dict.fromkeys(("维修", "维修养护", "维保"), "repairs"),
    **dict.fromkeys(("电梯",), "elevator"),
    **dict.fromkeys(("消防",), "fire_safety"),
    **dict.fromkeys(("水电", "公共水电", "能耗"), "utilities"),
    **dict.fromkeys(("保险",), "insurance"),
    **dict.fromkeys(("管理", "管理费用"), "management"),
    **dict.fromkeys(("办公", "办公费"), "office"),
    **dict.fromkeys(("活动", "社区活动"), "events"),
    **dict.fromkeys(("经营成本", "收益成本"), "revenue_cost"),
    **dict.fromkeys(("其他",), "other"),
}

METHOD_ALIASES: dict[str, str] = {
    **{m: m for m in ("bank", "cash", "wechat", "alipay", "other")},
    **dict.fromkeys(("银行", "银行转账", "转账", "对公转账"), "bank"),
    **dict.fromkeys(("现金",), "cash"),
    **dict.fromkeys(("微信", "微信支付"), "wechat"),
    **dict.fromkeys(("支付宝",), "alipay"),
    **dict.fromkeys(("其他",), "other"),
}

YES = frozenset({"是", "同意", "y", "yes", "true", "1", "√", "✓"})


@lru_cache(maxsize=4096)  # a file repeats the same few kind, fund and method names
def norm(text: str) -> str:
    """Compare names loosely: full-width to half-width, case, spaces and hyphens."""
    folded = unicodedata.normalize("NFKC", text).strip().casefold()
    return re.sub(r"[\s\-]+", "_", folded)


@dataclass(frozen=True)
class Mapping:
    """Which header names feed which field, extra kind names, and defaults (docs/import.md).

    ``columns`` maps each field to the header names it accepts (the first one found in the
    file is used); ``kinds`` adds names for kinds (e.g. {"管理费": "property_fee"}).
    """

    columns: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_COLUMNS))
    kinds: dict[str, str] = field(default_factory=dict)
    sheet: str | None = None
    default_kind: str | None = None
    default_fund: str | None = None
    default_category: str | None = None

    @classmethod
    def load(cls, path: str | Path) -> Mapping:
        """A mapping file (JSON): its ``columns`` replace the defaults field by field."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
            columns = dict(DEFAULT_COLUMNS)
            for name, headers in data.get("columns", {}).items():
                if name not in DEFAULT_COLUMNS:
                    raise ValueError(f"unknown field {name!r}")
                columns[name] = (headers,) if isinstance(headers, str) else tuple(headers)
            kinds = {str(k): str(v) for k, v in data.get("kinds", {}).items()}
            for target in [*kinds.values(), data.get("default_kind") or "expense"]:
                if target not in KINDS:
                    raise ValueError(f"unknown kind {target!r} (kinds: {', '.join(KINDS)})")
            return cls(
                columns,
                kinds,
                data.get("sheet"),
                data.get("default_kind"),
                data.get("default_fund"),
                data.get("default_category"),
            )
        except (OSError, ValueError, AttributeError, TypeError) as exc:
            raise ImportFileError(
                f"mapping file {path}: {exc}", f"列映射文件 {path} 有误：{exc}"
            ) from None

    def locate(self, headers: Iterable[str]) -> dict[str, str]:
        """Field → the header in the file that feeds it."""
        return locate_columns(self.columns, headers)

    def kind_of(self, text: str) -> str | None:
        folded = norm(text)
        extra = {norm(k): v for k, v in self.kinds.items()} if self.kinds else {}
        kind = extra.get(folded) or KIND_ALIASES.get(folded)
        return kind if kind in KINDS else None

    def label(self, name: str) -> str:
        """How to name a field's column when the file lacks it: its first header name."""
        return self.columns[name][0] if self.columns.get(name) else name
