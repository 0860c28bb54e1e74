"""PDQ hash values: parsing, formatting, distance and the dihedral group.

A PDQ hash is 256 bits, written as 64 lowercase hexadecimal characters in the order Meta's
tools print them (most significant bit first). Everything here works on those strings or on
the equivalent 256-element bit vectors; none of it decodes images.
"""

from __future__ import annotations

import re
from typing import Final

import numpy as np
import numpy.typing as npt

from chorus.errors import InvalidSignalError

PDQ_BITS: Final = 256
PDQ_HEX_LENGTH: Final = 64

#: Names of the eight dihedral variants, in the order ``pdqhash.compute_dihedral`` returns
#: them (Meta's C++ ``pdqDihedralHash256esFromFloatLuma``, whose names these are): the hash
#: of the image as it is; rotated 90 degrees anticlockwise, 180, 270; mirrored top to bottom
#: ("flip_x", across the horizontal axis); mirrored left to right ("flip_y"); transposed
#: ("flip_plus_1", across the main diagonal); and across the other diagonal ("flip_minus_1").
#: ``tests/fingerprint/test_dihedral.py`` checks each name against the pixel transform.
DIHEDRAL_NAMES: Final = (
    "original",
    "rotate_90",
    "rotate_180",
    "rotate_270",
    "flip_x",
    "flip_y",
    "flip_plus_1",
    "flip_minus_1",
)

_HEX_RE: Final = re.compile(r"[0-9a-f]{64}")

Bits = npt.NDArray[np.uint8]


def normalize_hex(value: str) -> str:
    """Return ``value`` as 64 lowercase hex characters, or raise :class:`InvalidSignalError`.

    Surrounding whitespace and upper case are accepted; anything else is refused with a
    message that says what was wrong.
    """
    if not isinstance(value, str):
        raise InvalidSignalError("A PDQ hash must be given as text (64 hexadecimal characters).")
    text = value.strip().lower()
    if len(text) != PDQ_HEX_LENGTH:
        raise InvalidSignalError(
            f"A PDQ hash has {PDQ_HEX_LENGTH} hexadecimal characters; this one has {len(text)}."
        )
    if not _HEX_RE.fullmatch(text):
        raise InvalidSignalError(
            "A PDQ hash may contain only the characters 0-9 and a-f; this one has others."
        )
    return text


def hex_to_bits(value: str) -> Bits:
    """Parse a PDQ hex string into 256 bits (uint8 0/1, most significant first)."""
    raw = bytes.fromhex(normalize_hex(value))
    return np.unpackbits(np.frombuffer(raw, dtype=np.uint8))


def bits_to_hex(bits: npt.ArrayLike) -> str:
    """Format 256 bits (any integer or bool array-like of 0/1) as a PDQ hex string."""
    arr = np.asarray(bits)
    if arr.shape != (PDQ_BITS,):
        raise InvalidSignalError(f"A PDQ hash has {PDQ_BITS} bits; got shape {arr.shape}.")
    if arr.dtype != np.bool_ and not np.isin(arr, (0, 1)).all():
        raise InvalidSignalError("A PDQ bit vector may contain only 0 and 1.")
    return np.packbits(arr.astype(bool)).tobytes().hex()


def hamming_distance(a: str, b: str) -> int:
    """Number of differing bits between two PDQ hashes (0..256)."""
    return (int(normalize_hex(a), 16) ^ int(normalize_hex(b), 16)).bit_count()


def bit_count(value: str) -> int:
    """Number of set bits in a PDQ hash."""
    return int(normalize_hex(value), 16).bit_count()
