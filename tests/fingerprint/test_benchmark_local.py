"""The local signal in the robustness benchmark: the combined matcher, the exact
prefilter, the tail estimate and worker processes."""

from __future__ import annotations

import pickle
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chorus.fingerprint import local
from chorus.fingerprint.benchmark import (
    ChorusMatcher,
    LocalMatcher,
    MatcherRun,
    PdqDihedralMatcher,
    RobustMatcher,
    markdown,
    originals_only,
    run,
)
from chorus.fingerprint.benchmark.evaluate import load_photo
from chorus.fingerprint.benchmark.local_pairs import (
    LocalBank,
    agreeing_corners,
    capture_tail_estimate,
    local_tail_estimate,
    matches,
    most_close,
)
from chorus.fingerprint.benchmark.signals import fingerprint
from chorus.fingerprint.benchmark.transforms import Transform, by_name
from chorus.fingerprint.hasher import fingerprint_bytes

COPIES = ("crop70_offcentre", "crop90_offcentre", "rotate_5", "overlay_emoji")


def test_the_combined_matcher_finds_an_off_centre_crop_the_robust_codes_miss(
    photos: list[Path],
) -> None:
    chosen = by_name(["crop70_offcentre", "jpeg_q70"])
    matchers = [RobustMatcher(), LocalMatcher(), ChorusMatcher()]
    robust_run, local_run, chorus = run(photos[:4], chosen, matchers, seed=3)
    missed = {p for (t, p), d in robust_run.distances.items() if t == "crop70_offcentre" and d > 0}
    assert missed, "the robust codes should miss some 70% off-centre crop here"
    for stem in missed:
        assert chorus.distances[("crop70_offcentre", stem)] <= 0
        assert local_run.distances[("crop70_offcentre", stem)] <= 0
    hits, total = chorus.recall("jpeg_q70")
    assert hits == total == chorus.banked == 4
    assert chorus.false_original_pairs == chorus.false_copy_pairs == 0
    assert chorus.false_pairs == []
    assert chorus.original_pairs == 4 * 3 and chorus.copy_pairs == 2 * 4 * 3
    assert chorus.thresholds == {"pdq": 31, "robust": 40}
    table = markdown([robust_run, local_run, chorus], chosen)
    assert "Chorus (all signals) (pdq <= 31, robust <= 40, local >= 8" in table
    assert "local corners per banked photo" in table


def test_no_false_match_among_distinct_photos(photos: list[Path]) -> None:
    local_run, chorus = originals_only(photos[:7], [LocalMatcher(), ChorusMatcher()])
    for r in (local_run, chorus):
        assert r.original_pairs == r.banked * (r.banked - 1) > 0
        assert r.false_original_pairs == 0
        assert len(r.pair_agreeing) == r.original_pairs
        assert r.most_agreeing() is not None and r.most_agreeing() < local.MIN_INLIERS  # type: ignore[operator]


def _comparable(r: MatcherRun) -> dict[str, object]:
    out: dict[str, object] = {}
    for f in fields(r):
        value = getattr(r, f.name)
        if f.name == "fingerprint_s":
            continue
        if f.name == "pair_minima":
            value = {k: v.tolist() for k, v in value.items()}
        elif isinstance(value, np.ndarray):
            value = value.tolist()
        out[f.name] = value
    return out


@pytest.mark.slow
def test_two_jobs_give_the_same_results_as_one(photos: list[Path]) -> None:
    chosen = by_name(["crop80_offcentre", "screenshot"])
    matchers = [PdqDihedralMatcher(), RobustMatcher(), ChorusMatcher()]
    one = run(photos[:3], chosen, matchers, seed=5, jobs=1)
    two = run(photos[:3], chosen, matchers, seed=5, jobs=2)
    assert [_comparable(r) for r in one] == [_comparable(r) for r in two]

    def untimed(table: str) -> str:
        return "\n".join(line for line in table.splitlines() if "ms per image" not in line)

    assert untimed(markdown(one, chosen)) == untimed(markdown(two, chosen))
    assert all(r.fingerprinted == 3 + 2 * 3 for r in two)


def test_only_named_transforms_are_sent_to_workers() -> None:
    named = by_name(["rotate_5"])[0]
    assert pickle.loads(pickle.dumps(named)) is named
    custom = Transform("rotate_5", "rotate5", named.steps)
    with pytest.raises(TypeError, match="named transforms"):
        pickle.dumps(custom)


def test_the_shared_fingerprint_gives_the_shipped_robust_codes(photos: list[Path]) -> None:
    data, upright = load_photo(photos[1])
    copy = by_name(["screenshot"])[0].apply(upright, np.random.default_rng(2))
    for image in (data, copy):
        signals = fingerprint(image)
        assert signals.robust == fingerprint_bytes(image).robust
        assert signals.pdq == fingerprint_bytes(image, with_robust=False).pdq.dihedral
        assert signals.bank_local is not None and len(signals.query_local) >= 1
        assert set(signals.seconds) == {"pdq", "luma", "robust", "local"}
    unreadable = fingerprint(b"not an image")
    assert not unreadable.pdq and unreadable.robust is None
    assert unreadable.bank_local is None and not unreadable.query_local


