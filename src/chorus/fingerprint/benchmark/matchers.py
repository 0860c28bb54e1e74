"""Matchers under test: what each registers for a banked photo and what it looks up.

A matcher turns encoded bytes into 256-bit codes (uint8 arrays of shape (k, 32)) per
**family** (a signal type with its own radius): the ``bank`` codes kept for a registered
photo and the ``query`` codes computed for a copy found later. A copy matches a photo when
some pair of codes of the same family is within that family's radius (``thresholds``),
which is exactly how the bank's exact indexes decide. No codes in any family means the
image could not be used (unreadable, or too plain: PDQ quality below 50).
"""

from __future__ import annotations

from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from chorus.errors import FingerprintError
from chorus.fingerprint import robust
from chorus.fingerprint.hasher import fingerprint_bytes

Codes = npt.NDArray[np.uint8]
#: Codes per family (signal type), every family of the matcher present.
Families = dict[str, Codes]
EMPTY: Final = np.zeros((0, 32), dtype=np.uint8)


def hex_codes(values: list[str] | tuple[str, ...]) -> Codes:
    unique = list(dict.fromkeys(values))
    if not unique:
        return EMPTY
    return np.frombuffer(bytes.fromhex("".join(unique)), dtype=np.uint8).reshape(-1, 32).copy()


class Matcher(Protocol):
    name: str
    #: Radius per family; a copy matches when any family's codes come within its radius.
    thresholds: dict[str, int]
    #: False when this matcher reuses codes another matcher in the run just computed (its
    #: fingerprinting time is then not its own and is not reported).
    timed: bool

    def bank(self, data: bytes) -> Families: ...

    def query(self, data: bytes) -> Families: ...


class PdqMatcher:
    """PDQ alone, as StopNCII and HMA use it: one hash each side, distance <= 31."""

    name = "PDQ"
    thresholds = {"pdq": 31}  # noqa: RUF012 (read only)
    timed = True

    def _pdq(self, data: bytes) -> tuple[str, ...]:
        try:
            pdq = fingerprint_bytes(data, with_robust=False).pdq
        except FingerprintError:
            return ()
        return pdq.dihedral if pdq.usable else ()

    def bank(self, data: bytes) -> Families:
        return {"pdq": hex_codes(self._pdq(data)[:1])}

    def query(self, data: bytes) -> Families:
        return {"pdq": hex_codes(self._pdq(data)[:1])}


class PdqDihedralMatcher(PdqMatcher):
    """PDQ with all 8 dihedral variants registered (min over the variants), distance <= 31."""

    name = "PDQ + dihedral"

    def bank(self, data: bytes) -> Families:
        return {"pdq": hex_codes(self._pdq(data))}


_last: tuple[bytes, robust.RobustCodes | None] | None = None


def _robust_codes(data: bytes) -> robust.RobustCodes | None:
    """The robust codes of ``data`` (the full fingerprint), remembering the last image so
    that several rules over the same codes cost one fingerprint."""
    global _last
    if _last is not None and _last[0] is data:
        return _last[1]
    try:
        codes = fingerprint_bytes(data).robust
    except FingerprintError:
        codes = None
    _last = (data, codes)
    return codes


class RobustMatcher:
    """Chorus's robust signal (:mod:`chorus.fingerprint.robust`): content-region hashes, a
    ladder of centred windows and half-windows on the bank side, rotation undone on the
    query side. Timed as the full fingerprint (hashes, PDQ and robust codes), and banked
    only when PDQ's quality gate passes, as in the bank.

    As shipped, whole-region codes and half-frame codes are two families with their own
    radii (``robust``, ``robust_half``). ``whole``/``half`` override the radii, and
    ``split=False`` is the rule before issue 9's tuning (every query code against every
    bank code at one radius), so before and after can be measured on the same codes in
    one run (``timed=False`` for the ones that reuse the first one's codes)."""

    def __init__(
        self,
        name: str = "Chorus robust",
        *,
        whole: int = robust.THRESHOLD,
        half: int = robust.HALF_THRESHOLD,
        split: bool = True,
        timed: bool = True,
    ) -> None:
        self.name = name
        self.split = split
        self.thresholds = {"robust": whole, "robust_half": half} if split else {"robust": whole}
        self.timed = timed

    def _families(self, named: tuple[tuple[str, str], ...]) -> Families:
        if not self.split:
            return {"robust": hex_codes([c for _n, c in named])}
        return {
            kind: hex_codes([c for n, c in named if robust.signal_of(n) == kind])
            for kind in self.thresholds
        }

    def bank(self, data: bytes) -> Families:
        codes = _robust_codes(data)
        return self._families(() if codes is None else codes.bank)

    def query(self, data: bytes) -> Families:
        codes = _robust_codes(data)
        return self._families(() if codes is None else codes.query)
