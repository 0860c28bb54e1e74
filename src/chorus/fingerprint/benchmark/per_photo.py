"""The benchmark's two passes over the photos, in this process or in worker processes.

1. :func:`fingerprint_original`: the full fingerprint of every original
   (:func:`~.signals.fingerprint`).
2. :func:`compare_photo`: with every matcher's bank made from pass 1 (:class:`Bank`, given
   to each worker once), one photo's original against every banked photo (one row of the
   all-pairs table), then each of its copies: made from the seeded transforms, fingerprinted
   once, and compared with its own photo (recall) and with every other banked photo (false
   matches). Only counts and distances come back, never images or fingerprints.

Every step is deterministic (transform seeds come from the photo's name, RANSAC is
seeded), so any number of workers gives the same results as one, in the same order.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps

from chorus.fingerprint import local
from chorus.fingerprint.benchmark.local_pairs import LocalBank, matches, pair_statistics
from chorus.fingerprint.benchmark.matchers import EMPTY, Codes, Matcher, Prints
from chorus.fingerprint.benchmark.signals import Signals, fingerprint
from chorus.fingerprint.benchmark.transforms import Transform

Words = npt.NDArray[np.uint64]
Owners = npt.NDArray[np.int64]
#: The margin of a copy nothing was found for (a hit is a margin <= 0).
MISS = 257


def words(codes: Codes) -> Words:
    return np.ascontiguousarray(codes).view(np.uint64).reshape(-1, 4)


def min_distances(
    query: Words, query_owner: Owners, bank: Words, bank_owner: Owners, shape: tuple[int, int]
) -> npt.NDArray[np.int64]:
    """Matrix (query owners x bank owners) of the minimum Hamming distance between their
    codes (257 where an owner has no codes). Owners must be sorted in ``bank_owner``."""
    out = np.full(shape, 257, dtype=np.int64)
    if not len(bank) or not len(query):
        return out
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


def stack(per_owner: Sequence[tuple[int, Codes]]) -> tuple[Words, Owners]:
    owners = [np.full(len(c), i, dtype=np.int64) for i, c in per_owner if len(c)]
    codes = [c for _i, c in per_owner if len(c)]
    if not codes:
        return np.zeros((0, 4), np.uint64), np.zeros(0, np.int64)
    return words(np.concatenate(codes)), np.concatenate(owners)


@dataclass(frozen=True)
class Bank:
    """One matcher's bank: every photo's bank prints, stacked per family."""

    prints: tuple[Prints, ...]
    families: dict[str, tuple[Words, Owners]]
    local: LocalBank | None

    @classmethod
    def of(
        cls,
        matcher: Matcher,
        prints: Sequence[Prints],
        shared: dict[tuple[int, ...], LocalBank] | None = None,
    ) -> Bank:
        """``shared`` holds the local banks already made in this run: matchers banking the
        very same local features share one (so their checks are run once per copy)."""
        families = {
            kind: stack([(i, p.codes.get(kind, EMPTY)) for i, p in enumerate(prints)])
            for kind in matcher.thresholds
        }
        if not matcher.local:
            return cls(tuple(prints), families, None)
        features = [p.local[0] if p.local else None for p in prints]
        shared = {} if shared is None else shared
        key = tuple(id(f) for f in features)
        if key not in shared:
            shared[key] = LocalBank.of(features)
        return cls(tuple(prints), families, shared[key])

    @property
    def banked(self) -> npt.NDArray[np.bool_]:
        return np.array([len(p) > 0 for p in self.prints], dtype=bool)


@dataclass
class Row:
    """One photo's results for one matcher."""

    #: its original against every photo: minimum distance per family, the local check's
    #: agreeing corners, and which photos matched (None when it gave no query prints)
    minima: dict[str, npt.NDArray[np.int16]] = field(default_factory=dict)
    agreeing: npt.NDArray[np.int16] | None = None
    matched: npt.NDArray[np.bool_] | None = None
    #: transform name -> margin of the copy to its own photo (a hit is <= 0)
    margins: dict[str, int] = field(default_factory=dict)
    false_copy_pairs: int = 0
    #: (transform, photo the copy was wrongly matched to), every one
    false_copies: list[tuple[str, int]] = field(default_factory=list)
    copy_pairs: int = 0
    query_codes: int = 0
    query_corners: int = 0
    fingerprint_s: float = 0.0
    fingerprinted: int = 0
    #: pairs the exact prefilter handed to local.best_match
    checked: int = 0
    #: capture scores of the pairs of distinct photos (its original's and its copies')
    #: that passed every local rule but the capture rule
    captures: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    matchers: tuple[Matcher, ...]
    banks: tuple[Bank, ...]
    transforms: tuple[Transform, ...]
    seed: int


_context: Context | None = None


def use(context: Context | None) -> None:
    """Set the context :func:`compare_photo` works in (a worker's initializer)."""
    global _context
    _context = context


def fingerprint_original(path: Path) -> Signals:
    return fingerprint(path.read_bytes())


