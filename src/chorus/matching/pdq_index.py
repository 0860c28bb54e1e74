"""Exact in-memory PDQ range index: multi-index hashing (Norouzi, Punjani and Fleet, 2012).

**Algorithm.** The 256 bits of a code are dealt into ``m`` disjoint chunks (``m`` about
256 / log2(n), so a chunk has about log2(n) bits: 11 chunks of 23-24 bits at 10M entries;
bit p goes to chunk p mod m, which spreads PDQ's correlated neighbouring bits and measured
faster than contiguous chunks on PDQ-derived codes). Each chunk has a table mapping every
chunk value to the rows holding it. A query looks up, in each chunk's table, every key
within a small chunk radius of the query's own chunk value; the rows found are candidates,
each verified with its full 256-bit distance.

**Exactness.** Write the query radius as ``r = s*m + a`` (0 <= a < m) and search a+1
chunks at radius s and the other m-a-1 at radius s-1. A code that is missed differs by at
least s+1 bits in each of the first a+1 chunks and at least s in each of the others, so by
at least (a+1)(s+1) + (m-a-1)s = r+1 bits in all: it is not within r. So the candidates are
a superset of the answer, and verification removes exactly the codes beyond r: the result is
every active entry within r, nothing else (property-tested against :func:`brute_force`).
When the probes would cost more than reading every code (large radii), the C core scans
instead; that is exact too.

**Memory layout** (n entries, all numpy arrays): ``ids`` int64 sorted ascending (so an id's
row is found by binary search), ``codes`` uint8 (n, 32), ``removed`` uint8 tombstones, and
per chunk j a CSR table: ``offsets[base[j] : base[j] + 2**bits[j] + 1]`` (uint32) into
``rows[j*n : (j+1)*n]`` (uint32 row numbers ordered by chunk value). At 10M entries:
320 MB of codes, 440 MB of rows, 470 MB of offsets, 90 MB of ids and tombstones (1.32 GB).
Additions go to a small delta scanned linearly by the C core, so they match at once;
:meth:`PdqIndex.compact` folds the delta and the tombstones into new tables (automatically
past ``delta_limit``). The hot loop is C (``_mih.c``: counting-sort build; probes,
prefetching, popcounts).

**Persistence** (:mod:`chorus.matching.pdq_index_store`): the arrays as ``.npy`` files
(``allow_pickle=False``) plus ``meta.json``, written to a temporary directory and renamed
into place; loading memory-maps them, so a 10M-entry index serves within seconds.

Writes (add, remove, compact) must come from one thread at a time; searches may run
alongside them (state is swapped whole, and the C core releases the GIL per query).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from chorus.matching import _mih

CODE_BYTES = 32
CODE_BITS = 256
DEFAULT_RADIUS = 31
BIT_ORDERS = ("interleaved", "contiguous")

Ids = npt.NDArray[np.int64]
Codes = npt.NDArray[np.uint8]
Matches = list[list[tuple[int, int]]]


def as_codes(codes: npt.ArrayLike, what: str = "codes") -> Codes:
    """``codes`` as a C-contiguous uint8 (n, 32) array, or ValueError."""
    array = np.asarray(codes)
    if array.dtype != np.uint8 or array.ndim != 2 or array.shape[1] != CODE_BYTES:
        raise ValueError(
            f"{what} must be a uint8 array of shape (n, {CODE_BYTES}) (PDQ hashes as bytes); "
            f"got dtype {array.dtype} and shape {array.shape}"
        )
    return np.ascontiguousarray(array)


def as_ids(ids: Sequence[int] | npt.ArrayLike) -> Ids:
    """``ids`` as a 1-D int64 array of non-negative integers, or ValueError."""
    array = np.asarray(ids)
    if array.size == 0:
        return np.empty(0, dtype=np.int64)
    if array.dtype.kind not in "iu" or array.ndim != 1:
        raise ValueError(f"ids must be a 1-D sequence of integers; got {array.dtype}")
    if array.dtype.kind == "u" and array.max() > np.iinfo(np.int64).max:
        raise ValueError("ids must fit in int64")
    array = array.astype(np.int64, copy=False)
    if array.min() < 0:
        raise ValueError(f"ids must be non-negative; got {int(array.min())}")
    return np.ascontiguousarray(array)


def check_radius(radius: int) -> int:
    if isinstance(radius, bool) or not isinstance(radius, int | np.integer):
        raise ValueError(f"radius must be an integer; got {radius!r}")
    if not 0 <= radius <= CODE_BITS:
        raise ValueError(f"radius must be between 0 and {CODE_BITS}; got {radius}")
    return int(radius)


def brute_force(
    codes_db: npt.ArrayLike,
    ids: Sequence[int] | npt.ArrayLike,
    queries: npt.ArrayLike,
    radius: int,
) -> Matches:
    """Reference answer: every (id, distance) within ``radius``, by comparing all pairs."""
    db, qs, id_array = as_codes(codes_db), as_codes(queries, "queries"), as_ids(ids)
    words = db.view(np.uint64)
    block = max(1, (1 << 22) // max(1, len(db)))
    out: Matches = []
    for start in range(0, len(qs), block):
        q = qs[start : start + block].view(np.uint64)
        dist = np.zeros((len(q), len(db)), dtype=np.int64)
        for word in range(4):
            dist += np.bitwise_count(q[:, word, None] ^ words[None, :, word])
        for row in dist:
            hits = np.flatnonzero(row <= radius)
            order = np.lexsort((id_array[hits], row[hits]))
            out.append(
                list(zip(id_array[hits][order].tolist(), row[hits][order].tolist(), strict=True))
            )
    return out


def plan(n: int) -> tuple[int, ...]:
    """Chunk widths (summing to 256) for n entries: chunks of about log2(n) bits."""
    bits = min(24, max(8, round(math.log2(max(n, 2)))))
    chunks = round(CODE_BITS / bits)
    base, extra = divmod(CODE_BITS, chunks)
    return (base + 1,) * extra + (base,) * (chunks - extra)


@dataclass(frozen=True, slots=True)
class Tables:
    """The compacted part of an index: entries sorted by id and their chunk tables."""

    ids: Ids
    codes: Codes
    removed: npt.NDArray[np.uint8]
    widths: tuple[int, ...]
    bit_order: str
    offsets: npt.NDArray[np.uint32]
    rows: npt.NDArray[np.uint32]
    lut: npt.NDArray[np.uint32]
    lut_bytes: npt.NDArray[np.int32]
    bits: npt.NDArray[np.int32]
    base: npt.NDArray[np.int64]


def chunk_positions(widths: tuple[int, ...], bit_order: str) -> npt.NDArray[np.int32]:
    """(m, 32): chunk j's bit positions, most significant key bit first, in row j[:widths[j]]."""
    if bit_order not in BIT_ORDERS or sum(widths) != CODE_BITS or not min(widths) >= 1:
        raise ValueError(f"bad chunk layout: {bit_order} {widths}")
    if max(widths) > 30:
        raise ValueError(f"chunks of more than 30 bits are not supported: {widths}")
    m = len(widths)
    if bit_order == "interleaved":  # bit p goes to chunk p % m: neighbours go apart
        chunks = [list(range(j, CODE_BITS, m)) for j in range(m)]
    else:
        edges = np.cumsum((0, *widths)).tolist()
        chunks = [list(range(edges[j], edges[j + 1])) for j in range(m)]
    if [len(c) for c in chunks] != list(widths):
        raise ValueError(f"widths {widths} do not fit bit order {bit_order}")
    positions = np.zeros((m, 32), dtype=np.int32)
    for j, chunk in enumerate(chunks):
        positions[j, : len(chunk)] = chunk
    return positions


