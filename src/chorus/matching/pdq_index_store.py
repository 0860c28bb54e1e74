"""Persistence of :class:`~chorus.matching.pdq_index.PdqIndex`: ``.npy`` files, never pickle.

A saved index is a directory::

    meta.json        format, version, radius, chunk widths and bit order, entry counts
    ids.npy          int64 (n,), strictly increasing
    codes.npy        uint8 (n, 32)
    removed.npy      uint8 (n,) tombstones
    offsets.npy      uint32, the per-chunk CSR offsets
    rows.npy         uint32 (m * n,), rows ordered by chunk value
    delta_ids.npy    int64 (k,), additions not yet compacted
    delta_codes.npy  uint8 (k, 32)

:func:`save` writes it into a fresh temporary directory beside the target, fsyncs the
files, and renames it into place, so no reader ever sees a half-written index. Replacing an
existing index takes two renames (old out of the way, new in); a process that dies between
them leaves the previous index beside the target as ``.NAME-old-*``.
:func:`load` memory-maps the arrays (``mmap=True``) and checks every invariant the C core
relies on (shapes, dtypes, offsets within the rows, rows within the codes) before serving,
so a damaged file gives a ValueError, never a crash; the tombstones are copied into memory
because withdrawals write to them.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from chorus.matching.pdq_index import CODE_BYTES, Delta, Tables, chunk_layout

if TYPE_CHECKING:
    from chorus.matching.pdq_index import PdqIndex

FORMAT = "chorus-pdq-index"
VERSION = 1
ARRAYS = ("ids", "codes", "removed", "offsets", "rows", "delta_ids", "delta_codes")


def save(index: PdqIndex, directory: Path) -> None:
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    delta = index._delta  # the delta first, as in PdqIndex.search
    tables = index._tables
    if len(tables.ids) and len(delta.ids):  # a compaction in between: keep each id once
        pos = np.minimum(np.searchsorted(tables.ids, delta.ids), len(tables.ids) - 1)
        fresh = (tables.ids[pos] != delta.ids) | (tables.removed[pos] != 0)
        delta = Delta(delta.ids[fresh], delta.codes[fresh])
    arrays: dict[str, npt.NDArray[Any]] = dict(
        zip(
            ARRAYS,
            (
                tables.ids,
                tables.codes,
                tables.removed.copy(),
                tables.offsets,
                tables.rows,
                delta.ids,
                delta.codes,
            ),
            strict=True,
        )
    )
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "radius": index.radius,
        "delta_limit": index.delta_limit,
        "widths": list(tables.widths),
        "bit_order": tables.bit_order,
        "entries": len(tables.ids),
        "delta_entries": len(delta.ids),
    }
    staging = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}-new-"))
    try:
        for name, array in arrays.items():
            with open(staging / f"{name}.npy", "wb") as f:
                np.save(f, array, allow_pickle=False)
                f.flush()
                os.fsync(f.fileno())
        (staging / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
        if directory.exists():
            old = directory.with_name(f".{directory.name}-old-{uuid.uuid4().hex}")
            os.rename(directory, old)
            os.rename(staging, directory)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _check(ok: bool | np.bool_, directory: Path, what: str) -> None:
    if not ok:
        raise ValueError(f"not a valid PDQ index in {directory}: {what}")


def _array(directory: Path, name: str, dtype: type[np.generic], mmap: bool) -> Any:
    try:
        array = np.load(
            directory / f"{name}.npy", mmap_mode="r" if mmap else None, allow_pickle=False
        )
    except (OSError, ValueError) as exc:
        raise ValueError(f"not a valid PDQ index in {directory}: {name}.npy: {exc}") from exc
    _check(
        array.dtype == np.dtype(dtype) and array.flags.c_contiguous,
        directory,
        f"{name}.npy has dtype {array.dtype}",
    )
    return array


def load(cls: type[PdqIndex], directory: Path, mmap: bool = True) -> PdqIndex:
    directory = Path(directory)
    try:
        meta = json.loads((directory / "meta.json").read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"not a valid PDQ index in {directory}: meta.json: {exc}") from exc
    _check(isinstance(meta, dict) and meta.get("format") == FORMAT, directory, "format")
    _check(meta.get("version") == VERSION, directory, f"version {meta.get('version')}")
    widths = tuple(int(w) for w in meta["widths"])
    lut, lut_bytes, base = chunk_layout(widths, str(meta["bit_order"]))
    ids = _array(directory, "ids", np.int64, mmap)
    codes = _array(directory, "codes", np.uint8, mmap)
    removed = np.array(_array(directory, "removed", np.uint8, False))
    offsets = _array(directory, "offsets", np.uint32, mmap)
    rows = _array(directory, "rows", np.uint32, mmap)
    delta_ids = np.array(_array(directory, "delta_ids", np.int64, False))
    delta_codes = np.array(_array(directory, "delta_codes", np.uint8, False))
    n, m = len(ids), len(widths)
    _check(
        ids.ndim == 1 and codes.shape == (n, CODE_BYTES) and removed.shape == (n,),
        directory,
        "ids, codes and tombstones differ in length",
    )
    _check(
        n == 0 or (ids[0] >= 0 and bool((ids[1:] > ids[:-1]).all())),
        directory,
        "ids are not increasing and non-negative",
    )
    _check(rows.shape == (m * n,) and (n == 0 or int(rows.max()) < n), directory, "rows")
    _check(offsets.shape == (int(base[-1]) + (1 << widths[-1]) + 1,), directory, "offsets size")
    for j, width in enumerate(widths):
        part = offsets[int(base[j]) : int(base[j]) + (1 << width) + 1]
        _check(
            part[0] == 0 and part[-1] == n and bool((part[1:] >= part[:-1]).all()),
            directory,
            f"offsets of chunk {j}",
        )
    _check(
        delta_ids.ndim == 1 and delta_codes.shape == (len(delta_ids), CODE_BYTES),
        directory,
        "delta",
    )
    index = cls(radius=int(meta["radius"]), delta_limit=meta.get("delta_limit"))
    index.bit_order = str(meta["bit_order"])
    bits = np.asarray(widths, dtype=np.int32)
    index._tables = Tables(
        ids, codes, removed, widths, index.bit_order, offsets, rows, lut, lut_bytes, bits, base
    )
    index._delta = Delta.empty()
    index._count = int(np.count_nonzero(removed == 0))
    if len(delta_ids):
        index.add(delta_ids, delta_codes)  # checks the delta's ids as any addition is checked
    return index
