"""Matchers under test: what each registers for a banked photo and what it looks up.

A matcher reads the full fingerprint of an image (:class:`~.signals.Signals`, made once
per image for every matcher) and gives its :class:`Prints`: 256-bit codes (uint8 arrays of
shape (k, 32)) per **family** (a signal type with its own radius) and, for matchers that
use the local signal, local feature sets. The ``bank`` prints are kept for a registered
photo and the ``query`` prints are made for a copy found later. A copy matches a photo
when some pair of codes of the same family is within that family's radius
(``thresholds``), which is exactly how the bank's exact indexes decide, or, for a matcher
with ``local``, when the geometric check (:func:`chorus.fingerprint.local.best_match`)
accepts one of the copy's feature sets against the photo's. Empty prints mean the image
could not be used (unreadable, or too plain: PDQ quality below 50).

Each matcher is timed as the fingerprinting ``stages`` it needs (:data:`.signals.STAGES`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from chorus.fingerprint import local, robust
from chorus.fingerprint.benchmark.signals import Signals

Codes = npt.NDArray[np.uint8]
#: Codes per family (signal type), every family of the matcher present.
Families = dict[str, Codes]
EMPTY: Final = np.zeros((0, 32), dtype=np.uint8)


def hex_codes(values: list[str] | tuple[str, ...]) -> Codes:
    unique = list(dict.fromkeys(values))
    if not unique:
        return EMPTY
    return np.frombuffer(bytes.fromhex("".join(unique)), dtype=np.uint8).reshape(-1, 32).copy()


@dataclass(frozen=True)
class Prints:
    """One side of a matcher's fingerprint of one image: codes per family, local sets."""

    codes: Families = field(default_factory=dict)
    local: tuple[local.LocalFeatures, ...] = ()

    def __len__(self) -> int:
        return sum(len(c) for c in self.codes.values()) + len(self.local)

    @property
    def corners(self) -> int:
        return sum(len(f) for f in self.local)


class Matcher(Protocol):
    name: str
    #: Radius per code family; a copy matches when any family's codes come within it.
    thresholds: dict[str, int]
    #: Whether the local check is one of the ways this matcher matches.
    local: bool
    #: The fingerprinting stages this matcher is timed as.
    stages: tuple[str, ...]
    #: False when this matcher only varies the rule over codes another matcher in the run
    #: uses too (its time is then that matcher's and is not reported again).
    timed: bool

    def bank(self, signals: Signals) -> Prints: ...

    def query(self, signals: Signals) -> Prints: ...


class PdqMatcher:
    """PDQ alone, as StopNCII and HMA use it: one hash each side, distance <= 31."""

    name = "PDQ"
    thresholds = {"pdq": 31}  # noqa: RUF012 (read only)
    local = False
    stages = ("pdq",)
    timed = True

    def bank(self, signals: Signals) -> Prints:
        return Prints({"pdq": hex_codes(signals.pdq[:1])})

    def query(self, signals: Signals) -> Prints:
        return Prints({"pdq": hex_codes(signals.pdq[:1])})


class PdqDihedralMatcher(PdqMatcher):
    """PDQ with all 8 dihedral variants registered (min over the variants), distance <= 31."""

    name = "PDQ + dihedral"

    def bank(self, signals: Signals) -> Prints:
        return Prints({"pdq": hex_codes(signals.pdq)})


class RobustMatcher:
    """Chorus's robust signal (:mod:`chorus.fingerprint.robust`): content-region hashes and
    a ladder of centred windows on the bank side, rotation undone on the query side. Timed
    as the fingerprint up to the robust codes (hashes, PDQ, luma and regions, robust
    codes), and banked only when PDQ's quality gate passes, as in the bank.

    As shipped, one family (``robust``) at its radius; codes made before version 3 also
    held half-frame codes (``robust_half``), matched at ``half`` when it is given.
    ``whole`` overrides the radius, and ``split=False`` is the rule before issue 9's
    tuning (every query code against every bank code at one radius), so before and after
    can be measured on the same codes in one run (``timed=False`` for the ones that vary
    the rule)."""

    local = False
    stages = ("pdq", "luma", "robust")

    def __init__(
        self,
        name: str = "Chorus robust",
        *,
        whole: int = robust.THRESHOLD,
        half: int | None = None,
        split: bool = True,
        timed: bool = True,
    ) -> None:
        self.name = name
        self.split = split
        self.thresholds = {"robust": whole}
        if split and half is not None:  # codes made before version 3 of the robust codes
            self.thresholds["robust_half"] = half
        self.timed = timed

    def _families(self, named: tuple[tuple[str, str], ...]) -> Families:
        if not self.split:
            return {"robust": hex_codes([c for _n, c in named])}
        return {
            kind: hex_codes([c for n, c in named if robust.signal_of(n) == kind])
            for kind in ("robust", "robust_half")
        }

    def bank(self, signals: Signals) -> Prints:
        codes = signals.robust
        return Prints(self._families(() if codes is None else codes.bank))

    def query(self, signals: Signals) -> Prints:
        codes = signals.robust
        return Prints(self._families(() if codes is None else codes.query))


class LocalMatcher:
    """The local signal alone (:mod:`chorus.fingerprint.local`): up to 64 corners banked
    per photo, up to 400 per feature set of a copy (the whole copy, and the photo inside a
    screenshot or a border when one is found), matched by the geometric check. Timed as
    hashes and PDQ (the bank's quality gate), luma and regions, and the local features."""

    name = "Local features"
    thresholds: dict[str, int] = {}  # noqa: RUF012 (read only)
    local = True
    stages = ("pdq", "luma", "local")
    timed = True

    def bank(self, signals: Signals) -> Prints:
        return Prints({}, () if signals.bank_local is None else (signals.bank_local,))

    def query(self, signals: Signals) -> Prints:
        return Prints({}, signals.query_local)


class ChorusMatcher:
    """What Chorus ships: a copy matches a photo when PDQ with its dihedral variants
    (<= 31), the robust codes (robust <= 40) or the local check match.
    Timed as the full fingerprint: hashes, PDQ, luma and regions, robust codes, local
    features."""

    name = "Chorus (all signals)"
    local = True
    stages = ("pdq", "luma", "robust", "local")
    timed = True

    def __init__(self) -> None:
        self._pdq = PdqDihedralMatcher()
        self._robust = RobustMatcher()
        self._local = LocalMatcher()
        self.thresholds = {**self._pdq.thresholds, **self._robust.thresholds}

    def _join(self, *sides: Prints) -> Prints:
        codes: Families = {}
        for side in sides:
            codes.update(side.codes)
        return Prints(codes, sides[-1].local)

    def bank(self, signals: Signals) -> Prints:
        parts = (self._pdq.bank(signals), self._robust.bank(signals), self._local.bank(signals))
        return self._join(*parts)

    def query(self, signals: Signals) -> Prints:
        parts = (self._pdq.query(signals), self._robust.query(signals), self._local.query(signals))
        return self._join(*parts)
