"""Merkle tree hashing and proof verification (RFC 9162 section 2.1), and the entry chain.

Standard library only: this file is copied into every evidence bundle so that anyone can
check the bundle on a machine that has nothing but Python.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

ZERO_HASH = bytes(32)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || entry)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def canonical_json(value: Any) -> bytes:
    """One byte string per value: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def payload_digest(salt: bytes, payload: Any) -> str:
    """Digest of an event's payload, salted so a known payload cannot be confirmed from it."""
    return hashlib.sha256(salt + canonical_json(payload)).hexdigest()


def root_from_leaf_hashes(leaves: Iterable[bytes]) -> bytes:
    """Merkle tree head of a whole list of leaf hashes (RFC 9162 MTH), in one pass."""
    frontier: list[tuple[int, bytes]] = []  # (height, hash) of complete subtrees, left to right
    count = 0
    for leaf in leaves:
        count += 1
        height, value = 0, leaf
        while frontier and frontier[-1][0] == height:
            value = node_hash(frontier.pop()[1], value)
            height += 1
        frontier.append((height, value))
    if count == 0:
        return sha256(b"")
    value = frontier[-1][1]
    for _height, left in reversed(frontier[:-1]):
        value = node_hash(left, value)
    return value


def verify_inclusion(
    leaf_index: int, tree_size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 2.1.3.2: is ``leaf`` (a leaf hash) at ``leaf_index`` of the tree with ``root``?"""
    if leaf_index < 0 or leaf_index >= tree_size:
        return False
    fn, sn = leaf_index, tree_size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2: is the tree of ``size2`` an append-only extension of ``size1``?"""
    if size1 < 0 or size1 > size2:
        return False
    if size1 == size2:
        return not proof and root1 == root2
    if size1 == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == root1 and sr == root2 and sn == 0


def check_chain(bodies: Iterable[bytes], first_prev: bytes = ZERO_HASH) -> int | None:
    """Walk consecutive entry bodies; return the position of the first broken link, or None.

    Each entry body names the leaf hash of the entry before it (``prev``), so the entries
    form a hash chain besides the Merkle tree.
    """
    prev = first_prev
    for position, body in enumerate(bodies):
        entry = json.loads(body)
        if entry.get("prev") != prev.hex():
            return position
        prev = leaf_hash(body)
    return None
