"""The right edge of a community's Merkle tree, for signing a checkpoint with its entries.

A tree of ``size`` leaves (RFC 6962) is the perfect subtrees of the binary digits of
``size``, largest first; their hashes (the "frontier", or compact range [0, size))
give the root with one hash per digit, and appending a leaf merges at most as many.
The write path keeps one per community, so a batch's checkpoint is signed from the
leaves being stored, inside the batch's own transaction, without reading the tree
back. It starts from the stored hashes (``from_hashes``) and, whenever the log was
appended elsewhere, is built again from them.
"""

from __future__ import annotations

from collections.abc import Iterable

from ledger.core.merkle import EMPTY_ROOT, HashReader, node_hash


class Frontier:
    """Hashes of the perfect subtrees making up [0, size), largest first, with their levels."""

    def __init__(self, size: int = 0, subtrees: Iterable[tuple[int, bytes]] = ()) -> None:
        self.size = size
        self._subtrees = list(subtrees)

    @classmethod
    def from_hashes(cls, size: int, reader: HashReader) -> Frontier:
        """The frontier of the stored tree of ``size`` leaves (one hash per binary digit)."""
        subtrees: list[tuple[int, bytes]] = []
        start = 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                subtrees.append((level, reader.hash_at(level, start >> level)))
                start += 1 << level
        return cls(size, subtrees)

    def copy(self) -> Frontier:
        return Frontier(self.size, self._subtrees)

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash on the right."""
        level, current = 0, leaf
        while self._subtrees and self._subtrees[-1][0] == level:
            current = node_hash(self._subtrees.pop()[1], current)
            level += 1
        self._subtrees.append((level, current))
        self.size += 1

    def root(self) -> bytes:
        """MTH(D[0:size])."""
        if not self._subtrees:
            return EMPTY_ROOT
        root = self._subtrees[-1][1]
        for _, left in reversed(self._subtrees[:-1]):
            root = node_hash(left, root)
        return root
