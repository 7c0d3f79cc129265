"""C2SP tlog-tiles (height 8): tile paths, entry bundles, building tiles, reading them back.

It owns the static layout a log is published in and served from:

- ``tile/<L>/<N>[.p/<W>]``: the hashes at tree level 8*L, 256 to a full tile,
  32 bytes each, concatenated; ``tile/entries/<N>[.p/<W>]``: entry bundles,
  each entry prefixed with its big-endian uint16 length. ``N`` is written in
  3-digit path elements, all but the last prefixed ``x`` (1234067 -> x001/x234/067).
- ``build_tiles`` computes what must be stored after an append, from the tiles
  already stored; ``TileHashReader`` serves hashes from fetched tiles after
  authenticating each tile against a checkpoint root, for proofs and audits.

Tile contents are those of Go's golang.org/x/mod/sumdb/tlog with height 8; only
the paths differ (C2SP has no height element and calls level -1 "entries").
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

from ledger.core.errors import MalformedError, NotFoundError, ProofError, TooLargeError
from ledger.core.merkle import HASH_SIZE, leaf_hash, node_hash, root_from_leaf_hashes

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_LEVEL = 63
ENTRIES_LEVEL = -1
MAX_ENTRY_SIZE = 0xFFFF

ReadTile = Callable[[int, int, int], bytes]
FetchTile = Callable[[str], bytes]


class Tile(NamedTuple):
    """A tile to store: ``level`` (-1 for an entry bundle), ``index``, ``width`` and its bytes."""

    level: int
    index: int  # type: ignore[assignment]  # shadows tuple.index on purpose: the tile's index
    width: int
    data: bytes

    @property
    def path(self) -> str:
        if self.level == ENTRIES_LEVEL:
            return entries_path(self.index, self.width)
        return tile_path(self.level, self.index, self.width)


# --- paths -----------------------------------------------------------------------------


def _encode_index(index: int) -> str:
    if index < 0:
        raise ValueError(f"tile index {index} is negative")
    elements = [f"{index % 1000:03d}"]
    index //= 1000
    while index > 0:
        elements.append(f"x{index % 1000:03d}")
        index //= 1000
    return "/".join(reversed(elements))


def _suffix(width: int) -> str:
    if not 1 <= width <= TILE_WIDTH:
        raise ValueError(f"tile width {width} is outside 1..256")
    return "" if width == TILE_WIDTH else f".p/{width}"


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """``tile/<L>/<N>[.p/<W>]`` for the hash tile at ``level`` (0..63)."""
    if not 0 <= level <= MAX_LEVEL:
        raise ValueError(f"tile level {level} is outside 0..63")
    return f"tile/{level}/{_encode_index(index)}{_suffix(width)}"


def entries_path(index: int, width: int = TILE_WIDTH) -> str:
    """``tile/entries/<N>[.p/<W>]`` for entry bundle ``index``."""
    return f"tile/entries/{_encode_index(index)}{_suffix(width)}"


_PATH = re.compile(
    r"tile/(?P<level>entries|0|[1-9][0-9]?)/(?P<n>(?:x[0-9]{3}/)*[0-9]{3})(?:\.p/(?P<w>[1-9][0-9]{0,2}))?"
)


def parse_tile_path(path: str) -> tuple[int, int, int]:
    """(level, index, width) of a tile path; level is ENTRIES_LEVEL (-1) for entry bundles."""
    match = _PATH.fullmatch(path)
    if match is None:
        raise MalformedError(f"not a tile path: {path!r}", f"不是瓦片路径：{path!r}")
    level_text = match["level"]
    level = ENTRIES_LEVEL if level_text == "entries" else int(level_text)
    index = int(match["n"].replace("x", "").replace("/", ""))
    width = int(match["w"]) if match["w"] else TILE_WIDTH
    try:
        canonical = entries_path(index, width) if level < 0 else tile_path(level, index, width)
    except ValueError:
        canonical = ""
    if canonical != path or (width == TILE_WIDTH and match["w"]):
        raise MalformedError(
            f"not a canonical tile path: {path!r}", f"不是规范的瓦片路径：{path!r}"
        )
    return level, index, width


# --- which tiles a tree of a given size has ----------------------------------------------


def _hashes_at_tile_level(size: int, level: int) -> int:
    """How many hashes of tree level 8*level a tree of ``size`` leaves has."""
    return size >> (TILE_HEIGHT * level)


def partial_width(size: int, level: int) -> int:
    """Width of the partial tile at ``level`` for ``size`` (0 when there is none)."""
    return _hashes_at_tile_level(size, level) % TILE_WIDTH


def tiles_for_size(size: int) -> list[tuple[int, int, int]]:
    """Every hash tile (level, index, width) that serves a tree of ``size``: full and partial."""
    tiles: list[tuple[int, int, int]] = []
    level = 0
    while (count := _hashes_at_tile_level(size, level)) > 0:
        tiles.extend((level, n, TILE_WIDTH) for n in range(count // TILE_WIDTH))
        if count % TILE_WIDTH:
            tiles.append((level, count // TILE_WIDTH, count % TILE_WIDTH))
        level += 1
    return tiles


def entry_bundles_for_size(size: int) -> list[tuple[int, int]]:
    """Every entry bundle (index, width) of a log of ``size`` entries."""
    return [(index, width) for level, index, width in tiles_for_size(size) if level == 0]


# --- entry bundles -----------------------------------------------------------------------


def encode_entry_bundle(entries: Sequence[bytes]) -> bytes:
    """Concatenate entries, each behind its big-endian uint16 length."""
    if len(entries) > TILE_WIDTH:
        raise ValueError(f"an entry bundle holds at most 256 entries, not {len(entries)}")
    out = bytearray()
    for position, entry in enumerate(entries):
        if len(entry) > MAX_ENTRY_SIZE:
            raise TooLargeError(
                f"entry {position} is {len(entry)} bytes; an entry bundle allows at most 65535",
                f"第 {position} 条记录有 {len(entry)} 字节；条目包最多允许 65535 字节",
            )
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def decode_entry_bundle(data: bytes, width: int | None = None) -> list[bytes]:
    """Split an entry bundle; MalformedError on truncation or (with ``width``) a wrong count."""
    entries: list[bytes] = []
    offset = 0
    while offset < len(data):
        if offset + 2 > len(data):
            raise MalformedError(
                "entry bundle ends inside a length prefix", "条目包在长度前缀中途结束"
            )
        length = int.from_bytes(data[offset : offset + 2], "big")
        if offset + 2 + length > len(data):
            raise MalformedError(
                f"entry {len(entries)} of the bundle is truncated",
                f"条目包中第 {len(entries)} 条记录被截断",
            )
        entries.append(bytes(data[offset + 2 : offset + 2 + length]))
        offset += 2 + length
    if len(entries) > TILE_WIDTH or (width is not None and len(entries) != width):
        want = TILE_WIDTH if width is None else width
        raise MalformedError(
            f"entry bundle holds {len(entries)} entries, want {want}",
            f"条目包包含 {len(entries)} 条记录，应为 {want}",
        )
    return entries


# --- building tiles after an append --------------------------------------------------------


def split_tile(data: bytes, level: int, index: int, width: int) -> list[bytes]:
    """The hashes of a hash tile, checking its length; ProofError names the tile."""
    if len(data) != width * HASH_SIZE:
        path = tile_path(level, index, width)
        raise ProofError(
            f"tile {path} is {len(data)} bytes, want {width * HASH_SIZE}",
            f"瓦片 {path} 长度为 {len(data)} 字节，应为 {width * HASH_SIZE}",
        )
    return [bytes(data[i : i + HASH_SIZE]) for i in range(0, len(data), HASH_SIZE)]


def _build_level(
    read_tile: ReadTile, level: int, old_count: int, new_hashes: Sequence[bytes]
) -> tuple[list[Tile], list[bytes]]:
    """Tiles of one level changed by appending ``new_hashes``, and the hashes they add above."""
    first_tile = old_count // TILE_WIDTH
    old_width = old_count % TILE_WIDTH
    hashes = (
        split_tile(read_tile(level, first_tile, old_width), level, first_tile, old_width)
        if old_width
        else []
    )
    hashes.extend(new_hashes)
    tiles: list[Tile] = []
    parents: list[bytes] = []
    for start in range(0, len(hashes), TILE_WIDTH):
        chunk = hashes[start : start + TILE_WIDTH]
        tiles.append(Tile(level, first_tile + start // TILE_WIDTH, len(chunk), b"".join(chunk)))
        if len(chunk) == TILE_WIDTH:
            parents.append(root_from_leaf_hashes(chunk))
    return tiles, parents


def build_tiles(read_tile: ReadTile, old_size: int, new_leaf_hashes: Sequence[bytes]) -> list[Tile]:
    """Hash tiles to store after appending ``new_leaf_hashes`` to a tree of ``old_size``.

    ``read_tile(level, index, width)`` returns a stored tile of the old tree (only
    its partial tiles are read). The result holds every tile that became full and
    every partial tile of the new size whose content changed, lowest level first.
    """
    for position, h in enumerate(new_leaf_hashes):
        if len(h) != HASH_SIZE:
            raise ProofError(
                f"new leaf hash {position} is not 32 bytes", f"第 {position} 个新叶哈希不是 32 字节"
            )
    tiles: list[Tile] = []
    new_hashes: Sequence[bytes] = new_leaf_hashes
    level = 0
    while new_hashes:
        built, new_hashes = _build_level(
            read_tile, level, _hashes_at_tile_level(old_size, level), new_hashes
        )
        tiles.extend(built)
        level += 1
    return tiles


def build_entry_bundles(
    read_bundle: Callable[[int, int], bytes], old_size: int, new_entries: Sequence[bytes]
) -> list[Tile]:
    """Entry bundles to store after appending ``new_entries`` (level ENTRIES_LEVEL tiles).

    ``read_bundle(index, width)`` returns the stored partial bundle of the old size.
    """
    first = old_size // TILE_WIDTH
    old_width = old_size % TILE_WIDTH
    entries = decode_entry_bundle(read_bundle(first, old_width), old_width) if old_width else []
    entries.extend(new_entries)
    bundles: list[Tile] = []
    for start in range(0, len(entries), TILE_WIDTH) if new_entries else ():
        chunk = entries[start : start + TILE_WIDTH]
        bundles.append(
            Tile(ENTRIES_LEVEL, first + start // TILE_WIDTH, len(chunk), encode_entry_bundle(chunk))
        )
    return bundles


# --- reading tiles back, authenticated -------------------------------------------------


class TileHashReader:
    """A HashReader over tiles fetched by path, each authenticated against ``root`` before use.

    Partial tiles of ``size`` are checked by recomputing the root from them; a full
    tile is checked against its hash in the tile above. A partial tile that is
    gone (NotFoundError) is read from the prefix of its full tile instead. Full
    tiles are kept in a small LRU cache, so a sequential audit uses bounded memory.
    """

    def __init__(
        self, size: int, root: bytes, fetch_tile: FetchTile, cache_tiles: int = 64
    ) -> None:
        self.size = size
        self.root = root
        self._fetch = fetch_tile
        self._cache: OrderedDict[tuple[int, int], list[bytes]] = OrderedDict()
        self._cache_tiles = max(cache_tiles, MAX_LEVEL + 1)
        self._partials: dict[int, list[bytes]] | None = None

    def _width(self, level: int, index: int) -> int:
        count = _hashes_at_tile_level(self.size, level)
        if (index + 1) * TILE_WIDTH <= count:
            return TILE_WIDTH
        if index == count // TILE_WIDTH and count % TILE_WIDTH:
            return count % TILE_WIDTH
        raise NotFoundError(
            f"tile {tile_path(level, index)} is beyond a tree of size {self.size}",
            f"瓦片 {tile_path(level, index)} 超出大小为 {self.size} 的树",
        )

    def _fetch_hashes(self, level: int, index: int, width: int) -> list[bytes]:
        try:
            data = self._fetch(tile_path(level, index, width))
        except NotFoundError:
            if width == TILE_WIDTH:
                raise
            full = self._fetch(tile_path(level, index, TILE_WIDTH))
            data = full[: width * HASH_SIZE] if len(full) == TILE_WIDTH * HASH_SIZE else full
        return split_tile(data, level, index, width)

    def _authenticate_partials(self) -> dict[int, list[bytes]]:
        if self._partials is None:
            partials: dict[int, list[bytes]] = {}
            subtrees: list[bytes] = []
            level = 0
            while (count := _hashes_at_tile_level(self.size, level)) > 0:
                if count % TILE_WIDTH:
                    hashes = self._fetch_hashes(level, count // TILE_WIDTH, count % TILE_WIDTH)
                    partials[level] = hashes
                    subtrees = _perfect_subtrees(hashes) + subtrees
                level += 1
            if _fold_right(subtrees) != self.root:
                raise ProofError(
                    f"the partial tiles of size {self.size} do not hash to the checkpoint root",
                    f"大小为 {self.size} 的部分瓦片与检查点树根不符",
                )
            self._partials = partials
        return self._partials

    def tile_hashes(self, level: int, index: int) -> list[bytes]:
        """The authenticated hashes of tile (level, index) of this tree."""
        width = self._width(level, index)
        if width < TILE_WIDTH:
            return self._authenticate_partials()[level]
        key = (level, index)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        hashes = self._fetch_hashes(level, index, TILE_WIDTH)
        parent = self.tile_hashes(level + 1, index // TILE_WIDTH)[index % TILE_WIDTH]
        if root_from_leaf_hashes(hashes) != parent:
            path = tile_path(level, index)
            raise ProofError(
                f"tile {path} does not authenticate against the checkpoint root",
                f"瓦片 {path} 无法通过检查点树根的验证",
            )
        self._cache[key] = hashes
        if len(self._cache) > self._cache_tiles:
            self._cache.popitem(last=False)
        return hashes

    def hash_at(self, level: int, index: int) -> bytes:
        if level < 0 or index < 0 or (index + 1) << level > self.size:
            raise NotFoundError(
                f"no complete subtree at level {level}, index {index} (tree size {self.size})",
                f"大小为 {self.size} 的树中没有层 {level}、序号 {index} 的完整子树",
            )
        tile_level, sublevel = divmod(level, TILE_HEIGHT)
        first = index << sublevel
        hashes = self.tile_hashes(tile_level, first // TILE_WIDTH)
        offset = first % TILE_WIDTH
        return root_from_leaf_hashes(hashes[offset : offset + (1 << sublevel)])


def _perfect_subtrees(hashes: Sequence[bytes]) -> list[bytes]:
    """Split a partial tile's hashes into its perfect subtrees, largest (leftmost) first."""
    out: list[bytes] = []
    start = 0
    for bit in range(TILE_HEIGHT - 1, -1, -1):
        if len(hashes) & (1 << bit):
            out.append(root_from_leaf_hashes(hashes[start : start + (1 << bit)]))
            start += 1 << bit
    return out


