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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from chorus.errors import ChorusError, InvalidSignalError
from chorus.fingerprint import local
from chorus.fingerprint.local import LocalFeatures, LocalMatch
from chorus.matching import bank
from chorus.matching.local_index import LocalIndex
from chorus.matching.models import (
    BankChange,
    BankEntry,
    BankLocalFeatures,
    BankSignal,
    LookupAudit,
)
from chorus.matching.pdq_index import PdqIndex
from chorus.matching.quarantine import QuarantinePolicy, item_digest, record_observations
from chorus.matching.signals import (
    LocalSignal,
    PdqSignal,
    RobustHalfSignal,
    RobustSignal,
    normalize,
)

SYNC_INTERVAL_S: Final = 0.5
_CHUNK: Final = 50_000
#: On PostgreSQL a change with a lower seq can commit after a higher one was read, so each
#: sync looks this many changes back; replaying is idempotent (it reads current status).
_OVERLAP: Final = 1000


#: Signal types matched by distance, each with its own 256-bit index.
INDEXED: Final = ("pdq", "robust", "robust_half")
#: A match by the local signal has no bit distance. Its ``distance`` is the share (in %)
#: of the photo's corners expected inside the copy that did *not* agree, so that smaller
#: is stronger as for the other types; it is at most this (``local.MIN_SHARE`` agreeing).
LOCAL_RADIUS: Final = round(100 * (1 - local.MIN_SHARE))
#: At most this many local feature sets are looked up in one call (a copy has one to
#: four; each costs geometric checks, so a batch of them is bounded).
MAX_LOCAL_QUERIES: Final = 16


@dataclass(frozen=True)
class Match:
    """One hit: the entry's opaque id, which signal type matched and at what distance
    (out of that type's radius, ``radius``: the smaller the distance, the stronger). For
    the local signal, ``inliers`` is how many of the photo's corners agree with the copy
    and ``share`` what share that is of those expected inside it (see LOCAL_RADIUS)."""

    entry_id: str
    signal_type: str
    distance: int
    owner_id: str  # internal only: never sent to partners
    radius: int = 0
    inliers: int | None = None
    share: float | None = None


