"""Banked local features lose the corners the bank no longer keeps.

Since version 3 of the local features a banked photo keeps corners of ORB's finest levels
only (:func:`chorus.fingerprint.local.fine_only`): the coarse ones helped an attacker
rebuild the photo and did not help matching (docs/robust-matching.md, "Privacy of the
local signal"). New registrations are trimmed as they are banked, and the in-memory index
trims what it loads; :func:`trim_coarse_rows` (``chorus bank trim-local``) rewrites the
rows banked before, so the database no longer holds them either. The image is never on
the server, so this is all that can be done for them: they keep fewer corners than a
photo fingerprinted again would.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from chorus.errors import InvalidSignalError
from chorus.fingerprint.local import LocalFeatures, fine_only
from chorus.matching import local_seal
from chorus.matching.local_seal import DataKeys
from chorus.matching.models import BankLocalFeatures

log = logging.getLogger(__name__)

_BATCH: Final = 1000


@dataclass(frozen=True, slots=True)
class Trimmed:
    """What :func:`trim_coarse_rows` did: rows rewritten with their fine corners only,
    rows removed (fewer than ``local.MIN_INLIERS`` fine corners: the entry is matched by
    its other signals), and rows left alone (already fine, or unreadable)."""

    rewritten: int
    removed: int
    unchanged: int


def trim_coarse_rows(session: Session, keys: DataKeys) -> Trimmed:
    """Rewrite every banked row that holds coarse corners (in the caller's transaction,
    :data:`_BATCH` rows at a time). Rows stored unsealed are sealed as they are rewritten.
    Safe to run again."""
    rewritten = removed = unchanged = 0
    key: bytes | None = None
    last = 0
    while True:
        rows = session.scalars(
            select(BankLocalFeatures)
            .where(BankLocalFeatures.id > last)
            .order_by(BankLocalFeatures.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        last = rows[-1].id
        for row in rows:
            packed = bytes(row.features)
            try:
                if row.sealed:
                    key = key or local_seal.key_for_reading(keys, session)
                    packed = local_seal.open_sealed(key, row.entry_id, packed)
                features = LocalFeatures.from_bytes(packed)
            except InvalidSignalError:
                log.warning("Bank entry %d's local features do not parse.", row.entry_id)
                unchanged += 1
                continue
            kept = fine_only(features)
            if kept is features:
                unchanged += 1
            elif kept is None:
                session.delete(row)
                removed += 1
            else:
                key = key or local_seal.key_for_writing(keys, session)
                row.features = local_seal.seal(key, row.entry_id, kept.to_bytes())
                row.sealed = True
                rewritten += 1
        session.flush()
        session.expunge_all()  # a big bank is not held in memory
    if rewritten or removed:
        log.info(
            "Trimmed the coarse corners of %d bank entries' local features (%d removed).",
            rewritten + removed,
            removed,
        )
    return Trimmed(rewritten, removed, unchanged)
