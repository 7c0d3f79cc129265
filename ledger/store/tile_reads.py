"""Reading the stored tree: leaf hashes and full tiles, with a cache of what never changes.

A full tile, once stored, never changes (rows are immutable), so the reader keeps
the newest ``MAX_CACHED_TILES`` full tiles of each community in memory, and serves
a leaf range that lies inside a full level-0 tile from that tile: a receipt, a
checkpoint or a tile GET at a large size then costs one or two small queries, not
one per subtree. Leaves past the last full tile are always read from the database.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from sqlalchemy import select
from sqlalchemy.engine import Engine

from ledger.store import tables
from ledger.store.hashes import TILE_WIDTH, StoredHashes, split_hashes

MAX_CACHED_TILES = 4_096  # about 32 MB of full tiles per community at most


class TileReader:
    """The stored leaves and full tiles of every community on one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._tiles: dict[str, OrderedDict[tuple[int, int], bytes]] = {}
        self._roots: dict[str, dict[tuple[int, int], bytes]] = {}
        self._tail: dict[str, tuple[int, list[bytes]]] = {}  # leaves of the last tile read
        self._full_below: dict[str, int] = {}  # level-0 tiles below this index are stored full
        self._lock = threading.Lock()

    def hashes(self, community: str) -> StoredHashes:
        """A ``HashReader`` over ``community``'s stored tree."""
        with self._lock:
            roots = self._roots.setdefault(community, {})
        return StoredHashes(
            lambda start, end: self.leaves(community, start, end),
            lambda level, start, end: self.full_tiles(community, level, start, end),
            roots,
        )

    def leaves(self, community: str, start: int, end: int) -> list[bytes]:
        index = start // TILE_WIDTH
        if end > start and (end - 1) // TILE_WIDTH == index:
            base = index * TILE_WIDTH
            cached = self._cached(community, 0, index)
            if cached is None and index < self._full_below.get(community, 0):
                cached = self.full_tiles(community, 0, index, index + 1)[0]
            if cached is not None:
                return split_hashes(cached)[start - base : end - base]
            # the tail tile: keep what was read (stored leaves never change), read again
            # only when a later leaf is asked for
            with self._lock:
                partial = self._tail.get(community)
            if partial is None or partial[0] != index or len(partial[1]) < end - base:
                have = partial[1] if partial is not None and partial[0] == index else []
                more = self._read_leaves(community, base + len(have), base + TILE_WIDTH)
                partial = (index, have + more)  # read only the leaves added since
                with self._lock:
                    self._tail[community] = partial
                    if len(partial[1]) == TILE_WIDTH:  # a full tile: its row is there too
                        below = self._full_below.get(community, 0)
                        self._full_below[community] = max(below, index + 1)
            return partial[1][start - base : end - base]
        return self._read_leaves(community, start, end)

    def appended(self, community: str, old_size: int, leaves: list[bytes]) -> None:
        """Leaves this process just committed at ``old_size``: extend the tail tile kept."""
        new_size = old_size + len(leaves)
        index = (new_size - 1) // TILE_WIDTH
        base = index * TILE_WIDTH
        with self._lock:
            partial = self._tail.get(community)
            if base >= old_size:  # the tail tile starts within these leaves
                self._tail[community] = (index, list(leaves[base - old_size :]))
            elif partial is not None and partial[0] == index and base + len(partial[1]) == old_size:
                self._tail[community] = (index, partial[1] + list(leaves))
            if new_size % TILE_WIDTH == 0:
                below = self._full_below.get(community, 0)
                self._full_below[community] = max(below, new_size // TILE_WIDTH)

    def _read_leaves(self, community: str, start: int, end: int) -> list[bytes]:
        t = tables.leaves
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.c.hash)
                .where(t.c.community == community, t.c.idx >= start, t.c.idx < end)
                .order_by(t.c.idx)
            ).all()
        return [bytes(row[0]) for row in rows]

    def full_tiles(self, community: str, level: int, start: int, end: int) -> list[bytes]:
        """The stored full tiles ``start``..``end``-1 of ``level`` (only those that exist)."""
        found = [self._cached(community, level, i) for i in range(start, end)]
        if all(data is not None for data in found):
            return [data for data in found if data is not None]
        t = tables.tiles
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.c.idx, t.c.data)
                .where(
                    t.c.community == community,
                    t.c.level == level,
                    t.c.idx >= start,
                    t.c.idx < end,
                )
                .order_by(t.c.idx)
            ).all()
        out = []
        with self._lock:
            cache = self._tiles.setdefault(community, OrderedDict())
            for idx, data in rows:
                cache[(level, int(idx))] = bytes(data)
                out.append(bytes(data))
                if level == 0:
                    below = self._full_below.get(community, 0)
                    self._full_below[community] = max(below, int(idx) + 1)
            while len(cache) > MAX_CACHED_TILES:
                cache.popitem(last=False)
        return out

    def _cached(self, community: str, level: int, index: int) -> bytes | None:
        with self._lock:
            cache = self._tiles.get(community)
            if cache is None:
                return None
            data = cache.get((level, index))
            if data is not None:
                cache.move_to_end((level, index))
            return data
