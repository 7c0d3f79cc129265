"""The community's folded state: what the rules need to judge the next entry.

It is plain data. ``ledger.core.rules`` is the only code that changes it, and
it changes it only after an entry has passed every check.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from ledger.core.compact import CodedStrings, EntryIndex
from ledger.core.effects import Books, EffectLog
from ledger.core.governance_state import Governance
from ledger.core.keys import VerifierKey
from ledger.core.statement_state import StatementBook

_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def id_key(entry_id: str) -> int:
    """``uuid.UUID(entry_id).int``: the key of an entry id, quickly for the spelling entries use."""
    if _CANONICAL_UUID.fullmatch(entry_id):
        return int(entry_id.replace("-", ""), 16)
    return uuid.UUID(entry_id).int


@dataclass
class KeyRecord:
    """A key registered in the log: its role, when it entered, and when it was revoked."""

    vkey: VerifierKey
    role: str
    registered_at: int
    owner: str | None = None
    revoked_at: int | None = None
    effective_at: int | None = 0  # None while it waits for the committee's approvals

    @property
    def live(self) -> bool:
        return self.revoked_at is None

    def valid_at(self, index: int) -> bool:
        """May this key sign the entry at ``index``? In effect before it, not revoked before it."""
        if self.effective_at is None:
            return False
        in_effect = self.effective_at < index or self.effective_at == index == 0
        return in_effect and (self.revoked_at is None or index <= self.revoked_at)


@dataclass(frozen=True)
class Unit:
    code: str
    building: str
    area_cm2: int
    owner: str


@dataclass(frozen=True)
class BankAssertion:
    """What a bank statement said a fund held, and how far the books differ from it."""

    index: int
    as_of: str
    balance_fen: int
    books_fen: int

    @property
    def difference_fen(self) -> int:
        return self.balance_fen - self.books_fen


@dataclass
class CommunityState:
    """Everything the rules know after folding ``size`` entries."""

    community: str = ""
    name: str = ""
    origin: str = ""
    size: int = 0
    keys: dict[str, KeyRecord] = field(default_factory=dict)
    units: dict[str, Unit] = field(default_factory=dict)
    entry_index: EntryIndex = field(default_factory=EntryIndex)  # uuid int of an id -> index
    books: Books = field(default_factory=Books)
    effects: EffectLog = field(default_factory=EffectLog)  # money entry index -> effect (packed)
    money_types: CodedStrings = field(default_factory=CodedStrings)  # money entry index -> type
    reversed: set[int] = field(default_factory=set)  # indices of reversed money entries
    fee_schedules: list[tuple[str, int]] = field(default_factory=list)  # (from month, fen/m²)
    trustee_contract: dict[str, Any] | None = None  # the latest contract set
    trustee_contracts: list[dict[str, Any]] = field(default_factory=list)  # by from_month
    bank: dict[str, BankAssertion] = field(default_factory=dict)  # fund -> latest assertion
    gov: Governance = field(default_factory=Governance)
    key_history: list[int] = field(default_factory=list)  # entries that change who may sign
    statements: StatementBook = field(default_factory=StatementBook)  # period flows, tree

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickle, also a snapshot from before the per-entry facts were kept compact."""
        if isinstance(state.get("entry_index"), dict):
            state["entry_index"] = EntryIndex.from_mapping(state["entry_index"])
        if isinstance(state.get("effects"), dict):
            state["effects"] = EffectLog(state["effects"])
        if isinstance(state.get("money_types"), dict):
            state["money_types"] = CodedStrings(1, state["money_types"])
        self.__dict__.update(state)

    def index_of(self, entry_id: str) -> int | None:
        """The log index of the entry with this id, if it is in the log."""
        return self.entry_index.get(id_key(entry_id))

    def live_keys(self, role: str | None = None) -> list[KeyRecord]:
        return [k for k in self.keys.values() if k.live and (role is None or k.role == role)]

    def committee_quorum(self) -> int:
        """k of the committee: the charter's number, else a majority of the live committee keys."""
        configured = self.gov.charter.committee_quorum
        return configured if configured is not None else len(self.live_keys("committee")) // 2 + 1

    @property
    def funds(self) -> dict[str, int]:
        return self.books.funds

    def balance(self, fund: str) -> int:
        return self.books.balance(fund)

    def contract_for(self, month: str) -> dict[str, Any] | None:
        """The trustee contract covering ``month``: the latest set whose from_month ≤ month."""
        covering = [c for c in self.trustee_contracts if c["from_month"] <= month]
        return covering[-1] if covering else None

    def fee_rate(self, month: str) -> int | None:
        """The property fee rate (fen per m² per month) in force for ``month``, if any."""
        rates = [rate for start, rate in self.fee_schedules if start <= month]
        return rates[-1] if rates else None
