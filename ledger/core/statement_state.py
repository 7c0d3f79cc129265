"""The statement part of the folded state: what a quarterly statement needs, kept as the log folds.

Plain data, changed only by ``ledger.core.statement_rules`` (called from ``ledger.core.rules``):
- ``CompactRange``: the RFC 6962 compact range of every leaf so far, O(log n) hashes, so a
  rule can check a statement's ``covered_root`` without the tree;
- ``PeriodFlows``: the current period's inflows and outflows by fund and category, donations
  by purpose, votes closed and proposals touched; reset when a statement is published, so a
  replay computes every figure in one pass;
- ``StatementBook``: the statements published so far and their committee approvals.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ledger.core.compact import CodedStrings
from ledger.core.merkle import node_hash

EMPTY_ROOT = hashlib.sha256(b"").digest()


@dataclass
class CompactRange:
    """The perfect subtrees covering leaves [0, size), largest first, as (level, hash)."""

    nodes: list[tuple[int, bytes]] = field(default_factory=list)

    def append(self, leaf: bytes) -> None:
        level, node = 0, leaf
        while self.nodes and self.nodes[-1][0] == level:
            _, left = self.nodes.pop()
            node = node_hash(left, node)
            level += 1
        self.nodes.append((level, node))

    def root(self) -> bytes:
        """The RFC 6962 root of the leaves appended so far."""
        if not self.nodes:
            return EMPTY_ROOT
        acc = self.nodes[-1][1]
        for _, left in reversed(self.nodes[:-1]):
            acc = node_hash(left, acc)
        return acc


@dataclass
class PeriodFlows:
    """Money and decisions since the last statement (the log from index ``start`` on)."""

    start: int = 0
    opening: dict[str, int] = field(default_factory=dict)  # fund -> balance at ``start``
    inflows: dict[str, dict[str, int]] = field(default_factory=dict)  # fund -> category -> fen
    outflows: dict[str, dict[str, int]] = field(default_factory=dict)
    donations: dict[str, int] = field(default_factory=dict)  # purpose ("" unrestricted) -> fen
    votes_closed: list[str] = field(default_factory=list)  # proposal ids, in log order
    proposals: list[str] = field(default_factory=list)  # proposal ids touched, first touch order


@dataclass
class StatementRecord:
    index: int
    id: str
    period: str
    end: int
    approvals: set[str] = field(default_factory=set)  # committee key names


@dataclass
class StatementBook:
    period: PeriodFlows = field(default_factory=PeriodFlows)
    published: dict[str, StatementRecord] = field(default_factory=dict)  # by period
    by_id: dict[str, str] = field(default_factory=dict)  # statement entry id -> period
    last_period: str | None = None
    fees_by_month: dict[str, int] = field(default_factory=dict)  # property fees by month paid for
    fee_month_at: CodedStrings = field(default_factory=lambda: CodedStrings(2))  # index -> month
    merkle: CompactRange = field(default_factory=CompactRange)

    def __setstate__(self, state: dict[str, object]) -> None:
        """Unpickle, also a snapshot from before ``fee_month_at`` was kept compact."""
        months = state.get("fee_month_at")
        if isinstance(months, dict):
            state["fee_month_at"] = CodedStrings(2, months)
        self.__dict__.update(state)
