"""In real headless Chromium, the registration page's fingerprints agree with Python's.

Photos go through the page as a survivor's would (the file picker, the worker, the
browser's own decoders), and the page's outcomes are compared with ``chorus hash --exact``
computed here in Python.
"""

from __future__ import annotations

import base64
import csv
import io
from pathlib import Path
from statistics import mean

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import BrowserContext, Page

from chorus.fingerprint import fingerprint_path, hamming_distance
from chorus.fingerprint.pdq import DIHEDRAL_NAMES
from tests.conftest import REFERENCE
from tests.web.browser import outcomes, wait_until_done

pytestmark = pytest.mark.browser


def open_page(context: BrowserContext, base: str) -> Page:
    page = context.new_page()
    page.goto(f"{base}/register")
    return page


def register(page: Page, files: list[Path]) -> list[dict[str, object]]:
    page.set_input_files("#pick-photos", [str(f) for f in files])
    wait_until_done(page, len(files))
    found = outcomes(page)
    assert [o["name"] for o in found] == [f.name for f in files]
    return found


def test_reference_vectors_in_chromium(
    context: BrowserContext, page_server: str, reference_dir: Path
) -> None:
    with (REFERENCE / "vectors.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    images = sorted({row["image"] for row in rows})
    page = open_page(context, page_server)
    answers = dict(zip(images, register(page, [reference_dir / i for i in images]), strict=True))
    for row in rows:
        record = answers[row["image"]]["record"]
        assert isinstance(record, dict), answers[row["image"]]
        distance = hamming_distance(str(record["pdq"]), row["expected_pdq"])
        assert distance <= int(row["max_distance"]), (row, distance)
        if row["expected_quality"]:
            assert record["quality"] == int(row["expected_quality"]), row


def test_exif_orientation_as_the_python_path(
    context: BrowserContext, page_server: str, reference_dir: Path
) -> None:
    files = sorted((reference_dir / "images" / "exif-rotn").glob("*.jpg"))
    assert len(files) == 4
    page = open_page(context, page_server)
    for path, found in zip(files, register(page, files), strict=True):
        record = found["record"]
        assert isinstance(record, dict)
        expected = fingerprint_path(path, exact=True).pdq.hash
        assert hamming_distance(str(record["pdq"]), expected) <= 10, path.name
    hashes = [str(f["record"]["pdq"]) for f in outcomes(page)]  # type: ignore[index]
    # The four files store the same pixels under four tags: had the browser ignored the
    # tag, the hashes would be equal; applied, each is a different picture.
    assert all(hamming_distance(a, b) > 40 for i, a in enumerate(hashes) for b in hashes[:i])


def test_200_photos_within_10_bits_mean_at_most_2(
    context: BrowserContext, page_server: str, photos: list[Path]
) -> None:
    files = photos[:200]
    page = open_page(context, page_server)
    found = register(page, files)
    distances: list[int] = []
    for path, outcome in zip(files, found, strict=True):
        record = outcome["record"]
        assert isinstance(record, dict), outcome
        expected = fingerprint_path(path, exact=True)
        assert record["sha256"] == expected.sha256
        assert record["md5"] == expected.md5
        assert record["path"] == path.name and record["method"] == "browser"
        variants = record["dihedral"]
        assert isinstance(variants, list) and len(variants) == len(DIHEDRAL_NAMES)
        assert variants[0] == record["pdq"]
        for got, want in zip(variants, expected.pdq.dihedral, strict=True):
            assert hamming_distance(got, want) <= 10, path.name
        assert abs(int(record["quality"]) - expected.pdq.quality) <= 2, path.name  # type: ignore[call-overload]
        distances.append(hamming_distance(str(record["pdq"]), expected.pdq.hash))
    assert max(distances) <= 10
    assert mean(distances) <= 2
    print(f"chromium vs exact path on {len(files)} photos: max {max(distances)} bits, "
          f"mean {mean(distances):.3f}")  # fmt: skip


def test_transparent_pixels_keep_their_colour(
    context: BrowserContext, page_server: str, tmp_path: Path
) -> None:
    """Alpha is dropped, colour kept as stored, through the browser's decoder as well.

    A 2D canvas premultiplies alpha and would turn every transparent pixel black, moving
    the hash by dozens of bits; the worker reads such images through WebGL instead.
    """
    rng = np.random.default_rng(3)
    base = np.asarray(Image.open(sorted(REFERENCE.glob("images/dih/*.jpg"))[0]).convert("RGB"))
    alpha = np.full(base.shape[:2], 255, np.uint8)
    alpha[:, : base.shape[1] // 2] = 0  # the left half fully transparent
    alpha[: base.shape[0] // 3] = rng.integers(1, 255, (base.shape[0] // 3, base.shape[1]))
    rgba = np.dstack([base, alpha])
    files = {"alpha.png": "PNG", "alpha.webp": "WEBP"}
    payload = []
    for name, fmt in files.items():
        buffer = io.BytesIO()
        Image.fromarray(rgba, "RGBA").save(buffer, fmt, lossless=True)
        (tmp_path / name).write_bytes(buffer.getvalue())
        payload.append([name, base64.b64encode(buffer.getvalue()).decode()])
    page = open_page(context, page_server)
    # Force the browser's own decoder for the PNG too (the page normally decodes PNG itself).
    page.evaluate(
        """(files) => window.ChorusRegister.addFiles(files.map(([name, b64]) =>
             new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name)), 'browser')""",
        payload,
    )
    wait_until_done(page, len(files))
    composited = Image.alpha_composite(
        Image.new("RGBA", (rgba.shape[1], rgba.shape[0]), "black"), Image.fromarray(rgba, "RGBA")
    )
    composited.convert("RGB").save(tmp_path / "composited.png")
    wrong = fingerprint_path(tmp_path / "composited.png", exact=True).pdq.hash
    for name, outcome in zip(files, outcomes(page), strict=True):
        record = outcome["record"]
        assert isinstance(record, dict), outcome
        expected = fingerprint_path(tmp_path / name, exact=True).pdq.hash
        assert hamming_distance(str(record["pdq"]), expected) <= 2, name
        assert hamming_distance(expected, wrong) > 20  # the check could have failed
