"""Tree hashes over what the store keeps: leaf hashes and full tiles.

A hash tile at tile level L holds the hashes of complete subtrees at tree level
8·L; element ``e`` of a level-L tile (L ≥ 1) is the root of full tile ``e`` of
level L−1. So the store keeps only leaves and full tiles, and derives partial
tiles and proof hashes from them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ledger.core.merkle import root_from_leaf_hashes

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT

ReadLeaves = Callable[[int, int], list[bytes]]  # (start, end) -> leaf hashes
ReadFullTiles = Callable[[int, int, int], list[bytes]]  # (level, start, end) -> tile data


def split_hashes(data: bytes) -> list[bytes]:
    return [data[i : i + 32] for i in range(0, len(data), 32)]


class StoredHashes:
    """Hashes of complete subtrees, read from stored leaves and full tiles (a ``HashReader``).

    ``roots`` is a cache of the roots of full tiles, (tile level, index) -> hash, that
    the caller may share between readers of one community: a full tile never changes,
    so a receipt or a checkpoint needs few reads once its neighbours were computed.
    """

    def __init__(
        self,
        read_leaves: ReadLeaves,
        read_full_tiles: ReadFullTiles,
        roots: dict[tuple[int, int], bytes] | None = None,
    ) -> None:
        self._read_leaves = read_leaves
        self._read_full_tiles = read_full_tiles
        self._roots = roots if roots is not None else {}
        self._leaf_tiles: dict[int, list[bytes]] = {}  # this reader's reads, by level-0 tile

    def elements(self, tile_level: int, start: int, end: int) -> list[bytes]:
        """Hashes at tree level 8·tile_level, indices [start, end): the contents of tiles."""
        if tile_level == 0:
            return self._leaves(start, end)
        known = [self._roots.get((tile_level - 1, i)) for i in range(start, end)]
        if all(root is not None for root in known):
            return [root for root in known if root is not None]
        if end > start and (end - 1) // TILE_WIDTH == start // TILE_WIDTH:
            # inside one tile of this level: if it is a stored full tile, these are its hashes
            index = start // TILE_WIDTH
            stored = self._read_full_tiles(tile_level, index, index + 1)
            if stored:
                offset = start - index * TILE_WIDTH
                return split_hashes(stored[0])[offset : offset + end - start]
        return self._tile_roots(tile_level - 1, start, end)

    def _leaves(self, start: int, end: int) -> list[bytes]:
        """Leaf hashes [start, end); one read per level-0 tile for the small ranges of proofs."""
        index = start // TILE_WIDTH
        if end <= start or (end - 1) // TILE_WIDTH != index:
            return self._read_leaves(start, end)
        base = index * TILE_WIDTH
        leaves = self._leaf_tiles.get(index)
        if leaves is None or len(leaves) < end - base:
            leaves = self._leaf_tiles[index] = self._read_leaves(base, base + TILE_WIDTH)
        return leaves[start - base : end - base]

    def _tile_roots(self, tile_level: int, start: int, end: int) -> list[bytes]:
        """Roots of the full tiles ``start``..``end``-1 of ``tile_level`` (cached)."""
        found = {i: self._roots.get((tile_level, i)) for i in range(start, end)}
        missing = [i for i, root in found.items() if root is None]
        if missing:
            lo, hi = missing[0], missing[-1] + 1
            tiles = self._read_full_tiles(tile_level, lo, hi)
            if len(tiles) != hi - lo:  # not all stored: read them one by one (and fail)
                tiles = [self._read_full_tiles(tile_level, i, i + 1)[0] for i in range(lo, hi)]
            if len(self._roots) > MAX_CACHED_ROOTS:
                self._roots.clear()
            for i, data in zip(range(lo, hi), tiles, strict=True):
                found[i] = self._roots[(tile_level, i)] = root_from_leaf_hashes(split_hashes(data))
        return [root for root in found.values() if root is not None]

    def tile(self, tile_level: int, index: int, width: int) -> bytes:
        if width == TILE_WIDTH and tile_level > 0:
            (data,) = self._read_full_tiles(tile_level, index, index + 1)
            return data
        start = index * TILE_WIDTH
        return b"".join(self.elements(tile_level, start, start + width))

    def hash_at(self, level: int, index: int) -> bytes:
        """The hash of the complete subtree of 2**level leaves starting at index·2**level."""
        tile_level, rest = divmod(level, TILE_HEIGHT)
        start = index << rest
        hashes = self.elements(tile_level, start, start + (1 << rest))
        return root_from_leaf_hashes(hashes)


MAX_CACHED_ROOTS = 200_000  # about 20 MB of tile roots per community at most


def completed_tiles(
    old_size: int, new_leaves: Sequence[bytes], hashes: StoredHashes
) -> list[tuple[int, int, bytes]]:
    """Full tiles (level, index, data) that appending ``new_leaves`` to ``old_size`` completes.

    ``hashes`` reads what is already stored; tiles completed by this append are used
    from memory for the levels above them.
    """
    new_size = old_size + len(new_leaves)
    out: list[tuple[int, int, bytes]] = []
    fresh: dict[tuple[int, int], bytes] = {}
    level, span = 0, TILE_WIDTH
    while new_size // span > old_size // span:
        for index in range(old_size // span, new_size // span):
            start = index * TILE_WIDTH
            if level == 0:
                elements = _leaf_elements(start, old_size, new_leaves, hashes)
            else:
                elements = [
                    _root(fresh[(level - 1, i)])
                    if (level - 1, i) in fresh
                    else hashes.elements(level, i, i + 1)[0]
                    for i in range(start, start + TILE_WIDTH)
                ]
            data = b"".join(elements)
            fresh[(level, index)] = data
            out.append((level, index, data))
        level, span = level + 1, span * TILE_WIDTH
    return out


def _leaf_elements(
    start: int, old_size: int, new_leaves: Sequence[bytes], hashes: StoredHashes
) -> list[bytes]:
    """The 256 leaf hashes of the level-0 tile starting at ``start``: stored ones, then new."""
    stored_end = max(start, old_size)
    old = hashes.elements(0, start, stored_end) if stored_end > start else []
    return old + list(new_leaves[stored_end - old_size : start + TILE_WIDTH - old_size])


def _root(data: bytes | None) -> bytes:
    assert data is not None
    return root_from_leaf_hashes(split_hashes(data))
