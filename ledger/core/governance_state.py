"""The governance part of the folded state: the charter, proposals, votes, objections.

Plain data, changed only by ``ledger.core.governance_rules`` after an entry has passed
every check. Everything a vote needs (who may vote, with what area) is fixed in the
``Proposal`` when it is submitted.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ledger.core.votes import Tally

STAGES = ("contracted", "started", "completed", "accepted")


@dataclass(frozen=True)
class Charter:
    """The community's own numbers (*charter* in DOMAIN.md), with the defaults it names."""

    committee_quorum: int | None = None  # None: a majority of the live committee keys
    publicity_days: int = 7
    routine_limit_fen: int = (
        500_000  # property or revenue-cost spending up to this needs no proposal
    )
    committee_limit_fen: int = 5_000_000  # above routine, up to this: the committee approves
    top_up_ratio_percent: int = 30
    reserve_fen: int = 0

    def amended(self, changes: dict[str, Any]) -> Charter:
        known = {k: v for k, v in changes.items() if k in self.__dataclass_fields__}
        return replace(self, **known)


@dataclass
class Emergency:
    index: int
    cap_fen: int
    units: tuple[str, ...]


@dataclass
class Proposal:
    """A proposal (方案公开) and everything decided about it since."""

    index: int
    id: str
    author: str
    title: str
    matter: str
    needs: str  # committee | owners | emergency
    fund: str | None
    budget_fen: int | None
    units: tuple[str, ...]  # the units in scope, fixed at submission
    whole_estate: bool
    electorate: dict[str, int]  # owner reference -> area in scope (cm²), fixed at submission
    publicity_ends: str  # the first date (Asia/Shanghai) a vote or spending may happen
    approvals: set[str] = field(default_factory=set)  # committee key names
    ballots: dict[str, str] = field(default_factory=dict)  # owner reference -> choice
    tally: Tally | None = None
    emergency: Emergency | None = None
    stage: str | None = None
    reviewed: bool = False
    amended_at: int | None = None  # a charter vote: the charter.amended that enacted it (once)

    @property
    def closed(self) -> bool:
        return self.tally is not None


@dataclass
class Objection:
    index: int
    target_id: str
    answered_at: int | None = None


@dataclass
class Governance:
    charter: Charter = field(default_factory=Charter)
    proposals: dict[str, Proposal] = field(default_factory=dict)  # by proposal entry id
    objections: dict[str, Objection] = field(default_factory=dict)  # by objection entry id
    key_approvals: dict[str, set[str]] = field(default_factory=dict)  # key name -> approvers
    pending_keys: dict[str, str] = field(default_factory=dict)  # key.registered id -> key name
    emergencies: dict[str, str] = field(
        default_factory=dict
    )  # emergency.declared id -> proposal id

    def open_objections(self) -> list[tuple[str, Objection]]:
        return [(oid, o) for oid, o in self.objections.items() if o.answered_at is None]
