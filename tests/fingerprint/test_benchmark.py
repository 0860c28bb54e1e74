"""The robustness benchmark module: seeded transforms, recall and false-match counting."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from chorus.fingerprint.benchmark import (
    TRANSFORMS,
    PdqDihedralMatcher,
    PdqMatcher,
    RobustMatcher,
    csv_rows,
    markdown,
    originals_only,
    run,
)
from chorus.fingerprint.benchmark.evaluate import load_photo, min_distances, tail_estimate, words


def test_every_transform_is_named_once_and_reproducible(photos: list[Path]) -> None:
    assert len({t.name for t in TRANSFORMS}) == len(TRANSFORMS)
    _data, upright = load_photo(photos[0])
    for t in TRANSFORMS:
        a = t.apply(upright, np.random.default_rng(7))
        b = t.apply(upright, np.random.default_rng(7))
        assert a == b, t.name
        with Image.open(io.BytesIO(a)) as copy:
            assert copy.format == "JPEG"
            assert min(copy.size) >= 32, t.name


def test_min_distances_agrees_with_pairwise_popcount() -> None:
    rng = np.random.default_rng(3)
    bank = rng.integers(0, 256, size=(12, 32), dtype=np.uint8)
    query = rng.integers(0, 256, size=(5, 32), dtype=np.uint8)
    bank_owner = np.repeat(np.arange(4), 3)
    query_owner = np.array([0, 0, 1, 2, 2])
    got = min_distances(words(query), query_owner, words(bank), bank_owner, (3, 4))
    bits = np.unpackbits
    for qo in range(3):
        for bo in range(4):
            want = min(
                int((bits(query[i]) != bits(bank[j])).sum())
                for i in np.flatnonzero(query_owner == qo)
                for j in np.flatnonzero(bank_owner == bo)
            )
            assert got[qo, bo] == want


def test_tail_estimate_is_small_far_below_the_distribution() -> None:
    minima = np.random.default_rng(1).normal(120, 10, size=20_000).round().astype(np.int64)
    near, _ = tail_estimate(minima, 100)
    far, _ = tail_estimate(minima, 31)
    assert 0.01 < near < 0.05  # two standard deviations down: about 2.3%
    assert far < 1e-15


@pytest.mark.slow
def test_run_reports_the_baselines(photos: list[Path]) -> None:
    chosen = [t for t in TRANSFORMS if t.name in ("jpeg_q70", "flip_horizontal", "screenshot")]
    runs = run(photos[:6], chosen, [PdqMatcher(), PdqDihedralMatcher()], seed=1)
    plain, dihedral = runs
    assert plain.recall("jpeg_q70")[0] == plain.recall("jpeg_q70")[1] > 0
    assert plain.recall("flip_horizontal")[0] < dihedral.recall("flip_horizontal")[0]
    assert plain.original_pairs == plain.banked * (plain.banked - 1)
    assert plain.false_original_pairs == 0
    table = markdown(runs, chosen)
    assert "| screenshot | screenshot |" in table
    assert "PDQ + dihedral (<= 31)" in table
    assert csv_rows(runs, chosen).count("\n") == 1 + 3 * 2 + 2 * 2


def test_originals_only_runs_both_rules_on_the_same_codes(photos: list[Path]) -> None:
    """The shirts that matched under the one-radius rule (44 bits, any code against any
    code, half-frame codes included) match under neither rule now that no half-frame codes
    are made; both rules over the same codes."""
    shirts = ["5ddd23ad-e060-4e8a-a5ef-f7d3179567ff", "a9fe576c-a408-4b3f-80de-d9cb04d36360"]
    chosen = [p for p in photos if p.stem in shirts] + photos[:1]
    after, before = originals_only(
        chosen,
        [RobustMatcher(), RobustMatcher("before", whole=44, split=False, timed=False)],
    )
    assert after.thresholds == {"robust": 40}
    # they came within 44 bits as half-frame codes, which are no longer made (version 3);
    # the whole-region codes stay far apart either way
    assert before.original_pairs == 6
    assert after.false_original_pairs == before.false_original_pairs == 0
    assert after.lowest("robust") > 44  # type: ignore[operator]
    table = markdown([after, before], [])
    assert "Chorus robust (<= 40)" in table
    assert "before (<= 44)" in table
    assert "same codes" in table
