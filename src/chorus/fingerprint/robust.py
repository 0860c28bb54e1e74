"""The robust signal: PDQ-style hashes of the photo's content region and of its windows.

PDQ hashes the whole frame, so it is blind to a border, a screenshot frame, a crop or a
small rotation. This signal keeps PDQ's form (256 bits: the signs of 16x16 low-frequency
DCT coefficients of a 64x64 luma grid against their median, so the exact index and every
tool for PDQ hashes serve it too) but chooses *what* is hashed:

* **Content region** (:mod:`chorus.fingerprint.region`): flat borders, letterboxing and
  rotation fill are stripped, quiet margins of blurred fill are stripped where they meet a
  sharp photo edge, and the photo inside a one-colour app frame (a phone screenshot) is
  found. The same rules run on a banked photo and on a copy.
* **Bank codes** (registered for a protected photo): the region's hash with its 8 flips
  and rotations, and centred windows of the region on a ladder of scales (97% down to 67%
  of each side), so a copy cropped around the centre lands within a rung of one of them.
* **Query codes** (computed for a copy found later): the hash of each candidate region
  (whole image, trimmed, framed) and, when the corners show the fill of a rotation, the
  copy turned back and hashed in the largest ladder window inside what survived.

All codes are one family, signal type ``robust``: a copy matches when some query code is
within :data:`THRESHOLD` bits of some bank code. Until version 3 the top, bottom, left and
right halves were hashed too (signal type ``robust_half``, at :data:`HALF_THRESHOLD`);
they gave an attacker a picture of their own and matching almost nothing, so they are no
longer made (docs/robust-matching.md, "Privacy"), and the type remains only for records
made before. Nothing here keeps pixels: only the 256-bit codes leave this module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image

from chorus.errors import UnreadableMediaError
from chorus.fingerprint import decode, region
from chorus.fingerprint.decode import DEFAULT_LIMITS, Limits
from chorus.fingerprint.region import Luma, Rect

#: Whole-region codes match when some query code is within this many bits of some bank
#: code (see ``docs/robust-matching.md`` for how it was chosen and the false-match data).
THRESHOLD: Final = 40
#: Half-frame codes (top, bottom, left, right), in records and bank rows made before
#: version 3, matched half-frame codes within this radius.
HALF_THRESHOLD: Final = 36
#: The names of the half-frame codes (no longer made; older records may carry them).
HALVES: Final = frozenset({"top", "bottom", "left", "right"})
#: The signal type of each family of codes, with its radius.
SIGNALS: Final = {"robust": THRESHOLD, "robust_half": HALF_THRESHOLD}
#: Bumped whenever the codes for the same image, or how they are recorded, would change.
#: 2: half-frame query codes recorded apart (``query_half``), matched at their own radius.
#: 3: no half-frame codes are made, bank side or query side (``query_half`` stays empty).
VERSION: Final = 3
#: Images smaller than this on either side are not hashed (too little detail).
MIN_SIDE: Final = 32
GRID: Final = 64
#: Centred windows registered for a banked photo, as the share of each side kept.
LADDER: Final = tuple(round(1.0 - 0.03 * i, 2) for i in range(1, 12))
#: Rotations are only undone between these angles (degrees); below, PDQ-style hashes cope.
MIN_ANGLE, MAX_ANGLE = 0.8, 20.0

#: A sub-pixel rectangle (top, bottom, left, right), like :data:`Rect`.
Box = tuple[float, float, float, float]
#: Hashing works on luma whose shorter side is at least this (JPEGs are DCT-scaled down
#: to it, other formats box-reduced), so large photos cost no more than small ones.
WORKING_SIDE: Final = 256

_U = np.arange(1, 17)
_DCT: Final = np.sqrt(2 / GRID) * np.cos(
    np.pi * _U[:, None] * (2 * np.arange(GRID)[None, :] + 1) / (2 * GRID)
)
_ODD: Final = np.where(_U % 2 == 1, -1.0, 1.0)
DIHEDRAL: Final = ("", "t", "x", "tx", "y", "ty", "xy", "txy")


@dataclass(frozen=True, slots=True)
class RobustCodes:
    """Named 256-bit codes as 64-hex strings: what is banked and what is looked up."""

    bank: tuple[tuple[str, str], ...]
    query: tuple[tuple[str, str], ...]

    def as_record(self) -> dict[str, object]:
        return {
            "version": VERSION,
            "bank": [[name, code] for name, code in self.bank],
            "query": [code for name, code in self.query if name not in HALVES],
            "query_half": [code for name, code in self.query if name in HALVES],
        }

    def query_signals(self) -> list[tuple[str, str]]:
        """The query codes as (signal type, code), ready for a lookup."""
        return [(signal_of(name), code) for name, code in self.query]


def signal_of(name: str) -> str:
    """The signal type of a code from its variant name: ``robust_half`` for the halves."""
    return "robust_half" if name in HALVES else "robust"


def codes_for(luma: Luma, found: dict[str, Rect] | None = None) -> RobustCodes | None:
    """Bank and query codes of upright luma; None when it is too small to hash. ``found``
    is :func:`regions` of ``luma`` when the caller already has it (the local signal's
    regions are the same)."""
    if min(luma.shape) < MIN_SIDE:
        return None
    # The regions and the float image every window is resampled from are made once and
    # shared by the bank and query codes (the same codes as computing them apart).
    found = regions(luma) if found is None else found
    image = float_image(luma)
    return RobustCodes(
        bank=tuple(bank_codes(luma, found, image)), query=tuple(query_codes(luma, found, image))
    )


def codes_from_bytes(data: bytes, limits: Limits = DEFAULT_LIMITS) -> RobustCodes | None:
    """Bank and query codes of an encoded image (decoded once more, at reduced size)."""
    return codes_for(luma_for_hashing(data, limits))


def float_image(luma: Luma) -> Image.Image:
    """``luma`` as a Pillow float image, the canvas windows are box-resampled from."""
    return Image.fromarray(luma.astype(np.float32), mode="F")


def coefficients(
    luma: Luma, rect: Box, image: Image.Image | None = None
) -> npt.NDArray[np.float64]:
    """16x16 DCT coefficients (frequencies 1..16) of ``rect`` box-resampled to 64x64.
    ``image`` is :func:`float_image` of ``luma`` when the caller already has it."""
    top, bottom, left, right = rect
    image = float_image(luma) if image is None else image
    grid = np.asarray(
        image.resize((GRID, GRID), Image.Resampling.BOX, box=(left, top, right, bottom)),
        dtype=np.float64,
    )
    result: npt.NDArray[np.float64] = _DCT @ grid @ _DCT.T
    return result


def to_hex(coeffs: npt.NDArray[np.float64]) -> str:
    bits = (coeffs > np.median(coeffs)).ravel()
    return np.packbits(bits).tobytes().hex()


def dihedral(coeffs: npt.NDArray[np.float64]) -> list[tuple[str, str]]:
    """The hashes of the 8 flips and rotations, from the coefficients (no resampling):
    mirroring the columns negates odd column frequencies, mirroring the rows odd row
    frequencies, and transposing the image transposes the coefficients."""
    out = []
    for name in DIHEDRAL:
        c = coeffs.T if "t" in name else coeffs
        if "x" in name:
            c = c * _ODD[None, :]
        if "y" in name:
            c = c * _ODD[:, None]
        out.append((name, to_hex(c)))
    return out


def regions(luma: Luma) -> dict[str, Rect]:
    """Candidate content regions, by name, without duplicates (first name wins)."""
    whole = region.full(luma)
    trimmed = region.trim_uniform(luma)
    quiet = region.trim_quiet(luma, trimmed)
    found: dict[str, Rect] = {"full": whole, "trim": trimmed, "main": quiet}
    framed = region.find_framed(luma)
    if framed is not None:
        found["frame"] = framed
    unique: dict[str, Rect] = {}
    for name, rect in found.items():
        if all(not _same(rect, r) for r in unique.values()):
            unique[name] = rect
    return unique


def _same(a: Rect, b: Rect) -> bool:
    height = max(a[1], b[1]) - min(a[0], b[0])
    width = max(a[3], b[3]) - min(a[2], b[2])
    return max(abs(x - y) for x, y in zip(a, b, strict=True)) <= 0.004 * max(height, width)


def window(rect: Box, scale: float) -> Box:
    top, bottom, left, right = rect
    h, w = bottom - top, right - left
    dy, dx = h * (1 - scale) / 2, w * (1 - scale) / 2
    return (top + dy, bottom - dy, left + dx, right - dx)


def bank_codes(
    luma: Luma, found: dict[str, Rect] | None = None, image: Image.Image | None = None
) -> list[tuple[str, str]]:
    """Codes registered for a protected photo (deduplicated, named). ``found`` and
    ``image`` are :func:`regions` and :func:`float_image` of ``luma`` if already made."""
    found = regions(luma) if found is None else found
    image = float_image(luma) if image is None else image
    out: dict[str, str] = {}
    for name, rect in found.items():
        if name == "frame":
            continue
        for suffix, code in dihedral(coefficients(luma, rect, image)):
            out.setdefault(code, f"{name}{'.' + suffix if suffix else ''}")
    # Rotations are undone on the whole canvas, crops happen to the photo without its
    # flat edges: the ladder is registered for both when they differ.
    bases = [("s", found["full"])] + ([("t", found["trim"])] if "trim" in found else [])
    for prefix, base in bases:
        for scale in LADDER:
            code = to_hex(coefficients(luma, window(base, scale), image))
            out.setdefault(code, f"{prefix}{round(scale * 100)}")
    # No half-frame codes (version 3): they added a picture of their own to what the bank
    # keeps (test_robust_privacy.py) and almost nothing to matching (RESULTS.md).
    return [(name, code) for code, name in out.items()]


def query_codes(
    luma: Luma, found: dict[str, Rect] | None = None, image: Image.Image | None = None
) -> list[tuple[str, str]]:
    """Codes looked up for a copy found later (deduplicated, named); ``found`` and
    ``image`` as for :func:`bank_codes`."""
    out: dict[str, str] = {}
    found = regions(luma) if found is None else found
    image = float_image(luma) if image is None else image
    for name, rect in found.items():
        out.setdefault(to_hex(coefficients(luma, rect, image)), name)
    angle = rotation_angle(luma)
    scale = None if angle is None else _inside_scale(luma.shape, abs(angle))
    if angle is not None and scale is not None:
        # The sign read from the corners is wrong for some shapes; both turns are cheap.
        for turn in (angle, -angle):
            turned = image.rotate(-turn, resample=Image.Resampling.BILINEAR)
            inside = window((0, turned.height, 0, turned.width), scale)
            out.setdefault(to_hex(coefficients(luma, inside, turned)), f"rot{turn:+.1f}")
    return [(name, code) for code, name in out.items()]


def _inside_scale(shape: tuple[int, ...], degrees: float) -> float | None:
    """The largest ladder scale whose centred window lies inside the unrotated content."""
    h, w = shape[:2]
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    limit = min(w / (w * c + h * s), h / (w * s + h * c))
    fitting = [x for x in LADDER if x <= limit - 0.01]
    return max(fitting) if fitting else None


def rotation_angle(luma: Luma, tolerance: float = 24.0) -> float | None:
    """The angle (degrees, anticlockwise) a copy was rotated by on its own canvas, from the
    four corner triangles of fill it leaves; None unless all four corners agree."""
    h, w = luma.shape
    angles, signs = [], []
    for flip_rows, flip_cols in ((False, False), (False, True), (True, False), (True, True)):
        corner = luma[::-1] if flip_rows else luma
        corner = corner[:, ::-1] if flip_cols else corner
        fill = corner[:2, :2].mean()
        along = _run(np.abs(corner[0, : w // 2] - fill) < tolerance)
        down = _run(np.abs(corner[: h // 2, 0] - fill) < tolerance)
        if min(along, down) < 2 or along >= w // 2 or down >= h // 2:
            return None
        angles.append(math.degrees(math.atan(min(along, down) / max(along, down))))
        # anticlockwise: top-left and bottom-right triangles are long along the rows
        diagonal = flip_rows == flip_cols
        signs.append(1 if (along > down) == diagonal else -1)
    middle = float(np.median(angles))
    if max(angles) - min(angles) > 1.5 or not MIN_ANGLE <= middle <= MAX_ANGLE:
        return None
    if abs(sum(signs)) < 4:
        return None
    return middle * (1 if sum(signs) > 0 else -1)


def _run(mask: npt.NDArray[np.bool_]) -> int:
    misses = np.flatnonzero(~mask)
    return int(misses[0]) if len(misses) else len(mask)


def luma_for_hashing(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Luma:
    """Upright luma of an encoded image, reduced for hashing (never below WORKING_SIDE)."""
    image = decode.open_image(data, limits)
    tag = decode.orientation(image)
    width, height = image.size
    k = 1
    while k < 8 and min(width, height) // (2 * k) >= WORKING_SIDE:
        k *= 2
    luma = None
    if image.format in decode.JPEG_FORMATS and image.mode in ("RGB", "L"):
        luma = decode.jpeg_luma_reduced(data, width, height, k) if k > 1 else None
    if luma is None:
        decode.load(image)
        try:  # as for PDQ: alpha dropped, deep modes clipped to 8 bits, then luma
            rgb = image if image.mode in ("RGB", "L") else image.convert("RGB")
            gray = rgb if rgb.mode == "L" else rgb.convert("L")
        except (OSError, ValueError) as exc:
            raise UnreadableMediaError(f"This image cannot be converted ({exc}).") from exc
        if k > 1:
            gray = gray.reduce(k)
        luma = np.asarray(gray, dtype=np.float64)
    from_cols, rows_flipped, cols_flipped = decode.AXES[tag]
    if from_cols:
        luma = luma.T
    if rows_flipped:
        luma = luma[::-1, :]
    if cols_flipped:
        luma = luma[:, ::-1]
    return np.ascontiguousarray(luma)
