"""The bank's local features in memory, and what a lookup by them returns.

Banked photos' local features (table ``bank_local_features``, one row per entry) are held
in a :class:`~chorus.matching.local_index.LocalIndex` keyed by the entry's id, kept in
step with the bank's change log by :class:`~chorus.matching.lookup.BankIndex`. They are
not saved with the PDQ indexes: an index loaded from files reads them from the database
on its first sync (:meth:`LocalEntries.load`). The rows are sealed at rest
(:mod:`chorus.matching.local_seal`) and opened here with the key ring's data key; a row
that does not open is left out of local matching with a logged warning, the rest load.

A match by the local signal has no bit distance. It carries ``inliers`` (how many of the
photo's corners agree with the copy on one placement: where, how large, how turned), and its
``distance`` is the share (in %) of the photo's corners expected inside the copy that did
*not* agree, so that "smaller is stronger" holds as for the other types, up to
:data:`LOCAL_RADIUS`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from chorus.errors import ChorusError, InvalidSignalError, LocalFeaturesSealError
from chorus.fingerprint import local
from chorus.fingerprint.local import LocalFeatures, LocalMatch
from chorus.matching import bank, local_seal
from chorus.matching.local_index import LocalIndex
from chorus.matching.local_seal import DataKeys
from chorus.matching.models import BankEntry, BankLocalFeatures
from chorus.matching.signals import LocalSignal

#: The largest ``distance`` of a local match: only ``local.MIN_SHARE`` of the corners agree.
LOCAL_RADIUS: Final = round(100 * (1 - local.MIN_SHARE))
#: At most this many local feature sets are looked up in one call (a copy has one to
#: four; each costs geometric checks, so a batch of them is bounded).
MAX_LOCAL_QUERIES: Final = 16
_CHUNK: Final = 50_000
log = logging.getLogger(__name__)


_COLUMNS: Final = (
    BankLocalFeatures.entry_id,
    BankLocalFeatures.features,
    BankLocalFeatures.sealed,
)


def local_distance(match: LocalMatch) -> int:
    """The ``distance`` recorded for a local match (0..LOCAL_RADIUS, smaller is stronger)."""
    return min(LOCAL_RADIUS, max(0, round(100 * (1 - match.share))))


class LocalEntries:
    """Active entries' local features, by entry id. Thread-safe: a search waits for a
    change being applied (the index itself is not safe to read while it changes).

    ``keys`` (the evidence key ring) opens the sealed rows; without it only rows stored
    before sealing are read, and sealed ones are skipped with a warning."""

    def __init__(self, keys: DataKeys | None = None) -> None:
        self.keys = keys
        self.index = LocalIndex()
        self._present: set[int] = set()
        #: Set when the other indexes were loaded from files: read everything on next sync.
        self.stale = False
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.index)

    def apply(self, session: Session, entry_ids: list[int]) -> None:
        """Bring these entries in step with their status (features read only when new)."""
        rows = session.execute(
            select(BankLocalFeatures.entry_id, BankEntry.status)
            .join(BankEntry)
            .where(BankLocalFeatures.entry_id.in_(entry_ids))
        ).all()
        with self._lock:
            fresh = []
            for entry_id, status in rows:
                if status == bank.ACTIVE and entry_id not in self._present:
                    fresh.append(entry_id)
                elif status != bank.ACTIVE and entry_id in self._present:
                    self.index.remove(entry_id)
                    self._present.discard(entry_id)
            if fresh:
                self._add(
                    session,
                    session.execute(select(*_COLUMNS).where(BankLocalFeatures.entry_id.in_(fresh))),
                )

    def load(self, session: Session) -> None:
        """Every active entry's local features, replacing what is held."""
        rows = session.execute(
            select(*_COLUMNS)
            .join(BankEntry)
            .where(BankEntry.status == bank.ACTIVE)
            .execution_options(yield_per=_CHUNK)
        )
        with self._lock:
            self.index, self._present = LocalIndex(), set()
            self._add(session, rows)
            self.stale = False

    def _add(self, session: Session, rows: Iterable[Any]) -> None:
        key: bytes | LocalFeaturesSealError | None = None
        no_key: list[int] = []
        plain = 0
        for entry_id, stored, sealed in rows:
            packed = bytes(stored)
            plain += not sealed
            try:
                if sealed:
                    if key is None:  # fetched once per batch, and only if a row needs it
                        try:
                            key = local_seal.key_for_reading(self.keys, session)
                        except LocalFeaturesSealError as exc:
                            key = exc
                    if isinstance(key, LocalFeaturesSealError):
                        no_key.append(entry_id)
                        continue
                    packed = local_seal.open_sealed(key, entry_id, packed)
                features = LocalFeatures.from_bytes(packed)
            except LocalFeaturesSealError as exc:
                log.warning("Bank entry %d is left out of local matching: %s", entry_id, exc)
                continue
            except InvalidSignalError as exc:
                # validated when banked; a damaged row must not stop every lookup, and
                # must not vanish from matching unseen either
                log.warning(
                    "Bank entry %d is left out of local matching: its stored features "
                    "do not read (%s)",
                    entry_id,
                    exc.message,
                )
                continue
            self.index.add(entry_id, features)
            self._present.add(entry_id)
        if plain:
            log.warning(
                "%d bank entries' local features are stored unsealed (banked before "
                "migration 0019); seal them with: chorus bank seal-local",
                plain,
            )
        if no_key:
            log.warning(
                "%d bank entries are left out of local matching (first: %d): %s",
                len(no_key), no_key[0], key,
            )  # fmt: skip

    def search(self, features: LocalFeatures) -> list[tuple[int, LocalMatch]]:
        """(entry id, match) of every banked photo one feature set of a copy verifiably
        shows, strongest first."""
        with self._lock:
            return self.index.search([features])


def search_queries(
    entries: LocalEntries, parsed: list[tuple[str, str] | ChorusError]
) -> dict[int, list[tuple[int, LocalMatch]]]:
    """Hits of the local queries among ``parsed`` (validated lookups), by position; those
    beyond :data:`MAX_LOCAL_QUERIES` are replaced by an error in ``parsed``."""
    out: dict[int, list[tuple[int, LocalMatch]]] = {}
    positions = [i for i, p in enumerate(parsed) if isinstance(p, tuple) and p[0] == "local"]
    for n, i in enumerate(positions):
        value = parsed[i]
        assert isinstance(value, tuple)
        if n >= MAX_LOCAL_QUERIES:
            parsed[i] = InvalidSignalError(
                f"At most {MAX_LOCAL_QUERIES} local feature sets are looked up at once; "
                "send the rest in another request."
            )
            continue
        out[i] = entries.search(LocalSignal.parse(value[1]))
    return out


def resolve_entries(session: Session, entry_ids: set[int]) -> dict[int, tuple[str, str]]:
    """(public id, owner) of each of these entries that is active now."""
    if not entry_ids:
        return {}
    rows = session.execute(
        select(BankEntry.id, BankEntry.public_id, BankEntry.owner_id).where(
            BankEntry.id.in_(entry_ids), BankEntry.status == bank.ACTIVE
        )
    ).all()
    return {row[0]: (row[1], row[2]) for row in rows}
