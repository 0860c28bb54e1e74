"""The browser's fingerprinting modules, run in Node, agree with the Python exact path.

The JavaScript under test is the page's own (``src/chorus/web/static/fingerprint``), run by
``tests/web/js/fingerprint_cli.js``. Node has no image decoders, so JPEGs are decoded by
Pillow exactly as the exact path does (EXIF transpose, alpha dropped) and handed over as
raw RGB; PNGs are decoded by the page's own PNG decoder, which must give Pillow's pixels.
The Chromium tests (test_browser_conformance.py) cover the browser's decoders.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from chorus.fingerprint import decode, fingerprint_path, hamming_distance
from chorus.fingerprint.hasher import _as_rgb
from tests.conftest import REFERENCE
from tests.fingerprint.hostile import many_scans_jpeg

CLI = Path(__file__).with_name("js") / "fingerprint_cli.js"
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")


def run_node(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    assert NODE is not None
    done = subprocess.run(
        [NODE, str(CLI)], input=json.dumps(jobs), capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    answers: list[dict[str, Any]] = json.loads(done.stdout)
    return answers


def exact_rgb(path: Path) -> np.ndarray:
    """The pixels the Python exact path hashes: full decode, EXIF transpose, RGB."""
    image = decode.open_image(path.read_bytes())
    tag = decode.orientation(image)
    decode.load(image)
    return _as_rgb(decode.apply_orientation(image, tag))


def pixel_job(path: Path, out: Path) -> dict[str, Any]:
    rgb = exact_rgb(path)
    rgb.tofile(out)
    return {"op": "pixels", "raw": str(out), "width": rgb.shape[1], "height": rgb.shape[0],
            "channels": 3}  # fmt: skip


def job_for(path: Path, out: Path) -> dict[str, Any]:
    if path.suffix.lower() == ".png":
        return {"op": "png", "file": str(path)}
    return pixel_job(path, out)


def vector_rows() -> list[dict[str, str]]:
    with (REFERENCE / "vectors.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_reference_vectors_in_node(reference_dir: Path, tmp_path: Path) -> None:
    rows = vector_rows()
    images = sorted({row["image"] for row in rows})
    answers = dict(
        zip(
            images,
            run_node(
                [job_for(reference_dir / im, tmp_path / f"{i}.rgb") for i, im in enumerate(images)]
            ),
            strict=True,
        )
    )
    distances = []
    for row in rows:
        got = answers[row["image"]]
        distance = hamming_distance(got["hash"], row["expected_pdq"])
        distances.append(distance)
        assert distance <= int(row["max_distance"]), (row, distance)
        if row["expected_quality"]:
            assert got["quality"] == int(row["expected_quality"]), row
    # Where Meta asserts an exact hash, the JavaScript reproduces it bit for bit.
    exact = [d for d, row in zip(distances, rows, strict=True) if row["max_distance"] == "0"]
    assert exact and max(exact) == 0


def test_photos_and_all_dihedral_variants_match_exact_path(
    photos: list[Path], reference_dir: Path, tmp_path: Path
) -> None:
    files = photos[:200] + sorted((reference_dir / "images").rglob("*.jp*g"))
    answers = run_node([job_for(p, tmp_path / f"{i}.rgb") for i, p in enumerate(files)])
    worst, total = 0, 0
    for path, got in zip(files, answers, strict=True):
        expected = fingerprint_path(path, exact=True)
        distances = [
            hamming_distance(a, b)
            for a, b in zip(got["dihedral"], expected.pdq.dihedral, strict=True)
        ]
        assert got["hash"] == got["dihedral"][0]
        # Same pixels, same algorithm: only float rounding (float64 here, float32 in
        # Meta's C++) can move a coefficient across the median.
        assert max(distances) <= 4, (path.name, distances)
        assert abs(got["quality"] - expected.pdq.quality) <= 1, path.name
        worst, total = max(worst, distances[0]), total + distances[0]
    assert worst <= 4 and total / len(files) <= 0.1


def _interlaced_png(rgb: np.ndarray) -> bytes:
    """An Adam7-interlaced RGB PNG (Pillow cannot write one), filter type 'sub' per row."""
    height, width, _ = rgb.shape
    raw = b""
    for x0, y0, dx, dy in ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4),
                           (1, 0, 2, 2), (0, 1, 1, 2)):  # fmt: skip
        sub = rgb[y0::dy, x0::dx]
        if sub.size == 0:
            continue
        for row in sub.astype(np.int16).reshape(sub.shape[0], -1):
            filtered = row.copy()
            filtered[3:] = (row[3:] - row[:-3]) % 256
            raw += b"\x01" + filtered.astype(np.uint8).tobytes()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 1)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))  # fmt: skip


@pytest.mark.filterwarnings("ignore:Palette images with Transparency")
def test_png_decoder_gives_pillows_pixels(reference_dir: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    rgba = (rng.random((45, 67, 4)) * 255).astype(np.uint8)
    rgba[:9, :, 3] = 0  # fully transparent rows keep their colour in Pillow's view
    rgba[9:20, :, 3] = 77
    made: list[Path] = []
    source = Image.fromarray(rgba, "RGBA")
    for mode in ("1", "L", "LA", "P", "RGB", "RGBA"):
        made.append(tmp_path / f"mode-{mode}.png")
        source.convert(mode).save(made[-1])
    for bits in (1, 2, 4):
        made.append(tmp_path / f"palette-{bits}bit.png")
        source.convert("P", palette=Image.Palette.ADAPTIVE, colors=2**bits).save(
            made[-1], bits=bits
        )
    made.append(tmp_path / "grey16.png")
    Image.fromarray((rng.random((45, 67)) * 700).astype(np.uint16)).save(made[-1])
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: Pillow's exif_transpose applies it, so must the page
    made.append(tmp_path / "exif-6.png")
    source.convert("RGB").save(made[-1], exif=exif)
    made.append(tmp_path / "interlaced.png")
    made[-1].write_bytes(_interlaced_png(rgba[:, :, :3]))
    files = [*sorted((reference_dir / "images").rglob("*.png")), *made]
    answers = run_node([{"op": "png", "file": str(p)} for p in files])
    for path, got in zip(files, answers, strict=True):
        rgb = exact_rgb(path)
        assert (got["height"], got["width"]) == rgb.shape[:2], path.name
        assert got["rgbSha256"] == hashlib.sha256(rgb.tobytes()).hexdigest(), path.name
        expected = fingerprint_path(path, exact=True).pdq
        assert hamming_distance(got["hash"], expected.hash) <= 2, path.name
        assert got["quality"] == expected.quality, path.name


def test_md5_matches_hashlib(tmp_path: Path, photos: list[Path]) -> None:
    rng = np.random.default_rng(5)
    files = [photos[0]]
    for size in (0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 1 << 20):
        files.append(tmp_path / f"r{size}.bin")
        files[-1].write_bytes(rng.integers(0, 256, size, dtype=np.uint8).tobytes())
    answers = run_node([{"op": "md5", "file": str(p)} for p in files])
    for path, got in zip(files, answers, strict=True):
        assert got["md5"] == hashlib.md5(path.read_bytes()).hexdigest(), path.name


def _header_only_png(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    ihdr = b"IHDR" + header
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", 13)
        + ihdr
        + struct.pack(">I", zlib.crc32(ihdr))
        + b"\x00" * 64
    )


def test_sizes_are_checked_from_the_header_before_decoding(
    tmp_path: Path, photos: list[Path]
) -> None:
    cases: dict[str, bytes] = {
        "bomb.png": _header_only_png(30000, 30000),
        "strip.png": _header_only_png(70000, 10),
        "text.jpg": b"this is not a photo at all\n" * 10,
        "empty.png": b"",
        "tiff.tif": b"II*\x00" + b"\x00" * 100,
        "scans.jpg": many_scans_jpeg(side=64, repeats=300),
    }
    buffer = io.BytesIO()
    Image.new("RGB", (123, 45)).save(buffer, "WEBP")
    cases["ok.webp"] = buffer.getvalue()
    buffer = io.BytesIO()
    Image.new("RGB", (321, 54)).save(buffer, "GIF")
    cases["ok.gif"] = buffer.getvalue()
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    names = [*cases, "photo.jpg"]
    files = [tmp_path / n for n in cases] + [photos[0]]
    answers = dict(
        zip(names, run_node([{"op": "inspect", "file": str(p)} for p in files]), strict=True)
    )
    assert answers["bomb.png"]["code"] == "media_too_large"
    assert "decompression bomb" in answers["bomb.png"]["message"]
    assert answers["strip.png"]["code"] == "media_too_large"
    assert answers["text.jpg"]["code"] == "unreadable_media"
    assert "not a photo" in answers["text.jpg"]["message"]
    assert answers["empty.png"]["code"] == "unreadable_media"
    assert answers["tiff.tif"]["code"] == "unsupported_in_browser"
    assert answers["scans.jpg"]["code"] == "media_too_large"
    assert answers["ok.webp"]["info"] == {"format": "WEBP", "width": 123, "height": 45}
    assert answers["ok.gif"]["info"] == {"format": "GIF", "width": 321, "height": 54}
    with Image.open(photos[0]) as image:
        assert answers["photo.jpg"]["info"]["width"] == image.width
        assert answers["photo.jpg"]["info"]["height"] == image.height
    assert answers["photo.jpg"]["complete"] is True


def test_incomplete_jpegs_are_told_apart_from_complete_ones(
    tmp_path: Path, photos: list[Path]
) -> None:
    data = photos[3].read_bytes()
    with Image.open(photos[3]) as image:
        thumb = io.BytesIO()
        image.resize((80, 106)).save(thumb, "JPEG")
    # An APP1 segment holding a whole JPEG (with its own end marker) before the first scan.
    app1 = b"Exif\x00\x00" + thumb.getvalue()
    with_thumbnail = data[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + data[2:]
    rng = np.random.default_rng(2)
    video = rng.integers(0, 256, 3_000_000, dtype=np.uint8).tobytes().replace(b"\xff\xd9", b"")
    cases = {
        "whole.jpg": (data, True),
        "half.jpg": (data[: len(data) // 2], False),
        "no-end-marker.jpg": (data[:-2], False),
        "motion-photo.jpg": (data + video, True),  # a phone's video appended after the end
        "thumbnail-whole.jpg": (with_thumbnail, True),
        "thumbnail-cut.jpg": (with_thumbnail[: len(with_thumbnail) - 4000], False),
    }
    for name, (content, _) in cases.items():
        (tmp_path / name).write_bytes(content)
    answers = run_node([{"op": "inspect", "file": str(tmp_path / n)} for n in cases])
    for (name, (_, complete)), got in zip(cases.items(), answers, strict=True):
        assert got["complete"] is complete, name
