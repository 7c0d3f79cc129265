"""The demo's year (2025): what a realistic trust-style community records, month by month.

Drafts (time, actor, type, body) are produced here in plain data; ``api.demo`` signs
them in time order with each actor's own key. Every amount is integer fen, derived
from the seed; fees follow the schedule (DOMAIN.md rounding), remuneration follows
the contract's formula on the fees received that month.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ledger.core.money import basis_points_of, monthly_charge_fen

RATE_FEN_PER_M2 = 250  # 2.50 yuan per m² per month
FIRST_DEPOSIT_FEN_PER_M2 = 8_000  # 80 yuan per m²
TRUSTEE_BASIS_POINTS = 1_000  # 10% of the fees received in a month
TRUSTEE = "玻璃物业服务有限公司 Glass Property Services Ltd."
MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]

PROPERTY_COSTS = (  # category, payee, monthly fen
    ("cleaning", "洁美保洁服务部", 900_000),
    ("security", "安心保安服务公司", 1_200_000),
    ("greening", "绿源园林工程队", 300_000),
    ("utilities", "国网电力（公共照明与水泵）", 520_000),
    ("elevator", "升达电梯维保有限公司", 330_000),
)


BANK_FEE_NOT_YET_BOOKED_FEN = 2_500  # Q3: the bank took a 25-yuan fee the books do not show
BOOKS = -1  # a bank assertion's balance placeholder: "what the books say at that point"


@dataclass(frozen=True)
class Draft:
    """An entry before signing. ``tag`` names it for later drafts; ``@tag`` values cite it."""

    at: str
    actor: str
    type: str
    body: dict[str, Any]
    tag: str | None = None


@dataclass(frozen=True)
class StoryUnit:
    code: str
    building: str
    area_cm2: int
    owner: str


def at(month: str, day: int, time: str = "10:00:00") -> str:
    return f"{month}-{day:02d}T{time}+08:00"


class YearStory:
    """Generates the year's drafts, keeping the running totals the formulas need."""

    def __init__(self, units: list[StoryUnit], rng: random.Random) -> None:
        self.units = units
        self.rng = rng
        self.fee_income: dict[str, int] = defaultdict(int)  # by month received
        self.unpaid: dict[str, list[str]] = defaultdict(list)  # unit -> months owed

    def drafts(self) -> list[Draft]:
        out = [*self._setup(), *self._deposits()]
        for month in MONTHS:
            out += self._month(month)
        out += self._one_off_events()
        out.sort(key=lambda draft: draft.at)
        return out

    # --- setup ----------------------------------------------------------------------------------

    def _setup(self) -> Iterator[Draft]:
        yield Draft(
            at("2025-01", 3, "15:00:00"),
            "committee-chair",
            "fee.schedule_set",
            {"rate_fen_per_m2": RATE_FEN_PER_M2, "from_month": "2025-01"},
        )
        yield Draft(
            at("2025-01", 3, "15:10:00"),
            "committee-chair",
            "trustee.contract_set",
            {"trustee": TRUSTEE, "from_month": "2025-01", "basis_points": TRUSTEE_BASIS_POINTS},
        )

    def _deposits(self) -> Iterator[Draft]:
        for unit in self.units:
            amount = unit.area_cm2 * FIRST_DEPOSIT_FEN_PER_M2 // 10_000
            yield Draft(
                at("2025-01", 6 + self.rng.randrange(0, 20), "10:30:00"),
                "treasurer",
                "contribution.received",
                {
                    "fund": "maintenance",
                    "unit": unit.code,
                    "amount_fen": amount,
                    "deposit": "initial",
                    "method": "bank",
                },
            )

    # --- every month ------------------------------------------------------------------------------

    def _month(self, month: str) -> list[Draft]:
        out = list(self._fees(month))
        out += self._property_costs(month)
        out.append(self._remuneration(month))
        out += self._common_revenue(month)
        return out

    def _fees(self, month: str) -> Iterator[Draft]:
        """On-time payers pay this month; some pay late, in a later month, or not at all."""
        for unit in self.units:
            if unit.owner == "developer":
                continue
            charge = monthly_charge_fen(RATE_FEN_PER_M2, unit.area_cm2)
            roll = self.rng.random()
            if roll < 0.08:
                self.unpaid[unit.code].append(month)
                continue
            day = 5 + self.rng.randrange(0, 20)
            for owed in [*self.unpaid.pop(unit.code, []), month]:
                if roll > 0.985 and owed != month:
                    continue  # a few never settle the past: arrears stay on the books
                yield self._fee(unit, owed, charge, month, day)

    def _fee(self, unit: StoryUnit, owed: str, charge: int, month: str, day: int) -> Draft:
        self.fee_income[month] += charge
        method = self.rng.choice(("bank", "wechat", "alipay", "bank"))
        return Draft(
            at(month, day, "14:00:00"),
            "trustee",
            "contribution.received",
            {
                "fund": "property",
                "unit": unit.code,
                "amount_fen": charge,
                "month": owed,
                "method": method,
            },
        )

    def _property_costs(self, month: str) -> Iterator[Draft]:
        for category, payee, monthly in PROPERTY_COSTS:
            amount = monthly + self.rng.randrange(-20_000, 20_000) // 100 * 100
            yield Draft(
                at(month, 27, "16:00:00"),
                "trustee",
                "expense.paid",
                {
                    "fund": "property",
                    "category": category,
                    "amount_fen": amount,
                    "payee": payee,
                    "description": f"{month} {category} service",
                },
                f"{category}-{month}",
            )

    def _remuneration(self, month: str) -> Draft:
        amount = basis_points_of(self.fee_income[month], TRUSTEE_BASIS_POINTS)
        return Draft(
            at(month, 28, "18:00:00"),
            "trustee",
            "trustee.remunerated",
            {"month": month, "amount_fen": amount},
        )

    def _common_revenue(self, month: str) -> Iterator[Draft]:
        spaces = 38 + self.rng.randrange(0, 5)
        yield Draft(
            at(month, 10, "09:30:00"),
            "treasurer",
            "revenue.received",
            {
                "source": "parking",
                "amount_fen": spaces * 15_000,
                "description": f"{spaces} 个地面车位 × 150 元 / {spaces} surface spaces",
            },
        )
        yield Draft(
            at(month, 26, "11:00:00"),
            "treasurer",
            "expense.paid",
            {
                "fund": "public_revenue",
                "category": "revenue_cost",
                "amount_fen": 80_000,
                "payee": "停车管理员劳务",
                "description": "车位管理劳务费 parking attendant",
            },
        )
        if month.endswith(("03", "06", "09", "12")):
            yield Draft(
                at(month, 15, "10:00:00"),
                "treasurer",
                "revenue.received",
                {
                    "source": "advertising",
                    "amount_fen": 360_000,
                    "description": "电梯轿厢广告季度费 elevator advertising, quarterly",
                },
            )
            yield from self._bank_assertions(month)

    def _bank_assertions(self, month: str) -> Iterator[Draft]:
        """Quarter ends: the bank statements; from Q3 the maintenance account shows an unbooked fee."""
        for fund in ("property", "maintenance", "public_revenue"):
            tag = "bank-fee" if fund == "maintenance" and month >= "2025-09" else None
            yield Draft(
                at(month, 30, "17:00:00"),
                "treasurer",
                "bank.balance_asserted",
                {
                    "fund": fund,
                    "balance_fen": BOOKS,
                    "as_of": f"{month}-30",
                    "reference": f"对账单 statement {month}",
                },
                tag,
            )

    # --- the year's particular events ---------------------------------------------------------------

    def _one_off_events(self) -> list[Draft]:
        return [
            Draft(
                at("2025-03", 8),
                "treasurer",
                "donation.received",
                {
                    "kind": "donation",
                    "amount_fen": 500_000,
                    "purpose": "老年活动室 elderly activity room",
                    "donor": "街角便利店 Corner Store",
                    "donor_consent": True,
                },
            ),
            Draft(
                at("2025-04", 20),
                "treasurer",
                "expense.paid",
                {
                    "fund": "community",
                    "category": "events",
                    "amount_fen": 186_000,
                    "payee": "家具城",
                    "purpose": "老年活动室 elderly activity room",
                    "description": "活动室桌椅 tables and chairs",
                    "proposal_id": "@activity-room",
                },
            ),
            *self._double_entry_and_reversal(),
            Draft(
                at("2025-05", 12),
                "committee-chair",
                "donation.received",
                {
                    "kind": "grant",
                    "amount_fen": 2_000_000,
                    "purpose": "电动车充电棚 e-bike charging shed",
                    "donor": "街道办事处 Sub-district Office",
                    "donor_consent": True,
                },
            ),
            Draft(
                at("2025-06", 30, "16:30:00"),
                "treasurer",
                "interest.credited",
                {"fund": "maintenance", "amount_fen": 272_100, "period": "2025H1"},
            ),
            Draft(
                at("2025-07", 9),
                "treasurer",
                "transfer.made",
                {
                    "from_fund": "public_revenue",
                    "to_fund": "maintenance",
                    "amount_fen": 2_000_000,
                    "description": "上半年公共收益净额转入维修资金 H1 net common revenue into maintenance",
                    "proposal_id": "@transfer-vote",
                },
            ),
            Draft(
                at("2025-08", 18),
                "treasurer",
                "maintenance.drawn",
                {
                    "amount_fen": 6_800_000,
                    "buildings": ["2"],
                    "payee": "升达电梯维保有限公司",
                    "description": "2号楼电梯主机更换 building 2 elevator traction machine",
                    "proposal_id": "@elevator-vote",
                },
                "elevator-draw",
            ),
            Draft(
                at("2025-10", 14),
                "treasurer",
                "maintenance.drawn",
                {
                    "amount_fen": 1_280_000,
                    "buildings": ["3"],
                    "payee": "坚固外墙工程有限公司",
                    "description": "3号楼外墙应急加固 building 3 façade, emergency",
                    "emergency_id": "@facade-emergency",
                },
            ),
            Draft(
                at("2025-09", 5),
                "treasurer",
                "expense.paid",
                {
                    "fund": "community",
                    "category": "repairs",
                    "amount_fen": 1_650_000,
                    "payee": "安驰充电设备公司",
                    "purpose": "电动车充电棚 e-bike charging shed",
                    "description": "充电棚建设 charging shed construction",
                    "proposal_id": "@charging-shed",
                },
            ),
            Draft(
                at("2025-09", 16),
                "committee-chair",
                "unit.owner_changed",
                {"unit": self.units[40].code, "owner": "o-new-owner-2025"},
            ),
            Draft(
                at("2025-12", 29, "16:30:00"),
                "treasurer",
                "interest.credited",
                {"fund": "maintenance", "amount_fen": 281_500, "period": "2025H2"},
            ),
            Draft(
                at("2025-12", 30, "10:00:00"),
                "treasurer",
                "surplus.refunded",
                {
                    "amount_fen": 3_000_000,
                    "year": 2025,
                    "description": "2025 年物业费结余按面积退还 surplus refunded by floor area",
                    "proposal_id": "@refund",
                },
            ),
        ]

    def _double_entry_and_reversal(self) -> list[Draft]:
        """April: a fee keyed in twice by mistake, reversed (never deleted) a few days later."""
        unit = next(u for u in self.units if u.owner != "developer")
        charge = monthly_charge_fen(RATE_FEN_PER_M2, unit.area_cm2)
        return [
            Draft(
                at("2025-04", 14, "15:20:00"),
                "trustee",
                "contribution.received",
                {
                    "fund": "property",
                    "unit": unit.code,
                    "amount_fen": charge,
                    "month": "2025-04",
                    "method": "cash",
                    "reference": "重复录入 keyed twice",
                },
                "double-entry",
            ),
            Draft(
                at("2025-04", 17, "09:00:00"),
                "trustee",
                "entry.reversed",
                {
                    "entry_id": "@double-entry",
                    "reason": "同一笔物业费录入两次，冲正第二笔 the same fee was keyed twice",
                },
            ),
        ]