def chunk_layout(
    widths: tuple[int, ...], bit_order: str
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int32], npt.NDArray[np.int64]]:
    """Lookup tables turning a code's bytes into chunk keys, and each table's offset base."""
    positions = chunk_positions(widths, bit_order)
    values = np.arange(256, dtype=np.uint32)
    lut = np.zeros((len(widths), CODE_BYTES, 256), dtype=np.uint32)
    lut_bytes = np.zeros((len(widths), 33), dtype=np.int32)
    for j, width in enumerate(widths):
        chunk = positions[j, :width].tolist()
        for i, p in enumerate(chunk):
            lut[j, p >> 3] |= ((values >> (7 - (p & 7))) & 1) << (width - 1 - i)
        used = sorted({p >> 3 for p in chunk})
        lut_bytes[j, 0] = len(used)
        lut_bytes[j, 1 : 1 + len(used)] = used
    sizes = np.asarray([(1 << w) + 1 for w in widths], dtype=np.int64)
    base = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    return lut, lut_bytes, base


def build_tables(ids: Ids, codes: Codes, bit_order: str = "interleaved") -> Tables:
    """Tables for entries already sorted by id (unique), with no tombstones."""
    widths = plan(len(ids))
    lut, lut_bytes, base = chunk_layout(widths, bit_order)
    offsets = np.empty(int(base[-1]) + (1 << widths[-1]) + 1, dtype=np.uint32)
    rows = np.empty(len(widths) * len(ids), dtype=np.uint32)
    bits = np.asarray(widths, dtype=np.int32)
    _mih.build(codes, chunk_positions(widths, bit_order), bits, base, offsets, rows)
    removed = np.zeros(len(ids), dtype=np.uint8)
    return Tables(ids, codes, removed, widths, bit_order, offsets, rows, lut, lut_bytes, bits, base)


@dataclass(frozen=True, slots=True)
class Delta:
    """Recent additions, scanned linearly until the next compaction."""

    ids: Ids
    codes: Codes

    @classmethod
    def empty(cls) -> Delta:
        return cls(np.empty(0, dtype=np.int64), np.empty((0, CODE_BYTES), dtype=np.uint8))


