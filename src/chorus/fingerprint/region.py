"""Finding the photo inside a re-posted image: borders, padding, blurred fill, app frames.

All functions take upright luma (float, 0..255, rows x columns) and return rectangles
``(top, bottom, left, right)`` in pixels (bottom and right exclusive). They are applied the
same way to a banked photo and to a copy found later, so a rule that trims some of a
photo's own plain edge (a white sky, a black night) trims it on both sides alike.

* :func:`trim_uniform`: strips edge rows and columns that are flat (a solid border, a
  letterbox, the fill of a rotation).
* :func:`trim_quiet`: strips margins on two opposite sides that end at a pair of straight
  seams the same distance from the edges and have far less detail than the middle (a
  photo pasted, centred, on a blurred enlargement of itself).
* :func:`find_framed`: the largest block of rows and columns almost entirely unlike the
  frame's background colour (a photo inside a phone screenshot, between a status bar and
  a caption).
"""

from __future__ import annotations

import itertools
from typing import Final

import numpy as np
import numpy.typing as npt

Luma = npt.NDArray[np.float64]
Rect = tuple[int, int, int, int]

#: An edge row is flat when the spread of its values (5th to 95th percentile) is below this.
FLAT_SPREAD: Final = 10.0
#: Never trim to less than this share of either side (a guard against eating the photo).
MIN_KEEP: Final = 0.4


def full(luma: Luma) -> Rect:
    return 0, luma.shape[0], 0, luma.shape[1]


def _spread(lines: Luma) -> npt.NDArray[np.float64]:
    lo, hi = np.percentile(lines, [5, 95], axis=1)
    return np.asarray(hi - lo)


def trim_uniform(luma: Luma) -> Rect:
    """The rectangle left after stripping flat edge rows and columns."""
    top, bottom = _run_ends(luma)
    left, right = _run_ends(luma.T)
    return _guarded((top, bottom, left, right), luma.shape)


#: Lines whose spread is measured at a time, walking in from an edge.
_BLOCK: Final = 8


def _run_ends(lines: Luma) -> tuple[int, int]:
    """Index of the first non-flat line from each end (the exclusive end for the far side);
    (0, n) when every line is flat. Only the lines from each edge up to the first non-flat
    one are measured (a line's spread does not depend on the others): most photos have no
    flat edge at all, and measuring every line was most of this function's cost."""
    n = len(lines)
    top = None
    for start in range(0, n, _BLOCK):
        busy = np.flatnonzero(_spread(lines[start : start + _BLOCK]) >= FLAT_SPREAD)
        if len(busy):
            top = start + int(busy[0])
            break
    if top is None:
        return 0, n
    end = n
    while True:  # ends at the latest on the block holding ``top``, which is not flat
        start = max(top, end - _BLOCK)
        busy = np.flatnonzero(_spread(lines[start:end]) >= FLAT_SPREAD)
        if len(busy):
            return top, start + int(busy[-1]) + 1
        end = start


def _guarded(rect: Rect, shape: tuple[int, ...]) -> Rect:
    top, bottom, left, right = rect
    if bottom - top < MIN_KEEP * shape[0] or right - left < MIN_KEEP * shape[1]:
        return 0, shape[0], 0, shape[1]
    return rect


def trim_quiet(luma: Luma, rect: Rect) -> Rect:
    """Strip matching quiet margins (a blurred backdrop) from two opposite sides of ``rect``.

    A pasted photo leaves a straight seam at the same distance from both edges of a
    centred layout: per column (per row), the mean step across it is far above its
    neighbours', and the margins outside the seams have much less detail than the middle.
    The seams are looked for in ``rect`` and, when none stand out there on an axis that
    :func:`trim_uniform` cut, in the whole frame along that axis: a blurred backdrop's
    outermost lines can be flat enough to be trimmed on one side and not the other, which
    leaves the seams off-centre in ``rect`` though still centred in the frame.
    ``rect`` itself when no such pair of seams stands out."""
    top, bottom, left, right = rect
    if min(bottom - top, right - left) < 32:
        return rect
    t, b = _centred(luma[:, left:right], top, bottom)
    lft, rgt = _centred(luma[top:bottom].T, left, right)
    return _guarded((t, b, lft, rgt), luma.shape)


def _centred(lines: Luma, start: int, end: int) -> tuple[int, int]:
    """Lines (first, end) inside a pair of symmetric seams of ``lines[start:end]``, else
    of all ``lines`` (kept within start:end); (start, end) when neither has them."""
    first, last = _seams(lines[start:end])
    if (first, last) != (0, end - start) or (start, end) == (0, len(lines)):
        return start + first, start + last
    first, last = _seams(lines)
    first, last = max(start, first), min(end, last)
    return (first, last) if first < last else (start, end)


