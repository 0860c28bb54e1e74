"""Every Pillow mode the reference covers, and every container format Chorus accepts."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageCms

from chorus.fingerprint import fingerprint_bytes, fingerprint_path, hamming_distance, pdq_from_image
from tests.conftest import REFERENCE

MODES = ["1", "L", "LA", "P", "PA", "RGB", "RGBA", "CMYK", "YCbCr", "I;16", "I", "F", "LAB", "HSV"]


@pytest.fixture(scope="module")
def original(reference_dir: Path) -> Image.Image:
    with Image.open(reference_dir / "images/misc-images/modes/original.jpg") as im:
        return im.convert("RGB")


def _in_mode(image: Image.Image, mode: str) -> Image.Image:
    if mode == "I;16":
        return image.convert("L").convert("I;16")
    if mode == "LAB":
        transform = ImageCms.buildTransformFromOpenProfiles(
            ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB"), "RGB", "LAB"
        )
        converted = ImageCms.applyTransform(image, transform)
        assert converted is not None
        return converted
    return image.convert(mode)


@pytest.mark.parametrize("exact", [True, False], ids=["exact", "fast"])
@pytest.mark.parametrize("mode", MODES)
def test_every_mode_hashes_like_the_rgb_original(
    mode: str, exact: bool, original: Image.Image
) -> None:
    reference = pdq_from_image(original).hash
    image = _in_mode(original, mode)
    assert image.mode == mode
    result = pdq_from_image(image, exact=exact)
    assert result.usable
    assert hamming_distance(result.hash, reference) <= 10


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in (REFERENCE / "images/misc-images/modes").glob("*")),
)
def test_reference_mode_files(name: str, reference_dir: Path) -> None:
    folder = reference_dir / "images/misc-images/modes"
    expected = fingerprint_path(folder / "original.jpg", exact=True).pdq.hash
    for exact in (True, False):
        result = fingerprint_path(folder / name, exact=exact)
        assert hamming_distance(result.pdq.hash, expected) <= 10, (name, exact)


def _encode(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "HEIF":
        import pillow_heif

        pillow_heif.from_pillow(image).save(buffer, quality=90)
    else:
        image.save(buffer, fmt, **({"quality": 90} if fmt in {"JPEG", "WEBP", "AVIF"} else {}))
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "TIFF", "BMP", "AVIF", "HEIF"])
def test_container_formats(fmt: str, original: Image.Image) -> None:
    reference = pdq_from_image(original).hash
    data = _encode(original, fmt)
    for exact in (True, False):
        result = fingerprint_bytes(data, exact=exact)
        assert result.format == fmt
        assert (result.width, result.height) == original.size
        assert hamming_distance(result.pdq.hash, reference) <= 16, (fmt, exact)


def test_gif_uses_the_first_frame(photos: list[Path]) -> None:
    with Image.open(photos[0]) as a, Image.open(photos[1]) as b:
        first, second = a.convert("RGB"), b.convert("RGB").resize(a.size)
    buffer = io.BytesIO()
    first.save(buffer, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    result = fingerprint_bytes(buffer.getvalue())
    near_first = hamming_distance(result.pdq.hash, pdq_from_image(first).hash)
    near_second = hamming_distance(result.pdq.hash, pdq_from_image(second).hash)
    assert near_first <= 31 < near_second


def test_format_is_sniffed_not_taken_from_the_name(original: Image.Image, tmp_path: Path) -> None:
    misnamed = tmp_path / "photo.jpg"
    misnamed.write_bytes(_encode(original, "PNG"))
    assert fingerprint_path(misnamed).format == "PNG"


@pytest.mark.parametrize("size", [(1, 1), (3, 200), (4, 4)])
def test_tiny_images_are_unusable_not_errors(size: tuple[int, int]) -> None:
    data = _encode(Image.new("RGB", size, (200, 30, 30)), "PNG")
    for exact in (True, False):
        result = fingerprint_bytes(data, exact=exact)
        assert result.pdq.quality == 0
        assert not result.usable
        assert len(result.sha256) == 64


@pytest.mark.parametrize("size", [(5, 5), (64, 64), (2000, 1500)])
def test_flat_images_are_unusable(size: tuple[int, int]) -> None:
    data = _encode(Image.new("RGB", size, (90, 120, 150)), "JPEG")
    for exact in (True, False):
        result = fingerprint_bytes(data, exact=exact)
        assert result.pdq.quality == 0
        assert not result.usable


def test_record_has_signals_only(original: Image.Image) -> None:
    record = fingerprint_bytes(_encode(original, "JPEG")).as_record()
    assert set(record) == {
        "sha256",
        "md5",
        "pdq",
        "quality",
        "usable",
        "dihedral",
        "width",
        "height",
        "format",
        "method",
        "robust",
        "local",
    }
    assert len(record["dihedral"]) == 8  # type: ignore[arg-type]
    robust = record["robust"]
    assert isinstance(robust, dict)
    assert set(robust) == {"version", "bank", "query", "query_half"}
    local = record["local"]
    assert isinstance(local, dict) and set(local) == {"version", "bank", "query"}
    assert all(len(code) == 64 for _name, code in robust["bank"])
