"""Running the benchmark: recall per transform, false matches, the distance tail.

* **Recall**: for every banked photo (usable original) and every transform, the copy's
  query codes against that photo's bank codes, family by family; a hit is a minimum
  distance within that family's radius. A copy that cannot be fingerprinted counts as a
  miss. What is kept per copy is the *margin*: the smallest (distance - radius) over the
  families, so a hit is a margin <= 0.
* **False matches, originals**: every ordered pair of distinct photos (i, j): photo j's
  query codes against photo i's bank codes. All pairs, exhaustively.
* **False matches, copies**: every copy of photo j against every other photo's bank codes
  (a screenshot frame or a border must not make two different photos match).
* **Tail estimate**: the per-pair false-match rate for collections larger than the test
  set, from a fit to the lower tail of the distinct-pair minimum distances (see
  :func:`tail_estimate`), per family; the matcher's rate is their sum (a pair matches
  when any family does, so the sum bounds it from above).
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps

from chorus.fingerprint.benchmark.matchers import EMPTY, Codes, Families, Matcher
from chorus.fingerprint.benchmark.transforms import Transform

Words = npt.NDArray[np.uint64]


@dataclass
class MatcherRun:
    """Everything measured for one matcher."""

    name: str
    thresholds: dict[str, int]
    timed: bool = True
    banked: int = 0
    bank_codes: int = 0
    query_codes: int = 0
    fingerprint_s: float = 0.0
    fingerprinted: int = 0
    #: (transform name, photo stem) -> smallest (distance - radius) over the families to
    #: the photo's own bank codes (a hit is <= 0)
    distances: dict[tuple[str, str], int] = field(default_factory=dict)
    false_original_pairs: int = 0
    original_pairs: int = 0
    false_copy_pairs: int = 0
    copy_pairs: int = 0
    #: family -> minimum distance of every ordered pair of distinct originals
    pair_minima: dict[str, npt.NDArray[np.int64]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The radii, as in the table's header: ``<= 31`` or ``robust <= 40, ...``."""
        if len(self.thresholds) == 1:
            return f"<= {next(iter(self.thresholds.values()))}"
        return ", ".join(f"{kind} <= {t}" for kind, t in self.thresholds.items())

    def recall(self, transform: str) -> tuple[int, int]:
        values = [d for (t, _p), d in self.distances.items() if t == transform]
        return sum(1 for d in values if d <= 0), len(values)

    def tail(self) -> float:
        """Per-pair false-match rate from the tail fits, summed over the families."""
        return sum(tail_estimate(self.pair_minima[k], t)[0] for k, t in self.thresholds.items())

    def lowest(self, family: str) -> int | None:
        minima = self.pair_minima.get(family)
        return int(minima.min()) if minima is not None and len(minima) else None


def seed_for(seed: int, photo: str, transform: str) -> int:
    return zlib.crc32(f"{seed}:{photo}:{transform}".encode())


def load_photo(path: Path) -> tuple[bytes, Image.Image]:
    data = path.read_bytes()
    with Image.open(path) as image:
        upright = ImageOps.exif_transpose(image).convert("RGB")
    return data, upright


def words(codes: Codes) -> Words:
    return np.ascontiguousarray(codes).view(np.uint64).reshape(-1, 4)


