"""Merkle proofs (RFC 9162) and Ed25519 (RFC 8032), checked against plain definitions."""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from chorus.evidence import merkle
from chorus.evidence.offline import ed25519
from chorus.evidence.offline.proofs import (
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 MTH, written exactly as the RFC defines it (recursive)."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n <= 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [mth(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*subproof(m, leaves[:k], complete), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def leaves_of(n: int) -> list[bytes]:
    return [leaf_hash(f"entry {i}".encode()) for i in range(n)]


def stored_fetch(leaves: list[bytes]) -> merkle.Fetch:
    """Every complete subtree of the tree, as the ledger stores them."""

    def fetch(needed: set[merkle.Piece]) -> dict[merkle.Piece, bytes]:
        return {
            (h, i): mth(leaves[i << h : (i + 1) << h])
            for h, i in needed
            if (i + 1) << h <= len(leaves)
        }

    return fetch


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 70), st.data())
def test_inclusion_proofs_match_the_rfc_definition(n: int, data: st.DataObject) -> None:
    leaves = leaves_of(n)
    m = data.draw(st.integers(0, n - 1))
    size = data.draw(st.integers(m + 1, n))
    proof = merkle.range_hashes(merkle.inclusion_ranges(m, size), stored_fetch(leaves))
    assert proof == path(m, leaves[:size])
    root = mth(leaves[:size])
    assert verify_inclusion(m, size, leaves[m], proof, root)
    assert not verify_inclusion(m, size, leaf_hash(b"forged"), proof, root)
    if size > 1:
        assert not verify_inclusion((m + 1) % size, size, leaves[m], proof, root)
    if proof:
        bent = [*proof]
        bent[-1] = hashlib.sha256(bent[-1]).digest()
        assert not verify_inclusion(m, size, leaves[m], bent, root)


@settings(max_examples=150, deadline=None)
@given(st.integers(2, 70), st.data())
def test_consistency_proofs_match_the_rfc_definition(n: int, data: st.DataObject) -> None:
    leaves = leaves_of(n)
    old = data.draw(st.integers(1, n - 1))
    proof = merkle.range_hashes(merkle.consistency_ranges(old, n), stored_fetch(leaves))
    assert proof == subproof(old, leaves, True)
    old_root, new_root = mth(leaves[:old]), mth(leaves)
    assert verify_consistency(old, n, old_root, new_root, proof)
    assert not verify_consistency(old, n, leaf_hash(b"x"), new_root, proof)
    assert not verify_consistency(old, n, old_root, leaf_hash(b"x"), proof)
    rewritten = leaves_of(n)
    rewritten[old - 1] = leaf_hash(b"history rewritten")
    assert not verify_consistency(old, n, old_root, mth(rewritten), proof)


@given(st.integers(0, 300))
def test_frontier_root_equals_the_recursive_definition(n: int) -> None:
    leaves = leaves_of(n)
    frontier = merkle.Frontier(0, [])
    for leaf in leaves:
        frontier.append(leaf)
    assert frontier.root() == mth(leaves) == root_from_leaf_hashes(leaves)
    again = merkle.Frontier.from_bytes(n, frontier.to_bytes())
    assert again.root() == frontier.root()


def test_rfc8032_test_vector_1() -> None:
    public = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    signature = bytes.fromhex(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )
    assert ed25519.verify_pure(public, b"", signature)
    assert not ed25519.verify_pure(public, b"x", signature)


@settings(max_examples=25, deadline=None)
@given(st.binary(max_size=300), st.integers(0, 63))
def test_pure_ed25519_agrees_with_cryptography(message: bytes, flip: int) -> None:
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes_raw()
    signature = key.sign(message)
    assert ed25519.verify_pure(public, message, signature)
    assert ed25519.verify(public, message, signature)
    bad = bytearray(signature)
    bad[flip] ^= 1
    assert not ed25519.verify_pure(public, message, bytes(bad))
    assert not ed25519.verify(public, message, bytes(bad))
    assert not ed25519.verify_pure(public, message + b"!", signature)
