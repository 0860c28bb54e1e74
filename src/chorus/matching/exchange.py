"""The partner exchange feed: additions and deletions since a checkpoint, page by page.

Modelled on StopNCII's FetchHashes paging: a partner keeps a local copy in sync by asking
for changes after its last checkpoint until ``has_more`` is false. Entries carry opaque
ids and signal values only, never an owner or anything about a survivor, and PDQ and file
digests only: Chorus's robust signal is never in the feed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from chorus.errors import InvalidSignalError
from chorus.matching import bank
from chorus.matching.models import BankChange, BankEntry, BankSignal, PartnerFeedback
from chorus.matching.quarantine import QuarantinePolicy, item_digest, record_observations

MAX_PAGE: Final = 1000
#: What partners receive: the signals the industry exchanges. The robust signal stays on
#: the Chorus server (docs/robust-matching.md).
PARTNER_TYPES: Final = ("pdq", "sha256", "md5")
VERDICTS: Final = ("blocked", "not_blocked", "false_positive")


@dataclass(frozen=True)
class FeedSignal:
    signal_type: str
    value: str
    variant: str | None


@dataclass(frozen=True)
class FeedChange:
    seq: int
    op: str  # "add" or "delete"
    entry_id: str
    at: datetime
    signals: tuple[FeedSignal, ...]


@dataclass(frozen=True)
class FeedPage:
    changes: tuple[FeedChange, ...]
    checkpoint: str
    has_more: bool


def parse_checkpoint(checkpoint: str | None) -> int:
    if checkpoint in (None, ""):
        return 0
    try:
        value = int(str(checkpoint))
    except ValueError:
        raise InvalidSignalError("The checkpoint is not one this feed gave out.") from None
    if value < 0:
        raise InvalidSignalError("The checkpoint is not one this feed gave out.")
    return value


def feed(session: Session, checkpoint: str | None, page_size: int = 500) -> FeedPage:
    if not 1 <= page_size <= MAX_PAGE:
        raise InvalidSignalError(f"page_size must be between 1 and {MAX_PAGE}.")
    after = parse_checkpoint(checkpoint)
    rows = session.execute(
        select(BankChange.seq, BankChange.change, BankChange.at, BankEntry.id, BankEntry.public_id)
        .join(BankEntry, BankEntry.id == BankChange.entry_id)
        .where(BankChange.seq > after)
        .order_by(BankChange.seq)
        .limit(page_size + 1)
    ).all()
    has_more = len(rows) > page_size
    rows = rows[:page_size]
    added = [r[3] for r in rows if r[1] == "add"]
    signals: dict[int, list[FeedSignal]] = {}
    if added:
        for entry_pk, kind, value, variant in session.execute(
            select(
                BankSignal.entry_id, BankSignal.signal_type, BankSignal.value, BankSignal.variant
            )
            .where(BankSignal.entry_id.in_(added), BankSignal.signal_type.in_(PARTNER_TYPES))
            .order_by(BankSignal.id)
        ):
            signals.setdefault(entry_pk, []).append(FeedSignal(kind, value, variant))
    changes = tuple(
        FeedChange(
            seq=seq,
            op=change,
            entry_id=public_id,
            at=at,
            signals=tuple(signals.get(entry_pk, ())) if change == "add" else (),
        )
        for seq, change, at, entry_pk, public_id in rows
    )
    next_checkpoint = str(rows[-1][0]) if rows else str(after)
    return FeedPage(changes=changes, checkpoint=next_checkpoint, has_more=has_more)


def record_feedback(
    session: Session,
    *,
    entry_id: str,
    verdict: str,
    api_key_id: int | None,
    item: tuple[str, str] | None = None,
    policy: QuarantinePolicy | None = None,
) -> list[str]:
    """Store a partner's verdict. A match reported on an item counts toward quarantine, and
    so does every false-positive report. Returns entry ids that were quarantined."""
    if verdict not in VERDICTS:
        raise InvalidSignalError(f"verdict must be one of {', '.join(VERDICTS)}.")
    entry = bank.get_entry(session, entry_id)
    digest = item_digest(*item) if item else None
    session.add(
        PartnerFeedback(
            api_key_id=api_key_id, entry_id=entry.id, verdict=verdict, item_digest=digest
        )
    )
    if digest is not None:
        observed = digest
    elif verdict == "false_positive":
        observed = item_digest("feedback", secrets.token_hex(16))  # each report counts once
    else:
        return []
    return record_observations(session, {entry.id: {observed}}, source="feedback", policy=policy)
