"""Lookups: find every active bank entry that matches a batch of signals.

PDQ hashes and robust codes (whole-region and half-frame, two types with their own
radii) are matched by distance, each type through its own exact
in-memory index (every entry within the type's radius, see
:mod:`chorus.matching.pdq_index`; both are 256-bit codes); local features by the
geometric check of :mod:`chorus.fingerprint.local`, through
:class:`~chorus.matching.local_index.LocalIndex` (keyed by the entry's id); SHA-256 and
MD5 by equality in the database. Every hit is resolved through the database, joined on
the entry's status, so a withdrawal or quarantine takes effect at once in every process,
whether or not its index has replayed the change yet; the index itself replays the change
log at most ``SYNC_INTERVAL_S`` after a change.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from chorus.errors import ChorusError
from chorus.fingerprint import robust
from chorus.matching import bank
from chorus.matching.local_bank import (
    LOCAL_RADIUS,
    LocalEntries,
    local_distance,
    resolve_entries,
    search_queries,
)
from chorus.matching.local_seal import DataKeys
from chorus.matching.models import BankChange, BankEntry, BankSignal, LookupAudit
from chorus.matching.pdq_index import PdqIndex
from chorus.matching.quarantine import QuarantinePolicy, item_digest, record_observations
from chorus.matching.signals import PdqSignal, RobustHalfSignal, RobustSignal, normalize

SYNC_INTERVAL_S: Final = 0.5
_CHUNK: Final = 50_000
#: On PostgreSQL a change with a lower seq can commit after a higher one was read, so each
#: sync looks this many changes back; replaying is idempotent (it reads current status).
_OVERLAP: Final = 1000


#: Signal types matched by distance, each with its own 256-bit index.
INDEXED: Final = ("pdq", "robust", "robust_half")


@dataclass(frozen=True)
class Match:
    """One hit: the entry's opaque id, which signal type matched and at what distance
    (out of that type's radius, ``radius``: the smaller the distance, the stronger). For
    the local signal, ``inliers`` is how many of the photo's corners agree with the copy
    and ``share`` what share that is of those expected inside it
    (:mod:`chorus.matching.local_bank`)."""

    entry_id: str
    signal_type: str
    distance: int
    owner_id: str  # internal only: never sent to partners
    radius: int = 0
    inliers: int | None = None
    share: float | None = None


@dataclass(frozen=True)
class LookupResult:
    signal_type: str
    value: str
    matches: tuple[Match, ...] = ()
    error: str | None = None


class BankIndex:
    """The in-memory indexes (PDQ, robust, robust_half, local) of one process, kept in step
    with the bank's change log. ``radius`` is PDQ's (a setting); the robust signal's types
    have their own (``robust_radius`` overrides the whole-region one, for benchmarks).

    The local index is not saved with the others: :meth:`load` leaves it empty and the
    first :meth:`sync` reads every active entry's local features from the database. They
    are sealed there: ``keys`` (the evidence key ring) opens them
    (:mod:`chorus.matching.local_seal`); without it sealed rows are skipped, with a warning.
    """

    def __init__(
        self,
        radius: int = PdqSignal.radius or 31,
        robust_radius: int | None = None,
        *,
        keys: DataKeys | None = None,
    ) -> None:
        self.radius = radius
        self.radii = {
            "pdq": radius,
            "robust": robust_radius or RobustSignal.radius or 40,
            "robust_half": RobustHalfSignal.radius or 36,
        }
        self.indexes = {kind: PdqIndex(radius=r) for kind, r in self.radii.items()}
        self.local = LocalEntries(keys)
        self.seq = 0
        self._present: set[int] = set()
        self._lock = threading.Lock()
        self._synced_at = 0.0

    @property
    def pdq(self) -> PdqIndex:
        return self.indexes["pdq"]

    # -- keeping in step ------------------------------------------------------------------
    def invalidate(self) -> None:
        """Make the next lookup replay the change log first (after a change made here)."""
        self._synced_at = 0.0

    def sync(self, session: Session, force: bool = False) -> None:
        """Replay changes after ``self.seq`` (at most every SYNC_INTERVAL_S unless forced)."""
        now = time.monotonic()
        if not force and now - self._synced_at < SYNC_INTERVAL_S:
            return
        with self._lock:
            if self.local.stale:
                self.local.load(session)
            changes = session.execute(
                select(BankChange.seq, BankChange.entry_id, BankChange.change)
                .where(BankChange.seq > self.seq - _OVERLAP)
                .order_by(BankChange.seq)
            ).all()
            if changes:
                final: dict[int, str] = {}
                for _seq, entry_id, change in changes:
                    final[entry_id] = change
                self._apply(session, final)
                self.seq = changes[-1][0]
            self._synced_at = now

    def _apply(self, session: Session, final: dict[int, str]) -> None:
        entry_ids = list(final)
        for start in range(0, len(entry_ids), _CHUNK):
            chunk = entry_ids[start : start + _CHUNK]
            rows = session.execute(
                select(BankSignal.id, BankSignal.signal_type, BankSignal.value, BankEntry.status)
                .join(BankEntry)
                .where(BankSignal.entry_id.in_(chunk), BankSignal.signal_type.in_(INDEXED))
            ).all()
            for kind, index in self.indexes.items():
                add_ids, add_values, remove_ids = [], [], []
                for signal_id, signal_type, value, status in rows:
                    if signal_type != kind:
                        continue
                    if status == bank.ACTIVE and signal_id not in self._present:
                        add_ids.append(signal_id)
                        add_values.append(value)
                    elif status != bank.ACTIVE and signal_id in self._present:
                        remove_ids.append(signal_id)
                if remove_ids:
                    index.remove(np.asarray(remove_ids, dtype=np.int64))
                    self._present.difference_update(remove_ids)
                if add_ids:
                    index.add(np.asarray(add_ids, dtype=np.int64), _codes(add_values))
                    self._present.update(add_ids)
            self.local.apply(session, chunk)

    # -- persistence ----------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        with self._lock:
            for kind, index in self.indexes.items():
                index.compact()
                index.save(directory / kind)
            present = np.asarray(sorted(self._present), dtype=np.int64)
            np.save(directory / "present.npy", present, allow_pickle=False)
            (directory / "bank-index.json").write_text(
                json.dumps(
                    {
                        "seq": self.seq,
                        "radius": self.radius,
                        "radii": self.radii,
                        "robust_version": robust.VERSION,
                    }
                )
            )

    @classmethod
    def load(cls, directory: Path, *, keys: DataKeys | None = None) -> BankIndex | None:
        meta_path = directory / "bank-index.json"
        if not meta_path.exists():
            return None
        meta = json.loads(meta_path.read_text())
        radii = meta.get("radii") or {}
        index = cls(
            radius=int(meta["radius"]), robust_radius=int(radii.get("robust", 0)), keys=keys
        )
        if radii != index.radii or meta.get("robust_version") != robust.VERSION:
            # saved before a signal type was indexed, a radius changed or the bank's codes
            # changed (version 3 dropped the half-frame rows): rebuild from the bank
            return None
        index.indexes = {kind: PdqIndex.load(directory / kind) for kind in INDEXED}
        index.seq = int(meta["seq"])
        index._present = set(np.load(directory / "present.npy", allow_pickle=False).tolist())
        index.local.stale = True
        return index

    # -- searching ------------------------------------------------------------------------
    def search_pdq(
        self, values: Sequence[str], radius: int | None = None
    ) -> list[list[tuple[int, int]]]:
        return self.search("pdq", values, radius)

    def search(
        self, kind: str, values: Sequence[str], radius: int | None = None
    ) -> list[list[tuple[int, int]]]:
        """For each value, every (signal id, distance) of type ``kind`` within the radius."""
        if not values:
            return []
        return self.indexes[kind].search(_codes(values), radius=radius)


def _codes(values: Sequence[str]) -> np.ndarray:
    return np.frombuffer(bytes.fromhex("".join(values)), dtype=np.uint8).reshape(-1, 32)


def lookup(
    session: Session,
    index: BankIndex,
    queries: Sequence[tuple[str, str]],
    *,
    actor: str,
    endpoint: str,
    api_key_id: int | None = None,
    policy: QuarantinePolicy | None = None,
) -> list[LookupResult]:
    """Match each (signal type, value); malformed ones get an error, the rest still run."""
    index.sync(session)
    parsed: list[tuple[str, str] | ChorusError] = []
    for kind, value in queries:
        try:
            parsed.append(normalize(kind, value))
        except ChorusError as exc:
            parsed.append(exc)
    hits: dict[int, list[tuple[int, int]]] = {}
    local_hits = search_queries(index.local, parsed)
    for kind in INDEXED:
        positions = [i for i, p in enumerate(parsed) if isinstance(p, tuple) and p[0] == kind]
        found = index.search(kind, [parsed[i][1] for i in positions])  # type: ignore[index]
        hits.update(zip(positions, found, strict=True))
    exact = [
        (i, p)
        for i, p in enumerate(parsed)
        if isinstance(p, tuple) and p[0] not in INDEXED and p[0] != "local"
    ]
    for i, (kind, value) in exact:
        ids = session.scalars(
            select(BankSignal.id).where(BankSignal.signal_type == kind, BankSignal.value == value)
        ).all()
        hits[i] = [(signal_id, 0) for signal_id in ids]
    resolved = _resolve(session, {sid for found in hits.values() for sid, _ in found})
    entries = resolve_entries(session, {e for found in local_hits.values() for e, _ in found})

    results: list[LookupResult] = []
    observations: dict[int, set[str]] = {}
    for i, (kind, value) in enumerate(queries):
        item = parsed[i]
        if isinstance(item, ChorusError):
            results.append(LookupResult(signal_type=kind, value=value, error=item.message))
            continue
        if item[0] == "local":
            shown = []
            for pk, m in local_hits.get(i, []):
                if pk not in entries:
                    continue  # withdrawn or quarantined since the index last synced
                public_id, owner_id = entries[pk]
                shown.append(Match(public_id, "local", local_distance(m), owner_id, LOCAL_RADIUS,
                                   inliers=m.inliers, share=round(m.share, 3)))  # fmt: skip
                observations.setdefault(pk, set()).add(item_digest(*item))
            results.append(LookupResult("local", item[1], matches=tuple(shown)))
            continue
        best: dict[str, Match] = {}
        for signal_id, distance in hits.get(i, []):
            if signal_id not in resolved:
                continue  # withdrawn or quarantined since the index last synced
            public_id, owner_id, entry_pk = resolved[signal_id]
            if public_id not in best or distance < best[public_id].distance:
                radius = index.radii.get(item[0], 0)
                best[public_id] = Match(public_id, item[0], distance, owner_id, radius)
            observations.setdefault(entry_pk, set()).add(item_digest(*item))
        matches = tuple(sorted(best.values(), key=lambda m: (m.distance, m.entry_id)))
        results.append(LookupResult(signal_type=item[0], value=item[1], matches=matches))

    session.add(
        LookupAudit(
            api_key_id=api_key_id,
            actor=actor,
            endpoint=endpoint,
            signals=len(queries),
            matched=sum(1 for r in results if r.matches),
        )
    )
    record_observations(session, observations, source=endpoint, policy=policy)
    return results


def _resolve(session: Session, signal_ids: set[int]) -> dict[int, tuple[str, str, int]]:
    if not signal_ids:
        return {}
    rows = session.execute(
        select(BankSignal.id, BankEntry.public_id, BankEntry.owner_id, BankEntry.id)
        .join(BankEntry)
        .where(BankSignal.id.in_(signal_ids), BankEntry.status == bank.ACTIVE)
    ).all()
    return {row[0]: (row[1], row[2], row[3]) for row in rows}
