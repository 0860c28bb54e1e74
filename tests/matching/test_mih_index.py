"""The multi-index hashing index is exact: it returns what brute force returns, always."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chorus.matching.linear_index import LinearPdqIndex
from chorus.matching.mih_index import MihPdqIndex, plan


def noisy(rng: np.random.Generator, base: np.ndarray, flips: int) -> np.ndarray:
    out = base.copy()
    for bit in rng.choice(256, flips, replace=False):
        out[bit // 8] ^= 1 << (7 - bit % 8)
    return out


@st.composite
def banks(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int]:
    """Random or clustered codes (many within, at and just past the radius) and queries."""
    seed = draw(st.integers(0, 2**32 - 1))
    n = draw(st.integers(0, 3000))
    clustered = draw(st.booleans())
    radius = draw(st.sampled_from([0, 8, 31, 40]))
    rng = np.random.default_rng(seed)
    if clustered and n:
        centres = rng.integers(0, 256, (max(1, n // 200), 32), dtype=np.uint8)
        codes = np.stack(
            [
                noisy(rng, centres[rng.integers(len(centres))], int(rng.integers(0, 45)))
                for _ in range(n)
            ]
        )
        queries = np.stack(
            [
                noisy(rng, centres[rng.integers(len(centres))], int(rng.integers(0, 40)))
                for _ in range(30)
            ]
        )
    else:
        codes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
        picks = codes[rng.integers(0, n, 20)] if n else np.zeros((0, 32), np.uint8)
        near = np.stack([noisy(rng, c, radius) for c in picks]) if n else picks
        queries = np.concatenate([near, rng.integers(0, 256, (10, 32), dtype=np.uint8)])
    return codes.astype(np.uint8), queries.astype(np.uint8), radius


@settings(max_examples=40, deadline=None)
@given(banks())
def test_same_answers_as_brute_force(bank: tuple[np.ndarray, np.ndarray, int]) -> None:
    codes, queries, radius = bank
    ids = np.arange(len(codes), dtype=np.int64) * 7 + 3
    fast, slow = MihPdqIndex(radius), LinearPdqIndex(radius)
    fast.add(ids, codes)
    slow.add(ids, codes)
    assert fast.search(queries) == slow.search(queries)  # from the delta
    fast.compact()
    assert fast.search(queries) == slow.search(queries)  # from the chunk tables
    gone = ids[::3]
    fast.remove(gone)
    slow.remove(gone)
    assert fast.search(queries) == slow.search(queries)
    assert len(fast) == len(slow)


def test_exactly_at_and_past_the_radius() -> None:
    rng = np.random.default_rng(1)
    base = rng.integers(0, 256, (1, 32), dtype=np.uint8)[0]
    others = rng.integers(0, 256, (5000, 32), dtype=np.uint8)
    at, past = noisy(rng, base, 31), noisy(rng, base, 32)
    index = MihPdqIndex(31)
    index.add([1, 2, *range(10, 5010)], np.vstack([at, past, others]))
    index.compact()
    hits = index.search(base[None, :])[0]
    assert (1, 31) in hits and all(i != 2 for i, _ in hits)


def test_persistence_without_pickle(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 256, (2000, 32), dtype=np.uint8)
    index = MihPdqIndex()
    index.add(np.arange(2000), codes)
    index.remove([5])
    index.save(tmp_path / "idx")
    assert not list((tmp_path / "idx").glob("*.pkl"))
    loaded = MihPdqIndex.load(tmp_path / "idx")
    assert loaded.search(codes[:50]) == index.search(codes[:50])
    loaded.remove([6])  # memory-mapped tables still accept changes
    loaded.add([9999], codes[6:7])
    assert loaded.search(codes[6:7])[0][0] == (9999, 0)


@pytest.mark.parametrize(
    ("ids", "codes"),
    [
        ([1], np.zeros((1, 31), np.uint8)),
        ([-1], np.zeros((1, 32), np.uint8)),
        ([1, 1], np.zeros((2, 32), np.uint8)),
        ([1], np.zeros((1, 32), np.int64)),
    ],
)
def test_bad_arrays_are_refused(ids: list[int], codes: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"codes must|ids must"):
        MihPdqIndex().add(ids, codes)


def test_plan_covers_all_bits() -> None:
    for n in (0, 10, 10**3, 10**6, 10**7):
        for radius in (0, 31, 63):
            widths = plan(n, radius)
            assert sum(widths) == 256
            assert radius // len(widths) <= 2
