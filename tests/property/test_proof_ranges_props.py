"""Inclusion proofs that share remembered sibling hashes are the proofs computed afresh."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.merkle import MemoryTree, inclusion_proof, leaf_hash, verify_inclusion

LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(700)]
TREE = MemoryTree(LEAVES)


@settings(max_examples=150, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 700), min_size=1, max_size=4),
    picks=st.lists(st.integers(0, 10**6), min_size=1, max_size=30),
)
def test_shared_ranges_give_the_same_proofs(sizes: list[int], picks: list[int]) -> None:
    """However many proofs, of whichever entries in trees of whichever sizes, share one
    ``ranges`` memo, each is exactly the proof computed without it, and verifies."""
    ranges: dict[tuple[int, int], bytes] = {}
    for size in sorted(sizes):
        root = TREE.root(size)
        for pick in picks:
            index = pick % size
            shared = inclusion_proof(index, size, TREE, ranges)
            assert shared == inclusion_proof(index, size, TREE)
            verify_inclusion(LEAVES[index], index, size, shared, root)
