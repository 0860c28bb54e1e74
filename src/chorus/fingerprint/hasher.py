"""Fingerprints of one image: SHA-256 and MD5 of the bytes, PDQ with quality and variants.

Two paths compute PDQ:

* **fast** (the default): JPEGs are decoded at 1/2, 1/4 or 1/8 size by DCT scaling and
  other formats are box-reduced after decoding, then PDQ's blur and sampling are applied
  to the reduced pixels (:mod:`chorus.fingerprint.fastpdq`). Measured drift from the exact
  path is recorded in ``benchmarks/RESULTS.md``.
* **exact** (``exact=True``, ``chorus hash --exact``): the full image is decoded and handed
  to ``pdqhash`` as Meta's reference tools do; it reproduces the reference vectors.

Compare like with like: the bank, the monitor and partners should hash with the same path
on both sides of a comparison. The fast path is used by the monitor and ``chorus hash``;
the exact path for conformance checks and wherever a partner requires reference hashes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

import numpy as np
import pdqhash
from PIL import Image

from chorus.errors import FingerprintError, UnreadableMediaError
from chorus.fingerprint import decode, fastpdq, local, region, robust
from chorus.fingerprint.decode import DEFAULT_LIMITS, Limits
from chorus.fingerprint.pdq import DIHEDRAL_NAMES

#: Below this PDQ quality a hash is too unreliable to bank or match (DESIGN.md).
MIN_QUALITY: Final = 50
#: An image whose shorter side is below this many pixels (a thumbnail of a thumbnail)
#: carries too little detail for PDQ's 64x64 grid: its quality is reported as 0.
MIN_USABLE_SIDE: Final = 32
ZERO_HASH: Final = "0" * 64

Method = Literal["fast", "exact"]


@dataclass(frozen=True, slots=True)
class PdqResult:
    """A PDQ hash, its quality (0..100) and all eight dihedral variants."""

    hash: str
    quality: int
    dihedral: tuple[str, ...] = field(default=())

    @property
    def usable(self) -> bool:
        """True when the quality is high enough to bank or match."""
        return self.quality >= MIN_QUALITY

    def variants(self) -> dict[str, str]:
        return dict(zip(DIHEDRAL_NAMES, self.dihedral, strict=True))


#: The regions of a copy, most specific first, of which the first that is clearly smaller
#: than the image has its local features looked up beside the whole image's
#: (:func:`chorus.fingerprint.robust.regions`: the photo inside a screenshot's frame, the
#: photo without quiet or flat margins).
LOCAL_QUERY_REGIONS: Final = ("frame", "main", "trim")


@dataclass(frozen=True, slots=True, eq=False)
class LocalSignal:
    """The local signal of one image (:mod:`chorus.fingerprint.local`): the features banked
    for it as a protected photo (None when it has too few corners) and those looked up for
    it as a copy (the whole image, and the regions in :data:`LOCAL_QUERY_REGIONS`)."""

    bank: local.LocalFeatures | None
    query: tuple[local.LocalFeatures, ...]

    def _packed(self) -> tuple[bytes | None, tuple[bytes, ...]]:
        bank = self.bank.to_bytes() if self.bank is not None else None
        return bank, tuple(features.to_bytes() for features in self.query)

    def __eq__(self, other: object) -> bool:
        """Equal when their features are (numpy arrays compare element by element)."""
        return isinstance(other, LocalSignal) and self._packed() == other._packed()

    def __hash__(self) -> int:
        return hash(self._packed())

    def as_record(self) -> dict[str, object]:
        return {
            "version": local.VERSION,
            "bank": self.bank.to_text() if self.bank is not None else None,
            "query": [features.to_text() for features in self.query],
        }

    def query_signals(self) -> list[tuple[str, str]]:
        """The query feature sets as (signal type, base64 text), ready for a lookup."""
        return [("local", features.to_text()) for features in self.query]


def local_signal(luma: region.Luma, found: dict[str, region.Rect]) -> LocalSignal | None:
    """The local signal of upright luma whose :func:`robust.regions` are ``found``; None
    when neither a banked photo's nor a copy's features can be found in it."""
    rects = [found[name] for name in LOCAL_QUERY_REGIONS if name in found]
    codes = local.codes_for(luma, rects)  # one detection for both sides
    signal = LocalSignal(codes.bank, codes.query)
    return signal if signal.bank is not None or signal.query else None


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """Everything Chorus keeps of an image: signals only, never pixels."""

    sha256: str
    md5: str
    pdq: PdqResult
    width: int
    height: int
    format: str
    method: Method
    #: The robust signal (content-region hashes; never sent to partners), or None when
    #: it was not asked for or the image is too small.
    robust: robust.RobustCodes | None = None
    #: The local signal (corners and their geometry; never sent to partners), or None when
    #: it was not asked for or the image has too few corners.
    local: LocalSignal | None = None

    @property
    def usable(self) -> bool:
        return self.pdq.usable

    def as_record(self) -> dict[str, object]:
        return {
            "sha256": self.sha256,
            "md5": self.md5,
            "pdq": self.pdq.hash,
            "quality": self.pdq.quality,
            "usable": self.usable,
            "dihedral": list(self.pdq.dihedral),
            "width": self.width,
            "height": self.height,
            "format": self.format,
            "method": self.method,
            "robust": self.robust.as_record() if self.robust and self.usable else None,
            "local": self.local.as_record() if self.local and self.usable else None,
        }


def fingerprint_path(
    path: str | Path,
    *,
    exact: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    with_robust: bool = True,
) -> Fingerprint:
    """Fingerprint a file, reading it exactly once."""
    data = decode.read_file(str(path), limits)
    return fingerprint_bytes(data, exact=exact, limits=limits, with_robust=with_robust)


def fingerprint_bytes(
    data: bytes,
    *,
    exact: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    with_robust: bool = True,
) -> Fingerprint:
    """Fingerprint an encoded image held in memory (with the robust and local signals by
    default; ``with_robust=False`` leaves both out)."""
    image = decode.open_image(data, limits)
    if min(image.size) < fastpdq.MIN_HASHABLE_SIDE:
        pdq = _too_small()  # nothing to hash; do not spend memory decoding a 1-px strip
    else:
        pdq = _pdq_exact(image) if exact else _pdq_fast(image, data)
    if min(image.size) < MIN_USABLE_SIDE and pdq.quality:
        pdq = PdqResult(hash=pdq.hash, quality=0, dihedral=pdq.dihedral)
    width, height = image.size
    codes, features = None, None
    if with_robust and pdq.usable:
        codes, features = _robust_and_local(data, limits)
    return Fingerprint(
        sha256=hashlib.sha256(data).hexdigest(),
        md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
        pdq=pdq,
        width=width,
        height=height,
        format=str(image.format),
        method="exact" if exact else "fast",
        robust=codes,
        local=features,
    )


def _robust_and_local(
    data: bytes, limits: Limits
) -> tuple[robust.RobustCodes | None, LocalSignal | None]:
    """Both signals from one reduced decode: the same luma and the same content regions."""
    luma = robust.luma_for_hashing(data, limits)
    if min(luma.shape) < robust.MIN_SIDE:
        return None, None
    found = robust.regions(luma)
    return robust.codes_for(luma, found), local_signal(luma, found)


def pdq_from_image(image: Image.Image, *, exact: bool = True) -> PdqResult:
    """PDQ of an already decoded Pillow image (no EXIF handling: pixels as given)."""
    try:
        image.load()
    except Exception as exc:
        raise UnreadableMediaError(f"This image cannot be read ({exc}).") from exc
    if exact:
        return _hash_rgb(_as_rgb(image))
    return _pdq_fast_loaded(image, tag=1)


def _pdq_exact(image: Image.Image) -> PdqResult:
    tag = decode.orientation(image)
    decode.load(image)
    upright = decode.apply_orientation(image, tag)
    return _hash_rgb(_as_rgb(upright))


def _as_rgb(image: Image.Image) -> np.ndarray:
    try:
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        return np.asarray(rgb)
    except (OSError, ValueError) as exc:
        raise UnreadableMediaError(f"This image cannot be converted to colour ({exc}).") from exc


def _hash_rgb(rgb: np.ndarray) -> PdqResult:
    height, width = rgb.shape[:2]
    if min(height, width) < fastpdq.MIN_HASHABLE_SIDE:
        return _too_small()
    vectors, quality = pdqhash.compute_dihedral(np.ascontiguousarray(rgb, dtype=np.uint8))
    hashes = tuple(np.packbits(v.astype(bool)).tobytes().hex() for v in vectors)
    return PdqResult(hash=hashes[0], quality=int(quality), dihedral=hashes)


def _too_small() -> PdqResult:
    return PdqResult(hash=ZERO_HASH, quality=0, dihedral=(ZERO_HASH,) * 8)


def _pdq_fast(image: Image.Image, data: bytes) -> PdqResult:
    tag = decode.orientation(image)
    width, height = image.size
    k = fastpdq.reduction_for(width, height)
    if image.format in decode.JPEG_FORMATS and k > 1 and image.mode in ("RGB", "L"):
        luma = decode.jpeg_luma_reduced(data, width, height, k)
        if luma is not None:
            return _pdq_from_luma(luma, tag, width, height, k)
        image.draft("L", (width // k, height // k))
    decode.load(image)
    return _pdq_fast_loaded(image, tag, full_size=(width, height), k=k)


def _pdq_fast_loaded(
    image: Image.Image,
    tag: int,
    full_size: tuple[int, int] | None = None,
    k: int | None = None,
) -> PdqResult:
    full_w, full_h = full_size or image.size
    if min(full_w, full_h) < fastpdq.MIN_HASHABLE_SIDE:
        return _too_small()
    k = k or fastpdq.reduction_for(full_w, full_h)
    if image.size != (-(-full_w // k), -(-full_h // k)):
        # The decoder did not reduce it (not a JPEG, or an unusual JPEG): box-reduce now.
        if image.size != (full_w, full_h):
            raise FingerprintError("The image decoded to an unexpected size; it was not hashed.")
        image = _as_pil_rgb(image)
        if k > 1:
            image = image.reduce(k)
    return _pdq_from_luma(_luma(image), tag, full_w, full_h, k)


def _pdq_from_luma(
    luma: fastpdq.FloatArray, tag: int, full_w: int, full_h: int, k: int
) -> PdqResult:
    """PDQ from luma reduced by ``k`` in stored orientation, made upright for ``tag``."""
    from_cols, rows_flipped, cols_flipped = decode.AXES[tag]
    if from_cols:
        luma = luma.T
        full_w, full_h = full_h, full_w
    if rows_flipped:
        luma = luma[::-1, :]
    if cols_flipped:
        luma = luma[:, ::-1]
    grid = fastpdq.grid_from_reduced_luma(
        np.ascontiguousarray(luma), full_h, full_w, k, rows_flipped, cols_flipped
    )
    return _hash_rgb(fastpdq.encode_luma_rgb(grid))


def _as_pil_rgb(image: Image.Image) -> Image.Image:
    try:
        return image if image.mode in ("RGB", "L") else image.convert("RGB")
    except (OSError, ValueError) as exc:
        raise UnreadableMediaError(f"This image cannot be converted to colour ({exc}).") from exc


def _luma(image: Image.Image) -> fastpdq.FloatArray:
    image = _as_pil_rgb(image)
    array = np.asarray(image)
    if array.ndim == 2:
        return array.astype(np.float64)
    return fastpdq.rgb_to_luma(array)
