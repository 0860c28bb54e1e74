"""The local signal in the benchmark: every pair checked, fast, and its tail estimated.

Local features (:mod:`chorus.fingerprint.local`) match by a geometric check, not by a
radius, so the false matches are counted by running :func:`local.best_match` on every pair
that could pass it. Running it on *every* pair is too slow for the copies (a thousand
photos give 32 million copy-photo pairs), so an **exact prefilter** comes first:

:func:`local.verify` takes, for each of the banked photo's corners, its nearest corner of
the copy, keeps the corners whose nearest is within :data:`local.RADIUS` bits, and returns
no match unless at least :data:`local.MIN_INLIERS` are kept (every later step only removes
corners). A corner's nearest query corner is within the radius exactly when *some* query
corner is, so :func:`close_counts` counts, for every banked photo at once, the corners
with some query corner within the radius (one vectorised XOR and popcount of all bank
descriptors against the copy's), and :func:`best_match` of a copy's feature sets can only
accept a photo whose count reaches ``MIN_INLIERS`` for one of the sets. Skipping the
others drops no pair the check would accept; ``tests/fingerprint/test_benchmark_local.py``
checks that property against :func:`local.best_match` on random pairs.

For the tail estimate, :func:`matches` and :func:`pair_statistics` keep the capture
score of every pair of distinct photos that passes all rules but the capture rule (see
:func:`capture_tail_estimate`); :func:`agreeing_corners` is the check's own count before
its thresholds (:func:`local_tail_estimate`, how often distinct photos agree at all).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from chorus.fingerprint import local

#: Bank corners compared with a copy's per step (the XOR block stays in cache; 256 was the
#: fastest of 256..4096 on the development machine, about twice the speed of 4096).
CHUNK: Final = 256
#: Agreeing corners are counted exactly for pairs with at least this many close corners;
#: below it the count of close corners (an upper bound) stands in.
FLOOR: Final = 3


@dataclass(frozen=True)
class LocalBank:
    """The banked photos' local features, stacked for :func:`close_counts`."""

    features: tuple[local.LocalFeatures | None, ...]
    descriptors: npt.NDArray[np.uint64]
    #: Start of each banked photo's block in ``descriptors``, and which photo it is.
    starts: npt.NDArray[np.intp]
    owners: npt.NDArray[np.intp]

    @classmethod
    def of(cls, per_owner: Sequence[local.LocalFeatures | None]) -> LocalBank:
        present = [(i, f) for i, f in enumerate(per_owner) if f is not None and len(f)]
        sizes = np.array([len(f) for _i, f in present], dtype=np.intp)
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.intp)
        descriptors = (
            np.concatenate([f.descriptors for _i, f in present])
            if present
            else np.zeros(0, np.uint64)
        )
        owners = np.array([i for i, _f in present], dtype=np.intp)
        return cls(tuple(per_owner), descriptors, starts[: len(present)], owners)

    def __len__(self) -> int:
        return len(self.features)


def close_counts(bank: LocalBank, query: local.LocalFeatures) -> npt.NDArray[np.int64]:
    """Per photo of ``bank``: how many of its corners have a corner of ``query`` within
    :data:`local.RADIUS` bits (0 for photos without features)."""
    out = np.zeros(len(bank), dtype=np.int64)
    if not len(bank.owners) or not len(query):
        return out
    close = np.zeros(len(bank.descriptors), dtype=np.int64)
    q = query.descriptors[None, :]
    xor = np.empty((CHUNK, len(query)), dtype=np.uint64)
    bits = np.empty((CHUNK, len(query)), dtype=np.uint8)
    for start in range(0, len(bank.descriptors), CHUNK):
        block = bank.descriptors[start : start + CHUNK, None]
        n = len(block)
        np.bitwise_xor(block, q, out=xor[:n])
        np.bitwise_count(xor[:n], out=bits[:n])
        close[start : start + n] = bits[:n].min(axis=1) <= local.RADIUS
    out[bank.owners] = np.add.reduceat(close, bank.starts)
    return out


def most_close(bank: LocalBank, queries: Sequence[local.LocalFeatures]) -> npt.NDArray[np.int64]:
    """Per photo of ``bank``: the highest :func:`close_counts` over a copy's feature sets."""
    out = np.zeros(len(bank), dtype=np.int64)
    for query in queries:
        np.maximum(out, close_counts(bank, query), out=out)
    return out


def matches(
    bank: LocalBank, queries: Sequence[local.LocalFeatures], skip: int | None = None
) -> tuple[npt.NDArray[np.bool_], int, list[float]]:
    """Which photos of ``bank`` the copy's feature sets match (the full check, run only
    where the exact prefilter allows), but ``skip``; how many were checked; and the
    :func:`local.lowest_capture` of every checked photo that passed all rules but the
    capture rule (for :func:`capture_tail_estimate`)."""
    found = np.zeros(len(bank), dtype=bool)
    counts = most_close(bank, queries)
    if skip is not None:
        counts[skip] = 0
    checked = np.flatnonzero(counts >= local.MIN_INLIERS)
    captures: list[float] = []
    for owner in checked:
        features = bank.features[owner]
        assert features is not None  # a photo without features has a count of 0
        capture = local.lowest_capture(features, list(queries))
        if capture is not None:
            captures.append(capture)
            found[owner] = capture < local.MAX_CAPTURE  # exactly local.best_match's answer
    return found, len(checked), captures


