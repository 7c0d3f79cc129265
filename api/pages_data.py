"""What the residents' pages read, computed once per community and log size.

``Site.snapshot(community)`` catches the projections up with the log, then returns a
``Snapshot``: the folded state, the published checkpoint, the quarters the published
statements cover, and lazily (each once per snapshot) the flows by quarter, fund balances
at each quarter's end, the proposals (``projections.proposals.all_proposals``), the
objections and statements with their texts, and each statement bundle's light
verification by the Python verifier (``verify.statement``). A snapshot is replaced when
the log grows or a newer checkpoint meets the policy, so figures are never stale.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from sqlalchemy import select

from ledger.core.entry import Entry, parse_logged_entry
from ledger.core.errors import LedgerError, NotFoundError
from ledger.core.money import shanghai_month
from ledger.core.state import CommunityState
from ledger.core.statement_rules import approved
from ledger.store.bundles import bundle_text, statement_bundle
from ledger.store.publish import Published, published_checkpoint
from ledger.store.service import LedgerService
from projections import tables
from projections.proposals import all_proposals
from projections.queries import FlowTotal, flows_by_category, fund_balances, projected_size
from projections.runner import Projector
from projections.store import ProjectionConflictError
from verify.statement import verify_statement


@dataclass(frozen=True)
class Quarter:
    """A range of the log: a published statement's, or ``period=None`` for the rest so far."""

    period: str | None
    start: int
    end: int


@dataclass(frozen=True)
class StatementView:
    period: str
    index: int
    start: int
    end: int
    at: str
    figures: dict[str, Any]
    approvals: int
    approved: bool
    witnessed: bool  # inside the published checkpoint


@dataclass(frozen=True)
class ObjectionView:
    id: str
    index: int
    at: str
    text: str
    target_id: str
    target_index: int | None
    target_type: str | None
    answer: dict[str, Any] | None  # outcome, text, at, correction_id, index


@dataclass(frozen=True)
class FlowLine:
    """One row of ``gpv_flows``: money that moved through a fund in one entry."""

    idx: int
    at: str
    direction: str
    category: str
    detail: str | None
    amount_fen: int
    entry_id: str
    reverses: str | None


