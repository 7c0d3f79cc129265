"""The statements and receipts of the HTTP API: what residents verify (SPEC §5).

Statements list and figures come from the signed ``statement.published`` entries;
bundles (``ledger.store.bundles``) and receipts (``ledger.store.publish``) are built
against the newest published checkpoint and cached per checkpoint, since building
one walks the log. ``api.app`` adds CORS to bundles and receipts. Their response models
(with the examples ``/openapi.json`` shows) are here too.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field

from api.http_models import ID, examples
from api.http_reads import SHORT, Reads, short_cache
from ledger.core.errors import LedgerError, NotFoundError
from ledger.core.state import CommunityState
from ledger.core.statement_rules import approved
from ledger.store.bundles import bundle_text, statement_bundle
from ledger.store.publish import Published, receipt_text, unit_entry_indices


class StatementSummary(BaseModel):
    period: str
    index: int
    id: str
    start: int
    end: int
    approved: bool
    figures: str
    bundle: str


class Statements(BaseModel):
    model_config = examples(
        {
            "community": "demo",
            "statements": [
                {
                    "period": "2025Q3",
                    "index": 2480,
                    "id": ID,
                    "start": 1650,
                    "end": 2480,
                    "approved": True,
                    "figures": "/c/demo/statements/2025Q3",
                    "bundle": "/c/demo/statements/2025Q3/bundle",
                }
            ],
        }
    )
    community: str
    statements: list[StatementSummary]


class Statement(BaseModel):
    """A published statement: its signed body (every figure) and whether it is approved."""

    model_config = examples(
        {
            "community": "demo",
            "period": "2025Q3",
            "index": 2480,
            "id": ID,
            "at": "2025-09-30T15:59:59Z",
            "signer": "demo/treasurer",
            "approved": True,
            "approvals": ["demo/committee-chair", "demo/committee-li"],
            "body": {"period": "2025Q3", "start": 1650, "end": 2480, "figures": {"funds": {}}},
            "bundle": "/c/demo/statements/2025Q3/bundle",
        }
    )
    community: str
    period: str
    index: int
    id: str
    at: str
    signer: str
    approved: bool
    approvals: list[str]
    body: dict[str, Any]
    bundle: str


class StatementBundle(BaseModel):
    """``glasspocket/statement-bundle@v1`` (SPEC §5): self-contained, verifiable offline."""

    model_config = examples(
        {
            "format": "glasspocket/statement-bundle@v1",
            "entry": "eyJ2IjoxLC…",
            "proof": "c2sp.org/tlog-proof@v1\n…",
            "covered_consistency": ["…"],
            "previous": None,
            "keychain": '{"format":"glasspocket/keychain@v1",…}',
        }
    )
    format: str
    entry: str
    proof: str
    covered_consistency: list[str]
    previous: dict[str, Any] | None
    keychain: str


class UnitReceipt(BaseModel):
    index: int
    entry_id: str
    type: str
    at: str
    url: str
    receipt: str = Field(description="the tlog-proof text (SPEC §5)")


class UnitReceipts(BaseModel):
    model_config = examples(
        {
            "community": "demo",
            "unit": "1-1-102",
            "checkpoint_size": 3318,
            "keychain": "/c/demo/log/keychain",
            "receipts": [
                {
                    "index": 210,
                    "entry_id": ID,
                    "type": "contribution.received",
                    "at": "2025-01-05T02:00:00Z",
                    "url": f"/c/demo/receipts/{ID}",
                    "receipt": "c2sp.org/tlog-proof@v1\n…",
                }
            ],
        }
    )
    community: str
    unit: str
    checkpoint_size: int
    keychain: str
    receipts: list[UnitReceipt]


def register(app: FastAPI, reads: Reads) -> None:
    """Add the statement and receipt routes."""
    _statement_routes(app, reads)
    _receipt_routes(app, reads)


def _statement_routes(app: FastAPI, reads: Reads) -> None:
    ledger = reads.ledger

    @app.get("/c/{community}/statements", response_model=Statements, tags=["statements"])
    def statements(community: str, response: Response) -> Statements:
        """The published quarterly statements. 已发布的资金公开报表。"""
        short_cache(response)
        with reads.state(community) as state:
            records = sorted(state.statements.published.values(), key=lambda r: r.index)
            ok = {r.period: approved(state, r.period) for r in records}
        base = f"/c/{community}/statements"
        return Statements(
            community=community,
            statements=[
                StatementSummary(
                    period=r.period,
                    index=r.index,
                    id=r.id,
                    start=int(reads.entry(community, r.index).body["start"]),
                    end=r.end,
                    approved=ok[r.period],
                    figures=f"{base}/{r.period}",
                    bundle=f"{base}/{r.period}/bundle",
                )
                for r in records
            ],
        )

    @app.get("/c/{community}/statements/{period}", response_model=Statement, tags=["statements"])
    def statement(community: str, period: str, response: Response) -> Statement:
        """One statement: its signed figures and whether the committee approved it. 报表。"""
        short_cache(response)
        with reads.state(community) as state:
            record = state.statements.published.get(period)
            ok = approved(state, period)
        if record is None:
            raise _no_statement(community, period)
        entry = reads.entry(community, record.index)
        return Statement(
            community=community,
            period=period,
            index=record.index,
            id=record.id,
            at=entry.at,
            signer=entry.signer,
            approved=ok,
            approvals=sorted(record.approvals),
            body=dict(entry.body),
            bundle=f"/c/{community}/statements/{period}/bundle",
        )

    @app.get(
        "/c/{community}/statements/{period}/bundle",
        response_model=StatementBundle,
        tags=["statements"],
    )
    def bundle(community: str, period: str) -> Response:
        """The statement bundle (SPEC §5) against the newest published checkpoint. 报表证明包。"""
        published = reads.published(community)
        key = ("bundle", community, period, published.verified.note_text)
        text = reads.cached(key, lambda: bundle_text(statement_bundle(ledger, community, period)))
        return Response(text, media_type="application/json", headers={"Cache-Control": SHORT})


def _no_statement(community: str, period: str) -> LedgerError:
    return NotFoundError(
        f"no statement for {period} in community {community}",
        f"小区 {community} 尚无 {period} 的报表",
    )


def _receipt_routes(app: FastAPI, reads: Reads) -> None:
    ledger = reads.ledger

    @app.get(
        "/c/{community}/receipts/{entry_id}",
        response_class=PlainTextResponse,
        tags=["receipts"],
        responses={200: {"content": {"text/plain": {"example": "c2sp.org/tlog-proof@v1\n…"}}}},
    )
    def receipt(community: str, entry_id: str) -> Response:
        """One entry's receipt: a C2SP tlog-proof against the published checkpoint. 收据。"""
        published = reads.published(community)
        with reads.state(community) as state:
            index = _index_of(state, entry_id)
        if index is None:
            raise NotFoundError(
                f"no entry {entry_id} in {community}", f"{community} 中没有条目 {entry_id}"
            )
        text = receipt_text(ledger, published, index)
        return PlainTextResponse(text, headers={"Cache-Control": SHORT})

    @app.get("/c/{community}/units/{unit}/receipts", response_model=UnitReceipts, tags=["receipts"])
    def unit_receipts(community: str, unit: str) -> JSONResponse:
        """Receipts of every entry concerning a unit (its payments, draws, refunds). 房屋收据。"""
        published = reads.published(community)
        with reads.state(community) as state:
            known = unit in state.units
        if not known:
            raise NotFoundError(f"no unit {unit} in {community}", f"{community} 没有房号 {unit}")
        key = ("unit-receipts", community, unit, published.verified.note_text)
        body = reads.cached(key, lambda: _unit_receipts(reads, published, unit))
        return JSONResponse(body, headers={"Cache-Control": SHORT})


def _index_of(state: CommunityState, entry_id: str) -> int | None:
    try:
        return state.index_of(entry_id)
    except ValueError:  # not a UUID: no entry has that id
        return None


def _unit_receipts(reads: Reads, published: Published, unit: str) -> dict[str, Any]:
    community = published.community
    items = []
    for index in unit_entry_indices(reads.ledger, published, unit):
        entry = reads.entry(community, index)
        items.append(
            UnitReceipt(
                index=index,
                entry_id=entry.id,
                type=entry.type,
                at=entry.at,
                url=f"/c/{community}/receipts/{entry.id}",
                receipt=receipt_text(reads.ledger, published, index),
            )
        )
    return UnitReceipts(
        community=community,
        unit=unit,
        checkpoint_size=published.verified.size,
        keychain=f"/c/{community}/log/keychain",
        receipts=items,
    ).model_dump()
