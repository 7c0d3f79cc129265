"""The community's folded state: what the rules need to judge the next entry.

It is plain data. ``ledger.core.rules`` is the only code that changes it, and
it changes it only after an entry has passed every check.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from ledger.core.keys import VerifierKey


@dataclass
class KeyRecord:
    """A key registered in the log: its role, when it entered, and when it was revoked."""

    vkey: VerifierKey
    role: str
    registered_at: int
    owner: str | None = None
    revoked_at: int | None = None

    @property
    def live(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class Unit:
    code: str
    building: str
    area_cm2: int
    owner: str


@dataclass
class CommunityState:
    """Everything the rules know after folding ``size`` entries."""

    community: str = ""
    name: str = ""
    origin: str = ""
    size: int = 0
    keys: dict[str, KeyRecord] = field(default_factory=dict)
    units: dict[str, Unit] = field(default_factory=dict)
    entry_index: dict[int, int] = field(default_factory=dict)
    funds: dict[str, int] = field(default_factory=dict)
    maintenance_accounts: dict[str, int] = field(default_factory=dict)
    first_deposits: dict[str, int] = field(default_factory=dict)
    property_paid: dict[str, int] = field(default_factory=dict)

    def index_of(self, entry_id: str) -> int | None:
        """The log index of the entry with this id, if it is in the log."""
        return self.entry_index.get(uuid.UUID(entry_id).int)

    def live_keys(self, role: str | None = None) -> list[KeyRecord]:
        return [k for k in self.keys.values() if k.live and (role is None or k.role == role)]

    def balance(self, fund: str) -> int:
        return self.funds.get(fund, 0)
