"""RFC 6962 hashing and proofs: known answers from transparency-dev/merkle and C2SP merkle-tree."""

from __future__ import annotations

import hashlib

import pytest

from ledger.core.errors import NotFoundError, ProofError
from ledger.core.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_at,
    root_from_inclusion_proof,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

# transparency-dev/merkle proof/verify_test.go: leaves and the roots of trees of size 1..8.
LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
ROOTS = [
    bytes.fromhex(h)
    for h in [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
]
TREE = MemoryTree([leaf_hash(x) for x in LEAVES])


def _h(*hexes: str) -> list[bytes]:
    return [bytes.fromhex(x) for x in hexes]


def _reference_mth(hashes: list[bytes]) -> bytes:
    """RFC 6962 §2.1 MTH, written recursively as the RFC says it."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return node_hash(_reference_mth(hashes[:k]), _reference_mth(hashes[k:]))


def test_empty_root() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root_from_leaf_hashes([]) == EMPTY_ROOT == root_at(0, MemoryTree())


@pytest.mark.parametrize("size", range(1, 9))
def test_known_roots(size: int) -> None:
    assert root_from_leaf_hashes([leaf_hash(x) for x in LEAVES[:size]]) == ROOTS[size - 1]
    assert TREE.root(size) == ROOTS[size - 1]


@pytest.mark.parametrize("size", range(0, 40))
def test_root_matches_recursive_definition(size: int) -> None:
    leaves = [leaf_hash(bytes([i])) for i in range(size)]
    assert root_from_leaf_hashes(leaves) == _reference_mth(leaves) == MemoryTree(leaves).root()


@pytest.mark.parametrize(
    ("index", "size", "proof"),
    [
        (
            0,
            8,
            _h(
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ),
        ),
        (
            5,
            8,
            _h(
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ),
        ),
        (2, 3, _h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")),
        (
            1,
            5,
            _h(
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ),
        ),
        (0, 1, []),
    ],
)
def test_known_inclusion_proofs(index: int, size: int, proof: list[bytes]) -> None:
    assert inclusion_proof(index, size, TREE) == proof
    verify_inclusion(leaf_hash(LEAVES[index]), index, size, proof, ROOTS[size - 1])


@pytest.mark.parametrize(
    ("size1", "size2", "proof"),
    [
        (1, 1, []),
        (
            1,
            8,
            _h(
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ),
        ),
        (
            6,
            8,
            _h(
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ),
        ),
        (
            2,
            5,
            _h(
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ),
        ),
        (
            6,
            7,
            _h(
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ),
        ),
    ],
)
def test_known_consistency_proofs(size1: int, size2: int, proof: list[bytes]) -> None:
    assert consistency_proof(size1, size2, TREE) == proof
    verify_consistency(size1, size2, proof, ROOTS[size1 - 1], ROOTS[size2 - 1])


def test_c2sp_merkle_tree_example() -> None:
    """The 7-entry example of c2sp.org/merkle-tree, labels as in the spec."""
    a, b, c, d, e, f, g = (leaf_hash(bytes([i])) for i in range(7))
    h, i, j = node_hash(a, b), node_hash(c, d), node_hash(e, f)
    k, l = node_hash(h, i), node_hash(j, g)  # noqa: E741 - the spec's label
    tree = MemoryTree([a, b, c, d, e, f, g])
    assert tree.root() == node_hash(k, l)
    assert inclusion_proof(0, 7, tree) == [b, i, l]
    assert inclusion_proof(3, 7, tree) == [c, h, l]
    assert inclusion_proof(4, 7, tree) == [f, g, k]
    assert inclusion_proof(6, 7, tree) == [j, k]
    assert consistency_proof(3, 7, tree) == [c, d, h, l]
    assert consistency_proof(4, 7, tree) == [l]
    assert consistency_proof(6, 7, tree) == [j, g, k]


def test_root_from_inclusion_proof() -> None:
    proof = inclusion_proof(3, 7, TREE)
    assert root_from_inclusion_proof(leaf_hash(LEAVES[3]), 3, 7, proof) == ROOTS[6]


@pytest.mark.parametrize(("index", "size"), [(-1, 3), (3, 3), (0, 0)])
def test_inclusion_proof_out_of_range(index: int, size: int) -> None:
    with pytest.raises(ProofError):
        inclusion_proof(index, size, TREE)


@pytest.mark.parametrize(("size1", "size2"), [(0, 3), (4, 3), (-1, 2)])
def test_consistency_proof_out_of_range(size1: int, size2: int) -> None:
    with pytest.raises(ProofError):
        consistency_proof(size1, size2, TREE)


def test_failures_explain_in_both_languages() -> None:
    proof = inclusion_proof(2, 8, TREE)
    with pytest.raises(ProofError) as info:
        verify_inclusion(leaf_hash(LEAVES[2]), 2, 8, proof, ROOTS[6])
    assert "index 2" in info.value.message("en")
    assert "序号 2" in info.value.message("zh-CN")
    with pytest.raises(ProofError) as info:
        verify_consistency(3, 8, consistency_proof(3, 8, TREE), ROOTS[2], ROOTS[6])
    assert "new root" in info.value.message("en")


def test_same_size_different_roots_is_refused() -> None:
    with pytest.raises(ProofError, match="different roots"):
        verify_consistency(5, 5, [], ROOTS[4], ROOTS[3])


def test_proof_hash_of_wrong_length_is_refused() -> None:
    proof = inclusion_proof(2, 8, TREE)
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(LEAVES[2]), 2, 8, [*proof[:2], proof[2] + b"\x00"], ROOTS[7])


def test_memory_tree_hash_at() -> None:
    assert TREE.hash_at(0, 7) == leaf_hash(LEAVES[7])
    assert TREE.hash_at(3, 0) == ROOTS[7]
    with pytest.raises(NotFoundError):
        TREE.hash_at(3, 1)
    with pytest.raises(ProofError):
        MemoryTree([b"short"])
