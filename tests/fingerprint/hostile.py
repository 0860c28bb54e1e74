"""Builders for hostile and damaged media, made in memory by the tests."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def png_bomb(width: int, height: int) -> bytes:
    """A valid grayscale PNG of width x height zero pixels, compressed to a few hundred KB."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    parts = [compressor.compress(row) for _ in range(height)]
    parts.append(compressor.flush())
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", b"".join(parts))
        + chunk(b"IEND", b"")
    )


def _segments(data: bytes) -> list[tuple[int, bytes]]:
    """Split a JPEG into (marker, bytes) segments, scans with their entropy-coded data."""
    i, segments = 2, []
    while i < len(data):
        marker = data[i + 1]
        if marker == 0xD9:
            segments.append((marker, data[i : i + 2]))
            break
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        end = i + 2 + length
        if marker == 0xDA:
            k = end
            while True:
                k = data.index(b"\xff", k)
                if data[k + 1] == 0 or 0xD0 <= data[k + 1] <= 0xD7:
                    k += 2
                    continue
                break
            end = k
        segments.append((marker, data[i:end]))
        i = end
    return segments


def many_scans_jpeg(side: int = 4000, repeats: int = 20000) -> bytes:
    """A progressive JPEG whose smallest scan is repeated ``repeats`` times.

    libjpeg reprocesses the whole coefficient buffer for each scan, so a few hundred KB of
    these take Pillow many seconds (about 8 s for the defaults on the development machine).
    """
    image = Image.fromarray(np.full((side, side, 3), 100, np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", progressive=True, quality=90)
    segments = _segments(buffer.getvalue())
    scans = [seg for marker, seg in segments if marker == 0xDA]
    smallest = min(scans, key=len)
    body = b"".join(seg for marker, seg in segments if marker != 0xD9)
    return b"\xff\xd8" + body + smallest * repeats + b"\xff\xd9"


def jpeg_bytes(array: np.ndarray, **save: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "JPEG", **save)
    return buffer.getvalue()


def smooth_random_image(seed: int, size: tuple[int, int] = (240, 320)) -> np.ndarray:
    """A random but smooth RGB image (high PDQ quality, unlike white noise)."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(coarse).resize(size[::-1], Image.BICUBIC))
