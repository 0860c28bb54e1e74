"""Can a recognisable image be rebuilt from the robust codes the bank keeps? We try.

The attack (docs/robust-matching.md, "Privacy"): the attacker knows the whole scheme, every
stored code and which window each one hashes (the variant names say so). Each code is the
signs of 256 DCT coefficients (frequencies 1..16) of a window resampled to 64x64, against
their median. The attacker looks for the image whose window coefficients best agree with
those signs, weighted by the 1/frequency magnitudes natural images have, with a smoothness
prior: a regularised least-squares solve over a 32x32 image of the whole frame (finer
grids only add noise: the codes carry nothing finer). The result is compared with the
photo's own 32x32 thumbnail.

What the test holds: the rebuilt image explains well under half of the thumbnail's
variance (correlation below 0.65: the outline of a large object at best, no detail), and
the extra codes the robust signal keeps add little over the single full-frame code, which
carries the information partners already receive in a PDQ hash.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from chorus.fingerprint import robust
from chorus.fingerprint.benchmark.evaluate import load_photo

GRID = 32
Array = npt.NDArray[np.float64]


def _box(lo: float, hi: float, n_in: int, n_out: int = robust.GRID) -> Array:
    """Area averaging of n_out cells over [lo, hi) of an axis of n_in pixels."""
    matrix = np.zeros((n_out, n_in))
    edges = np.linspace(lo, hi, n_out + 1)
    for i in range(n_out):
        a, b = edges[i], edges[i + 1]
        for j in range(int(np.floor(a)), min(n_in, int(np.ceil(b)))):
            matrix[i, j] = max(0.0, min(b, j + 1) - max(a, j))
        matrix[i] /= matrix[i].sum()
    return matrix


def _window(name: str, shape: tuple[int, ...]) -> robust.Box | None:
    whole: robust.Box = (0, shape[0], 0, shape[1])
    if name in ("full", "trim", "main"):
        return whole  # photos without borders: the regions are the whole frame
    if name[0] in "st" and name[1:].isdigit():
        return robust.window(whole, int(name[1:]) / 100)
    return robust.halves(whole).get(name)


def rebuild(codes: list[tuple[robust.Box, str]], shape: tuple[int, ...]) -> Array:
    h, w = shape[:2]
    freq = np.arange(1, 17)
    magnitude = 1 / np.hypot(freq[:, None], freq[None, :]).ravel()
    rows, targets = [], []
    for (top, bottom, left, right), code in codes:
        ry = _box(top * GRID / h, bottom * GRID / h, GRID)
        rx = _box(left * GRID / w, right * GRID / w, GRID)
        rows.append(np.kron(robust._DCT @ ry, robust._DCT @ rx))
        bits = np.unpackbits(np.frombuffer(bytes.fromhex(code), dtype=np.uint8))
        targets.append((2.0 * bits - 1) * magnitude)
    a, y = np.concatenate(rows), np.concatenate(targets)
    step = (np.eye(GRID) - np.eye(GRID, k=1))[:-1]
    smooth = np.concatenate([np.kron(np.eye(GRID), step), np.kron(step, np.eye(GRID))])
    solution = np.linalg.solve(a.T @ a + 0.05 * smooth.T @ smooth, a.T @ y)
    return solution.reshape(GRID, GRID)


def _correlation(a: Array, b: Array) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def _attack(path: Path) -> tuple[float, float]:
    """Correlations with the photo's thumbnail of the rebuild from every stored code and
    from the full-frame code alone."""
    data, _image = load_photo(path)
    luma = robust.luma_for_hashing(data)
    codes = robust.codes_for(luma)
    # pytest.fail, not assert: the known-failure test below expects an AssertionError from
    # its bar only, and a broken precondition must fail it rather than pass as expected
    if codes is None:
        pytest.fail(f"{path.name} gave no robust codes")
    stored = [(box, code) for name, code in codes.bank if (box := _window(name, luma.shape))]
    if len(stored) < 15:  # the attack uses (nearly) everything the bank keeps
        pytest.fail(f"{path.name}: the attack has only {len(stored)} of the stored codes")
    first = dict(codes.bank)["full"]
    thumbnail = np.asarray(
        Image.fromarray(luma.astype(np.float32), mode="F").resize(
            (GRID, GRID), Image.Resampling.BOX
        ),
        dtype=np.float64,
    )
    return (
        _correlation(rebuild(stored, luma.shape), thumbnail),
        _correlation(rebuild([(stored[0][0], first)], luma.shape), thumbnail),
    )


@pytest.mark.slow
def test_stored_codes_do_not_rebuild_a_recognisable_image(photos: list[Path]) -> None:
    everything, full_only = zip(*(_attack(path) for path in photos[:5]), strict=True)
    # The attack is not a straw man: it does recover something of each photo ...
    assert np.mean(everything) > 0.15
    # ... but far from a recognisable picture, and barely more than one PDQ-like code gives.
    assert max(everything) < 0.65
    assert np.mean(everything) - np.mean(full_only) < 0.1


#: Of the first 60 shared photos, the one the robust codes rebuild best (measured
#: 2026-12-02 while attacking the local features, which the same bar applies to).
HARDEST = "073f2d48-e363-474d-acbe-11103356e7e2"


@pytest.mark.slow
@pytest.mark.xfail(
    raises=AssertionError,
    strict=True,
    reason="issue 9: on one of the first 60 shared photos the robust codes alone rebuild "
    "an image correlating 0.68 with its thumbnail, past the 0.65 bar (the first five, "
    "above, stay below 0.59); see docs/robust-matching.md, 'Privacy of the local signal'",
)
def test_the_hardest_known_photo_is_not_rebuilt_either(photos: list[Path]) -> None:
    (path,) = [p for p in photos if p.stem == HARDEST]
    everything, _full_only = _attack(path)
    assert everything < 0.65