class Snapshot:
    """The figures of one community at one log size (read-only; safe to share)."""

    def __init__(self, ledger: LedgerService, community: str, published: Published | None) -> None:
        self.ledger = ledger
        self.community = community
        self.state: CommunityState = ledger.state(community)
        self.size = self.state.size
        self.published = published
        self._lock = threading.Lock()

    @property
    def engine(self) -> Any:
        return self.ledger.engine

    def entry(self, index: int) -> Entry:
        return parse_logged_entry(self.ledger.entries(self.community, index, index + 1)[0])

    @cached_property
    def quarters(self) -> list[Quarter]:
        """The published statements' ranges in order, then what was recorded since."""
        out: list[Quarter] = []
        start = 0
        for record in sorted(self.state.statements.published.values(), key=lambda r: r.period):
            out.append(Quarter(record.period, start, record.end))
            start = record.end
        tail = Quarter(None, start, self.size)
        if not out or flows_by_category(self.engine, self.community, start, self.size):
            out.append(tail)  # money recorded since the last statement
        return out

    @cached_property
    def flows(self) -> list[tuple[Quarter, list[FlowTotal]]]:
        return [
            (q, flows_by_category(self.engine, self.community, q.start, q.end))
            for q in self.quarters
        ]

    @cached_property
    def balances(self) -> list[tuple[Quarter | None, dict[str, int]]]:
        """Fund balances at the start (``None``) and at each quarter's end."""
        points: list[tuple[Quarter | None, dict[str, int]]] = [
            (None, fund_balances(self.engine, self.community, 0))
        ]
        for quarter in self.quarters:
            points.append((quarter, fund_balances(self.engine, self.community, quarter.end)))
        return points

    @cached_property
    def proposals(self) -> list[dict[str, Any]]:
        return all_proposals(self.state)

    @cached_property
    def statements(self) -> list[StatementView]:
        views = []
        checked = self.published.verified.size if self.published else 0
        for record in sorted(self.state.statements.published.values(), key=lambda r: r.period):
            entry = self.entry(record.index)
            views.append(
                StatementView(
                    period=record.period,
                    index=record.index,
                    start=int(entry.body["start"]),
                    end=record.end,
                    at=entry.at,
                    figures=entry.body["figures"],
                    approvals=len(record.approvals),
                    approved=approved(self.state, record.period),
                    witnessed=record.index < checked,
                )
            )
        return views

    @cached_property
    def objections(self) -> list[ObjectionView]:
        views = []
        for oid, objection in sorted(self.state.gov.objections.items(), key=lambda o: o[1].index):
            raised = self.entry(objection.index)
            target = self.state.index_of(objection.target_id)
            answer = None
            if objection.answered_at is not None:
                entry = self.entry(objection.answered_at)
                answer = {**entry.body, "at": entry.at, "index": objection.answered_at}
            views.append(
                ObjectionView(
                    id=oid,
                    index=objection.index,
                    at=raised.at,
                    text=str(raised.body.get("text", "")),
                    target_id=objection.target_id,
                    target_index=target,
                    target_type=None if target is None else self.entry(target).type,
                    answer=answer,
                )
            )
        return views

    @cached_property
    def entries(self) -> list[Entry]:
        """Every entry, parsed (for a proposal's history); built on first use."""
        return [
            parse_logged_entry(d) for d in self.ledger.iter_entries(self.community, 0, self.size)
        ]

    @cached_property
    def books_month(self) -> str:
        """The last whole month before the newest entry's (Asia/Shanghai): unit dues run to it.

        A month's fee is not owed before the month is over, and the books speak only up to
        their newest entry, so neither the server's clock nor a month in progress counts.
        """
        newest = self.entry(self.size - 1).at_datetime() if self.size else datetime.now(UTC)
        year, month = (int(part) for part in shanghai_month(newest).split("-"))
        return f"{year - 1}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"

    def memo(self, key: str, build: Callable[[], Any]) -> Any:
        """``build()`` once per snapshot (a page's view in one language, say)."""
        memos: dict[str, Any] = self.__dict__.setdefault("_memos", {})
        if key not in memos:
            memos[key] = build()
        return memos[key]

    def statement_ok(self, period: str) -> bool | None:
        """The Python verifier's light check of the bundle (None: no witnessed checkpoint yet)."""
        with self._lock:
            cache: dict[str, bool | None] = self.__dict__.setdefault("_checks", {})
            if period not in cache:
                cache[period] = self._check(period)
            return cache[period]

    def _check(self, period: str) -> bool | None:
        if self.published is None:
            return None
        try:
            text = bundle_text(statement_bundle(self.ledger, self.community, period))
        except LedgerError:
            return None
        return verify_statement(text, self.published.policy).ok

    def statement(self, period: str) -> StatementView:
        for view in self.statements:
            if view.period == period:
                return view
        raise NotFoundError(f"no statement for {period}", f"没有 {period} 的报表")

    def dates(self, indices: set[int]) -> dict[int, str]:
        """The ``at`` of money entries by index (from the flows table)."""
        f = tables.flows
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(f.c.idx, f.c.at).where(
                    f.c.community == self.community, f.c.idx.in_(sorted(indices))
                )
            ).all()
        return {int(idx): str(at) for idx, at in rows}

    def fund_lines(self, fund: str, limit: int = 30) -> list[FlowLine]:
        """The newest ``limit`` flows of ``fund``, newest first."""
        f = tables.flows
        columns = (f.c.idx, f.c.at, f.c.direction, f.c.category, f.c.detail, f.c.amount_fen)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*columns, f.c.entry_id, f.c.reverses)
                .where(f.c.community == self.community, f.c.fund == fund)
                .order_by(f.c.idx.desc(), f.c.seq)
                .limit(limit)
            ).all()
        return [FlowLine(int(r[0]), r[1], r[2], r[3], r[4], int(r[5]), r[6], r[7]) for r in rows]


class Site:
    """Snapshots per community, replaced when the log or its published checkpoint moves."""

    def __init__(self, ledger: LedgerService) -> None:
        self.ledger = ledger
        self.projector = Projector(ledger)
        self._lock = threading.Lock()
        self._snapshots: dict[str, tuple[tuple[int, int], Snapshot]] = {}

    def communities(self) -> list[tuple[str, str, int]]:
        """(community, name, size) of every community on the database."""
        out = []
        for community in self.ledger.communities():
            state = self.ledger.state(community)
            out.append((community, state.name, state.size))
        return out

    def snapshot(self, community: str) -> Snapshot:
        if community not in self.ledger.communities():
            raise NotFoundError(f"no community {community!r}", f"没有小区 {community!r}")
        size = self.ledger.size(community)
        published = self._published(community)
        key = (size, published.verified.size if published else 0)
        cached = self._snapshots.get(community)
        if cached is not None and cached[0] == key:
            return cached[1]
        with self._lock:
            self._catch_up(community, size)
            snapshot = Snapshot(self.ledger, community, published)
            self._snapshots[community] = (key, snapshot)
            return snapshot

    def _published(self, community: str) -> Published | None:
        try:
            return published_checkpoint(self.ledger, community)
        except NotFoundError:
            return None

    def _catch_up(self, community: str, size: int) -> None:
        for _ in range(3):
            if projected_size(self.ledger.engine, community) >= size:
                return
            try:
                self.projector.catch_up()
            except ProjectionConflictError:
                self.projector = Projector(self.ledger)  # another projector moved first
