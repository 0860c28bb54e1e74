"""Which bank entries a fingerprinted item matches, best signal per entry.

The one place that turns a :class:`~chorus.fingerprint.Fingerprint` into lookups (exact
digests always; every distinct dihedral PDQ variant, the robust query codes and the local
query feature sets when the hash is usable) and keeps the closest match per entry. The
monitor and ``chorus match`` both use it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from typing import Final

from sqlalchemy.orm import Session

from chorus.errors import InvalidSignalError
from chorus.fingerprint import Fingerprint
from chorus.matching.lookup import BankIndex, lookup
from chorus.matching.quarantine import QuarantinePolicy

#: The signals beyond PDQ (the robust codes, whole-region and half-frame, and the local
#: features): a match by these alone is held for review by the monitor.
ROBUST_TYPES: Final = frozenset({"robust", "robust_half", "local"})


@dataclass(frozen=True)
class EntryMatch:
    entry_id: str
    owner_id: str
    signal_type: str
    distance: int
    radius: int = 0  # 0 for exact digests
    #: Every signal type that matched this entry (the strongest is ``signal_type``).
    signal_types: frozenset[str] = frozenset()
    #: For a match by the local signal: how many of the photo's corners agree.
    inliers: int | None = None

    @property
    def robust_only(self) -> bool:
        """Matched only by the signals beyond PDQ (robust codes, local features): no PDQ
        variant, no file digest."""
        return (self.signal_types or {self.signal_type}) <= ROBUST_TYPES

    @property
    def strength(self) -> float:
        """Share of the signal's radius used (0 = exact): smaller is stronger."""
        return self.distance / self.radius if self.radius else 0.0


def queries_for(fingerprint: Fingerprint) -> list[tuple[str, str]]:
    queries = [("sha256", fingerprint.sha256), ("md5", fingerprint.md5)]
    if fingerprint.usable:
        queries += [("pdq", value) for value in dict.fromkeys(fingerprint.pdq.dihedral)]
    if fingerprint.usable and fingerprint.robust is not None:
        queries += fingerprint.robust.query_signals()
    if fingerprint.usable and fingerprint.local is not None:
        queries += fingerprint.local.query_signals()
    return queries


def queries_from_record(record: dict[str, object]) -> list[tuple[str, str]]:
    """The lookups of a `chorus hash` record (a copy fingerprinted elsewhere), as
    :func:`queries_for` makes them from a fingerprint. Values are validated by the lookup
    itself (a malformed one gets an error there); a field of the wrong shape is refused."""
    queries = [(kind, str(record[kind])) for kind in ("sha256", "md5") if record.get(kind)]
    if record.get("usable") is not True:
        if not queries:
            raise InvalidSignalError(
                "This record has nothing to look up: no sha256 or md5, and no usable PDQ hash."
            )
        return queries
    dihedral = record.get("dihedral") or [record.get("pdq")]
    robust_codes, local_sets = record.get("robust") or {}, record.get("local") or {}
    if not isinstance(robust_codes, dict) or not isinstance(local_sets, dict):
        raise InvalidSignalError(
            "This record's 'robust' or 'local' field is not in the form `chorus hash` writes."
        )
    if not isinstance(dihedral, list):
        raise InvalidSignalError("This record's 'dihedral' field is not a list of PDQ hashes.")
    queries += [("pdq", v) for v in dict.fromkeys(str(v) for v in dihedral if v)]
    for field, kind in (("query", "robust"), ("query_half", "robust_half")):
        queries += [(kind, str(v)) for v in _list(robust_codes.get(field))]
    queries += [("local", str(v)) for v in _list(local_sets.get("query"))]
    return queries


def _list(value: object) -> list[object]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidSignalError(
            "This record's query codes are not lists, as `chorus hash` writes them."
        )
    return value


#: Signal types of packed queries, one byte each; every value is stored as raw bytes.
#: New types go at the end, so items packed before they existed still unpack.
_PACK_TYPES = ("sha256", "md5", "pdq", "robust", "robust_half", "local")
#: Types whose values are base64 text (packed as their bytes, with a two-byte length).
_BASE64_TYPES = frozenset({"local"})


def pack_queries(queries: list[tuple[str, str]]) -> bytes:
    """The queries of one item compactly, for caches that hold many items: one type byte,
    the length (one byte; two for local features, which take about 6 KB a set) and the
    raw value per query."""
    out = bytearray()
    for signal_type, value in queries:
        kind = _PACK_TYPES.index(signal_type)
        if signal_type in _BASE64_TYPES:
            raw = base64.b64decode(value)
            out += bytes((kind,)) + len(raw).to_bytes(2, "big") + raw
        else:
            raw = bytes.fromhex(value)
            out += bytes((kind, len(raw))) + raw
    return bytes(out)


def unpack_queries(packed: bytes) -> list[tuple[str, str]]:
    out, i = [], 0
    while i < len(packed):
        kind = _PACK_TYPES[packed[i]]
        if kind in _BASE64_TYPES:
            size = int.from_bytes(packed[i + 1 : i + 3], "big")
            raw = packed[i + 3 : i + 3 + size]
            out.append((kind, base64.b64encode(raw).decode("ascii")))
            i += 3 + size
        else:
            size = packed[i + 1]
            out.append((kind, packed[i + 2 : i + 2 + size].hex()))
            i += 2 + size
    return out


def best_matches(
    session: Session,
    index: BankIndex,
    fingerprint: Fingerprint | list[tuple[str, str]],
    *,
    actor: str,
    endpoint: str,
    policy: QuarantinePolicy | None = None,
) -> list[EntryMatch]:
    """Matched entries, strongest first: exact digests, then the smallest share of the
    matching signal's radius (PDQ and the robust signal have different radii; a local
    match's distance is the share of expected corners that did not agree).
    ``fingerprint`` may also be its :func:`queries_for` list, as cached by the monitor."""
    queries = fingerprint if isinstance(fingerprint, list) else queries_for(fingerprint)
    results = lookup(session, index, queries, actor=actor, endpoint=endpoint, policy=policy)
    best: dict[str, EntryMatch] = {}
    types: dict[str, set[str]] = {}
    for result in results:
        for m in result.matches:
            types.setdefault(m.entry_id, set()).add(m.signal_type)
            found = EntryMatch(
                m.entry_id, m.owner_id, m.signal_type, m.distance, m.radius, inliers=m.inliers
            )
            if m.entry_id not in best or found.strength < best[m.entry_id].strength:
                best[m.entry_id] = found
    matched = [replace(m, signal_types=frozenset(types[m.entry_id])) for m in best.values()]
    return sorted(matched, key=lambda m: (m.strength, m.distance, m.entry_id))