def _fold_right(subtrees: Sequence[bytes]) -> bytes:
    if not subtrees:
        return root_from_leaf_hashes([])
    root = subtrees[-1]
    for h in reversed(subtrees[:-1]):
        root = node_hash(h, root)
    return root


# --- full audit ---------------------------------------------------------------------------


def verified_leaf_hashes(size: int, root: bytes, fetch_tile: FetchTile) -> Iterator[bytes]:
    """Every leaf hash of the tree in order, each level-0 tile authenticated before it is used."""
    reader = TileHashReader(size, root, fetch_tile)
    for _level, index, _width in (t for t in tiles_for_size(size) if t[0] == 0):
        yield from reader.tile_hashes(0, index)


def verified_entries(size: int, root: bytes, fetch_tile: FetchTile) -> Iterator[tuple[int, bytes]]:
    """(index, entry bytes) for every entry, each checked against its authenticated leaf hash."""
    reader = TileHashReader(size, root, fetch_tile)
    for index, width in entry_bundles_for_size(size):
        leaves = reader.tile_hashes(0, index)
        path = entries_path(index, width)
        try:
            entries = decode_entry_bundle(fetch_tile(path), width)
        except MalformedError as exc:
            raise ProofError(f"entry bundle {path}: {exc.en}", f"条目包 {path}：{exc.zh}") from None
        for offset, entry in enumerate(entries):
            if leaf_hash(entry) != leaves[offset]:
                position = index * TILE_WIDTH + offset
                raise ProofError(
                    f"entry {position} in {path} does not match its authenticated leaf hash",
                    f"{path} 中第 {position} 条记录与经过验证的叶哈希不符",
                )
            yield index * TILE_WIDTH + offset, entry