def agreeing_corners(bank: local.LocalFeatures, query: local.LocalFeatures) -> int:
    """How many of ``bank``'s corners the geometric check finds agreeing with one
    transform, before its thresholds: :func:`chorus.fingerprint.local.agreeing_corners`
    (the check's own fit, so it equals ``verify``'s ``inliers`` whenever that accepts)."""
    return local.agreeing_corners(bank, query)


def pair_statistics(
    bank: LocalBank, queries: Sequence[local.LocalFeatures], skip: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_], int, list[float]]:
    """For one original's feature sets against every other banked photo: the most agreeing
    corners per photo (exact from :data:`FLOOR` close corners up, the close count below
    it), which photos the full check accepts, how many pairs it ran on, and the capture
    scores of those that passed every rule but the capture rule (as :func:`matches`)."""
    per_set = [close_counts(bank, q) for q in queries]
    close = np.max(per_set, axis=0) if per_set else np.zeros(len(bank), np.int64)
    close[skip] = 0
    agreeing = close.copy()
    found = np.zeros(len(bank), dtype=bool)
    checked = 0
    captures: list[float] = []
    for owner in np.flatnonzero(close >= FLOOR):
        features = bank.features[owner]
        assert features is not None
        agreeing[owner] = max(
            agreeing_corners(features, q)
            for q, counts in zip(queries, per_set, strict=True)
            if counts[owner] >= 1
        )
        if close[owner] >= local.MIN_INLIERS:
            checked += 1
            capture = local.lowest_capture(features, list(queries))
            if capture is not None:
                captures.append(capture)
                found[owner] = capture < local.MAX_CAPTURE
    return agreeing, found, checked, captures


def capture_tail_estimate(captures: Sequence[float], pairs: int) -> tuple[float, str]:
    """Per-pair probability that two distinct photos pass the whole local check.

    A pair passes when it passes the geometric rules (enough agreeing corners, share,
    cover, plausible scale) *and* its capture score is below :data:`local.MAX_CAPTURE`.
    ``captures`` holds the capture score of every pair of distinct photos (originals and
    copies, ``pairs`` in all) that passed the geometric rules. The estimate is the observed
    rate of those, times the chance that such a pair scores below the bound under a normal
    distribution fitted to their scores (mean, standard deviation). The scores come from
    few photo pairs (photos taken in the same place), so they are not independent: the
    figure is an estimate of the order of the rate, said so in the table's notes. With
    fewer than 10 scores no fit is made and the rule of three bounds the rate from the
    geometric passes alone (3 / pairs when there are none)."""
    if pairs <= 0:
        return math.nan, "no pairs"
    n = len(captures)
    below = sum(1 for c in captures if c < local.MAX_CAPTURE)
    if below:
        return below / pairs, f"observed: {below} of {pairs} pairs pass the whole check"
    if n < 10:
        bound = max(n, 3) / pairs
        return bound, (
            f"{n} of {pairs} pairs pass the geometric rules, none the capture rule; "
            f"bounded by {max(n, 3)} / pairs"
        )
    mean, spread = float(np.mean(captures)), float(np.std(captures, ddof=1))
    z = (local.MAX_CAPTURE - mean) / max(spread, 1e-9)
    tail = 0.5 * math.erfc(-z / math.sqrt(2))
    return n / pairs * tail, (
        f"{n} of {pairs} pairs pass the geometric rules (lowest capture "
        f"{min(captures):.2f}, mean {mean:.2f}, sd {spread:.2f}); normal tail below "
        f"{local.MAX_CAPTURE}: z = {z:.2f}, {tail:.1e}"
    )


def local_tail_estimate(
    agreeing: npt.NDArray[np.int64], need: int = local.MIN_INLIERS
) -> tuple[float, str]:
    """Per-pair probability that two distinct photos reach ``need`` agreeing corners.

    ``agreeing`` holds, for every ordered pair of distinct originals, the most corners the
    geometric check finds agreeing on one transform (:func:`agreeing_corners`, best over
    the query's feature sets). Its survival function S(k) = share of pairs with at least k
    is exact for k >= :data:`FLOOR`. When some pair reaches ``need``, the estimate is that
    observed share. Otherwise log S(k) is fitted by least squares with a straight line over
    every k >= FLOOR that at least 5 pairs reach (a geometric tail), and extrapolated to
    ``need``. Each further agreeing corner between unrelated photos is rarer than the last
    (the chance that a random corner falls within the tolerances of a fitted transform
    does not grow with k), so a geometric tail over-states the rate: an upper estimate.
    It also ignores the check's share rule and plausible scales, which only reject more.
    Too few pairs above FLOOR (fewer than two fit points) gives NaN and says so.
    """
    n = len(agreeing)
    if n < 100:
        return math.nan, "too few pairs"
    top = int(agreeing.max())
    reached = int((agreeing >= need).sum())
    if reached:
        return reached / n, f"observed: {reached} of {n} pairs reach {need} (max {top})"
    ks = [k for k in range(FLOOR, top + 1) if int((agreeing >= k).sum()) >= 5]
    if len(ks) < 2:
        return math.nan, f"too few pairs with {FLOOR}+ agreeing corners to fit (max {top})"
    logs = [math.log(int((agreeing >= k).sum()) / n) for k in ks]
    slope, intercept = np.polyfit(np.array(ks, float), np.array(logs), 1)
    rate = math.exp(min(0.0, slope * need + intercept))
    return rate, f"geometric fit of S(k), k = {ks[0]}..{ks[-1]}, of {n} pairs (max {top})"
