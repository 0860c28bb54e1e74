"""Bad and hostile input gets a clear FingerprintError, quickly, and nothing else breaks."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from chorus.errors import (
    ChorusError,
    DecodeTimeoutError,
    FingerprintError,
    MediaTooLargeError,
    UnreadableMediaError,
)
from chorus.fingerprint import Fingerprint, Limits, fingerprint_bytes, fingerprint_path
from chorus.fingerprint.workers import HashingPool
from tests.fingerprint.hostile import many_scans_jpeg, png_bomb


@pytest.fixture(scope="module")
def jpeg(photos: list[Path]) -> bytes:
    return photos[0].read_bytes()


@pytest.fixture(scope="module")
def png(photos: list[Path]) -> bytes:
    buffer = io.BytesIO()
    with Image.open(photos[1]) as im:
        im.save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("exact", [True, False])
def test_empty_file(exact: bool) -> None:
    with pytest.raises(UnreadableMediaError, match="empty"):
        fingerprint_bytes(b"", exact=exact)


@pytest.mark.parametrize("exact", [True, False])
@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9])
def test_truncated_jpeg(jpeg: bytes, cut: float, exact: bool) -> None:
    with pytest.raises(UnreadableMediaError, match=r"incomplete|damaged"):
        fingerprint_bytes(jpeg[: int(len(jpeg) * cut)], exact=exact)


@pytest.mark.parametrize("exact", [True, False])
def test_truncated_png(png: bytes, exact: bool) -> None:
    with pytest.raises(UnreadableMediaError):
        fingerprint_bytes(png[: len(png) // 2], exact=exact)


@pytest.mark.parametrize(
    "data",
    [b"hello, this is text", b"%PDF-1.7\n" + b"0" * 500, b"\x00" * 1000, b"GIF89a"],
    ids=["text", "pdf", "zeros", "gif-header-only"],
)
def test_not_an_image(data: bytes) -> None:
    with pytest.raises(UnreadableMediaError):
        fingerprint_bytes(data)


def test_svg_is_not_accepted() -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
    with pytest.raises(UnreadableMediaError, match="supported format"):
        fingerprint_bytes(svg)


def test_decompression_bomb_is_refused_before_decoding() -> None:
    bomb = png_bomb(12_000, 10_000)  # 120 MP of zeros in a few hundred KB
    assert len(bomb) < 1_000_000
    start = time.monotonic()
    with pytest.raises(MediaTooLargeError, match="million pixels"):
        fingerprint_bytes(bomb)
    assert time.monotonic() - start < 2


def test_pixel_limit_is_configurable(jpeg: bytes) -> None:
    with pytest.raises(MediaTooLargeError):
        fingerprint_bytes(jpeg, limits=Limits(max_pixels=100 * 100))


def test_byte_limit_is_configurable(jpeg: bytes, tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    path.write_bytes(jpeg)
    with pytest.raises(MediaTooLargeError, match="larger than"):
        fingerprint_path(path, limits=Limits(max_bytes=1000))


@pytest.fixture(scope="module")
def stalling_jpeg() -> bytes:
    return many_scans_jpeg()


def test_jpeg_with_thousands_of_scans_is_refused_quickly(stalling_jpeg: bytes) -> None:
    """Pillow alone spends many seconds on this file; Chorus refuses it at once."""
    start = time.monotonic()
    with pytest.raises(MediaTooLargeError, match="scans"):
        fingerprint_bytes(stalling_jpeg)
    assert time.monotonic() - start < 1


def test_a_stalling_decoder_is_stopped_by_the_worker_timeout(stalling_jpeg: bytes) -> None:
    """With the scan check out of the way, the hard per-file limit still bounds the time."""
    limits = Limits(max_jpeg_scans=10**9, timeout_s=1.0)
    paths = []
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        slow = Path(tmp) / "slow.jpg"
        slow.write_bytes(stalling_jpeg)
        good = Path(tmp) / "good.png"
        Image.new("RGB", (64, 64), "white").save(good)
        paths = [str(slow), str(good)]
        start = time.monotonic()
        with HashingPool(1, limits=limits) as pool:
            results = dict(pool.map(paths))
        elapsed = time.monotonic() - start
    assert isinstance(results[paths[0]], DecodeTimeoutError)
    assert "took longer" in str(results[paths[0]])
    assert isinstance(results[paths[1]], Fingerprint)  # the replacement worker carried on
    assert elapsed < 6


def test_pool_reports_errors_in_order_and_keeps_going(tmp_path: Path, jpeg: bytes) -> None:
    (tmp_path / "a.jpg").write_bytes(jpeg)
    (tmp_path / "b.jpg").write_bytes(b"")
    (tmp_path / "c.jpg").write_bytes(jpeg[:1000])
    (tmp_path / "d.jpg").write_bytes(jpeg)
    paths = [str(tmp_path / n) for n in ("a.jpg", "b.jpg", "c.jpg", "d.jpg", "missing.jpg")]
    with HashingPool(2) as pool:
        results = list(pool.map(paths))
    assert [p for p, _ in results] == paths
    kinds = [type(r).__name__ for _, r in results]
    assert kinds == [
        "Fingerprint",
        "UnreadableMediaError",
        "UnreadableMediaError",
        "Fingerprint",
        "UnreadableMediaError",
    ]
    assert results[0][1] == results[3][1]


def _mutate(data: bytes, draw: st.DrawFn) -> bytes:
    buffer = bytearray(data)
    for _ in range(draw(st.integers(1, 20))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "zero"]))
        pos = draw(st.integers(0, len(buffer) - 1))
        if kind == "flip":
            buffer[pos] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del buffer[pos : pos + draw(st.integers(1, 4096))]
        elif kind == "insert":
            buffer[pos:pos] = draw(st.binary(min_size=1, max_size=64))
        else:
            end = pos + draw(st.integers(1, 512))
            buffer[pos:end] = bytes(len(buffer[pos:end]))
        if not buffer:
            break
    return bytes(buffer)


@st.composite
def corrupted(draw: st.DrawFn, sources: list[bytes]) -> bytes:
    return _mutate(draw(st.sampled_from(sources)), draw)


def _corpus(photos: list[Path]) -> list[bytes]:
    out = [photos[2].read_bytes()]
    with Image.open(photos[3]) as im:
        for fmt, extra in (
            ("PNG", {}),
            ("WEBP", {"quality": 80}),
            ("GIF", {}),
            ("JPEG", {"progressive": True}),
        ):
            buffer = io.BytesIO()
            im.save(buffer, fmt, **extra)
            out.append(buffer.getvalue())
        import pillow_heif

        buffer = io.BytesIO()
        pillow_heif.from_pillow(im.convert("RGB")).save(buffer, quality=60)
        out.append(buffer.getvalue())
    return out


def test_fuzzed_real_images_never_raise_anything_else(photos: list[Path]) -> None:
    """Corrupted bytes of real images give a FingerprintError or a valid result, nothing else."""
    sources = _corpus(photos)

    @settings(
        max_examples=300,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        database=None,
    )
    @given(data=corrupted(sources), exact=st.booleans())
    def check(data: bytes, exact: bool) -> None:
        try:
            result = fingerprint_bytes(data, exact=exact)
        except FingerprintError as exc:
            assert isinstance(exc, ChorusError)
            assert exc.message and len(exc.message) < 500
        else:
            assert len(result.pdq.hash) == 64 and 0 <= result.pdq.quality <= 100

    check()


def test_an_abandoned_map_never_mixes_up_results(photos: list[Path]) -> None:
    paths = [str(p) for p in photos[:6]]
    with HashingPool(2) as pool:
        for _ in pool.map(paths):
            break  # stop early while workers are busy
        results = list(pool.map(paths))
    for path, outcome in results:
        assert isinstance(outcome, Fingerprint)
        assert outcome.sha256 == fingerprint_path(path).sha256


def test_a_worker_that_died_while_idle_is_replaced(photos: list[Path]) -> None:
    with HashingPool(1) as pool:
        pool._workers[0].process.kill()  # as the out-of-memory killer would
        pool._workers[0].process.join()
        ((_, outcome),) = list(pool.map([str(photos[0])]))
    assert isinstance(outcome, Fingerprint)


def test_mpo_jpegs_get_the_jpeg_checks_and_fast_path(photos: list[Path]) -> None:
    """Phone photos with an MPF segment open as "MPO" in Pillow: same limits, same speed."""
    with Image.open(photos[0]) as a, Image.open(photos[1]) as b:
        first, second = a.convert("RGB").resize((1600, 1200)), b.convert("RGB")
    buffer = io.BytesIO()
    first.save(buffer, "MPO", save_all=True, append_images=[second], progressive=True)
    data = buffer.getvalue()
    assert Image.open(io.BytesIO(data)).format == "MPO"
    with pytest.raises(MediaTooLargeError, match="scans"):
        fingerprint_bytes(data, limits=Limits(max_jpeg_scans=2))
    fast, exact = fingerprint_bytes(data), fingerprint_bytes(data, exact=True)
    from chorus.fingerprint import hamming_distance

    assert hamming_distance(fast.pdq.hash, exact.pdq.hash) <= 16


def test_non_regular_files_are_refused_without_blocking(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    device_link = tmp_path / "zero.jpg"
    device_link.symlink_to("/dev/zero")
    for path in (fifo, device_link):
        start = time.monotonic()
        with pytest.raises(UnreadableMediaError, match="not a regular file"):
            fingerprint_path(path)
        assert time.monotonic() - start < 1
    with pytest.raises(UnreadableMediaError):
        fingerprint_path("bad\x00name.jpg")


def test_absurd_sides_are_refused_before_decoding() -> None:
    strip = png_bomb(70_000, 1)
    with pytest.raises(MediaTooLargeError):
        fingerprint_bytes(strip)


def test_tiny_photos_are_unusable(photos: list[Path]) -> None:
    with Image.open(photos[0]) as im:
        buffer = io.BytesIO()
        im.resize((24, 30)).save(buffer, "PNG")
    for exact in (True, False):
        result = fingerprint_bytes(buffer.getvalue(), exact=exact)
        assert result.pdq.quality == 0
        assert not result.usable
