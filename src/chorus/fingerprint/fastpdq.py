"""PDQ from a reduced-size decode, close to the full-size result at a fraction of the cost.

PDQ turns an image into luma, blurs it with two passes of a box ("Jarosz") filter whose
width is about 1/128 of each side, samples a 64x64 grid, and hashes that grid. The blur and
the sampling are linear and separable, so for each axis the whole step is one 64 x N weight
matrix. This module builds those matrices from Meta's definition (``box1DFloat``,
``computeJaroszFilterWindowSize``, ``decimateFloat`` in pdq/cpp) and folds them onto an
image that was decoded at 1/k of its size, where every pixel is the mean of a k x k block
(JPEG DCT scaling, or ``Image.reduce``). Applying them gives the same 64x64 grid the
full-size path computes, up to the detail lost inside each block.

The grid is then handed to ``pdqhash`` (Meta's C++ core) for the DCT, the median threshold,
the quality metric and the eight dihedral variants: a 64x64 input passes PDQ's own filter
and sampling unchanged (window 1, identity sampling). Because ``pdqhash`` takes 8-bit RGB
and forms luma as 0.299 R + 0.587 G + 0.114 B, each grid value is written as an RGB triple
whose luma equals it to within 0.005 (see :func:`encode_luma_rgb`), so 8-bit rounding does
not flip bits. With k = 1 the result equals the exact path bit for bit on the reference
images; see ``tests/fingerprint/test_fastpdq.py``.
"""

from __future__ import annotations

import itertools
from functools import lru_cache
from typing import Final

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

GRID: Final = 64
#: PDQ refuses to hash images with a side below this (``pdqhash`` returns quality 0).
MIN_HASHABLE_SIDE: Final = 5
LUMA_WEIGHTS: Final = (0.299, 0.587, 0.114)
REDUCTIONS: Final = (8, 4, 2, 1)


def jarosz_window(length: int) -> int:
    """PDQ's box-filter width for an axis of ``length`` pixels sampled down to 64."""
    return (length + 2 * GRID - 1) // (2 * GRID)


def reduction_for(width: int, height: int) -> int:
    """Largest decode reduction (8, 4, 2 or 1) that PDQ's own blur hides on both axes.

    Reducing by k averages k x k blocks. While k stays within about 4/5 of PDQ's box width
    the averaging disappears inside the blur PDQ applies anyway, so the hash barely moves;
    wider blocks lose detail the hash depends on. Drift per size is measured in
    ``benchmarks/RESULTS.md``.
    """
    window = min(jarosz_window(width), jarosz_window(height))
    return next(k for k in REDUCTIONS if 5 * k <= 4 * window or k == 1)


def _box_matrix_rows(length: int, window: int) -> npt.NDArray[np.float64]:
    """Rows of PDQ's ``box1DFloat`` as a dense (length x length) operator, built in O(n*w)."""
    half = (window + 2) // 2
    out = np.arange(length)
    lo = np.maximum(0, out - (window - half))
    hi = np.minimum(length - 1, out + half - 1)
    return np.stack([lo, hi], axis=1)


@lru_cache(maxsize=512)
def _full_axis_weights(length: int) -> npt.NDArray[np.float64]:
    """64 x length weights: two box passes then PDQ's decimation, for one axis."""
    window = jarosz_window(length)
    spans = _box_matrix_rows(length, window)
    samples = ((np.arange(GRID) + 0.5) * length / GRID).astype(np.int64)
    # Row i of (B @ B) at sample s: mean over o in span(s) of the box row at o.
    weights = np.zeros((GRID, length + 1), dtype=np.float64)
    for i, s in enumerate(samples):
        lo_s, hi_s = spans[s]
        outer = 1.0 / (hi_s - lo_s + 1)
        inner = spans[lo_s : hi_s + 1]
        vals = outer / (inner[:, 1] - inner[:, 0] + 1)
        np.add.at(weights[i], inner[:, 0], vals)  # type: ignore[arg-type]
        np.add.at(weights[i], inner[:, 1] + 1, -vals)  # type: ignore[arg-type]
    return np.cumsum(weights, axis=1)[:, :length]


