"""Compact maps keyed by log index or entry id, so the folded state of a long log stays small.

The folded state keeps a few facts per entry for the rest of the log (a reversal may
cite any earlier entry): its id, a money entry's type and effect, the month a fee pays
for. In plain dicts those cost 100 bytes and more per entry; a 1M-entry audit must fit
in 500 MB. These keep them in flat bytes instead:

- ``EntryIndex``: entry id (``uuid.UUID(id).int``) -> log index; 16 bytes per entry for
  the id and an open-addressing table of 4-byte slots;
- ``CodedStrings``: log index -> one of a few strings (a type, a month), a 1- or 2-byte
  code per index into a table of the strings;
- ``PackedBytes``: log index -> a short ``bytes`` value, kept end to end in one buffer.

Each pickles as plain bytes (little-endian), which a snapshot's restricted unpickler allows.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterator, Mapping
from typing import Any

ID_SIZE = 16  # a UUID's bytes


def _array(typecode: str, data: bytes = b"") -> array[int]:
    """An array from little-endian bytes (what ``_bytes`` wrote)."""
    out = array(typecode)
    out.frombytes(data)
    if sys.byteorder == "big":
        out.byteswap()
    return out


def _bytes(values: array[int]) -> bytes:
    """An array's items as little-endian bytes (the same on every machine)."""
    if sys.byteorder == "big":
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def _uint32() -> str:
    return "I" if array("I").itemsize == 4 else "L"


class EntryIndex:
    """Entry id -> log index: the ids end to end by index, and a hash table of index + 1.

    ``get(key)``/``key in``/``index[key] = i`` like a ``dict[int, int]`` whose keys are
    ``uuid.UUID(id).int``, where each log index holds one id (the entry's at that index);
    about 30 bytes per entry instead of about 120.
    """

    def __init__(self) -> None:
        self._ids = bytearray()  # ID_SIZE bytes per log index (zeros where no entry was added)
        self._table = array(_uint32(), bytes(4 * 16))  # log index + 1 per slot; 0: empty
        self._count = 0

    def _find(self, key: bytes, digest: int) -> tuple[int, int]:
        """(slot, index + 1) of ``key``, or (the empty slot where it would go, 0)."""
        table, ids = self._table, self._ids
        mask = len(table) - 1
        slot = digest & mask
        while True:
            found = table[slot]
            if not found:
                return slot, 0
            at = (found - 1) * ID_SIZE
            if ids[at : at + ID_SIZE] == key:
                return slot, found
            slot = (slot + 1) & mask

    def get(self, key: int, default: int | None = None) -> int | None:
        try:
            raw = key.to_bytes(ID_SIZE, "big")
        except (OverflowError, AttributeError):  # not an id's key: negative, too large, not int
            return default
        found = self._find(raw, hash(key))[1]
        return found - 1 if found else default

    def __contains__(self, key: object) -> bool:
        return isinstance(key, int) and self.get(key) is not None

    def __getitem__(self, key: int) -> int:
        index = self.get(key)
        if index is None:
            raise KeyError(key)
        return index

    def __setitem__(self, key: int, index: int) -> None:
        try:
            raw = key.to_bytes(ID_SIZE, "big")
        except OverflowError:
            raise KeyError(key) from None
        if index < 0:
            raise KeyError(index)
        slot, found = self._find(raw, hash(key))
        ids, at = self._ids, index * ID_SIZE
        if at == len(ids):  # the next index: the usual case
            ids += raw
        else:
            if at > len(ids):
                ids.extend(bytes(at - len(ids)))
            ids[at : at + ID_SIZE] = raw
        self._table[slot] = index + 1
        if not found:
            self._count += 1
            if self._count * 2 > len(self._table):
                self._grow()

    def _grow(self) -> None:
        """Four times the slots, every entry placed again (load stays at most one half)."""
        ids = self._ids
        old = self._table
        self._table = array(old.typecode, bytes(old.itemsize * len(old) * 4))
        table, mask = self._table, len(self._table) - 1
        for found in old:
            if found:
                at = (found - 1) * ID_SIZE
                slot = hash(int.from_bytes(ids[at : at + ID_SIZE], "big")) & mask
                while table[slot]:
                    slot = (slot + 1) & mask
                table[slot] = found

    def __len__(self) -> int:
        return self._count

    def items(self) -> Iterator[tuple[int, int]]:
        ids = self._ids
        for found in self._table:
            if found:
                at = (found - 1) * ID_SIZE
                yield int.from_bytes(ids[at : at + ID_SIZE], "big"), found - 1

    def __eq__(self, other: object) -> bool:
        if isinstance(other, EntryIndex):
            return dict(self.items()) == dict(other.items())
        if isinstance(other, Mapping):
            return dict(self.items()) == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"EntryIndex({len(self)} ids)"

    @classmethod
    def from_mapping(cls, index: Mapping[int, int]) -> EntryIndex:
        out = cls()
        for key, position in sorted(index.items(), key=lambda item: item[1]):
            out[key] = position
        return out

    def __getstate__(self) -> dict[str, Any]:
        return {"ids": bytes(self._ids), "table": _bytes(self._table), "count": self._count}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._ids = bytearray(state["ids"])
        self._table = _array(_uint32(), state["table"])
        self._count = state["count"]


