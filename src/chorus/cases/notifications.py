"""Neutral notes queued for survivors who chose to hear from us by email or phone.

A note only says that there is something to read in the portal: never what it is about,
never the case, never the service's purpose, because someone else may see a survivor's
phone or inbox. The note keeps the channel and that text only; whoever sends it reads the
address, sealed, from the case at the moment of sending. One unsent note per case is
enough: more news before it goes out does not queue another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from chorus.cases.models import Case, CaseNotification
from chorus.errors import CasesError
from chorus.store.base import utcnow

#: The whole of what the note says.
NEUTRAL_TEXT = "There is an update for you. Please sign in to read it."
CHANNELS = ("email", "phone")


def queue_for(session: Session, case: Case) -> bool:
    """Queue a neutral note if the survivor chose email or phone; True when one was queued."""
    if case.contact_channel not in CHANNELS or not case.contact_sealed:
        return False
    waiting = session.scalar(
        select(CaseNotification.id).where(
            CaseNotification.case_id == case.id, CaseNotification.sent_at.is_(None)
        )
    )
    if waiting is not None:
        return False
    session.add(CaseNotification(case_id=case.id, channel=case.contact_channel, text=NEUTRAL_TEXT))
    session.flush()
    return True


@dataclass(frozen=True)
class PendingNotification:
    id: int
    case_reference: str
    channel: str
    text: str
    queued_at: datetime


def pending(session: Session, *, limit: int = 100) -> list[PendingNotification]:
    """Notes waiting to be sent, oldest first (for the sender)."""
    rows = session.execute(
        select(CaseNotification, Case.reference)
        .join(Case, Case.id == CaseNotification.case_id)
        .where(CaseNotification.sent_at.is_(None))
        .order_by(CaseNotification.id)
        .limit(limit)
    ).all()
    return [PendingNotification(n.id, ref, n.channel, n.text, n.queued_at) for n, ref in rows]


def mark_sent(session: Session, notification_id: int) -> None:
    row = session.get(CaseNotification, notification_id)
    if row is None:
        raise CasesError(f"No notification has the id {notification_id}.")
    row.sent_at = utcnow()
