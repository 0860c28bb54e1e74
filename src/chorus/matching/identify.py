"""Which bank entries a fingerprinted item matches, best signal per entry.

The one place that turns a :class:`~chorus.fingerprint.Fingerprint` into lookups (exact
digests always; every distinct dihedral PDQ variant when the hash is usable) and keeps
the closest match per entry. The monitor and ``chorus match`` both use it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from chorus.fingerprint import Fingerprint
from chorus.matching.lookup import BankIndex, lookup
from chorus.matching.quarantine import QuarantinePolicy


@dataclass(frozen=True)
class EntryMatch:
    entry_id: str
    owner_id: str
    signal_type: str
    distance: int
    radius: int = 0  # 0 for exact digests

    @property
    def strength(self) -> float:
        """Share of the signal's radius used (0 = exact): smaller is stronger."""
        return self.distance / self.radius if self.radius else 0.0


def queries_for(fingerprint: Fingerprint) -> list[tuple[str, str]]:
    queries = [("sha256", fingerprint.sha256), ("md5", fingerprint.md5)]
    if fingerprint.usable:
        queries += [("pdq", value) for value in dict.fromkeys(fingerprint.pdq.dihedral)]
    if fingerprint.usable and fingerprint.robust is not None:
        queries += [("robust", code) for _name, code in fingerprint.robust.query]
    return queries


def best_matches(
    session: Session,
    index: BankIndex,
    fingerprint: Fingerprint,
    *,
    actor: str,
    endpoint: str,
    policy: QuarantinePolicy | None = None,
) -> list[EntryMatch]:
    """Matched entries, strongest first: exact digests, then the smallest share of the
    matching signal's radius (PDQ and the robust signal have different radii)."""
    results = lookup(
        session, index, queries_for(fingerprint), actor=actor, endpoint=endpoint, policy=policy
    )
    best: dict[str, EntryMatch] = {}
    for result in results:
        for m in result.matches:
            found = EntryMatch(m.entry_id, m.owner_id, m.signal_type, m.distance, m.radius)
            if m.entry_id not in best or found.strength < best[m.entry_id].strength:
                best[m.entry_id] = found
    return sorted(best.values(), key=lambda m: (m.strength, m.distance, m.entry_id))
