"""What a money entry does to the books, as data: an ``Effect`` of signed fen deltas.

Every money entry's rule computes its effect from the state before it (a pure
function), the same checks judge every effect (no fund and no restricted purpose
below zero), and a reversal applies the exact negation of the effect it cites.
Projections and statements read the same effects, so a figure is computed once.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields

from ledger.core.errors import InsufficientFundsError
from ledger.core.money import yuan


def _negate(deltas: Mapping[str, int]) -> dict[str, int]:
    return {key: -value for key, value in deltas.items()}


class _NoDeltas(Mapping[str, int]):
    """The one empty, read-only mapping every ``Effect`` shares for the deltas it lacks.

    The state keeps an effect per money entry; sharing this instead of eight empty
    dicts per effect halves the state's memory (a 1M-entry audit must stay small).
    It equals ``{}`` and pickles as a reference to ``NO_DELTAS``.
    """

    def __getitem__(self, key: str) -> int:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "{}"

    def __reduce__(self) -> str:
        return "NO_DELTAS"


NO_DELTAS: Mapping[str, int] = _NoDeltas()


@dataclass(frozen=True)
class Effect:
    """Signed fen deltas, each keyed by what it changes."""

    funds: Mapping[str, int] = NO_DELTAS  # fund -> delta
    subaccounts: Mapping[str, int] = NO_DELTAS  # unit -> maintenance delta
    purposes: Mapping[str, int] = NO_DELTAS  # restricted purpose -> delta
    first_deposits: Mapping[str, int] = NO_DELTAS  # unit -> initial deposit
    property_paid: Mapping[str, int] = NO_DELTAS  # unit -> fees received
    fee_income: Mapping[str, int] = NO_DELTAS  # Shanghai month -> fees received
    remuneration: Mapping[str, int] = NO_DELTAS  # month -> remuneration paid
    refunds: Mapping[str, int] = NO_DELTAS  # unit -> surplus refunded
    spent: Mapping[str, int] = NO_DELTAS  # proposal id -> spent under it

    def negated(self) -> Effect:
        return Effect(**{f.name: _negate(getattr(self, f.name)) for f in fields(self)})


def _add(target: dict[str, int], deltas: Mapping[str, int]) -> None:
    for key, delta in deltas.items():
        value = target.get(key, 0) + delta
        if value:
            target[key] = value
        else:
            target.pop(key, None)


@dataclass
class Books:
    """The money part of the folded state: balances that effects move (zero entries dropped)."""

    funds: dict[str, int] = field(default_factory=dict)
    subaccounts: dict[str, int] = field(default_factory=dict)
    purposes: dict[str, int] = field(default_factory=dict)
    first_deposits: dict[str, int] = field(default_factory=dict)
    property_paid: dict[str, int] = field(default_factory=dict)
    fee_income: dict[str, int] = field(default_factory=dict)
    remuneration: dict[str, int] = field(default_factory=dict)
    refunds: dict[str, int] = field(default_factory=dict)
    spent: dict[str, int] = field(default_factory=dict)

    def balance(self, fund: str) -> int:
        return self.funds.get(fund, 0)

    def unrestricted_community(self) -> int:
        """The community fund less what restricted purposes hold."""
        return self.balance("community") - sum(self.purposes.values())

    def check(self, effect: Effect, entry_id: str) -> None:
        """Refuse an effect that would take a fund or a restricted purpose below zero."""
        for fund, delta in effect.funds.items():
            after = self.balance(fund) + delta
            if after < 0:
                raise InsufficientFundsError(
                    f"entry {entry_id}: fund {fund} holds {yuan(self.balance(fund))} yuan; "
                    f"this would take it to {yuan(after)}",
                    f"条目 {entry_id}：{fund} 基金余额 {yuan(self.balance(fund))} 元，"
                    f"此笔将使其变为 {yuan(after)} 元",
                    entry_id=entry_id,
                )
        if "community" in effect.funds:
            restricted = sum(self.purposes.values()) + sum(effect.purposes.values())
            unrestricted = self.balance("community") + effect.funds["community"] - restricted
            if unrestricted < 0:
                raise InsufficientFundsError(
                    f"entry {entry_id}: the community fund's unrestricted money would go below "
                    f"zero ({yuan(unrestricted)} yuan); restricted donations keep their purpose",
                    f"条目 {entry_id}：社区基金中的非定向资金将低于零（{yuan(unrestricted)} 元）；"
                    "定向捐赠只能用于其指定用途",
                    entry_id=entry_id,
                )
        for purpose, delta in effect.purposes.items():
            after = self.purposes.get(purpose, 0) + delta
            if after < 0:
                raise InsufficientFundsError(
                    f"entry {entry_id}: restricted purpose {purpose!r} would go below zero "
                    f"({yuan(after)} yuan)",
                    f"条目 {entry_id}：专项用途 {purpose!r} 余额将低于零（{yuan(after)} 元）",
                    entry_id=entry_id,
                )

    def apply(self, effect: Effect) -> None:
        for f in fields(effect):
            _add(getattr(self, f.name), getattr(effect, f.name))