class CodedStrings(Mapping[int, str]):
    """Log index -> one of a few strings, as a ``width``-byte code per index (0: none)."""

    def __init__(self, width: int = 1, items: Mapping[int, str] | None = None) -> None:
        self._width = width
        self._codes = array("B" if width == 1 else "H")
        self._names: list[str] = [""]  # code 0: nothing at that index
        self._lookup: dict[str, int] = {}
        self._count = 0
        for index, name in sorted((items or {}).items()):
            self[index] = name

    def __setitem__(self, index: int, name: str) -> None:
        if index < 0:
            raise KeyError(index)
        code = self._lookup.get(name)
        if code is None:
            if len(self._names) >= 1 << (8 * self._width):
                raise ValueError(f"more than {len(self._names) - 1} distinct values")
            code = self._lookup[name] = len(self._names)
            self._names.append(name)
        codes = self._codes
        if index == len(codes):  # the next index: the usual case
            codes.append(code)
            self._count += 1
            return
        if index > len(codes):
            codes.frombytes(bytes(codes.itemsize * (index + 1 - len(codes))))
        if not codes[index]:
            self._count += 1
        codes[index] = code

    def __getitem__(self, index: int) -> str:
        codes = self._codes
        code = codes[index] if type(index) is int and 0 <= index < len(codes) else 0
        if not code:
            raise KeyError(index)
        return self._names[code]

    def __contains__(self, index: object) -> bool:
        codes = self._codes
        return type(index) is int and 0 <= index < len(codes) and codes[index] != 0

    def __iter__(self) -> Iterator[int]:
        return (index for index, code in enumerate(self._codes) if code)

    def __len__(self) -> int:
        return self._count

    def __repr__(self) -> str:
        return f"CodedStrings({dict(self.items())!r})"

    def __getstate__(self) -> dict[str, Any]:
        return {
            "width": self._width,
            "codes": _bytes(self._codes),
            "names": self._names[1:],
            "count": self._count,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._width = state["width"]
        self._codes = _array("B" if self._width == 1 else "H", state["codes"])
        self._names = ["", *state["names"]]
        self._lookup = {name: code for code, name in enumerate(self._names) if code}
        self._count = state["count"]


class PackedBytes(Mapping[int, bytes]):
    """Log index -> a non-empty ``bytes`` value, every value end to end in one buffer."""

    def __init__(self) -> None:
        self._data = bytearray()
        self._ends = array("Q")  # end offset in _data of the value at each index
        self._count = 0

    def __setitem__(self, index: int, value: bytes) -> None:
        """Add the value of ``index``, after every index that has one (the log only grows)."""
        ends = self._ends
        if index < len(ends) or not value:
            raise KeyError(f"index {index} is not after the last one, or the value is empty")
        end = ends[-1] if ends else 0
        ends.extend([end] * (index - len(ends)))
        self._data += value
        ends.append(end + len(value))
        self._count += 1

    def __getitem__(self, index: int) -> bytes:
        ends = self._ends
        if type(index) is not int or not 0 <= index < len(ends):
            raise KeyError(index)
        start, end = ends[index - 1] if index else 0, ends[index]
        if start == end:
            raise KeyError(index)
        return bytes(self._data[start:end])

    def __contains__(self, index: object) -> bool:
        ends = self._ends
        if type(index) is not int or not 0 <= index < len(ends):
            return False
        return ends[index] != (ends[index - 1] if index else 0)

    def __iter__(self) -> Iterator[int]:
        start = 0
        for index, end in enumerate(self._ends):
            if end != start:
                yield index
            start = end

    def __len__(self) -> int:
        return self._count

    def __getstate__(self) -> dict[str, Any]:
        return {"data": bytes(self._data), "ends": _bytes(self._ends), "count": self._count}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._data = bytearray(state["data"])
        self._ends = _array("Q", state["ends"])
        self._count = state["count"]
