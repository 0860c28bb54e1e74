"""The in-memory index of banked photos' local features (:mod:`chorus.fingerprint.local`).

A lookup finds **candidates** by their descriptors and then runs the full geometric check
(:func:`chorus.fingerprint.local.verify`) on each, so what it returns is exactly what
checking the copy against every banked photo would return, for every photo it proposes.

Candidates come from hash tables over fixed subsets of the 64 descriptor bits
(locality-sensitive hashing for Hamming space): a banked corner is filed under
:data:`TABLES` keys, each made of :data:`KEY_BITS` of its bits, and a copy's corner
probes the same keys and every key one bit away. A photo is a candidate when at least
:data:`MIN_VOTES` of its corners were hit. A verified match needs at least
``local.MIN_INLIERS`` corners within ``local.RADIUS`` bits, most of which collide in some
table, so missing one in the tables costs nothing; ``benchmarks/bench_local_lookup.py``
measures what is lost against checking every photo.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from chorus.fingerprint.local import LocalFeatures, LocalMatch, best_match

TABLES: Final = 4
KEY_BITS: Final = 22
MIN_VOTES: Final = 3
#: At most this many candidates (most votes first) are checked per copy.
MAX_CANDIDATES: Final = 32

_rng = np.random.default_rng(0x10CA1)
#: The bit positions of each table's key (fixed: an index is rebuilt the same way).
_KEY_POSITIONS: Final = [
    np.sort(_rng.choice(64, size=KEY_BITS, replace=False)) for _ in range(TABLES)
]


def _keys(descriptors: npt.NDArray[np.uint64], positions: npt.NDArray[np.int64]) -> np.ndarray:
    bits = (descriptors[:, None] >> positions[None, :].astype(np.uint64)) & np.uint64(1)
    weights = np.uint64(1) << np.arange(len(positions), dtype=np.uint64)
    keys: np.ndarray = (bits * weights[None, :]).sum(axis=1).astype(np.int64)
    return keys


class LocalIndex:
    """Banked photos' local features by key (a bank signal's row id, say)."""

    def __init__(self) -> None:
        self._features: dict[int, LocalFeatures] = {}
        self._tables: list[dict[int, list[int]]] = [{} for _ in range(TABLES)]

    def __len__(self) -> int:
        return len(self._features)

    def add(self, key: int, features: LocalFeatures) -> None:
        if key in self._features:
            self.remove(key)
        self._features[key] = features
        for table, positions in zip(self._tables, _KEY_POSITIONS, strict=True):
            for k in set(_keys(features.descriptors, positions).tolist()):
                table.setdefault(k, []).append(key)

    def remove(self, key: int) -> None:
        features = self._features.pop(key, None)
        if features is None:
            return
        for table, positions in zip(self._tables, _KEY_POSITIONS, strict=True):
            for k in set(_keys(features.descriptors, positions).tolist()):
                owners = table.get(k)
                if owners is not None and key in owners:
                    owners.remove(key)
                    if not owners:
                        del table[k]

    def candidates(self, queries: list[LocalFeatures]) -> list[int]:
        """Keys of photos sharing at least :data:`MIN_VOTES` corners' keys with a copy,
        most votes first."""
        votes: dict[int, set[tuple[int, int]]] = {}
        flips = np.uint64(1) << np.arange(KEY_BITS, dtype=np.uint64)
        for q, query in enumerate(queries):
            for table, positions in zip(self._tables, _KEY_POSITIONS, strict=True):
                keys = _keys(query.descriptors, positions)
                probes = np.concatenate(
                    [keys[:, None], keys[:, None] ^ flips[None, :].astype(np.int64)], axis=1
                )
                for corner, row in enumerate(probes.tolist()):
                    for k in row:
                        for owner in self._tables_get(table, k):
                            votes.setdefault(owner, set()).add((q, corner))
        ranked = sorted(
            (key for key, hit in votes.items() if len(hit) >= MIN_VOTES),
            key=lambda key: -len(votes[key]),
        )
        return ranked[:MAX_CANDIDATES]

    @staticmethod
    def _tables_get(table: dict[int, list[int]], k: int) -> list[int]:
        return table.get(k, [])

    def search(self, queries: list[LocalFeatures]) -> list[tuple[int, LocalMatch]]:
        """Keys of the banked photos a copy (its feature sets) verifiably shows, with the
        match, strongest first."""
        out = []
        for key in self.candidates(queries):
            match = best_match(self._features[key], queries)
            if match is not None:
                out.append((key, match))
        out.sort(key=lambda item: (-item[1].inliers, -item[1].share, item[0]))
        return out

    def brute_force(self, queries: list[LocalFeatures]) -> list[tuple[int, LocalMatch]]:
        """What :meth:`search` would return if every banked photo were checked."""
        out = []
        for key, features in self._features.items():
            match = best_match(features, queries)
            if match is not None:
                out.append((key, match))
        out.sort(key=lambda item: (-item[1].inliers, -item[1].share, item[0]))
        return out
