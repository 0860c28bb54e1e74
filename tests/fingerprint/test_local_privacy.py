"""Can a recognisable image be rebuilt from the local features the bank keeps? We try.

The attack (``local_inversion.py``; docs/robust-matching.md, "Privacy of the local
signal"): the attacker knows the scheme exactly, ORB's test pattern (recovered from
``cv2`` itself), the image size and every stored corner and code. Each descriptor bit is
an intensity comparison between two points of the smoothed photo at a known place, scale
and rotation; each angle says which way the patch is brighter. The attacker solves for the
32x32 image of the frame that satisfies as many of those as it can (squared hinge, active
set), together with the robust codes' signs (the server keeps both) and a smoothness
prior, and the result is compared with the photo's own 32x32 thumbnail, as in
``test_robust_privacy.py``.

What the tests hold:

* the attack is faithful and not a straw man: its model of ORB predicts the stored bits
  from the true image, it recovers something of each photo from the local features, and
  descriptors that are not the photo's give it nothing;
* the privacy requirement: no rebuilt image passes correlation 0.65 (about 40% of the
  thumbnail's variance), and the local features add at most 0.1 over the robust codes
  alone. **The features as stored today (64 corners, 64 bits, exact angles) do not meet
  it** (on the first 20 shared photos the combined attack averages 0.70 and reaches
  0.85, against 0.41 and 0.59 from the robust codes alone; over a 64x64 grid it does
  better still, too slow for this test), so that test is marked
  ``xfail(strict=True)``: it documents the gap, and it will fail loudly, asking for the
  marker to go, once what is stored is reduced enough.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from chorus.fingerprint import local, robust
from chorus.fingerprint.benchmark.evaluate import load_photo
from tests.fingerprint import local_inversion as inv

GRID = 32
#: The photos the slow test attacks (the doc's numbers are over the first 20).
ATTACKED = 5
#: The requirement: no rebuilt image this close to the photo's thumbnail ...
MAX_CORRELATION = 0.65
#: ... and the local features add no more than this over the robust codes alone.
MAX_GAIN = 0.1
#: The attack's weight of the local rows against the robust codes' (the best of those
#: tried on the shared photos: 0.03, 0.1, 0.3).
WEIGHT = 0.1


@dataclass
class Stored:
    """What the server keeps of one photo, and the thumbnail the attack is judged by."""

    gray: npt.NDArray[np.uint8]
    features: local.LocalFeatures
    codes: tuple[inv.Array, inv.Array]
    thumbnail: inv.Array


def _stored(path: Path) -> Stored:
    data, _image = load_photo(path)
    luma = robust.luma_for_hashing(data)
    codes = robust.codes_for(luma)
    features = local.bank_features(luma)
    assert codes is not None and features is not None
    windows = [(box, code) for name, code in codes.bank if (box := inv.window(name, luma.shape))]
    assert len(windows) >= 15  # the attack uses (nearly) every code the bank keeps
    assert len(features) == local.BANK_POINTS  # ... and every corner
    thumbnail = np.asarray(
        Image.fromarray(luma.astype(np.float32), mode="F").resize(
            (GRID, GRID), Image.Resampling.BOX
        ),
        dtype=np.float64,
    )
    return Stored(
        local.working_luma(luma),
        features,
        inv.robust_system(windows, luma.shape, GRID),
        thumbnail,
    )


@pytest.fixture(scope="module")
def stored(photos: list[Path]) -> list[Stored]:
    return [_stored(path) for path in photos[:ATTACKED]]


def _bits(features: local.LocalFeatures) -> npt.NDArray[np.bool_]:
    words = features.descriptors.astype("<u8").view(np.uint8).reshape(len(features), 8)
    return np.unpackbits(words, axis=1, bitorder="little")[:, : local.BITS].astype(bool)


def test_the_attacker_recovers_orbs_test_pattern_from_the_library() -> None:
    pairs = inv.orb_test_pairs()
    assert pairs.shape == (local.BITS, 4)
    assert np.abs(pairs).max() <= 13  # inside ORB's 31x31 patch, less its border
    assert len({tuple(p) for p in pairs.tolist()}) == local.BITS
    # the first test of ORB's learned pattern (orb.cpp, bit_pattern_31_)
    assert pairs[0].tolist() == [8, -3, 9, 5]


def test_the_attacks_model_of_orb_predicts_the_stored_bits(photos: list[Path]) -> None:
    for path in photos[:2]:
        record = _stored(path)
        agreement = (
            inv.predicted_bits(record.gray, record.features) == _bits(record.features)
        ).mean()
        # measured 0.93-0.95: the rest is ORB's pixel rounding and pyramid resampling
        assert agreement > 0.85


def _rebuild_local(record: Stored, features: local.LocalFeatures) -> float:
    image = inv.rebuild(GRID, None, inv.local_system(features, GRID), weight=WEIGHT)
    return inv.correlation(image, record.thumbnail)


@pytest.mark.slow
def test_the_attack_is_not_a_straw_man(stored: list[Stored]) -> None:
    rng = np.random.default_rng(9)
    true, forged = [], []
    for record in stored[:3]:
        true.append(_rebuild_local(record, record.features))
        f = record.features
        points = f.points.copy()
        points[:, 3] = rng.uniform(0, 360, len(f))
        noise = rng.integers(0, 2**63, len(f), dtype=np.uint64)
        forged.append(_rebuild_local(record, local.LocalFeatures(f.width, f.height, points, noise)))
    # the stored bits and angles carry the picture, not the corner positions alone: with
    # the same corners but noise for bits and angles the attack finds nothing (unrelated
    # photos of this set correlate by chance, about 0.37 either way, so the mean is used)
    assert np.mean(true) > 0.3
    assert np.mean(forged) < 0.15
    assert np.mean(true) - np.mean(forged) > 0.3


@pytest.mark.slow
@pytest.mark.xfail(
    raises=AssertionError,
    strict=True,
    reason="issue 9: the local features as stored (64 corners x 64 bits, exact angles) let "
    "this attack rebuild a clearly better 32x32 image than the robust codes do; see "
    "docs/robust-matching.md, 'Privacy of the local signal'",
)
def test_stored_local_features_do_not_rebuild_a_recognisable_image(
    stored: list[Stored],
) -> None:
    both, codes_only = [], []
    for record in stored:
        system = inv.local_system(record.features, GRID)
        image = inv.rebuild(GRID, record.codes, system, weight=WEIGHT)
        both.append(inv.correlation(image, record.thumbnail))
        codes_only.append(inv.correlation(inv.rebuild(GRID, record.codes), record.thumbnail))
    assert max(both) < MAX_CORRELATION
    assert np.mean(both) - np.mean(codes_only) < MAX_GAIN