def _upright(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return ImageOps.exif_transpose(image).convert("RGB")


#: Local checks already run for the photo at hand, by (local bank, query sets): the
#: matchers sharing a local bank and a copy's feature sets run them once. Each entry
#: keeps its query sets alive, so that their id cannot be reused while the memo is.
Memo = dict[tuple[int, int], tuple[object, npt.NDArray[np.bool_], int, list[float]]]


def _against_all(
    matcher: Matcher,
    bank: Bank,
    query: Prints,
    skip: int,
    owners: int,
    memo: Memo | None = None,
) -> tuple[dict[str, npt.NDArray[np.int64]], npt.NDArray[np.bool_], int, list[float]]:
    """Per family, the minimum distance of ``query`` to every photo, and which photos
    match (by the local check too unless ``memo`` is None; ``skip`` is not checked), with
    the local check's count of pairs checked and capture scores (see :func:`matches`)."""
    minima: dict[str, npt.NDArray[np.int64]] = {}
    matched = np.zeros(owners, dtype=bool)
    for kind, threshold in matcher.thresholds.items():
        bank_words, bank_owner = bank.families[kind]
        q = words(query.codes.get(kind, EMPTY))
        row = min_distances(q, np.zeros(len(q), np.int64), bank_words, bank_owner, (1, owners))
        minima[kind] = row[0]
        matched |= row[0] <= threshold
    checked = 0
    captures: list[float] = []
    if memo is not None and bank.local is not None and query.local:
        key = (id(bank.local), id(query.local))
        if key not in memo:
            memo[key] = (query.local, *matches(bank.local, query.local, skip=skip))
        _, found, checked, captures = memo[key]
        matched |= found
    return minima, matched, checked, captures


def _margin(matcher: Matcher, own: Prints, query: Prints) -> int:
    margin = MISS
    for kind, threshold in matcher.thresholds.items():
        q, b = words(query.codes.get(kind, EMPTY)), words(own.codes.get(kind, EMPTY))
        if len(q) and len(b):
            d = np.zeros((len(q), len(b)), dtype=np.int64)
            for w in range(4):
                d += np.bitwise_count(q[:, w, None] ^ b[None, :, w])
            margin = min(margin, int(np.min(d)) - threshold)
    if matcher.local and own.local and query.local:
        found = local.best_match(own.local[0], list(query.local))
        if found is not None:
            margin = min(margin, local.MIN_INLIERS - found.inliers)
    return margin


def compare_photo(task: tuple[int, Path, Signals]) -> list[Row]:
    """Pass 2 for one photo (see the module's docstring); one :class:`Row` per matcher."""
    assert _context is not None, "use() the context first"
    index, path, signals = task
    ctx = _context
    owners = len(ctx.banks[0].prints) if ctx.banks else 0
    rows = [Row() for _ in ctx.matchers]
    # as Memo, for the original's row: the same check once for matchers sharing it
    statistics: dict[
        tuple[int, int], tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_], int, list[float]]
    ]
    statistics = {}
    held: list[object] = []
    for m, matcher in enumerate(ctx.matchers):
        bank, row = ctx.banks[m], rows[m]
        original = matcher.query(signals)
        if not len(original):
            continue
        minima, matched, _, _ = _against_all(matcher, bank, original, index, owners)
        row.minima = {k: v.astype(np.int16) for k, v in minima.items()}
        if bank.local is not None:
            key = (id(bank.local), id(original.local))
            if key not in statistics:
                statistics[key] = pair_statistics(bank.local, original.local, index)
                held.append(original.local)  # its id stays its own while the dict lives
            agreeing, found, row.checked, captures = statistics[key]
            row.captures += captures
            row.agreeing = agreeing.astype(np.int16)
            matched |= found
        row.matched = matched
    banked = [bank.banked for bank in ctx.banks]
    if not ctx.transforms or not any(b[index] for b in banked):
        return rows
    upright = _upright(path)
    for transform in ctx.transforms:
        rng = np.random.default_rng(seed_for(ctx.seed, path.stem, transform.name))
        copy = fingerprint(transform.apply(upright, rng))
        memo: Memo = {}
        for m, matcher in enumerate(ctx.matchers):
            bank, row = ctx.banks[m], rows[m]
            if not banked[m][index]:
                continue
            query = matcher.query(copy)
            row.fingerprint_s += copy.cost(matcher.stages)
            row.fingerprinted += 1
            row.query_codes += sum(len(c) for c in query.codes.values())
            row.query_corners += query.corners
            row.margins[transform.name] = _margin(matcher, bank.prints[index], query)
            others = banked[m].copy()
            others[index] = False
            row.copy_pairs += int(others.sum())
            if len(query):
                _, matched, checked, captures = _against_all(
                    matcher, bank, query, index, owners, memo
                )
                row.captures += captures
                wrong = np.flatnonzero(matched & others)
                row.false_copy_pairs += len(wrong)
                row.false_copies += [(transform.name, int(i)) for i in wrong]
                row.checked += checked
    return rows


def seed_for(seed: int, photo: str, transform: str) -> int:
    return zlib.crc32(f"{seed}:{photo}:{transform}".encode())
