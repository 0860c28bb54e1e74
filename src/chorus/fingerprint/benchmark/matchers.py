"""Matchers under test: what each registers for a banked photo and what it looks up.

A matcher turns encoded bytes into 256-bit codes (uint8 arrays of shape (k, 32)): the
``bank`` codes kept for a registered photo and the ``query`` codes computed for a copy
found later. A copy matches a photo when some pair of codes is within ``threshold`` bits,
which is exactly how the bank's exact index decides. An empty array means the image could
not be used (unreadable, or too plain: PDQ quality below 50).
"""

from __future__ import annotations

from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from chorus.errors import FingerprintError
from chorus.fingerprint import robust
from chorus.fingerprint.hasher import fingerprint_bytes

Codes = npt.NDArray[np.uint8]
EMPTY: Final = np.zeros((0, 32), dtype=np.uint8)


def hex_codes(values: list[str] | tuple[str, ...]) -> Codes:
    unique = list(dict.fromkeys(values))
    if not unique:
        return EMPTY
    return np.frombuffer(bytes.fromhex("".join(unique)), dtype=np.uint8).reshape(-1, 32).copy()


class Matcher(Protocol):
    name: str
    threshold: int

    def bank(self, data: bytes) -> Codes: ...

    def query(self, data: bytes) -> Codes: ...


class PdqMatcher:
    """PDQ alone, as StopNCII and HMA use it: one hash each side, distance <= 31."""

    name = "PDQ"
    threshold = 31

    def _pdq(self, data: bytes) -> tuple[str, ...]:
        try:
            pdq = fingerprint_bytes(data, with_robust=False).pdq
        except FingerprintError:
            return ()
        return pdq.dihedral if pdq.usable else ()

    def bank(self, data: bytes) -> Codes:
        return hex_codes(self._pdq(data)[:1])

    def query(self, data: bytes) -> Codes:
        return hex_codes(self._pdq(data)[:1])


class PdqDihedralMatcher(PdqMatcher):
    """PDQ with all 8 dihedral variants registered (min over the variants), distance <= 31."""

    name = "PDQ + dihedral"

    def bank(self, data: bytes) -> Codes:
        return hex_codes(self._pdq(data))


class RobustMatcher:
    """Chorus's robust signal (:mod:`chorus.fingerprint.robust`): content-region hashes, a
    ladder of centred windows and half-windows on the bank side, rotation undone on the
    query side. Timed as the full fingerprint (hashes, PDQ and robust codes), and banked
    only when PDQ's quality gate passes, as in the bank."""

    name = "Chorus robust"
    threshold = robust.THRESHOLD

    def _codes(self, data: bytes) -> robust.RobustCodes | None:
        try:
            return fingerprint_bytes(data).robust
        except FingerprintError:
            return None

    def bank(self, data: bytes) -> Codes:
        codes = self._codes(data)
        return EMPTY if codes is None else hex_codes([c for _n, c in codes.bank])

    def query(self, data: bytes) -> Codes:
        codes = self._codes(data)
        return EMPTY if codes is None else hex_codes([c for _n, c in codes.query])
