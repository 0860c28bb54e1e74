"""Can a recognisable image be rebuilt from the robust codes the bank keeps? We try.

The attack (docs/robust-matching.md, "Privacy"): the attacker knows the whole scheme, every
stored code and which window each one hashes (the variant names say so). Each code is the
signs of 256 DCT coefficients (frequencies 1..16) of a window resampled to 64x64, against
their median. The attacker looks for the image whose window coefficients best agree with
those signs, weighted by the 1/frequency magnitudes natural images have, with a smoothness
prior: a regularised least-squares solve over a 32x32 image of the whole frame (finer
grids only add noise: the codes carry nothing finer). The result is compared with the
photo's own 32x32 thumbnail.

What the test holds, on the first 60 shared photos: the rebuilt image explains well under
half of the thumbnail's variance (correlation below 0.65: the outline of a large object at
best, no detail), and the extra codes the robust signal keeps add little over the single
full-frame code, which carries the information partners already receive in a PDQ hash.

Measured 2026-12-02: 0.35 on average and at most 0.60 (on ``073f2d48``), against 0.36 and
0.61 from the full-frame code alone. Until version 3 of the codes the bank also kept the
four half-frame codes; with them the same attack reached 0.40 on average and 0.68 on
``073f2d48``, past the bar, which is why they are no longer made.

What this measure misses: looked at, the codes' image shows a garment's outline and its
hanger where the full-frame code's alone shows blobs, at the same correlation. The bar
holds; it is a weaker statement than it looks (docs/robust-matching.md, "Looked at, not
only measured"). So the test also compares edges (gradient magnitude), where the ladder's
gain over one code shows: 0.52 against 0.45 on average.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from chorus.fingerprint import robust
from chorus.fingerprint.benchmark.evaluate import load_photo
from tests.fingerprint import local_inversion as inv

GRID = 32
#: The photos attacked: the codes' attack is cheap (a least-squares solve each), so all of
#: the first 60, where the worst case found so far lies.
ATTACKED = 60


def _solve(codes: list[tuple[robust.Box, str]], shape: tuple[int, ...]) -> inv.Array:
    return inv.rebuild(GRID, inv.robust_system(codes, shape, GRID))


def _edges(image: inv.Array) -> inv.Array:
    """Gradient magnitude (Sobel): what an outline is made of."""
    out: inv.Array = np.hypot(
        cv2.Sobel(image, cv2.CV_64F, 1, 0), cv2.Sobel(image, cv2.CV_64F, 0, 1)
    )
    return out


def _attack(path: Path) -> tuple[float, float, float, float]:
    """Correlations with the photo's thumbnail of the rebuild from every stored code and
    from the full-frame code alone, then the same for their edges."""
    data, _image = load_photo(path)
    luma = robust.luma_for_hashing(data)
    codes = robust.codes_for(luma)
    # pytest.fail, not assert: a broken precondition is not the bar failing
    if codes is None:
        pytest.fail(f"{path.name} gave no robust codes")
    stored = [(box, code) for name, code in codes.bank if (box := inv.window(name, luma.shape))]
    if len(stored) < 12:  # the attack uses every window the bank keeps a code of
        pytest.fail(f"{path.name}: the attack has only {len(stored)} of the stored codes")
    first = dict(codes.bank)["full"]
    thumbnail = np.asarray(
        Image.fromarray(luma.astype(np.float32), mode="F").resize(
            (GRID, GRID), Image.Resampling.BOX
        ),
        dtype=np.float64,
    )
    everything = _solve(stored, luma.shape)
    full_only = _solve([(stored[0][0], first)], luma.shape)
    return (
        inv.correlation(everything, thumbnail),
        inv.correlation(full_only, thumbnail),
        inv.correlation(_edges(everything), _edges(thumbnail)),
        inv.correlation(_edges(full_only), _edges(thumbnail)),
    )


@pytest.mark.slow
def test_stored_codes_do_not_rebuild_a_recognisable_image(photos: list[Path]) -> None:
    results = [_attack(path) for path in photos[:ATTACKED]]
    everything, full_only, edges, full_edges = (np.array(r) for r in zip(*results, strict=True))
    # The attack is not a straw man: it does recover something of each photo ...
    assert np.mean(everything) > 0.15
    # ... but far from a recognisable picture, and barely more than one PDQ-like code gives.
    assert max(everything) < 0.65
    assert np.mean(everything) - np.mean(full_only) < 0.1
    # Correlation is dominated by large light and dark areas, which the codes do not
    # carry; edges are what an outline is made of, and there the ladder of windows does
    # add to one code (measured 2026-12-02: 0.52 against 0.45 on average, 0.05 against
    # another photo's thumbnail). The same allowance holds there; it was set with that
    # measurement in hand, so it guards against more, it does not prove the outline safe.
    assert np.mean(edges) > 0.3
    assert np.mean(edges) - np.mean(full_edges) < 0.1
