"""The ledger's Merkle tree on disk: the right edge for appends, stored subtrees for proofs.

Every complete subtree of height >= 1 is stored once, when it completes (on average one row
per append); leaves are the entries' own hashes. Any range the RFC 9162 proof algorithms
ask about is aligned, so its hash is a right fold of at most log2(n) stored subtrees, and a
proof for any entry of a tree of any past size needs one batched read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from chorus.evidence.offline.proofs import node_hash, sha256

HEIGHT_SHIFT = 40  # node key = height << 40 | index: room for 10^12 entries

Piece = tuple[int, int]  # (height, index) of a complete subtree
Range = tuple[int, int]  # [start, end) of leaves
Fetch = Callable[[set[Piece]], dict[Piece, bytes]]


def node_key(height: int, index: int) -> int:
    return (height << HEIGHT_SHIFT) | index


def pieces(start: int, end: int) -> list[Piece]:
    """The aligned complete subtrees that make up [start, end), largest first."""
    out: list[Piece] = []
    size, position = end - start, start
    for height in reversed(range(size.bit_length())):
        if size >> height & 1:
            out.append((height, position >> height))
            position += 1 << height
    return out


def _split(size: int) -> int:
    """Largest power of two smaller than ``size`` (RFC 9162's k)."""
    return 1 << ((size - 1).bit_length() - 1)


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges whose hashes form PATH(index, D[0:size]), in proof order."""
    out: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
    out.reverse()
    return out


def consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """The ranges whose hashes form PROOF(old_size, D[0:new_size]), in proof order."""
    out: list[Range] = []
    if old_size <= 0 or old_size >= new_size:
        return out
    m, start, end, complete = old_size, 0, new_size, True
    while True:
        n = end - start
        if m == n:
            if not complete:
                out.append((start, end))
            break
        k = _split(n)
        if m <= k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            m -= k
            start += k
            complete = False
    out.reverse()
    return out


def range_hashes(ranges: Iterable[Range], fetch: Fetch) -> list[bytes]:
    """The Merkle hash of each range, reading every stored subtree needed in one fetch."""
    ranges = list(ranges)
    needed = {piece for r in ranges for piece in pieces(*r)}
    stored = fetch(needed) if needed else {}
    out = []
    for r in ranges:
        values = [stored[p] for p in pieces(*r)]
        value = values[-1]
        for left in reversed(values[:-1]):
            value = node_hash(left, value)
        out.append(value)
    return out


class Frontier:
    """The complete subtrees along the right edge of a tree of ``size`` leaves."""

    def __init__(self, size: int, hashes: list[bytes]) -> None:
        heights = [h for h in reversed(range(size.bit_length())) if size >> h & 1]
        if len(heights) != len(hashes):
            raise ValueError("frontier does not match the tree size")
        self.size = size
        self._edge = list(zip(heights, hashes, strict=True))

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> Frontier:
        return cls(size, [data[i : i + 32] for i in range(0, len(data), 32)])

    def to_bytes(self) -> bytes:
        return b"".join(value for _h, value in self._edge)

    def append(self, leaf: bytes) -> list[tuple[int, bytes]]:
        """Add a leaf; return the (node key, hash) of every subtree it completes."""
        index, height, value = self.size, 0, leaf
        completed = []
        while self._edge and self._edge[-1][0] == height:
            value = node_hash(self._edge.pop()[1], value)
            height += 1
            completed.append((node_key(height, index >> height), value))
        self._edge.append((height, value))
        self.size += 1
        return completed

    def root(self) -> bytes:
        if not self._edge:
            return sha256(b"")
        value = self._edge[-1][1]
        for _height, left in reversed(self._edge[:-1]):
            value = node_hash(left, value)
        return value
