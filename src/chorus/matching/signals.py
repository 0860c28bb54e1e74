"""Signal types: each a small class with a stable name, validation and example values.

Adding a signal type (a robust matcher, say) means adding a class here and registering it
in :data:`SIGNAL_TYPES`; the bank stores any type, and types with a ``radius`` are
matched by distance through an index, the others exactly, except ``local``, which has a
table and an index of its own (a geometric check, not a distance).
"""

from __future__ import annotations

import re
from typing import ClassVar, Final

from chorus.errors import InvalidSignalError
from chorus.fingerprint import local, robust
from chorus.fingerprint.pdq import bit_count, hamming_distance, normalize_hex

#: A real PDQ hash thresholds 256 coefficients at their median, so about half its bits
#: are set. Far fewer or far more means a broken or forged value (an all-zero hash in a
#: partner feed once crashed index builds elsewhere).
PDQ_MIN_BITS: Final = 64
PDQ_MAX_BITS: Final = 256 - PDQ_MIN_BITS
PDQ_MIN_QUALITY: Final = 50


class SignalType:
    name: ClassVar[str]
    #: Match radius for distance-matched types; None for exact types.
    radius: ClassVar[int | None] = None
    examples: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def normalize(cls, value: str) -> str:
        raise NotImplementedError

    @classmethod
    def distance(cls, a: str, b: str) -> int:
        return 0 if a == b else 1


class PdqSignal(SignalType):
    name = "pdq"
    radius = 31
    examples = ("f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22",)

    @classmethod
    def normalize(cls, value: str) -> str:
        text = normalize_hex(value)
        bits = bit_count(text)
        if bits < PDQ_MIN_BITS or bits > PDQ_MAX_BITS:
            raise InvalidSignalError(
                f"This PDQ hash has {bits} of 256 bits set; real PDQ hashes have about 128. "
                "It looks broken or forged, so it was not accepted."
            )
        return text

    @classmethod
    def distance(cls, a: str, b: str) -> int:
        return hamming_distance(a, b)


class RobustSignal(SignalType):
    """Chorus's robust signal (:mod:`chorus.fingerprint.robust`): 256-bit PDQ-style codes
    of a photo's content region and windows. A banked photo has about 19 of them, a copy
    about 2; they match within ``radius`` bits. Kept on the Chorus server only: the
    exchange feed never sends them to partners (``docs/robust-matching.md``)."""

    name = "robust"
    radius = robust.THRESHOLD
    examples = ("9643868785b087e5a5b485c0e9bc91cc599c99de588c99cb784c9bdb7a6c873b",)
    #: Each code thresholds 256 coefficients at their median: exactly half the bits are
    #: set, give or take ties. Far from that is a broken or forged value.
    min_bits: ClassVar[int] = 96

    @classmethod
    def normalize(cls, value: str) -> str:
        text = normalize_hex(value)
        bits = bit_count(text)
        if not cls.min_bits <= bits <= 256 - cls.min_bits:
            raise InvalidSignalError(
                f"This robust code has {bits} of 256 bits set; real ones have 128. "
                "It looks broken or forged, so it was not accepted."
            )
        return text

    @classmethod
    def distance(cls, a: str, b: str) -> int:
        return hamming_distance(a, b)


class RobustHalfSignal(RobustSignal):
    """The robust signal's half-frame codes (top, bottom, left and right halves of the
    content region: an overlay on one half leaves the other). Half a frame carries less of
    the picture, so they match only each other, within a stricter radius than the
    whole-region codes. Server-only, like :class:`RobustSignal`."""

    name = "robust_half"
    radius = robust.HALF_THRESHOLD
    examples = ("de5f57f86a10a5f805d59ea2bb53f841c1eaefc5e684841af87990fd1b409106",)


class LocalSignal(SignalType):
    """Chorus's local signal (:mod:`chorus.fingerprint.local`): a photo's corners with
    short descriptors, as the base64 text of a `chorus hash` record's ``local`` field. A
    copy matches a banked photo when enough corners agree on one placement of the photo
    (a geometric check, not a distance), so it is looked up through its own index, never
    by equality. Server-only: the exchange feed never sends it to partners."""

    name = "local"
    #: 12 corners of a benign shared test photo.
    examples = (
        "Q0xGMSwBkAEMAABHwCHABzxJ7P2bc6XPd73ADYBKwAdLef12G2wwD1twpDWuTCkL21xpMB92ce1xNMAF"
        "gCfAB0pyaDi+dimsURKfG3ANJBegIEQw91doSGMQwDjAN8AHv0kt+aa7TY1z+EA6ABbAB100OABerU1L"
        "cEmANgBIwAchSAg2lrvq67RPwAsAFcAHrBivOOaZ7/lwyp4caElJE/9pXCPfafpLO0jANUARwAciMHIj"
        "cgF7y3BIADdAIcAHfz/mK6mc/VxISQ==",
    )
    #: Base64 text of the largest feature set accepted (``local.MAX_POINTS`` corners).
    max_length: ClassVar[int] = 4 * -(-(10 + 16 * local.MAX_POINTS) // 3)  # version 1 too

    @classmethod
    def normalize(cls, value: str) -> str:
        return cls.parse(value).to_text()

    @classmethod
    def parse(cls, value: str) -> local.LocalFeatures:
        """The features of a value; InvalidSignalError when it is not a real feature set."""
        if not isinstance(value, str):
            raise InvalidSignalError("Local features must be given as base64 text.")
        text = value.strip()
        if len(text) > cls.max_length:
            raise InvalidSignalError(
                f"Local features are at most {cls.max_length:,} characters of base64 text; "
                f"this value has {len(text):,}."
            )
        features = local.LocalFeatures.from_text(text)
        if len(features) < local.MIN_INLIERS:
            raise InvalidSignalError(
                f"These local features have {len(features)} corners; at least "
                f"{local.MIN_INLIERS} are needed to match anything."
            )
        return features


class _HexDigest(SignalType):
    length: ClassVar[int]

    @classmethod
    def normalize(cls, value: str) -> str:
        if not isinstance(value, str):
            raise InvalidSignalError(f"A {cls.name} value must be given as text.")
        text = value.strip().lower()
        if not re.fullmatch(rf"[0-9a-f]{{{cls.length}}}", text):
            raise InvalidSignalError(
                f"A {cls.name} value is {cls.length} hexadecimal characters (0-9, a-f)."
            )
        if text == "0" * cls.length:
            raise InvalidSignalError(f"An all-zero {cls.name} value is not a real digest.")
        return text


class Sha256Signal(_HexDigest):
    name = "sha256"
    length = 64
    examples = ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",)


class Md5Signal(_HexDigest):
    name = "md5"
    length = 32
    examples = ("d41d8cd98f00b204e9800998ecf8427e",)


SIGNAL_TYPES: Final[dict[str, type[SignalType]]] = {
    cls.name: cls
    for cls in (PdqSignal, RobustSignal, RobustHalfSignal, LocalSignal, Sha256Signal, Md5Signal)
}


def signal_type(name: str) -> type[SignalType]:
    try:
        return SIGNAL_TYPES[name]
    except KeyError:
        known = ", ".join(sorted(SIGNAL_TYPES))
        raise InvalidSignalError(
            f"Unknown signal type {name!r}; known types are {known}."
        ) from None


def normalize(name: str, value: str) -> tuple[str, str]:
    """Validate a (type, value) pair; returns it normalised or raises InvalidSignalError."""
    kind = signal_type(name)
    return kind.name, kind.normalize(value)
