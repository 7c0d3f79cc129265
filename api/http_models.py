"""Pydantic models of the HTTP API's JSON bodies, with the examples ``/openapi.json`` shows.

Only shapes live here: the routes in ``api.app`` and ``api.http_reads`` fill them (the
statements' and receipts' models sit beside their routes in ``api.http_statements``).
Money is integer fen (``*_fen``); figures the ledger computes (statements, proposals)
keep the ledger's own JSON shape and are typed as objects.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

ID = "0b6f7a4e-9c1d-5e2f-8a3b-4c5d6e7f8091"
CHECKPOINT = (
    "example.org/c/demo/log\n3318\nq1Xq8mYq2uS0z0Yd0p2qk0a3M0n0m1X1a2b3c4d5e6f=\n\n"
    "— example.org/c/demo/log Az3grlgAAAAB...\n"
)
POLICY = (
    "log example.org/c/demo/log+6a3b1c2d+AQ…\n"
    "witness witness-committee demo-witnesses/committee-wang+21d4e458+BA…\n"
    "witness witness-residents demo-witnesses/juweihui+63922939+BA…\n"
    "group witnesses all witness-committee witness-residents\nquorum witnesses\n"
)


def examples(*examples: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


class ErrorBody(BaseModel):
    """Every refusal and error: a stable code and the message in both languages."""

    model_config = examples(
        {
            "code": "unknown_signer",
            "message_zh": "条目 …：签名人 demo/treasurer 在第 12 条时已被吊销",
            "message_en": "entry …: signer demo/treasurer is revoked at index 12",
            "entry_id": ID,
        }
    )
    code: str
    message_zh: str
    message_en: str
    entry_id: str | None = None


class SubmitResult(BaseModel):
    """Where a submitted entry stands; ``receipt`` is its tlog-proof once published."""

    model_config = examples(
        {
            "community": "demo",
            "index": 3318,
            "id": ID,
            "created": True,
            "receipt": "c2sp.org/tlog-proof@v1\nextra …\nindex 3318\n…",
        }
    )
    community: str
    index: int
    id: str
    created: bool
    receipt: str | None


class CommunityLink(BaseModel):
    community: str
    name: str
    info: str
    log: str
    entries: str


class Communities(BaseModel):
    model_config = examples(
        {
            "service": "glasspocket",
            "communities": [
                {
                    "community": "demo",
                    "name": "阳光花园 Sunshine Gardens",
                    "info": "/c/demo/info",
                    "log": "/c/demo/log/",
                    "entries": "/c/demo/entries",
                }
            ],
        }
    )
    service: str
    communities: list[CommunityLink]


class CheckpointInfo(BaseModel):
    """The newest checkpoint that meets the community's policy (witness quorum included)."""

    size: int
    root: str = Field(description="the tree's root hash, base64")
    text: str = Field(description="the cosigned checkpoint, a C2SP signed note")


class CommunityInfo(BaseModel):
    model_config = examples(
        {
            "community": "demo",
            "name": "阳光花园 Sunshine Gardens",
            "origin": "example.org/c/demo/log",
            "policy": POLICY,
            "size": 3318,
            "checkpoint": {"size": 3318, "root": "q1Xq8mYq…=", "text": CHECKPOINT},
            "links": {"log": "/c/demo/log/", "statements": "/c/demo/statements"},
        }
    )
    community: str
    name: str
    origin: str
    policy: str
    size: int
    checkpoint: CheckpointInfo | None
    links: dict[str, str]


class Funds(BaseModel):
    """Fund balances: at the start and end of a period's range of the log, or now."""

    model_config = examples(
        {
            "community": "demo",
            "period": "2025Q3",
            "start": 1650,
            "end": 2480,
            "opening_fen": {"property": 1200000, "maintenance": 9800000},
            "closing_fen": {"property": 1350000, "maintenance": 9650000},
        }
    )
    community: str
    period: str | None
    start: int
    end: int
    opening_fen: dict[str, int]
    closing_fen: dict[str, int]


class FlowLine(BaseModel):
    fund: str
    direction: str = Field(description='"in" or "out"')
    category: str
    detail: str | None
    amount_fen: int


