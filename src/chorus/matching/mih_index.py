"""Exact PDQ range search by multi-index hashing (Norouzi, Punjani and Fleet, 2012).

The 256 bits are cut into ``m`` disjoint chunks. If two codes differ in at most ``r`` bits,
at least one chunk differs in at most ``floor(r / m)`` bits (otherwise the total would
exceed r): so the entries found by looking up, in every chunk's table, every key within
``floor(r / m)`` of the query's chunk are a superset of the answer. Each candidate is then
verified with its full distance, so the result is exact: every entry within r, nothing
else (property-tested against :mod:`chorus.matching.linear_index`).

Layout, per chunk: ``order`` (positions sorted by chunk value, uint32) and ``offsets``
(2**bits + 1 uint32, a CSR index into ``order``), plus ``codes`` (n x 32 bytes), ``ids``
(int64) and ``alive`` (tombstones). m is chosen so a chunk has about log2(n) bits, which
keeps both the probes and the candidates per query small. Additions go to a small linear
delta, folded in by :meth:`compact` (automatically past ``delta_limit``). Persistence is
``.npy`` files loaded memory-mapped: no pickle, and serving starts as soon as they map.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import shutil
import tempfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from chorus.matching.linear_index import CODE_BYTES, Codes, Ids, LinearPdqIndex, as_codes, as_ids

BITS = 256
_BLOCK = 1 << 20


def plan(n: int, radius: int) -> list[int]:
    """Chunk widths (summing to 256) for n entries at this radius."""
    target = min(26, max(10, round(math.log2(max(n, 2)))))
    chunks = max(1, BITS // target)
    while radius // chunks > 2 and chunks < 64:  # keep probes per chunk small
        chunks += 1
    base, extra = divmod(BITS, chunks)
    return [base + 1] * extra + [base] * (chunks - extra)


@lru_cache(maxsize=64)
def _masks(bits: int, radius: int) -> npt.NDArray[np.uint32]:
    out = [0]
    for r in range(1, radius + 1):
        for combo in itertools.combinations(range(bits), r):
            out.append(sum(1 << b for b in combo))
    return np.asarray(out, dtype=np.uint32)


def _chunk_values(codes: Codes, widths: Sequence[int]) -> npt.NDArray[np.uint32]:
    """(n, m) chunk values, most significant bits first."""
    bits = np.unpackbits(codes, axis=1)
    out = np.empty((len(codes), len(widths)), dtype=np.uint32)
    start = 0
    for j, width in enumerate(widths):
        weights = (1 << np.arange(width - 1, -1, -1, dtype=np.uint64)).astype(np.uint64)
        out[:, j] = (bits[:, start : start + width].astype(np.uint64) @ weights).astype(np.uint32)
        start += width
    return out


def _words(codes: Codes) -> npt.NDArray[np.uint64]:
    return codes.view(np.uint64).reshape(len(codes), 4)


class MihPdqIndex:
    def __init__(self, radius: int = 31, delta_limit: int = 20_000) -> None:
        self.radius = radius
        self.delta_limit = delta_limit
        self._codes: Codes = np.empty((0, CODE_BYTES), dtype=np.uint8)
        self._ids: Ids = np.empty(0, dtype=np.int64)
        self._alive: npt.NDArray[np.bool_] = np.empty(0, dtype=bool)
        self._widths: list[int] = plan(0, radius)
        self._order: list[npt.NDArray[np.uint32]] = []
        self._offsets: list[npt.NDArray[np.uint32]] = []
        self._delta = LinearPdqIndex(radius)
        self._build()

    # -- size and membership --------------------------------------------------------------
    def __len__(self) -> int:
        return int(self._alive.sum()) + len(self._delta)

    def ids(self) -> Ids:
        return np.concatenate([self._ids[self._alive], self._delta.ids()])

    def nbytes(self) -> int:
        """Memory held by the index arrays (codes, ids, chunk tables, delta)."""
        arrays: list[npt.NDArray[np.generic]] = [self._codes, self._ids, self._alive]
        arrays += [*self._order, *self._offsets]
        return sum(int(a.nbytes) for a in arrays) + int(self._delta._codes.nbytes) * 2

    # -- changes --------------------------------------------------------------------------
    def add(self, ids: Sequence[int] | npt.ArrayLike, codes: npt.ArrayLike) -> None:
        new_ids, new_codes = as_ids(ids), as_codes(codes)
        if np.isin(new_ids, self._ids[self._alive]).any():
            raise ValueError("ids must be unique")
        self._delta.add(new_ids, new_codes)
        if len(self._delta) > self.delta_limit:
            self.compact()

    def remove(self, ids: Sequence[int] | npt.ArrayLike) -> None:
        gone = as_ids(ids)
        self._delta.remove(gone)
        if len(self._ids):
            hit = np.isin(self._ids, gone)
            if hit.any():
                if not self._alive.flags.writeable:
                    self._alive = self._alive.copy()
                self._alive[hit] = False

    def compact(self) -> None:
        """Fold the delta and drop tombstones, rebuilding the chunk tables."""
        keep = self._alive
        self._codes = np.concatenate([np.asarray(self._codes)[keep], self._delta._codes])
        self._ids = np.concatenate([np.asarray(self._ids)[keep], self._delta._ids])
        self._alive = np.ones(len(self._ids), dtype=bool)
        self._delta = LinearPdqIndex(self.radius)
        self._build()

    def _build(self) -> None:
        n = len(self._ids)
        self._widths = plan(n, self.radius)
        self._order, self._offsets = [], []
        if n == 0:
            return
        values = np.concatenate(
            [_chunk_values(self._codes[s : s + _BLOCK], self._widths) for s in range(0, n, _BLOCK)]
        )
        for j, width in enumerate(self._widths):
            column = values[:, j]
            self._order.append(np.argsort(column, kind="stable").astype(np.uint32))
            counts = np.bincount(column, minlength=1 << width)
            offsets = np.zeros((1 << width) + 1, dtype=np.uint32)
            np.cumsum(counts, out=offsets[1:])
            self._offsets.append(offsets)

    # -- search ---------------------------------------------------------------------------
    def search(
        self, codes: npt.ArrayLike, radius: int | None = None
    ) -> list[list[tuple[int, int]]]:
        queries = as_codes(codes)
        limit = self.radius if radius is None else radius
        results = self._delta.search(queries, limit) if len(self._delta) else None
        main = self._search_main(queries, limit)
        if results is None:
            return main
        return [
            sorted(a + b, key=lambda p: (p[1], p[0])) for a, b in zip(main, results, strict=True)
        ]

    def _search_main(self, queries: Codes, limit: int) -> list[list[tuple[int, int]]]:
        out: list[list[tuple[int, int]]] = [[] for _ in range(len(queries))]
        if len(self._ids) == 0 or len(queries) == 0:
            return out
        chunk_radius = limit // len(self._widths)
        qvalues = _chunk_values(queries, self._widths)
        query_of, position = [], []
        for j, width in enumerate(self._widths):
            keys = qvalues[:, j, None] ^ _masks(width, chunk_radius)[None, :]
            starts = self._offsets[j][keys].ravel().astype(np.int64)
            ends = self._offsets[j][keys + 1].ravel().astype(np.int64)
            lengths = ends - starts
            total = int(lengths.sum())
            if total == 0:
                continue
            owner = np.repeat(np.repeat(np.arange(len(queries)), keys.shape[1]), lengths)
            steps = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            query_of.append(owner)
            position.append(self._order[j][np.repeat(starts, lengths) + steps].astype(np.int64))
        if not query_of:
            return out
        # Verify every candidate (a code found through two chunks is checked twice, which
        # costs less than de-duplicating all candidates); de-duplicate only the hits.
        q, p = np.concatenate(query_of), np.concatenate(position)
        distance = np.zeros(len(p), dtype=np.int64)
        stored, asked = _words(np.asarray(self._codes))[p], _words(queries)[q]
        for word in range(4):
            distance += np.bitwise_count(stored[:, word] ^ asked[:, word])
        hit = (distance <= limit) & np.asarray(self._alive)[p]
        _, first = np.unique(q[hit] * len(self._ids) + p[hit], return_index=True)
        q, p, distance = q[hit][first], p[hit][first], distance[hit][first]
        ids = np.asarray(self._ids)[p]
        order = np.lexsort((ids, distance, q))
        for qi, ident, dist in zip(
            q[order].tolist(), ids[order].tolist(), distance[order].tolist(), strict=True
        ):
            out[qi].append((ident, dist))
        return out

    # -- persistence ----------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        self.compact()
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=directory.parent, prefix=".index-"))
        np.save(staging / "codes.npy", self._codes, allow_pickle=False)
        np.save(staging / "ids.npy", self._ids, allow_pickle=False)
        for j in range(len(self._widths)):
            np.save(staging / f"order-{j}.npy", self._order[j], allow_pickle=False)
            np.save(staging / f"offsets-{j}.npy", self._offsets[j], allow_pickle=False)
        meta = {"kind": "mih", "radius": self.radius, "widths": self._widths}
        (staging / "meta.json").write_text(json.dumps(meta))
        if directory.exists():
            shutil.rmtree(directory)
        os.replace(staging, directory)

    @classmethod
    def load(cls, directory: Path, mmap: bool = True) -> MihPdqIndex:
        meta = json.loads((directory / "meta.json").read_text())
        mode: Literal["r"] | None = "r" if mmap else None
        index = cls(radius=int(meta["radius"]))
        index._codes = np.load(directory / "codes.npy", mmap_mode=mode, allow_pickle=False)
        index._ids = np.load(directory / "ids.npy", mmap_mode=mode, allow_pickle=False)
        index._alive = np.ones(len(index._ids), dtype=bool)
        index._widths = [int(w) for w in meta["widths"]]
        index._order = [
            np.load(directory / f"order-{j}.npy", mmap_mode=mode, allow_pickle=False)
            for j in range(len(index._widths))
        ]
        index._offsets = [
            np.load(directory / f"offsets-{j}.npy", mmap_mode=mode, allow_pickle=False)
            for j in range(len(index._widths))
        ]
        return index
