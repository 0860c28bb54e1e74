"""The robust signal: content regions, rotation, codes that match copies and not others."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter, ImageOps

from chorus.fingerprint import fingerprint_bytes, region, robust
from chorus.fingerprint.benchmark.evaluate import load_photo
from chorus.fingerprint.benchmark.transforms import by_name, encode


def _distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _best(bank: robust.RobustCodes, query: robust.RobustCodes) -> int:
    return min(_distance(b, q) for _n, b in bank.bank for _m, q in query.query)


def _luma(image: Image.Image) -> robust.Luma:
    return np.asarray(image.convert("L"), dtype=np.float64)


@pytest.fixture(scope="module")
def upright(photos: list[Path]) -> list[tuple[bytes, Image.Image]]:
    return [load_photo(p) for p in photos[:6]]


def test_codes_are_valid_and_versioned(upright: list[tuple[bytes, Image.Image]]) -> None:
    codes = fingerprint_bytes(upright[0][0]).robust
    assert codes is not None
    names = [n for n, _c in codes.bank]
    assert len(names) == len(set(names))
    assert all(len(n) <= 16 for n in names)
    for _name, code in codes.bank + codes.query:
        assert len(code) == 64
        assert 96 <= int(code, 16).bit_count() <= 160
    record = codes.as_record()
    assert record["version"] == robust.VERSION


@pytest.mark.parametrize(
    "transform",
    ["border_black", "border_blurred_fill", "screenshot", "crop80_centre", "rotate_5", "jpeg_q30"],
)
def test_copies_match_their_own_photo(
    upright: list[tuple[bytes, Image.Image]], transform: str
) -> None:
    (step,) = by_name([transform])
    hits = 0
    for k, (data, image) in enumerate(upright):
        bank = robust.codes_from_bytes(data)
        copy = robust.codes_from_bytes(step.apply(image, np.random.default_rng(k)))
        assert bank is not None and copy is not None
        hits += _best(bank, copy) <= robust.THRESHOLD
    assert hits >= len(upright) - 1  # the benchmark measures the rate; one miss is allowed


def test_distinct_photos_stay_far_apart(upright: list[tuple[bytes, Image.Image]]) -> None:
    codes = [robust.codes_from_bytes(data) for data, _image in upright]
    for i, a in enumerate(codes):
        for j, b in enumerate(codes):
            if i != j:
                assert a is not None and b is not None
                assert _best(a, b) > robust.THRESHOLD + 10


def test_dihedral_codes_equal_hashing_the_flipped_photo(
    upright: list[tuple[bytes, Image.Image]],
) -> None:
    image = upright[1][1]
    luma = _luma(image)
    variants = dict(robust.dihedral(robust.coefficients(luma, region.full(luma))))
    for name, flipped in (
        ("x", ImageOps.mirror(image)),
        ("y", ImageOps.flip(image)),
        ("t", image.transpose(Image.Transpose.TRANSPOSE)),
    ):
        other = _luma(flipped)
        direct = robust.to_hex(robust.coefficients(other, region.full(other)))
        assert _distance(direct, variants[name]) <= 2, name


def test_a_border_is_trimmed_to_the_photo(upright: list[tuple[bytes, Image.Image]]) -> None:
    image = upright[2][1]
    framed = ImageOps.expand(image, border=(30, 20, 40, 50), fill="black")
    top, bottom, left, right = region.trim_uniform(_luma(framed))
    w, h = image.size
    assert abs(top - 20) <= 2 and abs(left - 30) <= 2
    assert abs(bottom - (20 + h)) <= 2 and abs(right - (30 + w)) <= 2


def test_trimming_measures_from_the_edges_as_if_every_line_were_measured(
    upright: list[tuple[bytes, Image.Image]],
) -> None:
    """trim_uniform stops at the first busy line from each edge; the rectangle is the one
    that measuring every line's spread gives (uneven borders, flat images, thin strips)."""

    def every_line(luma: np.ndarray) -> tuple[int, int, int, int]:
        ends = []
        for lines in (luma, luma.T):
            busy = np.flatnonzero(region._spread(lines) >= region.FLAT_SPREAD)
            ends += [(0, len(lines))] if not len(busy) else [(busy[0], busy[-1] + 1)]
        (top, bottom), (left, right) = ends
        return region._guarded((int(top), int(bottom), int(left), int(right)), luma.shape)

    rng = np.random.default_rng(5)
    cases = [np.full((40, 50), 30.0), rng.random((7, 9)) * 255, rng.random((100, 3)) * 255]
    for data, _image in upright:
        luma = robust.luma_for_hashing(data)
        h, w = luma.shape
        framed = luma.copy()
        framed[: h // 5] = 0
        framed[h - 3 :] = 255
        framed[:, : w // 7] = 17
        framed[:, w - 19 :] = 40
        cases += [luma, framed]
    for luma in cases:
        assert region.trim_uniform(luma) == every_line(luma)


def _on_blurred_copy(image: Image.Image, extra: float, wide: bool) -> tuple[bytes, robust.Box]:
    """The benchmark's blurred fill with its padding chosen (``extra`` of one side, across
    the width when ``wide``), saved as a JPEG, and where the photo sits in it (a share of
    each side: top, bottom, left, right)."""
    w, h = image.size
    cw, ch = (round(w * (1 + extra)), h) if wide else (w, round(h * (1 + extra)))
    scale = max(cw / w, ch / h)
    backdrop = image.resize((round(w * scale) + 1, round(h * scale) + 1))
    backdrop = backdrop.crop((0, 0, cw, ch)).filter(ImageFilter.GaussianBlur(radius=12))
    x, y = (cw - w) // 2, (ch - h) // 2
    backdrop.paste(image, (x, y))
    return encode(backdrop), (y / ch, (y + h) / ch, x / cw, (x + w) / cw)


def test_the_photo_on_a_blurred_copy_of_itself_is_found(
    upright: list[tuple[bytes, Image.Image]],
) -> None:
    """The seams of a blurred fill are found on either axis, also when the seam is faint
    (the photo's edge is like the blur beside it) or when the backdrop's outermost lines
    are flat enough for trim_uniform to cut them on one side only."""
    found = 0
    cases = [
        (image, extra, wide)
        for _d, image in upright
        for extra in (0.1, 0.18)
        for wide in (True, False)
    ]
    for image, extra, wide in cases:
        data, share = _on_blurred_copy(image, extra, wide)
        luma = robust.luma_for_hashing(data)
        h, w = luma.shape
        true = (share[0] * h, share[1] * h, share[2] * w, share[3] * w)
        trimmed = region.trim_uniform(luma)
        # what trim_uniform cut off is cut on the banked photo too
        expected = (
            max(true[0], trimmed[0]),
            min(true[1], trimmed[1]),
            max(true[2], trimmed[2]),
            min(true[3], trimmed[3]),
        )
        main = region.trim_quiet(luma, trimmed)
        found += max(abs(a - b) for a, b in zip(main, expected, strict=True)) <= 2
    assert found >= len(cases) - 1, f"{found} of {len(cases)}"


def test_the_photo_in_a_screenshot_is_found(upright: list[tuple[bytes, Image.Image]]) -> None:
    (step,) = by_name(["screenshot"])
    for k, (_data, image) in enumerate(upright[:3]):
        with Image.open(io.BytesIO(step.apply(image, np.random.default_rng(k)))) as shot:
            luma = _luma(shot)
        rect = region.find_framed(luma)
        assert rect is not None
        top, bottom, left, right = rect
        ratio = (right - left) / (bottom - top)
        assert abs(ratio - image.width / image.height) < 0.03 * ratio


@pytest.mark.parametrize("degrees", [-7.0, 2.5, 10.0])
def test_rotation_is_read_from_the_fill_corners(
    upright: list[tuple[bytes, Image.Image]], degrees: float
) -> None:
    image = upright[3][1]
    turned = image.rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor="black")
    with Image.open(io.BytesIO(encode(turned))) as copy:
        angle = robust.rotation_angle(_luma(copy))
    assert angle is not None
    assert abs(abs(angle) - abs(degrees)) < 0.4


def test_no_rotation_is_read_from_an_ordinary_photo(
    upright: list[tuple[bytes, Image.Image]],
) -> None:
    assert all(robust.rotation_angle(_luma(image)) is None for _data, image in upright)


def test_tiny_and_flat_images_get_no_robust_codes() -> None:
    for size in ((20, 300), (400, 300)):
        buffer = io.BytesIO()
        Image.new("RGB", size, (90, 120, 150)).save(buffer, format="PNG")
        assert fingerprint_bytes(buffer.getvalue()).robust is None
