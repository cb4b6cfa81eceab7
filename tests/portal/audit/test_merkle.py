"""The RFC 9162 Merkle tree: the portal's implementation and the standalone verifier's agree with the Certificate
Transparency reference vectors and with the RFC's recursive definition, and refuse tampered proofs."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import pytest

from portal.audit import merkle

TOOL_PATH = Path(__file__).resolve().parents[3] / "tools" / "verify_audit_proof.py"


def _load_tool():
    spec = importlib.util.spec_from_file_location("verify_audit_proof", TOOL_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()

# Certificate Transparency's reference tree (RFC 6962 test data): leaf inputs, and the root over the first n.
CT_LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                         "606162636465666768696a6b6c6d6e6f")]  # fmt: skip
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf index, tree size, audit path) from the same reference suite.
CT_PATHS = [
    (0, 1, []),
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip


def reference_root(data: list[bytes]) -> bytes:
    """MTH as RFC 9162 §2.1.1 writes it, recursively."""
    n = len(data)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + reference_root(data[:k]) + reference_root(data[k:])).digest()


def reference_path(m: int, data: list[bytes]) -> list[bytes]:
    """PATH as RFC 9162 §2.1.3.1 writes it, recursively."""
    n = len(data)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*reference_path(m, data[:k]), reference_root(data[k:])]
    return [*reference_path(m - k, data[k:]), reference_root(data[:k])]


@pytest.mark.parametrize("n", range(len(CT_ROOTS)))
def test_roots_match_the_certificate_transparency_reference_tree(n):
    assert merkle.root_of(merkle.leaf_hash(x) for x in CT_LEAVES[:n]).hex() == CT_ROOTS[n]


@pytest.mark.parametrize(("index", "size", "path"), CT_PATHS)
def test_audit_paths_match_the_reference_and_verify_in_both_implementations(index, size, path):
    leaves = [merkle.leaf_hash(x) for x in CT_LEAVES[:size]]
    proof, own, root = merkle.inclusion_proof(index, size, iter(leaves))
    assert [p.hex() for p in proof] == path
    assert root.hex() == CT_ROOTS[size]
    assert merkle.verify_inclusion(index, size, own, proof, root)
    assert tool.verify_inclusion(index, size, own, proof, root)


@pytest.mark.parametrize("size", range(1, 21))
def test_every_leaf_of_trees_of_1_to_20_leaves_has_a_proof_that_verifies(size):
    data = [f"event {i}".encode() for i in range(size)]
    leaves = [merkle.leaf_hash(x) for x in data]
    root = reference_root(data)
    assert merkle.root_of(leaves) == root
    for index in range(size):
        proof, own, computed_root = merkle.inclusion_proof(index, size, iter(leaves))
        assert computed_root == root
        assert proof == reference_path(index, data)
        assert merkle.verify_inclusion(index, size, own, proof, root)
        assert tool.verify_inclusion(index, size, own, proof, root)


@pytest.mark.parametrize("size", [2, 3, 5, 7, 8, 13, 20])
def test_tampered_leaf_sibling_index_or_size_is_refused_by_both_implementations(size):
    leaves = [merkle.leaf_hash(f"e{i}".encode()) for i in range(size)]
    for index in range(size):
        proof, own, root = merkle.inclusion_proof(index, size, iter(leaves))
        other_leaf = merkle.leaf_hash(b"tampered")
        cases = [(index, size, other_leaf, proof)]
        for i in range(len(proof)):
            changed = list(proof)
            changed[i] = bytes([changed[i][0] ^ 1]) + changed[i][1:]
            cases.append((index, size, own, changed))
        # A size that changes the tree's height no longer fits the path. (A size of the same shape can: the
        # size is bound by the signed checkpoint statement, which tree_size is part of.)
        cases.append((index, size * 2, own, proof))
        cases.append((index, index, own, proof))  # the leaf outside the tree
        cases.append(((index + 1) % size, size, own, proof))
        cases.append((index, size, own, [*proof, own]))  # one hash too many
        if proof:
            cases.append((index, size, own, proof[:-1]))  # one too few
        for case in cases:
            assert not merkle.verify_inclusion(*case, root), case[:2]
            assert not tool.verify_inclusion(*case, root), case[:2]


def test_a_moved_index_in_a_tree_where_its_path_still_fits_is_refused():
    # In a tree of 4, leaves 0 and 1 share a path length; the sibling order betrays the swap.
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(4)]
    proof, own, root = merkle.inclusion_proof(0, 4, iter(leaves))
    assert not merkle.verify_inclusion(1, 4, own, proof, root)
    assert not tool.verify_inclusion(1, 4, own, proof, root)


def test_empty_tree_has_the_hash_of_nothing_as_root_and_no_leaves_to_prove():
    assert merkle.root_of([]) == hashlib.sha256(b"").digest()
    with pytest.raises(IndexError):
        merkle.inclusion_proof(0, 0, iter([]))
    assert not merkle.verify_inclusion(0, 0, merkle.leaf_hash(b""), [], merkle.EMPTY_ROOT)


def test_proof_over_too_few_leaves_is_refused():
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(5)]
    with pytest.raises(ValueError, match="only 4 of 5"):
        merkle.inclusion_proof(1, 5, iter(leaves[:4]))


def test_streamed_root_needs_only_logarithmic_memory():
    builder = merkle.RootBuilder()
    for i in range(1000):
        builder.add(merkle.leaf_hash(i.to_bytes(4, "big")))
        assert len(builder._stack) == bin(builder.size).count("1")  # one subtree per set bit
    assert builder.root() == reference_root([i.to_bytes(4, "big") for i in range(1000)])