class Flows(BaseModel):
    """Money in and out by fund and category over a period's range of the log."""

    model_config = examples(
        {
            "community": "demo",
            "period": "2025Q3",
            "start": 1650,
            "end": 2480,
            "flows": [
                {
                    "fund": "property",
                    "direction": "in",
                    "category": "property_fees",
                    "detail": None,
                    "amount_fen": 4560000,
                }
            ],
            "in_fen": 4560000,
            "out_fen": 0,
        }
    )
    community: str
    period: str | None
    start: int
    end: int
    flows: list[FlowLine]
    in_fen: int
    out_fen: int


class MonthDue(BaseModel):
    month: str
    rate_fen_per_m2: int | None
    due_fen: int
    received_fen: int


class AccountLine(BaseModel):
    idx: int
    account: str
    kind: str
    detail: str | None
    month: str | None
    amount_fen: int
    entry_id: str
    reverses: str | None


class UnitAccount(BaseModel):
    """A unit's dues by month up to ``until``, its maintenance sub-account and refunds."""

    model_config = examples(
        {
            "community": "demo",
            "unit": "1-1-102",
            "building": "1",
            "area_cm2": 892500,
            "owner": "owner-1-1-102",
            "until": "2025-12",
            "months": [
                {"month": "2025-01", "rate_fen_per_m2": 250, "due_fen": 22313, "received_fen": 0}
            ],
            "due_fen": 267750,
            "received_fen": 267750,
            "arrears_fen": 0,
            "prepaid_fen": 0,
            "maintenance": [],
            "maintenance_fen": 1200000,
            "first_deposit_fen": 1200000,
            "needs_top_up": False,
            "refunds": [],
            "refunded_fen": 0,
            "receipts": "/c/demo/units/1-1-102/receipts",
        }
    )
    community: str
    unit: str
    building: str
    area_cm2: int
    owner: str
    until: str
    months: list[MonthDue]
    due_fen: int
    received_fen: int
    arrears_fen: int
    prepaid_fen: int
    maintenance: list[AccountLine]
    maintenance_fen: int
    first_deposit_fen: int
    needs_top_up: bool
    refunds: list[AccountLine]
    refunded_fen: int
    receipts: str


PROPOSAL_EXAMPLE = {
    "id": ID,
    "index": 40,
    "title": "2号楼电梯更换 Building 2 elevator",
    "fund": "maintenance",
    "budget_fen": 48000000,
    "approved": True,
    "spent_fen": 30000000,
    "remaining_fen": 18000000,
    "stage": "in_progress",
    "tally": {
        "participation": {"area": {"numerator": 8, "denominator": 10, "percent": "80.00%"}},
        "approval": {"area": {"numerator": 7, "denominator": 8, "percent": "87.50%"}},
    },
}


class Proposals(BaseModel):
    """Every proposal in log order with budget, approvals, spending, stage and the tally."""

    model_config = examples({"community": "demo", "proposals": [PROPOSAL_EXAMPLE]})
    community: str
    proposals: list[dict[str, Any]]


class Proposal(BaseModel):
    model_config = examples({"community": "demo", "proposal": PROPOSAL_EXAMPLE})
    community: str
    proposal: dict[str, Any]


class NoticeItem(BaseModel):
    code: str
    where: str
    message_zh: str
    message_en: str


class Notices(BaseModel):
    """What the books ask residents to look at: bank differences, top-ups due, open objections."""

    model_config = examples(
        {
            "community": "demo",
            "notices": [
                {
                    "code": "bank_difference",
                    "where": "maintenance",
                    "message_zh": "专项维修资金：银行余额比账面少 25.00 元",
                    "message_en": "maintenance: the bank holds 25.00 yuan less than the books",
                }
            ],
        }
    )
    community: str
    notices: list[NoticeItem]


class Answer(BaseModel):
    index: int
    id: str
    at: str
    outcome: str
    text: str
    correction_id: str | None


class Objection(BaseModel):
    id: str
    index: int
    at: str
    target_id: str
    text: str
    open: bool
    answer: Answer | None


class Objections(BaseModel):
    model_config = examples(
        {
            "community": "demo",
            "objections": [
                {
                    "id": ID,
                    "index": 3100,
                    "at": "2025-11-02T02:00:00Z",
                    "target_id": ID,
                    "text": "电梯款项为何分两次支付？",
                    "open": True,
                    "answer": None,
                }
            ],
        }
    )
    community: str
    objections: list[Objection]
