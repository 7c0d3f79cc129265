"""C2SP tlog-tiles: paths, entry bundles, the tile builder and authenticated reading."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from ledger.core.errors import MalformedError, NotFoundError, ProofError, TooLargeError
from ledger.core.keys import SigningKey
from ledger.core.merkle import MemoryTree, leaf_hash, root_at
from ledger.core.note import format_checkpoint, sign_note
from ledger.core.tiles import (
    ENTRIES_LEVEL,
    TileHashReader,
    build_entry_bundles,
    build_tiles,
    decode_entry_bundle,
    encode_entry_bundle,
    entries_path,
    entry_bundles_for_size,
    parse_tile_path,
    tile_path,
    tiles_for_size,
    verified_entries,
    verified_leaf_hashes,
)

ENTRIES = [f"entry {i}".encode() for i in range(1200)]
LEAVES = [leaf_hash(e) for e in ENTRIES]


def _log(size: int) -> tuple[dict[str, bytes], bytes]:
    """A tile store (path -> bytes) for the first ``size`` entries, and its root."""
    store: dict[str, bytes] = {}
    for tile in build_tiles(lambda *_: b"", 0, LEAVES[:size]):
        store[tile.path] = tile.data
    for bundle in build_entry_bundles(lambda *_: b"", 0, ENTRIES[:size]):
        store[bundle.path] = bundle.data
    return store, MemoryTree(LEAVES[:size]).root()


def _fetch(store: dict[str, bytes]) -> Callable[[str], bytes]:
    def fetch(path: str) -> bytes:
        if path not in store:
            raise NotFoundError(f"no {path}", f"没有 {path}")
        return store[path]

    return fetch


@pytest.mark.parametrize(
    ("level", "index", "width", "path"),
    [
        (0, 1234067, 256, "tile/0/x001/x234/067"),
        (0, 0, 256, "tile/0/000"),
        (1, 5, 17, "tile/1/005.p/17"),
        (2, 1000, 1, "tile/2/x001/000.p/1"),
        (63, 999, 255, "tile/63/999.p/255"),
        (ENTRIES_LEVEL, 1234067, 256, "tile/entries/x001/x234/067"),
        (ENTRIES_LEVEL, 3, 112, "tile/entries/003.p/112"),
    ],
)
def test_paths_round_trip(level: int, index: int, width: int, path: str) -> None:
    made = entries_path(index, width) if level == ENTRIES_LEVEL else tile_path(level, index, width)
    assert made == path
    assert parse_tile_path(path) == (level, index, width)


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/1234",
        "tile/0/x001/234.p/256",
        "tile/00/001",
        "tile/0/x000/001",
        "tile/64/000",
        "tile/0/001.p/0",
        "tile/0/001.p/07",
        "tile/8/0/000",
        "tile/data/000",
        "/tile/0/000",
        "tile/0/000/",
        "tile/0/x001",
    ],
)
def test_parse_refuses_non_canonical_paths(path: str) -> None:
    with pytest.raises(MalformedError):
        parse_tile_path(path)


def test_tiles_for_size_follows_the_spec_example() -> None:
    """c2sp.org/tlog-tiles: size 70,000 and size 256."""
    tiles = tiles_for_size(70_000)
    assert [t for t in tiles if t[0] == 0 and t[2] == 256] == [(0, n, 256) for n in range(273)]
    assert [t for t in tiles if t[0] != 0 or t[2] != 256] == [
        (0, 273, 112),
        (1, 0, 256),
        (1, 1, 17),
        (2, 0, 1),
    ]
    assert tiles_for_size(256) == [(0, 0, 256), (1, 0, 1)]
    assert tiles_for_size(0) == []
    assert entry_bundles_for_size(513) == [(0, 256), (1, 256), (2, 1)]


def test_entry_bundles_round_trip() -> None:
    entries = [b"", b"a", b"x" * 65535]
    data = encode_entry_bundle(entries)
    assert data[:4] == b"\x00\x00\x00\x01"
    assert decode_entry_bundle(data) == entries
    assert decode_entry_bundle(data, 3) == entries


@pytest.mark.parametrize(
    ("data", "width"),
    [(b"\x00\x01ab", None), (b"\x00\x02a", None), (b"\x00", None), (b"\x00\x01a", 2)],
)
def test_entry_bundles_are_strict(data: bytes, width: int | None) -> None:
    with pytest.raises(MalformedError):
        decode_entry_bundle(data, width)


def test_entry_too_large_for_a_bundle() -> None:
    with pytest.raises(TooLargeError):
        encode_entry_bundle([b"x" * 65536])


def test_level_one_tile_holds_roots_of_full_level_zero_tiles() -> None:
    store, _ = _log(600)
    level1 = store[tile_path(1, 0, 2)]
    tree = MemoryTree(LEAVES[:600])
    assert level1 == tree.hash_at(8, 0) + tree.hash_at(8, 1)
    assert store[tile_path(0, 2, 88)] == b"".join(LEAVES[512:600])


def test_appending_one_leaf_at_a_time_matches_a_batch() -> None:
    store: dict[str, bytes] = {}
    for size in range(600):
        for tile in build_tiles(
            lambda lv, ix, w: store[tile_path(lv, ix, w)], size, LEAVES[size : size + 1]
        ):
            store[tile.path] = tile.data
    batch, _ = _log(600)
    for level, index, width in tiles_for_size(600):
        assert store[tile_path(level, index, width)] == batch[tile_path(level, index, width)]


def test_build_reports_only_changed_tiles() -> None:
    store, _ = _log(256)
    built = build_tiles(lambda lv, ix, w: store[tile_path(lv, ix, w)], 256, LEAVES[256:257])
    assert [t.path for t in built] == ["tile/0/001.p/1"]
    assert build_tiles(lambda *_: b"", 5, []) == []


def test_entry_bundles_built_incrementally() -> None:
    store: dict[str, bytes] = {}
    for start, end in [(0, 3), (3, 300), (300, 512), (512, 513)]:
        for b in build_entry_bundles(
            lambda ix, w: store[entries_path(ix, w)], start, ENTRIES[start:end]
        ):
            store[b.path] = b.data
    assert decode_entry_bundle(store["tile/entries/001"], 256) == ENTRIES[256:512]
    assert decode_entry_bundle(store["tile/entries/002.p/1"], 1) == ENTRIES[512:513]


@pytest.mark.parametrize("size", [1, 255, 256, 257, 600, 1200])
def test_tile_reader_serves_the_root(size: int) -> None:
    store, root = _log(size)
    assert root_at(size, TileHashReader(size, root, _fetch(store))) == root


def test_tampered_full_tile_is_named() -> None:
    store, root = _log(600)
    tampered = bytearray(store["tile/0/000"])
    tampered[5] ^= 1
    store["tile/0/000"] = bytes(tampered)
    reader = TileHashReader(600, root, _fetch(store))
    with pytest.raises(ProofError, match="tile/0/000"):
        reader.hash_at(0, 3)
    assert reader.hash_at(0, 300) == LEAVES[300]  # other tiles still authenticate


def test_tampered_partial_tile_is_refused() -> None:
    store, root = _log(600)
    store["tile/0/002.p/88"] = store["tile/0/002.p/88"][:-1] + b"\x00"
    with pytest.raises(ProofError, match="partial tiles"):
        TileHashReader(600, root, _fetch(store)).hash_at(0, 1)


def test_tile_of_wrong_length_is_named() -> None:
    store, root = _log(600)
    store["tile/0/001"] = store["tile/0/001"] + b"\x00" * 32
    with pytest.raises(ProofError, match="tile/0/001"):
        TileHashReader(600, root, _fetch(store)).hash_at(0, 256)


def test_missing_partial_tile_falls_back_to_the_full_tile() -> None:
    old_store, old_root = _log(200)
    store, _ = _log(600)
    assert "tile/0/000.p/200" in old_store
    assert "tile/0/000.p/200" not in store  # a log may delete it once the full tile exists
    reader = TileHashReader(200, old_root, _fetch(store))
    assert root_at(200, reader) == old_root


def test_hash_at_beyond_size() -> None:
    store, root = _log(300)
    with pytest.raises(NotFoundError):
        TileHashReader(300, root, _fetch(store)).hash_at(0, 300)


def test_full_audit_streams_every_entry() -> None:
    store, root = _log(1200)
    assert list(verified_leaf_hashes(1200, root, _fetch(store))) == LEAVES
    assert [e for _, e in verified_entries(1200, root, _fetch(store))] == ENTRIES


def test_full_audit_names_a_bad_entry() -> None:
    store, root = _log(600)
    entries = decode_entry_bundle(store["tile/entries/001"])
    entries[7] = b"forged"
    store["tile/entries/001"] = encode_entry_bundle(entries)
    with pytest.raises(ProofError, match="entry 263 in tile/entries/001"):
        list(verified_entries(600, root, _fetch(store)))


def test_wrong_root_is_refused() -> None:
    store, _ = _log(600)
    with pytest.raises(ProofError):
        list(verified_leaf_hashes(600, b"\x00" * 32, _fetch(store)))


# --- Go's golang.org/x/mod/sumdb/{note,tlog} check our checkpoint and tiles byte for byte ---

GOCHECK = Path(__file__).resolve().parents[1] / "interop" / "gocheck" / "main.go"


def _build_gocheck(tmp_path: Path) -> Path:
    if shutil.which("go") is None or not GOCHECK.exists():
        pytest.skip("needs the Go toolchain and tests/interop/gocheck")
    binary = tmp_path / "gocheck"
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": "/usr/share/gocode"}
    env.setdefault("GOCACHE", str(tmp_path / "gocache"))
    built = subprocess.run(
        ["go", "build", "-o", str(binary), str(GOCHECK)], env=env, capture_output=True, text=True
    )
    if built.returncode != 0:
        pytest.skip(f"gocheck does not build here: {built.stderr.strip()[:200]}")
    return binary


def _export(directory: Path, size: int, key: SigningKey) -> str:
    store, root = _log(size)
    for path, data in store.items():
        (directory / path).parent.mkdir(parents=True, exist_ok=True)
        (directory / path).write_bytes(data)
    note = sign_note(format_checkpoint(key.name, size, root), [key])
    (directory / "checkpoint").write_text(note)
    return note


@pytest.mark.go
@pytest.mark.parametrize(("older", "size"), [(300, 1200), (256, 257), (1, 1), (70, 70)])
def test_go_authenticates_our_tiles(tmp_path: Path, older: int, size: int) -> None:
    binary = _build_gocheck(tmp_path)
    key = SigningKey.generate("log.example/c/demo/log")
    old_note = _export(tmp_path / "old", older, key)
    (tmp_path / "older-checkpoint").write_text(old_note)
    _export(tmp_path / "export", size, key)
    # Partial tiles of the older size stay available beside the new ones.
    for path in (tmp_path / "old").rglob("*.p/*"):
        target = tmp_path / "export" / path.relative_to(tmp_path / "old")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    result = subprocess.run(
        [
            str(binary),
            str(tmp_path / "export"),
            str(key.verifier()),
            "--older",
            str(tmp_path / "older-checkpoint"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"size={size} entries={size} consistent-from={older}" in result.stdout
