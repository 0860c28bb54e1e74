"""Fingerprints of media: SHA-256, MD5 and PDQ (with quality and the 8 dihedral variants).

This package runs on survivors' own devices, so it depends on imaging libraries only and on
nothing else of Chorus except the dependency-free :mod:`chorus.errors`. It never stores,
caches or sends image content: callers get signals back, and the bytes go out of scope.

Which path is used where (see :mod:`chorus.fingerprint.hasher`):

* the **fast** path (default) decodes at reduced size and reproduces PDQ's blur on the
  reduced pixels; it is what ``chorus hash`` and the monitor use;
* the **exact** path (``exact=True`` / ``--exact``) decodes in full and reproduces Meta's
  reference vectors.

Hashes from the two paths differ by a few bits (measured in ``benchmarks/RESULTS.md``).
Use the same path on both sides of a comparison wherever you can.
"""

from chorus.fingerprint.decode import DEFAULT_LIMITS, Limits
from chorus.fingerprint.hasher import (
    MIN_QUALITY,
    Fingerprint,
    PdqResult,
    fingerprint_bytes,
    fingerprint_path,
    pdq_from_image,
)
from chorus.fingerprint.pdq import (
    DIHEDRAL_NAMES,
    bits_to_hex,
    hamming_distance,
    hex_to_bits,
    normalize_hex,
)

__all__ = [
    "DEFAULT_LIMITS",
    "DIHEDRAL_NAMES",
    "MIN_QUALITY",
    "Fingerprint",
    "Limits",
    "PdqResult",
    "bits_to_hex",
    "fingerprint_bytes",
    "fingerprint_path",
    "hamming_distance",
    "hex_to_bits",
    "normalize_hex",
    "pdq_from_image",
]
