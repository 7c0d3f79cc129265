"""Properties of proofs and tiles: every proof verifies, any flipped bit fails, tiles build alike."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.errors import ProofError
from ledger.core.merkle import (
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_at,
    verify_consistency,
    verify_inclusion,
)
from ledger.core.tiles import Tile, TileHashReader, build_tiles, tile_path, tiles_for_size

MAX_SIZE = 300
LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(1100)]
TREE = MemoryTree(LEAVES)
ROOTS = [TREE.root(size) for size in range(len(LEAVES) + 1)]


def _flip(data: bytes, bit: int) -> bytes:
    position = bit % (len(data) * 8)
    out = bytearray(data)
    out[position // 8] ^= 1 << (position % 8)
    return bytes(out)


def test_every_inclusion_proof_verifies() -> None:
    for size in range(1, MAX_SIZE + 1):
        for index in range(size):
            proof = inclusion_proof(index, size, TREE)
            verify_inclusion(LEAVES[index], index, size, proof, ROOTS[size])


def test_every_consistency_proof_verifies() -> None:
    for size2 in range(1, MAX_SIZE + 1):
        for size1 in range(1, size2 + 1):
            proof = consistency_proof(size1, size2, TREE)
            verify_consistency(size1, size2, proof, ROOTS[size1], ROOTS[size2])


@settings(max_examples=300, deadline=None)
@given(st.integers(2, 1000), st.data())
def test_inclusion_fails_on_any_flipped_bit(size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, size - 1))
    proof = inclusion_proof(index, size, TREE)
    bit = data.draw(st.integers(0, 32 * 8 * (len(proof) + 2) - 1))
    which, offset = divmod(bit, 256)
    leaf, root = LEAVES[index], ROOTS[size]
    if which < len(proof):
        proof = [*proof[:which], _flip(proof[which], offset), *proof[which + 1 :]]
    elif which == len(proof):
        root = _flip(root, offset)
    else:
        leaf = _flip(leaf, offset)
    try:
        verify_inclusion(leaf, index, size, proof, root)
    except ProofError:
        return
    raise AssertionError("a tampered inclusion proof verified")


@settings(max_examples=300, deadline=None)
@given(st.integers(2, 1000), st.data())
def test_consistency_fails_on_any_flipped_bit(size2: int, data: st.DataObject) -> None:
    size1 = data.draw(st.integers(1, size2 - 1))
    proof = consistency_proof(size1, size2, TREE)
    bit = data.draw(st.integers(0, 32 * 8 * (len(proof) + 2) - 1))
    which, offset = divmod(bit, 256)
    root1, root2 = ROOTS[size1], ROOTS[size2]
    if which < len(proof):
        proof = [*proof[:which], _flip(proof[which], offset), *proof[which + 1 :]]
    elif which == len(proof):
        root1 = _flip(root1, offset)
    else:
        root2 = _flip(root2, offset)
    try:
        verify_consistency(size1, size2, proof, root1, root2)
    except ProofError:
        return
    raise AssertionError("a tampered consistency proof verified")


def _store_tiles(store: dict[str, bytes], tiles: list[Tile]) -> None:
    for tile in tiles:
        store[tile_path(tile.level, tile.index, tile.width)] = tile.data


def _append_in_batches(batches: list[int]) -> tuple[dict[str, bytes], int]:
    store: dict[str, bytes] = {}
    size = 0
    for batch in batches:
        new = LEAVES[size : size + batch]
        _store_tiles(store, build_tiles(lambda lv, ix, w: store[tile_path(lv, ix, w)], size, new))
        size += batch
    return store, size


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 137), min_size=1, max_size=8))
def test_incremental_tiles_equal_tiles_built_from_scratch(batches: list[int]) -> None:
    incremental, size = _append_in_batches(batches)
    scratch: dict[str, bytes] = {}
    _store_tiles(scratch, build_tiles(lambda *_: b"", 0, LEAVES[:size]))
    for level, index, width in tiles_for_size(size):
        path = tile_path(level, index, width)
        assert incremental[path] == scratch[path], path
    assert {p for p in scratch} == {tile_path(*t) for t in tiles_for_size(size)}


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 1100), st.data())
def test_tile_reader_agrees_with_memory_tree(size: int, data: st.DataObject) -> None:
    store: dict[str, bytes] = {}
    _store_tiles(store, build_tiles(lambda *_: b"", 0, LEAVES[:size]))
    reader = TileHashReader(size, ROOTS[size], store.__getitem__)
    assert root_at(size, reader) == ROOTS[size]
    index = data.draw(st.integers(0, size - 1))
    assert inclusion_proof(index, size, reader) == inclusion_proof(index, size, TREE)
    size1 = data.draw(st.integers(1, size))
    assert consistency_proof(size1, size, reader) == consistency_proof(size1, size, TREE)
