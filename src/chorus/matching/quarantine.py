"""Quarantine: an entry that suddenly matches many different items is held for review.

False submissions are a known abuse of hash banks (someone banks the hash of a popular
harmless image to get it blocked everywhere). Items are identified by a digest of the
submitted signal, never by content.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chorus.matching import bank
from chorus.matching.models import BankEntry, MatchObservation
from chorus.store.base import utcnow


@dataclass(frozen=True)
class QuarantinePolicy:
    max_distinct_items: int = 50
    window: timedelta = timedelta(hours=1)


def item_digest(signal_type: str, value: str) -> str:
    """A stable id for a submitted item that reveals nothing about it beyond equality."""
    return hashlib.sha256(f"chorus-item:{signal_type}:{value}".encode()).hexdigest()


def record_observations(
    session: Session,
    observations: dict[int, set[str]],
    *,
    source: str,
    policy: QuarantinePolicy | None = None,
) -> list[str]:
    """Log which items each entry matched; quarantine entries matching too many. Returns
    the public ids quarantined."""
    policy = policy or QuarantinePolicy()
    quarantined = []
    for entry_pk, digests in observations.items():
        session.add_all(
            MatchObservation(entry_id=entry_pk, item_digest=d, source=source) for d in digests
        )
        session.flush()
        since = utcnow() - policy.window
        distinct = session.scalar(
            select(func.count(func.distinct(MatchObservation.item_digest))).where(
                MatchObservation.entry_id == entry_pk, MatchObservation.at >= since
            )
        )
        if distinct is not None and distinct > policy.max_distinct_items:
            entry = session.get(BankEntry, entry_pk)
            if entry is not None and entry.status == bank.ACTIVE:
                bank.quarantine(
                    session,
                    entry,
                    f"matched {distinct} different items within {policy.window}; held for "
                    "review as a possible false submission",
                )
                quarantined.append(entry.public_id)
    return quarantined