# -- the exact prefilter --------------------------------------------------------------------
@pytest.fixture(scope="module")
def features(
    photos: list[Path],
) -> tuple[list[local.LocalFeatures | None], list[list[local.LocalFeatures]]]:
    """Bank features of a few photos, and query sets of them and of some of their copies
    (so that the pairs include ones the check accepts)."""
    banks, queries = [], []
    for index, path in enumerate(photos[:6]):
        data, upright = load_photo(path)
        signals = fingerprint(data)
        banks.append(signals.bank_local)
        queries.append(list(signals.query_local))
        for name in COPIES[index % 2 :: 2]:
            rng = np.random.default_rng(index)
            copy = fingerprint(by_name([name])[0].apply(upright, rng))
            queries.append(list(copy.query_local))
    return banks, queries


def _noisy(query: local.LocalFeatures, seed: int, rate: float) -> local.LocalFeatures:
    """``query`` with each descriptor bit flipped with probability ``rate`` (to put
    corners on either side of the radius)."""
    rng = np.random.default_rng(seed)
    bits = rng.random((len(query), 64)) < rate
    flips = (bits * (np.uint64(1) << np.arange(64, dtype=np.uint64))).sum(axis=1)
    noisy = query.descriptors ^ flips.astype(np.uint64)
    return local.LocalFeatures(query.width, query.height, query.points, noisy)


@settings(max_examples=60, deadline=None)
@given(
    copy=st.integers(0, 1000),
    seed=st.integers(0, 2**16),
    rate=st.sampled_from([0.0, 0.0, 0.05, 0.1, 0.15]),
)
def test_the_prefilter_never_drops_a_pair_the_check_accepts(
    features: tuple[list[local.LocalFeatures | None], list[list[local.LocalFeatures]]],
    copy: int,
    seed: int,
    rate: float,
) -> None:
    """Every banked photo against one copy or original, its descriptors perhaps made
    noisy: the prefilter's count is the brute-force one, and what passes it and the
    check is exactly what best_match accepts."""
    banks, queries = features
    sets = [_noisy(q, seed + k, rate) for k, q in enumerate(queries[copy % len(queries)])]
    bank = LocalBank.of(banks)
    counts = most_close(bank, sets)
    found, _checked, captures = matches(bank, sets)
    assert sum(1 for c in captures if c < local.MAX_CAPTURE) == int(found.sum())
    for owner, features_of in enumerate(banks):
        assert features_of is not None
        accepted = local.best_match(features_of, sets)
        if accepted is not None:
            assert counts[owner] >= local.MIN_INLIERS
        assert found[owner] == (accepted is not None)
        close = max(
            (
                int((local.distances(features_of, q).min(axis=1) <= local.RADIUS).sum())
                for q in sets
            ),
            default=0,
        )
        assert counts[owner] == close


def test_agreeing_corners_is_the_checks_own_count(
    features: tuple[list[local.LocalFeatures | None], list[list[local.LocalFeatures]]],
) -> None:
    banks, queries = features
    accepted = 0
    for bank in banks:
        assert bank is not None
        for sets in queries:
            for query in sets:
                found = local.verify(bank, query)
                count = agreeing_corners(bank, query)
                if found is not None:
                    accepted += 1
                    assert count == found.inliers
                elif count < local.MIN_INLIERS:
                    assert found is None
    assert accepted >= len(banks)  # every photo against its own original at least


# -- the tail estimate ------------------------------------------------------------------------
def test_the_local_tail_estimate_extrapolates_a_geometric_tail() -> None:
    rng = np.random.default_rng(4)
    # P(X >= k) = 0.1^k: at 200,000 pairs a few reach 5, none 8 (true rate 1e-8)
    agreeing = rng.geometric(0.9, size=200_000) - 1
    agreeing = agreeing[agreeing < 8][:200_000]
    rate, how = local_tail_estimate(agreeing.astype(np.int64))
    assert 1e-10 < rate < 1e-6, how
    assert "geometric fit" in how


def test_the_local_tail_estimate_reports_what_it_cannot_fit() -> None:
    assert np.isnan(local_tail_estimate(np.zeros(50, np.int64))[0])
    rate, how = local_tail_estimate(np.zeros(1000, np.int64))
    assert np.isnan(rate) and "too few pairs with 3+" in how
    observed = np.zeros(1000, np.int64)
    observed[:2] = 9
    rate, how = local_tail_estimate(observed)
    assert rate == 2 / 1000 and how.startswith("observed")


def test_the_capture_tail_multiplies_the_geometric_rate_by_the_normal_tail() -> None:
    # 50 pairs of 10 million passed the geometric rules, scores 20 +- 1.5: a bound of
    # 16.5 is 2.33 sd below, a normal tail of about 1%, so about 5e-8 per pair (16.0: 0.4%)
    rng = np.random.default_rng(7)
    scores = (20 + 1.5 * rng.standard_normal(50)).clip(local.MAX_CAPTURE + 0.01).tolist()
    rate, how = capture_tail_estimate(scores, 10_000_000)
    assert 5e-9 < rate < 5e-7, how
    assert "50 of 10000000 pairs pass the geometric rules" in how and "z = " in how


def test_the_capture_tail_counts_what_passed_and_bounds_what_it_cannot_fit() -> None:
    rate, how = capture_tail_estimate([local.MAX_CAPTURE - 1, 30.0], 1000)
    assert rate == 1 / 1000 and how.startswith("observed")
    rate, how = capture_tail_estimate([30.0] * 4, 1_000_000)
    assert rate == 4 / 1_000_000 and "bounded" in how
    rate, how = capture_tail_estimate([], 1_000_000)
    assert rate == 3 / 1_000_000
    assert np.isnan(capture_tail_estimate([], 0)[0])