class PdqIndex:
    """Every active entry within a Hamming radius of each query, exactly."""

    #: Scan every code instead of probing when probes + candidates exceed n / this.
    scan_factor: float = 30.0

    def __init__(self, radius: int = DEFAULT_RADIUS, *, delta_limit: int | None = None) -> None:
        self.radius = check_radius(radius)
        self.delta_limit = delta_limit
        self.bit_order = "interleaved"
        self._tables = build_tables(np.empty(0, np.int64), np.empty((0, CODE_BYTES), np.uint8))
        self._delta = Delta.empty()
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def nbytes(self) -> int:
        """Bytes held by the index's arrays (mapped files included)."""
        t, d = self._tables, self._delta
        arrays = (t.ids, t.codes, t.removed, t.offsets, t.rows, t.lut, d.ids, d.codes)
        return sum(int(a.nbytes) for a in arrays)

    def _delta_full(self) -> bool:
        tables, limit = self._tables, self.delta_limit
        if limit is None:  # ~1/256 of the tables: the delta scan stays a small part of a lookup
            limit = max(20_000, len(tables.ids) // 256)
        removed = len(tables.ids) - (self._count - len(self._delta.ids))
        return len(self._delta.ids) > limit or removed > max(limit, len(tables.ids) // 4)

    def _positions(self, ids: Ids) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
        """Rows of ``ids`` in the tables, and whether each is there and active."""
        tables = self._tables
        if len(tables.ids) == 0:
            return np.zeros(len(ids), dtype=np.intp), np.zeros(len(ids), dtype=np.bool_)
        pos = np.minimum(np.searchsorted(tables.ids, ids), len(tables.ids) - 1)
        return pos, (tables.ids[pos] == ids) & (tables.removed[pos] == 0)

    def add(self, ids: Sequence[int] | npt.ArrayLike, codes: npt.ArrayLike) -> None:
        """Add entries; they are matchable as soon as this returns."""
        new_ids, new_codes = as_ids(ids), as_codes(codes)
        if len(new_ids) != len(new_codes):
            raise ValueError(f"{len(new_ids)} ids for {len(new_codes)} codes")
        ordered = np.sort(new_ids)
        if (ordered[1:] == ordered[:-1]).any():
            raise ValueError("ids must be unique; this batch repeats some")
        taken = self._positions(new_ids)[1] | np.isin(new_ids, self._delta.ids)
        if taken.any():
            raise ValueError(f"ids already in the index: {new_ids[taken][:5].tolist()}")
        delta = self._delta
        self._delta = Delta(
            np.concatenate([delta.ids, new_ids]), np.concatenate([delta.codes, new_codes])
        )
        self._count += len(new_ids)
        if self._delta_full():
            self.compact()

    def remove(self, ids: Sequence[int] | npt.ArrayLike) -> None:
        """Withdraw entries: gone from results at once. Unknown ids are ignored."""
        gone = np.unique(as_ids(ids))
        pos, active = self._positions(gone)
        self._tables.removed[pos[active]] = 1
        delta = self._delta
        keep = ~np.isin(delta.ids, gone)
        if not keep.all():
            self._delta = Delta(delta.ids[keep], delta.codes[keep])
        self._count -= int(np.count_nonzero(active)) + int(np.count_nonzero(~keep))
        if self._delta_full():
            self.compact()

    def compact(self) -> None:
        """Fold the delta and the tombstones into new tables."""
        tables, delta = self._tables, self._delta
        keep = tables.removed == 0
        ids = np.concatenate([tables.ids[keep], delta.ids])
        codes = np.concatenate([tables.codes[keep], delta.codes])
        if len(ids) > 1 and not (ids[1:] > ids[:-1]).all():
            order = np.argsort(ids, kind="stable")
            ids, codes = ids[order], codes[order]
        self._tables = build_tables(ids, codes, self.bit_order)
        self._delta = Delta.empty()  # after the tables: see search()

    def search(self, codes: npt.ArrayLike, radius: int | None = None) -> Matches:
        """For each query, every active (id, distance) within the radius, nearest first."""
        queries = as_codes(codes, "queries")
        limit = self.radius if radius is None else check_radius(radius)
        # The delta first: compact() swaps the tables, then the delta, so this never pairs
        # old tables with a new (emptied) delta; new tables with an old delta only repeat
        # entries, which the C core de-duplicates.
        d = self._delta
        t = self._tables
        return _mih.search(
            queries,
            t.codes,
            t.ids,
            t.removed,
            t.lut,
            t.lut_bytes,
            t.bits,
            t.base,
            t.offsets,
            t.rows,
            d.codes,
            d.ids,
            limit,
            self.scan_factor,
        )

    def save(self, directory: Path) -> None:
        """Write the index to ``directory`` atomically (``.npy`` files and ``meta.json``)."""
        from chorus.matching.pdq_index_store import save

        save(self, directory)

    @classmethod
    def load(cls, directory: Path, mmap: bool = True) -> PdqIndex:
        """Read an index written by :meth:`save`; memory-mapped unless ``mmap`` is false."""
        from chorus.matching.pdq_index_store import load

        return load(cls, directory, mmap=mmap)
