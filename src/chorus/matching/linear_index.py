"""The simple PDQ comparison: every stored code checked against every query.

Exact by construction, so it is the reference the fast index is tested against, and the
right index for small banks. Ids are non-negative int64; codes are 32 bytes (256 bits, most
significant first). Persistence is plain ``.npy`` files, never pickle.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

CODE_BYTES = 32
Ids = npt.NDArray[np.int64]
Codes = npt.NDArray[np.uint8]


def as_codes(codes: npt.ArrayLike) -> Codes:
    array = np.asarray(codes)
    if array.dtype != np.uint8 or array.ndim != 2 or array.shape[1] != CODE_BYTES:
        raise ValueError(f"codes must be a uint8 array of shape (n, {CODE_BYTES})")
    return np.ascontiguousarray(array)


def as_ids(ids: Sequence[int] | npt.ArrayLike) -> Ids:
    array = np.asarray(ids, dtype=np.int64).reshape(-1)
    if array.size and array.min() < 0:
        raise ValueError("ids must be non-negative")
    return array


def distances(stored: Codes, query: Codes) -> npt.NDArray[np.int64]:
    """Hamming distance from each query (q, 32) to each stored code (n, 32): (q, n)."""
    a = stored.view(np.uint64).reshape(len(stored), 4)
    b = query.view(np.uint64).reshape(len(query), 4)
    out = np.zeros((len(query), len(stored)), dtype=np.int64)
    for word in range(4):
        out += np.bitwise_count(b[:, word, None] ^ a[None, :, word])
    return out


class LinearPdqIndex:
    def __init__(self, radius: int = 31) -> None:
        self.radius = radius
        self._ids: Ids = np.empty(0, dtype=np.int64)
        self._codes: Codes = np.empty((0, CODE_BYTES), dtype=np.uint8)

    def __len__(self) -> int:
        return len(self._ids)

    def ids(self) -> Ids:
        return self._ids.copy()

    def add(self, ids: Sequence[int] | npt.ArrayLike, codes: npt.ArrayLike) -> None:
        new_ids, new_codes = as_ids(ids), as_codes(codes)
        if len(new_ids) != len(new_codes):
            raise ValueError("ids and codes differ in length")
        if len(np.unique(new_ids)) != len(new_ids) or np.isin(new_ids, self._ids).any():
            raise ValueError("ids must be unique")
        self._ids = np.concatenate([self._ids, new_ids])
        self._codes = np.concatenate([self._codes, new_codes])

    def remove(self, ids: Sequence[int] | npt.ArrayLike) -> None:
        keep = ~np.isin(self._ids, as_ids(ids))
        self._ids, self._codes = self._ids[keep], self._codes[keep]

    def compact(self) -> None:
        """Nothing to fold: the linear index has no delta."""

    def search(
        self, codes: npt.ArrayLike, radius: int | None = None
    ) -> list[list[tuple[int, int]]]:
        queries = as_codes(codes)
        limit = self.radius if radius is None else radius
        results: list[list[tuple[int, int]]] = []
        for start in range(0, len(queries), 64):
            block = distances(self._codes, queries[start : start + 64])
            for row in block:
                hits = np.flatnonzero(row <= limit)
                pairs = sorted(zip(row[hits].tolist(), self._ids[hits].tolist(), strict=True))
                results.append([(i, d) for d, i in pairs])
        return results

    def save(self, directory: Path) -> None:
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=directory.parent, prefix=".index-"))
        np.save(staging / "ids.npy", self._ids, allow_pickle=False)
        np.save(staging / "codes.npy", self._codes, allow_pickle=False)
        (staging / "meta.json").write_text(json.dumps({"kind": "linear", "radius": self.radius}))
        if directory.exists():
            shutil.rmtree(directory)
        os.replace(staging, directory)

    @classmethod
    def load(cls, directory: Path, mmap: bool = True) -> LinearPdqIndex:
        meta = json.loads((directory / "meta.json").read_text())
        index = cls(radius=int(meta["radius"]))
        index._ids = np.load(directory / "ids.npy", allow_pickle=False)
        index._codes = np.load(directory / "codes.npy", allow_pickle=False)
        return index
