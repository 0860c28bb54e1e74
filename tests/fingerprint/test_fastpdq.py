"""The fast path: PDQ's blur folded onto reduced pixels stays close to the exact path."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from chorus.fingerprint import fastpdq, fingerprint_bytes, fingerprint_path, hamming_distance
from tests.conftest import REFERENCE

REFERENCE_IMAGES = sorted(
    p for p in (REFERENCE / "images").rglob("*") if p.suffix in {".jpg", ".jpeg", ".png", ".webp"}
)


@pytest.mark.parametrize("path", REFERENCE_IMAGES, ids=lambda p: p.name)
def test_without_reduction_fast_matches_exact(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With k = 1 the folded filter is PDQ's own, up to float rounding.

    pdqhash sums in float32 and we in float64, so a bit that sits on the median can flip:
    at most 2 bits on the reference images of usable quality; the quality is the same.
    """
    monkeypatch.setattr(fastpdq, "reduction_for", lambda _w, _h: 1)
    fast, exact = fingerprint_path(path), fingerprint_path(path, exact=True)
    assert fast.pdq.quality == exact.pdq.quality
    if exact.usable:
        for ours, theirs in zip(fast.pdq.dihedral, exact.pdq.dihedral, strict=True):
            assert hamming_distance(ours, theirs) <= 2


@given(st.integers(1, 5000), st.sampled_from([1, 2, 4, 8]), st.booleans())
def test_axis_weights_are_an_average(length: int, k: int, flipped: bool) -> None:
    weights = fastpdq.axis_weights(length, k, flipped)
    assert weights.shape == (64, -(-length // k))
    assert np.all(weights >= -1e-7)
    assert np.allclose(weights.sum(axis=1), 1.0, atol=1e-4)


@given(st.lists(st.floats(-10, 270, allow_nan=False), min_size=1, max_size=300))
def test_luma_encoding_is_precise(values: list[float]) -> None:
    grid = np.asarray(values, dtype=np.float64).reshape(1, -1)
    rgb = fastpdq.encode_luma_rgb(grid).astype(np.float64)
    luma = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    target = np.clip(grid, 0, 255)
    error = np.abs(luma - target)
    middle = (target >= 4) & (target < 251)
    assert np.all(error[middle] <= fastpdq.ENCODING_ERROR + 0.0005)  # + table step rounding
    assert np.all(error <= 0.06)


def test_reduction_grows_with_size() -> None:
    assert fastpdq.reduction_for(256, 256) == 1
    assert fastpdq.reduction_for(400, 533) == 2
    assert fastpdq.reduction_for(800, 600) == 4
    assert fastpdq.reduction_for(1200, 1600) == 8
    assert fastpdq.reduction_for(4032, 3024) == 8


@pytest.mark.parametrize("short_side", [300, 640, 1200, 2000])
def test_drift_is_small_at_every_size(short_side: int, photos: list[Path]) -> None:
    """Mean drift <= 8 and max <= 20 bits over 30 photos re-encoded at each size."""
    distances = []
    for path in photos[:30]:
        with Image.open(path) as im:
            image = im.convert("RGB")
        scale = short_side / min(image.size)
        resized = image.resize((round(image.width * scale), round(image.height * scale)))
        buffer = io.BytesIO()
        resized.save(buffer, "JPEG", quality=90)
        data = buffer.getvalue()
        fast, exact = fingerprint_bytes(data), fingerprint_bytes(data, exact=True)
        distances.append(hamming_distance(fast.pdq.hash, exact.pdq.hash))
        assert fast.method == "fast" and exact.method == "exact"
    assert np.mean(distances) <= 8
    assert max(distances) <= 20


def test_png_and_webp_take_the_box_reduced_route() -> None:
    """Non-JPEG input is decoded in full and box-reduced; it still lands near the exact hash."""
    rng = np.random.default_rng(3)
    coarse = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    image = Image.fromarray(coarse).resize((1600, 1200), Image.BICUBIC)
    for fmt in ("PNG", "WEBP"):
        buffer = io.BytesIO()
        image.save(buffer, fmt)
        fast = fingerprint_bytes(buffer.getvalue())
        exact = fingerprint_bytes(buffer.getvalue(), exact=True)
        assert fast.format == fmt
        assert hamming_distance(fast.pdq.hash, exact.pdq.hash) <= 20