@lru_cache(maxsize=512)
def axis_weights(length: int, k: int, flipped: bool = False) -> FloatArray:
    """64 x ceil(length/k) weights over a reduced axis whose pixels average k-pixel blocks.

    ``flipped`` says the reduced axis runs backwards relative to how it was decoded, so its
    partial block (when ``length`` is not a multiple of k) sits at the start, not the end.
    """
    full = _full_axis_weights(length)
    if flipped:
        full = full[:, ::-1]
    reduced = -(-length // k)
    padded = np.zeros((GRID, reduced * k), dtype=np.float64)
    padded[:, :length] = full
    folded = padded.reshape(GRID, reduced, k).sum(axis=2)
    if flipped:
        folded = folded[:, ::-1]
    return np.ascontiguousarray(folded, dtype=np.float64)


@lru_cache(maxsize=512)
def axis_band(
    length: int, k: int, flipped: bool = False
) -> tuple[npt.NDArray[np.intp], FloatArray]:
    """:func:`axis_weights` as a band: per output, the input indices it reads and weights.

    Each output reads only a few neighbouring inputs, so applying the band with gathers
    and element-wise sums costs less than a dense product and, unlike a BLAS call, starts
    no threads (BLAS threads spinning on a 2-core machine next to worker processes cost
    more than the arithmetic).
    """
    dense = axis_weights(length, k, flipped)
    nonzero = dense > 0
    first = nonzero.argmax(axis=1)
    last = dense.shape[1] - 1 - nonzero[:, ::-1].argmax(axis=1)
    width = int((last - first).max()) + 1
    index = np.minimum(first[:, None] + np.arange(width)[None, :], dense.shape[1] - 1)
    weights = np.take_along_axis(dense, index, axis=1)
    weights[first[:, None] + np.arange(width)[None, :] > last[:, None]] = 0.0
    return index.astype(np.intp), np.ascontiguousarray(weights)


def grid_from_reduced_luma(
    luma: FloatArray,
    full_height: int,
    full_width: int,
    k: int,
    rows_flipped: bool = False,
    cols_flipped: bool = False,
) -> FloatArray:
    """PDQ's 64x64 grid from luma decoded at 1/k of (full_height, full_width)."""
    row_index, row_weights = axis_band(full_height, k, rows_flipped)
    col_index, col_weights = axis_band(full_width, k, cols_flipped)
    expected = (-(-full_height // k), -(-full_width // k))
    if luma.shape != expected:
        raise ValueError(
            f"reduced luma {luma.shape} does not match {full_height}x{full_width} at 1/{k}"
        )
    rows = np.einsum("ib,ibw->iw", row_weights, luma[row_index], optimize=False)
    result: FloatArray = np.einsum("jb,ijb->ij", col_weights, rows[:, col_index], optimize=False)
    return result


def _build_encoding_table() -> tuple[npt.NDArray[np.int16], float]:
    offsets = []
    for r, g, b in itertools.product(range(-4, 5), repeat=3):
        offsets.append((r * 0.299 + g * 0.587 + b * 0.114, r, g, b))
    table = np.array(offsets)
    targets = np.linspace(0.0, 1.0, 1001)
    best = np.abs(table[:, 0][None, :] - targets[:, None]).argmin(axis=1)
    error = float(np.abs(table[best, 0] - targets).max())
    return table[best, 1:].astype(np.int16), error


#: For each fraction f in 0.000..1.000, RGB offsets whose luma is f to within 0.005.
_ENCODING, ENCODING_ERROR = _build_encoding_table()


def encode_luma_rgb(grid: FloatArray) -> npt.NDArray[np.uint8]:
    """Write float luma as 8-bit RGB whose PDQ luma equals it to within ~0.005.

    Values are looked up in steps of 0.001. Near black and white (within 4 levels of 0 or
    255) fewer triples fit in 0..255, so those get the closest triple that does; the error
    there stays below 0.06.
    """
    index = np.rint(np.minimum(np.maximum(grid, 0.0), 255.0) * 1000).astype(np.intp)
    return np.ascontiguousarray(_luma_table()[index])


@lru_cache(maxsize=1)
def _luma_table() -> npt.NDArray[np.uint8]:
    """RGB triple for every luma value 0.000..255.000 in steps of 0.001 (about 0.8 MB)."""
    steps = np.arange(255 * 1000 + 1)
    base = steps // 1000
    rgb = base[:, None] + _ENCODING[steps % 1000]
    fractions = np.arange(1000) / 1000.0
    for edge_base in (*range(4), *range(251, 255)):
        rows = slice(edge_base * 1000, edge_base * 1000 + 1000)
        rgb[rows] = edge_base + _best_offsets(fractions, edge_base)
    table: npt.NDArray[np.uint8] = np.clip(rgb, 0, 255).astype(np.uint8)
    return table


_OFFSETS = np.stack(np.meshgrid(*(np.arange(-4, 5),) * 3, indexing="ij"), axis=-1).reshape(-1, 3)


def _best_offsets(fractions: FloatArray, base: int) -> npt.NDArray[np.int64]:
    """Per fraction, the offset triple closest in luma that keeps base + offset in 0..255."""
    feasible = ((base + _OFFSETS >= 0) & (base + _OFFSETS <= 255)).all(axis=1)
    offsets = _OFFSETS[feasible]
    luma = offsets @ np.asarray(LUMA_WEIGHTS)
    best = np.abs(luma[None, :] - fractions[:, None]).argmin(axis=1)
    chosen: npt.NDArray[np.int64] = offsets[best]
    return chosen


def rgb_to_luma(rgb: npt.NDArray[np.uint8]) -> FloatArray:
    """PDQ's luma (Rec. 601 weights) of an RGB array, rounded through float32 as pdqhash does."""
    r, g, b = LUMA_WEIGHTS
    luma = rgb[..., 0] * r + rgb[..., 1] * g + rgb[..., 2] * b
    result: FloatArray = luma.astype(np.float32).astype(np.float64)
    return result
