"""Can a recognisable image be rebuilt from the local features the bank keeps? We try.

The attack (``local_inversion.py``; docs/robust-matching.md, "Privacy of the local
signal"): the attacker knows the scheme exactly, ORB's test pattern (recovered from
``cv2`` itself), the image size and every stored corner and code. Version 2 of the local
features keeps no angle, so the attacker searches it: against the robust codes' picture,
each corner is tried at 36 angles and keeps the one whose predicted bits agree best with
the stored ones. Each descriptor bit is then an intensity comparison between two points
of the smoothed photo at a known place and scale and a guessed rotation. The attacker
solves for the 32x32 image of the frame that satisfies as many of those as it can
(squared hinge, active set), together with the robust codes' signs (the server keeps
both) and a smoothness prior, searches the angles again against that, solves again, and
the result is compared with the photo's own 32x32 thumbnail, as in
``test_robust_privacy.py``.

What the tests hold:

* the attack is faithful and not a straw man: with ORB's own angles (recomputed by
  ``cv2`` on the true image, for this control only) its model of ORB predicts the stored
  bits, the angle search finds those angles, and it recovers something of each photo from
  the local features, while descriptors that are not the photo's give it nothing;
* the privacy requirement: no rebuilt image passes correlation 0.65 (about 40% of the
  thumbnail's variance), and the local features add at most 0.1 over the robust codes
  alone. **Version 2 (64 corners, 64 bits, no angle) meets the second but not the first
  on the first 60 shared photos** (measured 2026-12-02, with version 3 of the robust
  codes): the combined attack averages 0.41 against 0.35 for the robust codes alone (a
  gain of 0.06), but 9 of the 60 pass 0.65 and one (``0dc84ada``) reaches 0.77; of the
  first 4, tested here, ``0028956e`` reaches 0.70. So that test stays
  ``xfail(strict=True)``: it documents the gap, and it will fail loudly, asking for the
  marker to go, once what is stored is reduced enough. (With the robust codes' half-frame
  codes, before version 3, the gain was 0.11 and the maximum 0.86. The attack's weight of
  the local rows was chosen with those codes; with fewer codes it sometimes does worse
  than the codes alone, so a tuned attacker may gain more than 0.06. Keeping only corners
  of ORB's three finest levels brought the maximum to 0.70 with the older codes, but lets
  photos taken in the same place match: see docs/robust-matching.md.)
  Random bits at the same corners give the attack nothing (mean 0.14), so the failing
  maximum is the bits' leak, not the attack's variance; ORB's 64 shortest tests leak as
  much (at most 0.75); bits stored as parities of two tests leak nothing the attack can
  use (at most 0.61, mean below the codes alone) but are too unstable for the index at
  1M: docs/robust-matching.md, "What carries the leak".
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
#: The photos the slow tests attack (the doc's numbers are over the first 20; four keep
#: the requirement test near 20 s, the angle search and two solves per photo).
ATTACKED = 4
#: The requirement: no rebuilt image this close to the photo's thumbnail ...
MAX_CORRELATION = 0.65
#: ... and the local features add no more than this over the robust codes alone.
MAX_GAIN = 0.1
#: The attack's weight of the local rows against the robust codes' (the best of those
#: tried on the shared photos with version 1's angles: 0.03, 0.1, 0.3).
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
    assert len(windows) >= 12  # the attack uses every window the bank keeps a code of
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


def test_the_attacker_recovers_orbs_test_pattern_from_the_library() -> None:
    pairs = inv.orb_test_pairs()
    assert pairs.shape == (local.BITS, 4)
    assert np.abs(pairs).max() <= 13  # inside ORB's 31x31 patch, less its border
    assert len({tuple(p) for p in pairs.tolist()}) == local.BITS
    # the first test of ORB's learned pattern (orb.cpp, bit_pattern_31_)
    assert pairs[0].tolist() == [8, -3, 9, 5]


def test_what_is_stored_has_no_angle(photos: list[Path]) -> None:
    record = _stored(photos[0])
    assert record.features.points.shape == (local.BANK_POINTS, 3)  # x, y, size
    header = len(
        local.LocalFeatures(1, 1, np.zeros((0, 3), np.float32), np.zeros(0, np.uint64)).to_bytes()
    )
    # 14 bytes a corner: x, y and size in 1/64 px (2 bytes each) and 64 bits
    assert len(record.features.to_bytes()) == header + 14 * local.BANK_POINTS


def test_the_attacks_model_of_orb_predicts_the_stored_bits(photos: list[Path]) -> None:
    for path in photos[:2]:
        record = _stored(path)
        truth = inv.true_angles(record.gray, record.features)
        bits = inv.stored_bits(record.features)
        agreement = (inv.predicted_bits(record.gray, record.features, truth) == bits).mean()
        # measured 0.93-0.95: the rest is ORB's pixel rounding and pyramid resampling
        assert agreement > 0.85
        # the search, given the true image, finds ORB's angles (measured: median error
        # 2.4-2.6 degrees, the search's step is 10) and agrees as well with the bits
        searched, agree = inv.search_angles(record.gray.astype(np.float64), record.features)
        assert np.median(inv.angle_error(searched, truth)) < 6
        assert agree.mean() > 0.85


def _rebuild_local(record: Stored, features: local.LocalFeatures, angles: inv.Array) -> float:
    system = inv.local_system(features, GRID, angles)
    return inv.correlation(inv.rebuild(GRID, None, system, weight=WEIGHT), record.thumbnail)


@pytest.mark.slow
def test_the_attack_is_not_a_straw_man(stored: list[Stored]) -> None:
    rng = np.random.default_rng(9)
    true, forged, found, lost = [], [], [], []
    for record in stored[:3]:
        f = record.features
        truth = inv.true_angles(record.gray, f)
        noise = local.LocalFeatures(
            f.width, f.height, f.points, rng.integers(0, 2**63, len(f), dtype=np.uint64)
        )
        # with ORB's own angles (a control: the bank does not keep them), the bits
        # rebuild something of the photo, and noise bits at random angles nothing
        true.append(_rebuild_local(record, f, truth))
        forged.append(_rebuild_local(record, noise, rng.uniform(0, 360, len(f))))
        # from the robust codes' picture alone, the search finds the real bits' angles
        # roughly, and no angle for noise bits
        picture = inv.rebuild(GRID, record.codes)
        found.append(np.median(inv.angle_error(inv.search_angles(picture, f)[0], truth)))
        lost.append(np.median(inv.angle_error(inv.search_angles(picture, noise)[0], truth)))
    # unrelated photos of this set correlate by chance, about 0.37 either way, so the
    # mean is used
    assert np.mean(true) > 0.3
    assert np.mean(forged) < 0.15
    assert np.mean(true) - np.mean(forged) > 0.3
    assert np.mean(found) < 30
    assert np.mean(lost) > 60


@pytest.mark.slow
@pytest.mark.xfail(
    raises=AssertionError,
    strict=True,
    reason="issue 9: against the local features as stored (version 2: 64 corners x 64 "
    "bits, no angle), an attacker who searches each corner's angle rebuilds images "
    "averaging 0.41 on the first 60 shared photos, 0.06 over the robust codes alone "
    "(0.35), but reaching 0.77 against the 0.65 bar (9 of 60 pass it; of the first 4, "
    "tested here, one reaches 0.70); see docs/robust-matching.md, 'Privacy of the local "
    "signal'",
)
def test_stored_local_features_do_not_rebuild_a_recognisable_image(
    stored: list[Stored],
) -> None:
    both, codes_only = [], []
    for record in stored:
        start = inv.rebuild(GRID, record.codes)
        codes_only.append(inv.correlation(start, record.thumbnail))
        image, _angles = inv.attack(record.features, GRID, record.codes, weight=WEIGHT, start=start)
        both.append(inv.correlation(image, record.thumbnail))
    assert max(both) < MAX_CORRELATION
    assert np.mean(both) - np.mean(codes_only) < MAX_GAIN
