"""Running the benchmark: recall per transform, false matches, the tail of the distances.

* **Recall**: for every banked photo (usable original) and every transform, the copy's
  query prints against that photo's bank prints, family by family, and by the local check
  for matchers that use it; a hit is a minimum distance within a family's radius or a
  copy the local check accepts. A copy that cannot be fingerprinted counts as a miss. What
  is kept per copy is the *margin*: the smallest (distance - radius) over the families,
  and (MIN_INLIERS - agreeing corners) for a local match, so a hit is a margin <= 0.
* **False matches, originals**: every ordered pair of distinct photos (i, j): photo j's
  query prints against photo i's bank prints. All pairs, exhaustively (the local check
  behind an exact prefilter: :mod:`~.local_pairs`).
* **False matches, copies**: every copy of photo j against every other photo's bank prints
  (a screenshot frame or a border must not make two different photos match).
* **Tail estimate**: the per-pair false-match rate for collections larger than the test
  set, from the lower tail of the distinct-pair minimum distances per code family
  (:func:`tail_estimate`) and, for the local check, the rate of distinct pairs passing
  its geometric rules times the normal tail of their capture scores below the capture
  rule's bound (:func:`~.local_pairs.capture_tail_estimate`); the matcher's rate is their
  sum (a pair matches when any family does, so the sum bounds it from above).

Each image is fingerprinted once for every matcher (:mod:`~.signals`), in ``jobs`` worker
processes when asked (:mod:`~.per_photo`); the results do not depend on ``jobs``.
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps

from chorus.fingerprint import local
from chorus.fingerprint.benchmark import per_photo
from chorus.fingerprint.benchmark.local_pairs import LocalBank, capture_tail_estimate
from chorus.fingerprint.benchmark.matchers import Matcher
from chorus.fingerprint.benchmark.per_photo import min_distances, seed_for, words
from chorus.fingerprint.benchmark.signals import Signals
from chorus.fingerprint.benchmark.transforms import Transform

__all__ = [
    "MatcherRun",
    "load_photo",
    "min_distances",
    "originals_only",
    "run",
    "seed_for",
    "tail_estimate",
    "words",
]

A = TypeVar("A")
B = TypeVar("B")


@dataclass
class MatcherRun:
    """Everything measured for one matcher."""

    name: str
    thresholds: dict[str, int]
    timed: bool = True
    local: bool = False
    banked: int = 0
    bank_codes: int = 0
    query_codes: int = 0
    bank_corners: int = 0
    query_corners: int = 0
    fingerprint_s: float = 0.0
    fingerprinted: int = 0
    #: (transform name, photo stem) -> smallest margin over the families and the local
    #: check to the photo's own bank prints (a hit is <= 0)
    distances: dict[tuple[str, str], int] = field(default_factory=dict)
    false_original_pairs: int = 0
    original_pairs: int = 0
    false_copy_pairs: int = 0
    copy_pairs: int = 0
    #: every false match, named: (transform or "original", photo looked up, photo matched)
    false_pairs: list[tuple[str, str, str]] = field(default_factory=list)
    #: family -> minimum distance of every ordered pair of distinct originals
    pair_minima: dict[str, npt.NDArray[np.int64]] = field(default_factory=dict)
    #: the local check's most agreeing corners for every ordered pair of distinct originals
    pair_agreeing: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))
    #: pairs (originals and copies) the exact prefilter handed to the local check
    local_checked: int = 0
    #: capture scores of the pairs of distinct photos that passed every local rule but
    #: the capture rule (originals and copies)
    local_captures: list[float] = field(default_factory=list)

    def local_tail(self) -> tuple[float, str]:
        """The local check's per-pair false-match rate
        (:func:`~.local_pairs.capture_tail_estimate` over every pair of distinct photos)."""
        return capture_tail_estimate(self.local_captures, self.original_pairs + self.copy_pairs)

    @property
    def label(self) -> str:
        """The rule, as in the table's header: ``<= 31``, ``robust <= 40, ...``, with
        ``local >= 8 corners`` for the local check."""
        parts = [f"{kind} <= {t}" for kind, t in self.thresholds.items()]
        if len(parts) == 1 and not self.local:
            return f"<= {next(iter(self.thresholds.values()))}"
        if self.local:
            parts.append(f"local >= {local.MIN_INLIERS} corners")
        return ", ".join(parts)

    def recall(self, transform: str) -> tuple[int, int]:
        values = [d for (t, _p), d in self.distances.items() if t == transform]
        return sum(1 for d in values if d <= 0), len(values)

    def tail(self) -> float:
        """Per-pair false-match rate from the tail fits, summed over the families."""
        rate = sum(tail_estimate(self.pair_minima[k], t)[0] for k, t in self.thresholds.items())
        if self.local:
            rate += self.local_tail()[0]
        return rate

    def lowest(self, family: str) -> int | None:
        minima = self.pair_minima.get(family)
        return int(minima.min()) if minima is not None and len(minima) else None

    def most_agreeing(self) -> int | None:
        """The most corners the local check found agreeing between distinct originals."""
        return int(self.pair_agreeing.max()) if len(self.pair_agreeing) else None


def load_photo(path: Path) -> tuple[bytes, Image.Image]:
    data = path.read_bytes()
    with Image.open(path) as image:
        upright = ImageOps.exif_transpose(image).convert("RGB")
    return data, upright


def tail_estimate(minima: npt.NDArray[np.int64], threshold: int) -> tuple[float, str]:
    """Per-pair probability that two distinct photos come within ``threshold``.

    The empirical CDF of the distinct-pair minimum distances is fitted, in its lowest
    1% (at least 20 pairs), by a normal distribution with the same mean and standard
    deviation as that whole distribution would need to produce that tail: concretely
    a straight line through the probit (normal quantile) of the empirical CDF against
    distance, fitted by least squares on the lowest 1%, then extrapolated to the
    threshold. The lowest observed distance is reported beside it.
    """
    values = np.sort(minima)
    n = len(values)
    if n < 100:
        return math.nan, "too few pairs"
    k = max(20, n // 100)
    xs = values[:k].astype(np.float64)
    ps = (np.arange(1, k + 1) - 0.5) / n
    zs = np.array([_probit(p) for p in ps])
    slope, intercept = np.polyfit(xs, zs, 1)
    z = slope * (threshold + 0.5) + intercept
    return _normal_cdf(z), f"probit fit on the lowest {k} of {n} pairs (min {int(values[0])})"


def _normal_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2))


def _probit(p: float) -> float:
    lo, hi = -40.0, 40.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if _normal_cdf(mid) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _mapped(
    work: Callable[[A], B],
    tasks: Iterable[A],
    jobs: int,
    context: per_photo.Context | None = None,
) -> Iterator[B]:
    """``map(work, tasks)`` in order, in ``jobs`` worker processes when more than one."""
    if jobs <= 1:
        per_photo.use(context)
        try:
            yield from map(work, tasks)
        finally:
            per_photo.use(None)
        return
    spawn = multiprocessing.get_context("spawn")
    with spawn.Pool(jobs, initializer=per_photo.use, initargs=(context,)) as pool:
        yield from pool.imap(work, tasks)


def run(
    photos: Sequence[Path],
    transforms: Sequence[Transform],
    matchers: Sequence[Matcher],
    seed: int = 0,
    jobs: int = 1,
    progress: Callable[[str, int], None] | None = None,
) -> list[MatcherRun]:
    """The whole benchmark (see the module's docstring); ``progress(pass, done)`` after
    each photo of each pass, when given."""
    runs = [MatcherRun(m.name, dict(m.thresholds), m.timed, m.local) for m in matchers]
    originals: list[Signals] = []
    for signals in _mapped(per_photo.fingerprint_original, photos, jobs):
        originals.append(signals)
        if progress:
            progress("originals", len(originals))
    banks = []
    shared: dict[tuple[int, ...], LocalBank] = {}
    for m, matcher in enumerate(matchers):
        prints = [matcher.bank(s) for s in originals]
        banks.append(per_photo.Bank.of(matcher, prints, shared))
        r = runs[m]
        r.banked = int(banks[-1].banked.sum())
        r.bank_codes = sum(sum(len(c) for c in p.codes.values()) for p in prints)
        r.bank_corners = sum(p.corners for p in prints)
        r.fingerprint_s = sum(s.cost(matcher.stages) for s in originals)
        r.fingerprinted = len(originals)
    context = per_photo.Context(tuple(matchers), tuple(banks), tuple(transforms), seed)
    tasks = [(i, path, s) for i, (path, s) in enumerate(zip(photos, originals, strict=True))]
    rows: list[list[per_photo.Row]] = []
    for result in _mapped(per_photo.compare_photo, tasks, jobs, context):
        rows.append(result)
        if progress:
            progress("copies", len(rows))
    stems = [p.stem for p in photos]
    for m, r in enumerate(runs):
        _gather(r, banks[m].banked, [photo[m] for photo in rows], stems)
    return runs


def _gather(
    r: MatcherRun, banked: npt.NDArray[np.bool_], rows: list[per_photo.Row], stems: list[str]
) -> None:
    owners = len(rows)
    queried = np.array([row.matched is not None for row in rows], dtype=bool)
    mask = queried[:, None] & banked[None, :]
    np.fill_diagonal(mask, False)
    r.original_pairs = int(mask.sum())
    matched = np.zeros((owners, owners), dtype=bool)
    agreeing = np.zeros((owners, owners), dtype=np.int64)
    minima = {kind: np.full((owners, owners), 257, dtype=np.int64) for kind in r.thresholds}
    for i, row in enumerate(rows):
        if row.matched is not None:
            matched[i] = row.matched
        if row.agreeing is not None:
            agreeing[i] = row.agreeing
        for kind, values in row.minima.items():
            minima[kind][i] = values
        for transform, margin in row.margins.items():
            r.distances[(transform, stems[i])] = margin
        r.false_copy_pairs += row.false_copy_pairs
        r.false_pairs += [(t, stems[i], stems[j]) for t, j in row.false_copies]
        r.copy_pairs += row.copy_pairs
        r.query_codes += row.query_codes
        r.query_corners += row.query_corners
        r.fingerprint_s += row.fingerprint_s
        r.fingerprinted += row.fingerprinted
        r.local_checked += row.checked
        r.local_captures += row.captures
    r.false_original_pairs = int((matched & mask).sum())
    r.false_pairs = [
        ("original", stems[i], stems[j]) for i, j in zip(*np.nonzero(matched & mask), strict=True)
    ] + r.false_pairs
    r.pair_minima = {kind: values[mask] for kind, values in minima.items()}
    if r.local:
        r.pair_agreeing = agreeing[mask]


def originals_only(
    photos: Sequence[Path], matchers: Sequence[Matcher], jobs: int = 1
) -> list[MatcherRun]:
    """Only the false matches among all ordered pairs of distinct originals (and the
    distance tail), without transforms: cheap enough for every shared photo."""
    return run(photos, [], matchers, jobs=jobs)