#: A seam's score is the step across it over (the margins' mean step + SEAM_CALM); a pair
#: of seams stands out at SEAM_SCORE. A radius-12 blur's own steps are 0.1 to 0.4, and
#: the seam can be faint where the photo's edge is like the blur beside it (a step of 3
#: to 5): at 0.5 such seams scored below 6; at 0.2, 7 of 1,000 ordinary photos are
#: trimmed (alike on the bank and copy sides).
SEAM_CALM: Final = 0.2
SEAM_SCORE: Final = 6.0


def _seams(region: Luma) -> tuple[int, int]:
    """Rows (first, end) inside a pair of symmetric horizontal seams, or (0, n)."""
    n = len(region)
    step = np.abs(np.diff(region, axis=0)).mean(axis=1)  # step[i]: between rows i and i+1
    detail = np.abs(np.diff(region, axis=1)).mean(axis=1)  # texture within each row
    middle = float(np.median(detail[n // 4 : n - n // 4]))
    inside = np.cumsum(step)
    best, where = 0.0, 0
    for offset in range(3, int(0.2 * n)):
        low = step[offset - 1]
        high = max(step[n - offset - 2 : n - offset + 1])
        calm = (inside[offset - 3] + inside[-1] - inside[n - offset]) / (2 * offset - 1)
        score = min(low, high) / (calm + SEAM_CALM)
        if score > best:
            best, where = score, offset
    if where == 0 or best < SEAM_SCORE:
        return 0, n
    margins = np.concatenate([detail[:where], detail[n - where :]])
    if float(margins.mean()) > 0.35 * middle:
        return 0, n
    return where, n - where


def find_framed(luma: Luma, tolerance: float = 12.0, share: float = 0.6) -> Rect | None:
    """The photo inside a frame of one background colour (screenshot, card, letterbox).

    The background is the median of the outermost ring of pixels. Rows where at least
    ``share`` of the pixels differ from it by more than ``tolerance`` are photo rows; the
    longest run of them (short gaps forgiven) is the photo's busy core, and the columns of
    that band are treated the same way. The core then grows to the first row and column
    beyond which nothing differs from the background (parts of a photo that happen to
    match the frame's colour, like a white sky, are kept as long as some of each line
    differs). None when no such block stands out.
    """
    h, w = luma.shape
    ring = np.concatenate([luma[0], luma[-1], luma[:, 0], luma[:, -1]])
    background = float(np.median(ring))
    differs = np.abs(luma - background) > tolerance
    rows = _longest_run(differs.mean(axis=1) >= share, gap=max(1, h // 25))
    if rows is None:
        return None
    band = differs[rows[0] : rows[1]]
    cols = _longest_run(band.mean(axis=0) >= share, gap=max(1, w // 25))
    if cols is None:
        return None
    # The block found is the photo's busy core; grow it out to the first line that is
    # background all along (the gap between a photo and the caption, bar or frame edge).
    for _ in range(2):
        rows = _grow(differs[:, cols[0] : cols[1]].mean(axis=1), rows)
        cols = _grow(differs[rows[0] : rows[1]].mean(axis=0), cols)
    rect = (rows[0], rows[1], cols[0], cols[1])
    area = (rect[1] - rect[0]) * (rect[3] - rect[2])
    if area < 0.15 * h * w or area > 0.97 * h * w:
        return None
    return rect


def _grow(
    share: npt.NDArray[np.float64], run: tuple[int, int], empty: float = 0.02
) -> tuple[int, int]:
    start, end = run
    while start > 0 and share[start - 1] > empty:
        start -= 1
    while end < len(share) and share[end] > empty:
        end += 1
    return start, end


def _longest_run(mask: npt.NDArray[np.bool_], gap: int) -> tuple[int, int] | None:
    """The longest run of True, forgiving runs of False up to ``gap`` long inside it."""
    filled = mask.copy()
    hits = np.flatnonzero(mask)
    for a, b in itertools.pairwise(hits):
        if 1 < b - a <= gap + 1:
            filled[a:b] = True
    best: tuple[int, int] | None = None
    start = None
    for i, value in enumerate(np.append(filled, False)):
        if value and start is None:
            start = i
        elif not value and start is not None:
            if best is None or i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    if best is None or best[1] - best[0] < 16:
        return None
    return best