def min_distances(
    query: Words,
    query_owner: npt.NDArray[np.int64],
    bank: Words,
    bank_owner: npt.NDArray[np.int64],
    shape: tuple[int, int],
) -> npt.NDArray[np.int64]:
    """Matrix (query owners x bank owners) of the minimum Hamming distance between their
    codes (257 where an owner has no codes). Owners must be sorted in ``bank_owner``."""
    out = np.full(shape, 257, dtype=np.int64)
    cuts = np.flatnonzero(np.diff(bank_owner)) + 1
    starts = np.concatenate(([0], cuts)).astype(np.intp)
    columns = bank_owner[starts]
    step = max(1, 4_000_000 // max(1, len(bank)))
    for start in range(0, len(query), step):
        q = query[start : start + step]
        d = np.zeros((len(q), len(bank)), dtype=np.int64)
        for w in range(4):
            d += np.bitwise_count(q[:, w, None] ^ bank[None, :, w])
        per_bank = np.full((len(q), shape[1]), 257, dtype=np.int64)
        per_bank[:, columns] = np.minimum.reduceat(d, starts, axis=1)
        np.minimum.at(out, query_owner[start : start + step], per_bank)
    return out


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


def run(
    photos: Sequence[Path],
    transforms: Sequence[Transform],
    matchers: Sequence[Matcher],
    seed: int = 0,
    progress: Iterable[None] | None = None,
) -> list[MatcherRun]:
    runs = [MatcherRun(m.name, dict(m.thresholds), m.timed) for m in matchers]
    bank: list[list[Families]] = [[] for _ in matchers]
    originals: list[list[Families]] = [[] for _ in matchers]
    copies: list[list[tuple[int, Families]]] = [[] for _ in matchers]
    stems = [p.stem for p in photos]
    for index, path in enumerate(photos):
        data, upright = load_photo(path)
        for m, matcher in enumerate(matchers):
            started = time.process_time()
            codes = matcher.bank(data)
            runs[m].fingerprint_s += time.process_time() - started
            runs[m].fingerprinted += 1
            bank[m].append(codes)
            originals[m].append(matcher.query(data))
        for transform in transforms:
            rng = np.random.default_rng(seed_for(seed, stems[index], transform.name))
            copy = transform.apply(upright, rng)
            for m, matcher in enumerate(matchers):
                if not _count(bank[m][index]):
                    continue
                started = time.process_time()
                query = matcher.query(copy)
                runs[m].fingerprint_s += time.process_time() - started
                runs[m].fingerprinted += 1
                copies[m].append((index, query))
                margin = min(
                    _min_distance(query.get(kind, EMPTY), bank[m][index].get(kind, EMPTY)) - t
                    for kind, t in matcher.thresholds.items()
                )
                runs[m].distances[(transform.name, stems[index])] = margin
    for m, _matcher in enumerate(matchers):
        _false_matches(runs[m], bank[m], originals[m], copies[m], len(photos))
    return runs


def originals_only(photos: Sequence[Path], matchers: Sequence[Matcher]) -> list[MatcherRun]:
    """Only the false matches among all ordered pairs of distinct originals (and the
    distance tail), without transforms: cheap enough for every shared photo."""
    return run(photos, [], matchers)


def _count(families: Families) -> int:
    return sum(len(c) for c in families.values())


def _min_distance(query: Codes, bank: Codes) -> int:
    if not len(query) or not len(bank):
        return 257
    d = np.zeros((len(query), len(bank)), dtype=np.int64)
    q, b = words(query), words(bank)
    for w in range(4):
        d += np.bitwise_count(q[:, w, None] ^ b[None, :, w])
    return int(d.min())


def _stack(per_owner: Sequence[tuple[int, Codes]]) -> tuple[Words, npt.NDArray[np.int64]]:
    owners = [np.full(len(c), i, dtype=np.int64) for i, c in per_owner if len(c)]
    codes = [c for _i, c in per_owner if len(c)]
    if not codes:
        return np.zeros((0, 4), np.uint64), np.zeros(0, np.int64)
    return words(np.concatenate(codes)), np.concatenate(owners)


def _false_matches(
    result: MatcherRun,
    bank: list[Families],
    originals: list[Families],
    copies: list[tuple[int, Families]],
    owners: int,
) -> None:
    banked = [i for i, c in enumerate(bank) if _count(c)]
    result.banked = len(banked)
    result.bank_codes = sum(_count(c) for c in bank)
    result.query_codes = sum(_count(c) for _i, c in copies)
    queried = [i for i, c in enumerate(originals) if _count(c)]
    mask = np.zeros((owners, owners), dtype=bool)
    mask[np.ix_(queried, banked)] = True
    np.fill_diagonal(mask, False)
    result.original_pairs = int(mask.sum())
    matched = np.zeros((owners, owners), dtype=bool)
    copy_matched = np.zeros((len(copies), owners), dtype=bool)
    for kind, threshold in result.thresholds.items():
        bank_words, bank_owner = _stack([(i, c.get(kind, EMPTY)) for i, c in enumerate(bank)])
        if not len(bank_words):
            result.pair_minima[kind] = np.zeros(0, np.int64)
            continue
        query_words, query_owner = _stack(
            [(i, c.get(kind, EMPTY)) for i, c in enumerate(originals)]
        )
        matrix = min_distances(query_words, query_owner, bank_words, bank_owner, (owners, owners))
        result.pair_minima[kind] = matrix[mask]
        matched |= matrix <= threshold
        # copies: one row per copy, so owners are copy numbers; compare against bank owners
        for start in range(0, len(copies), 2000):
            chunk = copies[start : start + 2000]
            cw, co = _stack([(k, c.get(kind, EMPTY)) for k, (_i, c) in enumerate(chunk)])
            if not len(cw):
                continue
            mat = min_distances(cw, co, bank_words, bank_owner, (len(chunk), owners))
            copy_matched[start : start + len(chunk)] |= mat <= threshold
    result.false_original_pairs = int((matched & mask).sum())
    copy_false = copy_pairs = 0
    column = np.zeros(owners, dtype=bool)
    column[banked] = True
    for k, (photo, _codes) in enumerate(copies):
        others = column.copy()
        others[photo] = False
        copy_false += int((copy_matched[k] & others).sum())
        copy_pairs += int(others.sum())
    result.false_copy_pairs = copy_false
    result.copy_pairs = copy_pairs