def local_distance(match: LocalMatch) -> int:
    """The ``distance`` recorded for a local match (0..LOCAL_RADIUS, smaller is stronger)."""
    return min(LOCAL_RADIUS, max(0, round(100 * (1 - match.share))))


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
    first :meth:`sync` reads every active entry's local features from the database."""

    def __init__(
        self, radius: int = PdqSignal.radius or 31, robust_radius: int | None = None
    ) -> None:
        self.radius = radius
        self.radii = {
            "pdq": radius,
            "robust": robust_radius or RobustSignal.radius or 40,
            "robust_half": RobustHalfSignal.radius or 36,
        }
        self.indexes = {kind: PdqIndex(radius=r) for kind, r in self.radii.items()}
        self.local = LocalIndex()
        self.seq = 0
        self._present: set[int] = set()
        self._local_present: set[int] = set()  # entry ids in self.local
        self._local_stale = False  # loaded from files: the local index is still to be read
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
            if self._local_stale:
                self._load_local(session)
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
            self._apply_local(session, chunk)

    def _apply_local(self, session: Session, entry_ids: list[int]) -> None:
        rows = session.execute(
            select(BankLocalFeatures.entry_id, BankEntry.status)
            .join(BankEntry)
            .where(BankLocalFeatures.entry_id.in_(entry_ids))
        ).all()
        fresh = []
        for entry_id, status in rows:
            if status == bank.ACTIVE and entry_id not in self._local_present:
                fresh.append(entry_id)
            elif status != bank.ACTIVE and entry_id in self._local_present:
                self.local.remove(entry_id)
                self._local_present.discard(entry_id)
        if fresh:  # the features are read only for entries the index does not hold yet
            self._add_local(
                session.execute(
                    select(BankLocalFeatures.entry_id, BankLocalFeatures.features).where(
                        BankLocalFeatures.entry_id.in_(fresh)
                    )
                )
            )

    def _load_local(self, session: Session) -> None:
        """Every active entry's local features (after :meth:`load`)."""
        self.local, self._local_present = LocalIndex(), set()
        self._add_local(
            session.execute(
                select(BankLocalFeatures.entry_id, BankLocalFeatures.features)
                .join(BankEntry)
                .where(BankEntry.status == bank.ACTIVE)
                .execution_options(yield_per=_CHUNK)
            )
        )
        self._local_stale = False

    def _add_local(self, rows: Iterable[Any]) -> None:
        for entry_id, packed in rows:
            try:
                features = LocalFeatures.from_bytes(bytes(packed))
            except InvalidSignalError:
                continue  # validated when banked; a damaged row must not stop every lookup
            self.local.add(entry_id, features)
            self._local_present.add(entry_id)

    # -- persistence ----------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        with self._lock:
            for kind, index in self.indexes.items():
                index.compact()
                index.save(directory / kind)
            present = np.asarray(sorted(self._present), dtype=np.int64)
            np.save(directory / "present.npy", present, allow_pickle=False)
            (directory / "bank-index.json").write_text(
                json.dumps({"seq": self.seq, "radius": self.radius, "radii": self.radii})
            )

    @classmethod
    def load(cls, directory: Path) -> BankIndex | None:
        meta_path = directory / "bank-index.json"
        if not meta_path.exists():
            return None
        meta = json.loads(meta_path.read_text())
        radii = meta.get("radii") or {}
        index = cls(radius=int(meta["radius"]), robust_radius=int(radii.get("robust", 0)))
        if radii != index.radii:
            # saved before a signal type was indexed or a radius changed: rebuild from the bank
            return None
        index.indexes = {kind: PdqIndex.load(directory / kind) for kind in INDEXED}
        index.seq = int(meta["seq"])
        index._present = set(np.load(directory / "present.npy", allow_pickle=False).tolist())
        index._local_stale = True
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

    def search_local(self, features: LocalFeatures) -> list[tuple[int, LocalMatch]]:
        """(entry id, match) of every banked photo one feature set of a copy verifiably
        shows, strongest first."""
        with self._lock:  # the local index is not safe to read while a sync changes it
            return self.local.search([features])


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
    local_hits = _search_local(index, parsed)
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
    entries = _resolve_entries(session, {e for found in local_hits.values() for e, _ in found})

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


def _search_local(
    index: BankIndex, parsed: list[tuple[str, str] | ChorusError]
) -> dict[int, list[tuple[int, LocalMatch]]]:
    """Local queries' hits by position; those beyond MAX_LOCAL_QUERIES become errors."""
    out: dict[int, list[tuple[int, LocalMatch]]] = {}
    positions = [i for i, p in enumerate(parsed) if isinstance(p, tuple) and p[0] == "local"]
    for n, i in enumerate(positions):
        if n >= MAX_LOCAL_QUERIES:
            parsed[i] = InvalidSignalError(
                f"At most {MAX_LOCAL_QUERIES} local feature sets are looked up at once; "
                "send the rest in another request."
            )
            continue
        value = parsed[i]
        assert isinstance(value, tuple)
        out[i] = index.search_local(LocalSignal.parse(value[1]))
    return out


def _resolve_entries(session: Session, entry_ids: set[int]) -> dict[int, tuple[str, str]]:
    """(public id, owner) of each entry that is active now."""
    if not entry_ids:
        return {}
    rows = session.execute(
        select(BankEntry.id, BankEntry.public_id, BankEntry.owner_id).where(
            BankEntry.id.in_(entry_ids), BankEntry.status == bank.ACTIVE
        )
    ).all()
    return {row[0]: (row[1], row[2]) for row in rows}


def _resolve(session: Session, signal_ids: set[int]) -> dict[int, tuple[str, str, int]]:
    if not signal_ids:
        return {}
    rows = session.execute(
        select(BankSignal.id, BankEntry.public_id, BankEntry.owner_id, BankEntry.id)
        .join(BankEntry)
        .where(BankSignal.id.in_(signal_ids), BankEntry.status == bank.ACTIVE)
    ).all()
    return {row[0]: (row[1], row[2], row[3]) for row in rows}
