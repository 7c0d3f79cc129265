"""The read side of the HTTP API: communities, funds, flows, units, proposals, notices and
objections as JSON; statements and receipts are in ``api.http_statements``.

Figures come from the projections (``projections.queries``, ``projections.accounts``) or
from the folded state through the same functions the CLI and the verifier use; nothing
here computes money a second way. Periods are the ranges of the log statements cover
(DOMAIN.md "Statements"): a published period's ``[start, end)``, ``current`` for what was
recorded since the last statement, nothing for the whole log. What is slow to build
(statement bundles, a unit's receipts) is cached per published checkpoint.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from fastapi import FastAPI, Query, Response

from api import http_models as m
from api.settings import Settings
from ledger.core.entry import Entry, parse_logged_entry
from ledger.core.errors import NotFoundError
from ledger.core.money import shanghai_month
from ledger.core.notices import notices
from ledger.core.state import CommunityState
from ledger.store.publish import Published, published_checkpoint
from ledger.store.service import LedgerService
from projections.accounts import unit_account
from projections.proposals import all_proposals, proposal_figures
from projections.queries import flows_by_category, fund_balances
from projections.runner import Projector
from projections.store import ProjectionConflictError

SHORT = "public, max-age=5"
PERIOD = r"^(\d{4}Q[1-4]|current)$"
MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"
CACHE_LIMIT = 256
T = TypeVar("T")

PeriodQuery = Annotated[
    str | None,
    Query(
        pattern=PERIOD,
        description="a published statement's period (2025Q3), or `current` for what was "
        "recorded since the last statement; none: the whole log",
        examples=["2025Q3"],
    ),
]


class Reads:
    """The read models of one service: projections kept current, and a small cache."""

    def __init__(self, ledger: LedgerService) -> None:
        self.ledger = ledger
        self.projector = Projector(ledger)
        self._projecting = threading.Lock()
        self._cache: dict[tuple[Any, ...], Any] = {}

    def catch_up(self) -> None:
        """Project whatever was appended since the last call (by us or another process)."""
        with self._projecting:
            try:
                self.projector.catch_up()
            except ProjectionConflictError:
                self.projector = Projector(self.ledger)  # another projector ran: next time

    def state(self, community: str) -> AbstractContextManager[CommunityState]:
        """The folded state, read while no writer changes it."""
        return _holding(self.ledger, community)

    def published(self, community: str) -> Published:
        self.ledger.community_info(community)  # 404 for an unknown community
        return published_checkpoint(self.ledger, community)

    def cached(self, key: tuple[Any, ...], make: Callable[[], T]) -> T:
        if key not in self._cache:
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = make()
        value: T = self._cache[key]
        return value

    def entry(self, community: str, index: int) -> Entry:
        return parse_logged_entry(self.ledger.entries(community, index, index + 1)[0])


def _holding(ledger: LedgerService, community: str) -> AbstractContextManager[CommunityState]:
    return ledger.reading(community)


def period_range(reads: Reads, community: str, period: str | None) -> tuple[int, int]:
    """``[start, end)`` of the log that ``period`` covers (see the module's docstring)."""
    with reads.state(community) as state:
        size = state.size
        if period is None:
            return 0, size
        if period == "current":
            return state.statements.period.start, size
        record = state.statements.published.get(period)
    if record is None:
        raise NotFoundError(
            f"no statement for {period} in community {community}",
            f"小区 {community} 尚无 {period} 的报表",
        )
    return int(reads.entry(community, record.index).body["start"]), record.end


def short_cache(response: Response) -> None:
    response.headers["Cache-Control"] = SHORT


def register(app: FastAPI, ledger: LedgerService, settings: Settings) -> None:
    """Add the read routes; catch the projections up once now, and before each read of them."""
    reads = Reads(ledger)
    reads.catch_up()
    app.state.reads = reads
    _community_routes(app, reads)
    _money_routes(app, reads)
    _governance_routes(app, reads)
    from api import http_statements  # it builds on this module's ``Reads``

    http_statements.register(app, reads)


def _community_routes(app: FastAPI, reads: Reads) -> None:
    ledger = reads.ledger

    @app.get("/api/communities", response_model=m.Communities, tags=["communities"])
    @app.get("/", response_model=m.Communities, tags=["communities"])
    def communities(response: Response) -> m.Communities:
        """The communities on this server and where their logs are. 本站的小区。

        ``/`` answers the same JSON unless the client asks for HTML (the pages)."""
        short_cache(response)
        listed = []
        for c in ledger.communities():
            with reads.state(c) as state:
                name = state.name
            links = {"info": f"/c/{c}/info", "log": f"/c/{c}/log/", "entries": f"/c/{c}/entries"}
            listed.append(m.CommunityLink(community=c, name=name, **links))
        return m.Communities(service="glasspocket", communities=listed)

    @app.get("/c/{community}/info", response_model=m.CommunityInfo, tags=["communities"])
    def info(community: str, response: Response) -> m.CommunityInfo:
        """Name, log origin, trust policy, size and published checkpoint. 小区概况。"""
        short_cache(response)
        row = ledger.community_info(community)
        with reads.state(community) as state:
            name, size = state.name, state.size
        try:
            verified = reads.published(community).verified
            checkpoint = m.CheckpointInfo(
                size=verified.size,
                root=base64.b64encode(verified.root).decode("ascii"),
                text=verified.note_text,
            )
        except NotFoundError:
            checkpoint = None
        base = f"/c/{community}"
        links = {
            what: f"{base}/{what}"
            for what in ("funds", "flows", "proposals", "statements", "notices", "objections")
        }
        return m.CommunityInfo(
            community=community,
            name=name,
            origin=row["origin"],
            policy=row["policy"],
            size=size,
            checkpoint=checkpoint,
            links={"log": f"{base}/log/", "entries": f"{base}/entries", **links},
        )


def _money_routes(app: FastAPI, reads: Reads) -> None:
    engine = reads.ledger.engine

    @app.get("/c/{community}/funds", response_model=m.Funds, tags=["money"])
    def funds(community: str, response: Response, period: PeriodQuery = None) -> m.Funds:
        """Each fund's balance at the start and the end of a period (fen). 各项资金余额。"""
        short_cache(response)
        start, end = period_range(reads, community, period)
        reads.catch_up()
        return m.Funds(
            community=community,
            period=period,
            start=start,
            end=end,
            opening_fen=fund_balances(engine, community, start),
            closing_fen=fund_balances(engine, community, end),
        )

    @app.get("/c/{community}/flows", response_model=m.Flows, tags=["money"])
    def flows(community: str, response: Response, period: PeriodQuery = None) -> m.Flows:
        """Money in and out by fund and category over a period (fen). 收支明细。"""
        short_cache(response)
        start, end = period_range(reads, community, period)
        reads.catch_up()
        lines = [m.FlowLine(**asdict(t)) for t in flows_by_category(engine, community, start, end)]
        return m.Flows(
            community=community,
            period=period,
            start=start,
            end=end,
            flows=lines,
            in_fen=sum(line.amount_fen for line in lines if line.direction == "in"),
            out_fen=sum(line.amount_fen for line in lines if line.direction == "out"),
        )

    @app.get("/c/{community}/units/{unit}", response_model=m.UnitAccount, tags=["money"])
    def unit(
        community: str,
        unit: str,
        response: Response,
        until: Annotated[
            str | None,
            Query(pattern=MONTH, description="dues up to this month (default: this month)"),
        ] = None,
    ) -> m.UnitAccount:
        """A unit's dues and payments by month, maintenance sub-account, refunds. 房屋账户。"""
        short_cache(response)
        reads.ledger.community_info(community)
        month = until or shanghai_month(datetime.now(UTC))
        reads.catch_up()
        account = unit_account(engine, community, unit, month)
        return m.UnitAccount(
            community=community,
            **asdict(account),
            until=month,
            arrears_fen=account.arrears_fen,
            needs_top_up=account.needs_top_up(),
            receipts=f"/c/{community}/units/{unit}/receipts",
        )


def _governance_routes(app: FastAPI, reads: Reads) -> None:
    @app.get("/c/{community}/proposals", response_model=m.Proposals, tags=["governance"])
    def proposals(community: str, response: Response) -> m.Proposals:
        """Every proposal with budget, approvals, spending, stage and vote tally. 议题。"""
        short_cache(response)
        with reads.state(community) as state:
            return m.Proposals(community=community, proposals=all_proposals(state))

    @app.get(
        "/c/{community}/proposals/{proposal_id}", response_model=m.Proposal, tags=["governance"]
    )
    def proposal(community: str, proposal_id: str, response: Response) -> m.Proposal:
        """One proposal, its tally and its progress. 单个议题。"""
        short_cache(response)
        with reads.state(community) as state:
            found = state.gov.proposals.get(proposal_id)
            if found is None:
                raise NotFoundError(
                    f"no proposal {proposal_id} in {community}",
                    f"{community} 没有议题 {proposal_id}",
                )
            return m.Proposal(community=community, proposal=proposal_figures(state, found))

    @app.get("/c/{community}/notices", response_model=m.Notices, tags=["governance"])
    def notices_(community: str, response: Response) -> m.Notices:
        """Bank differences, units due a top-up, open objections. 提示事项。"""
        short_cache(response)
        with reads.state(community) as state:
            found = notices(state)
        items = [
            m.NoticeItem(code=n.code, where=n.where, message_zh=n.zh, message_en=n.en)
            for n in found
        ]
        return m.Notices(community=community, notices=items)

    @app.get("/c/{community}/objections", response_model=m.Objections, tags=["governance"])
    def objections(community: str, response: Response) -> m.Objections:
        """Owners' objections in log order, with their answers. 居民异议及答复。"""
        short_cache(response)
        with reads.state(community) as state:
            raised = sorted(state.gov.objections.items(), key=lambda item: item[1].index)
        return m.Objections(
            community=community,
            objections=[
                _objection(reads, community, oid, o.index, o.answered_at) for oid, o in raised
            ],
        )


def _objection(
    reads: Reads, community: str, oid: str, index: int, answered_at: int | None
) -> m.Objection:
    entry = reads.entry(community, index)
    answer = None
    if answered_at is not None:
        reply = reads.entry(community, answered_at)
        answer = m.Answer(
            index=answered_at,
            id=reply.id,
            at=reply.at,
            outcome=reply.body["outcome"],
            text=reply.body["text"],
            correction_id=reply.body.get("correction_id"),
        )
    return m.Objection(
        id=oid,
        index=index,
        at=entry.at,
        target_id=entry.body["target_id"],
        text=entry.body["text"],
        open=answered_at is None,
        answer=answer,
    )
