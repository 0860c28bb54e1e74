"""One full fingerprint per image, shared by every matcher of a benchmark run.

Every matcher of a run reads its codes from the same :class:`Signals`, so an image is
decoded and hashed once however many matchers there are, and each matcher is timed as the
stages it needs (:data:`STAGES`), measured once per image in process CPU time:

* ``pdq``: decoding, SHA-256, MD5 and PDQ with its 8 dihedral variants (the fast path,
  as ``chorus hash`` and the monitor make it);
* ``luma``: the upright luma reduced for hashing (:func:`robust.luma_for_hashing`) and its
  content regions (:func:`robust.regions`), shared by the robust codes and the local
  features;
* ``robust``: the robust codes, bank and query (exactly those of
  :func:`chorus.fingerprint.hasher.fingerprint_bytes`);
* ``local``: the local features, the bank set and the query sets
  (:func:`local.bank_features`, :func:`local.query_features` of the whole image and of the
  ``frame``, ``main`` and ``trim`` regions present).

As in the bank, nothing beyond PDQ is made for an image whose PDQ is unusable (quality
below 50): it is neither banked nor looked up by any signal.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, TypeVar

from chorus.errors import FingerprintError
from chorus.fingerprint import local, robust
from chorus.fingerprint.hasher import fingerprint_bytes

STAGES: Final = ("pdq", "luma", "robust", "local")
#: The regions whose local features are looked up beside the whole image's.
LOCAL_REGIONS: Final = ("frame", "main", "trim")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Signals:
    """What the full fingerprint of one image gives every matcher."""

    #: PDQ of the image then its 7 other dihedral variants (hex); empty when unusable.
    pdq: tuple[str, ...] = ()
    robust: robust.RobustCodes | None = None
    bank_local: local.LocalFeatures | None = None
    query_local: tuple[local.LocalFeatures, ...] = ()
    #: Process CPU seconds per stage (a stage that did not run is absent or 0).
    seconds: dict[str, float] = field(default_factory=dict)

    def cost(self, stages: tuple[str, ...]) -> float:
        return sum(self.seconds.get(s, 0.0) for s in stages)


def _timed(seconds: dict[str, float], stage: str, work: Callable[[], T]) -> T:
    started = time.process_time()
    try:
        return work()
    finally:
        seconds[stage] = seconds.get(stage, 0.0) + time.process_time() - started


def fingerprint(data: bytes) -> Signals:
    """The full fingerprint of an encoded image; an image that cannot be read (or whose
    PDQ is unusable) gives empty signals, which every matcher counts as a miss."""
    seconds: dict[str, float] = {}
    try:
        pdq = _timed(seconds, "pdq", lambda: fingerprint_bytes(data, with_robust=False).pdq)
    except FingerprintError:
        return Signals(seconds=seconds)
    if not pdq.usable:
        return Signals(seconds=seconds)
    try:
        luma = _timed(seconds, "luma", lambda: robust.luma_for_hashing(data))
    except FingerprintError:
        return Signals(pdq=pdq.dihedral, seconds=seconds)
    if min(luma.shape) < robust.MIN_SIDE:
        return Signals(pdq=pdq.dihedral, seconds=seconds)
    found = _timed(seconds, "luma", lambda: robust.regions(luma))

    def codes() -> robust.RobustCodes:
        # robust.codes_for, with the regions made once for both signals
        image = robust.float_image(luma)
        return robust.RobustCodes(
            bank=tuple(robust.bank_codes(luma, found, image)),
            query=tuple(robust.query_codes(luma, found, image)),
        )

    def features() -> tuple[local.LocalFeatures | None, tuple[local.LocalFeatures, ...]]:
        rects = [found[name] for name in LOCAL_REGIONS if name in found]
        both = local.codes_for(luma, rects)  # one detection, as in fingerprint_bytes
        return both.bank, both.query

    robust_codes = _timed(seconds, "robust", codes)
    bank_local, query_local = _timed(seconds, "local", features)
    return Signals(pdq.dihedral, robust_codes, bank_local, query_local, seconds)
