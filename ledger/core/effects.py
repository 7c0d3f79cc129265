"""What a money entry does to the books, as data: an ``Effect`` of signed fen deltas.

Every money entry's rule computes its effect from the state before it (a pure
function), the same checks judge every effect (no fund and no restricted purpose
below zero), and a reversal applies the exact negation of the effect it cites.
Projections and statements read the same effects, so a figure is computed once.
"""

from __future__ import annotations

import marshal
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from ledger.core.compact import PackedBytes
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

    def changes(self) -> Iterator[tuple[str, Mapping[str, int]]]:
        """(field name, deltas) for each field that changes something."""
        for name in EFFECT_FIELDS:
            deltas = self.__dict__[name]
            if deltas is not NO_DELTAS and deltas:
                yield name, deltas


EFFECT_FIELDS = tuple(f.name for f in fields(Effect))


def pack_effect(effect: Effect) -> bytes:
    """An effect as compact bytes: per changed field, its number then its keys and deltas.

    The folded state keeps one effect per money entry (a reversal applies the exact
    negation of the one it cites), so it keeps them packed: about 40 bytes each
    instead of an object and a dict per field. ``unpack_effect`` gives back an equal
    ``Effect``, keys in the same order.
    """
    packed = []
    for number, name in enumerate(EFFECT_FIELDS):
        deltas = effect.__dict__[name]
        if deltas is not NO_DELTAS and deltas:
            flat: list[Any] = [number]
            for key, delta in deltas.items():
                flat += (key, delta)
            packed.append(tuple(flat))
    return marshal.dumps(tuple(packed))


def unpack_effect(data: bytes) -> Effect:
    """The ``Effect`` that ``pack_effect`` packed (ValueError for anything else)."""
    try:
        packed = marshal.loads(data)
    except (EOFError, TypeError) as exc:
        raise ValueError(f"not a packed effect: {exc}") from None
    changes: dict[str, dict[str, int]] = {}
    for flat in packed if isinstance(packed, tuple) else [None]:
        if not isinstance(flat, tuple) or len(flat) % 2 != 1:
            raise ValueError("not a packed effect")
        number, items = flat[0], flat[1:]
        if type(number) is not int or not 0 <= number < len(EFFECT_FIELDS):
            raise ValueError("not a packed effect")
        keys, deltas = items[0::2], items[1::2]
        if not all(type(k) is str for k in keys) or not all(type(d) is int for d in deltas):
            raise ValueError("not a packed effect")
        changes[EFFECT_FIELDS[number]] = dict(zip(keys, deltas, strict=True))
    return Effect(**changes)


class EffectLog(Mapping[int, Effect]):
    """Money entry index -> its ``Effect``, kept packed (``pack_effect``) end to end.

    ``log[index] = effect`` adds the effect of the entry at ``index``, after every index
    that has one (the log grows). Reading the effect just added gives that same object
    (what a reader right after the fold wants); any other read unpacks an equal one.
    """

    def __init__(self, effects: Mapping[int, Effect] | None = None) -> None:
        self._packed = PackedBytes()
        self._last: tuple[int, Effect] | None = None
        for index, effect in sorted((effects or {}).items()):
            self[index] = effect

    def __setitem__(self, index: int, effect: Effect) -> None:
        self._packed[index] = pack_effect(effect)
        self._last = (index, effect)

    def __getitem__(self, index: int) -> Effect:
        last = self._last
        if last is not None and last[0] == index and type(index) is int:
            return last[1]
        return unpack_effect(self._packed[index])

    def __getstate__(self) -> dict[str, Any]:
        return {"_packed": self._packed}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._packed = state["_packed"]
        self._last = None

    def __contains__(self, index: object) -> bool:
        return index in self._packed

    def __iter__(self) -> Iterator[int]:
        return iter(self._packed)

    def __len__(self) -> int:
        return len(self._packed)

    def __repr__(self) -> str:
        return f"EffectLog({dict(self.items())!r})"


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
        for name, deltas in effect.changes():
            _add(self.__dict__[name], deltas)
