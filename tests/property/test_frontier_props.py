"""The write path's frontier gives the same roots as the tree itself, however it grew."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.core.merkle import EMPTY_ROOT, MemoryTree, leaf_hash
from ledger.store.frontier import Frontier

LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(1100)]
TREE = MemoryTree(LEAVES)


@settings(max_examples=200, deadline=None)
@given(start=st.integers(0, 1099), batches=st.lists(st.integers(1, 80), max_size=6))
def test_frontier_root_is_the_tree_root_after_every_batch(start: int, batches: list[int]) -> None:
    """Started from the stored tree at any size, then appended in batches of any sizes, the
    frontier's root is MTH(D[0:size]) after each batch; a copy is not changed by appends."""
    frontier = Frontier.from_hashes(start, TREE)
    assert frontier.size == start
    assert frontier.root() == TREE.root(start)
    size = start
    for count in batches:
        before = frontier.copy()
        for leaf in LEAVES[size : size + count]:
            frontier.append(leaf)
        size = min(size + count, len(LEAVES))
        assert frontier.size == size
        assert frontier.root() == TREE.root(size)
        assert before.root() == TREE.root(before.size)


def test_empty_frontier_is_the_empty_root() -> None:
    assert Frontier().root() == EMPTY_ROOT
    assert Frontier.from_hashes(0, TREE).root() == EMPTY_ROOT
