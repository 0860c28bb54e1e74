"""Messages between a caseworker and a survivor, read and answered in the portal.

Text only (the portal shows it escaped; there is no way to attach an image). Each text is
sealed with the case's data key; the ledger records that a message was sent or received,
by opaque ids only. A survivor who chose email or phone gets a neutral note that there is
something to read, never the message itself.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chorus.cases import notifications, sealed_text
from chorus.cases.models import Case, CaseMessage
from chorus.errors import CasesError
from chorus.evidence import ledger
from chorus.evidence.keys import KeyRing
from chorus.evidence.tags import EventTag
from chorus.security.policy import Actor, Permission, require
from chorus.store.base import utcnow

TO_SURVIVOR, FROM_SURVIVOR = "to_survivor", "from_survivor"
MAX_LENGTH = 5000
_GONE = ("deleted",)


def _case(session: Session, reference: str) -> Case:
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None or case.status in _GONE:
        raise CasesError("No case has that reference.")
    return case


def _checked(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise CasesError("The message is empty. Please write something, then send it.")
    if len(text) > MAX_LENGTH:
        raise CasesError(f"Please keep a message under {MAX_LENGTH:,} characters.")
    return text


def post(
    session: Session, keyring: KeyRing, case: Case, direction: str, author: str, text: str
) -> CaseMessage:
    """Store one message (sealed) in the case; no ledger entry, no note (callers do that)."""
    public_id = f"M-{secrets.token_hex(5).upper()}"
    sealed = sealed_text.seal(session, keyring, case.reference, f"message:{public_id}", text)
    row = CaseMessage(public_id=public_id, case_id=case.id, direction=direction,
                      author=author, sealed=sealed)  # fmt: skip
    session.add(row)
    session.flush()
    return row


def tell_survivor(session: Session, keyring: KeyRing, case: Case, author: str, text: str) -> str:
    """A message to the survivor in the portal and, if they chose email or phone, a neutral
    note; returns the message id (the caller records the event it belongs to)."""
    row = post(session, keyring, case, TO_SURVIVOR, author, text)
    notifications.queue_for(session, case)
    return row.public_id


def send_message(
    session: Session, keyring: KeyRing, actor: Actor, reference: str, text: str
) -> str:
    """A caseworker writes to the survivor of a case; returns the message id."""
    require(actor, Permission.MESSAGE_SURVIVOR)
    case = _case(session, reference)
    if case.status == "deletion_requested":
        raise CasesError("The survivor asked for their data to be deleted; please do not write "
                         "to them unless they cancel it.")  # fmt: skip
    message_id = tell_survivor(session, keyring, case, actor.label, _checked(text))
    ledger.append(session, EventTag.MESSAGE_SENT, actor.label,
                  {"case": reference, "message": message_id})  # fmt: skip
    return message_id


def reply(session: Session, keyring: KeyRing, reference: str, text: str) -> str:
    """The survivor answers from the portal; returns the message id."""
    case = _case(session, reference)
    row = post(session, keyring, case, FROM_SURVIVOR, f"survivor:{reference}", _checked(text))
    ledger.append(session, EventTag.MESSAGE_RECEIVED, f"survivor:{reference}",
                  {"case": reference, "message": row.public_id})  # fmt: skip
    return row.public_id


@dataclass(frozen=True)
class MessageView:
    id: str
    when: datetime
    from_survivor: bool
    author: str  # "survivor:..." or the staff member's label
    text: str
    unread: bool  # not yet read by whoever it was written to


def _views(
    session: Session, keyring: KeyRing, case: Case, *, mark: str | None
) -> list[MessageView]:
    rows = session.scalars(
        select(CaseMessage)
        .where(CaseMessage.case_id == case.id)
        .order_by(CaseMessage.sent_at.desc(), CaseMessage.id.desc())
    ).all()
    views = [
        MessageView(
            row.public_id,
            row.sent_at,
            row.direction == FROM_SURVIVOR,
            row.author,
            sealed_text.unseal(
                session, keyring, case.reference, f"message:{row.public_id}", row.sealed or b""
            ),
            row.read_at is None,
        )
        for row in rows
    ]
    now = utcnow()
    for row in rows:
        if row.direction == mark and row.read_at is None:
            row.read_at = now
    return views


def for_survivor(
    session: Session, keyring: KeyRing, reference: str, *, mark_read: bool = True
) -> list[MessageView]:
    """The case's messages, newest first; messages to the survivor count as read now."""
    case = _case(session, reference)
    return _views(session, keyring, case, mark=TO_SURVIVOR if mark_read else None)


def for_staff(
    session: Session, keyring: KeyRing, actor: Actor, reference: str
) -> list[MessageView]:
    """The case's messages for the caseworker, newest first; the survivor's replies count
    as read now."""
    require(actor, Permission.MESSAGE_SURVIVOR)
    return _views(session, keyring, _case(session, reference), mark=FROM_SURVIVOR)


def unread_count(session: Session, reference: str) -> int:
    """Messages to the survivor they have not opened yet (for the portal home)."""
    case = _case(session, reference)
    return int(
        session.scalar(
            select(func.count(CaseMessage.id)).where(
                CaseMessage.case_id == case.id,
                CaseMessage.direction == TO_SURVIVOR,
                CaseMessage.read_at.is_(None),
            )
        )
        or 0
    )


def cases_with_unread_replies(session: Session, actor: Actor) -> list[tuple[str, int]]:
    """(case reference, unread replies) for the caseworker's queue, most waiting first."""
    require(actor, Permission.MESSAGE_SURVIVOR)
    rows = session.execute(
        select(Case.reference, func.count(CaseMessage.id))
        .join(Case, Case.id == CaseMessage.case_id)
        .where(CaseMessage.direction == FROM_SURVIVOR, CaseMessage.read_at.is_(None))
        .where(Case.status.not_in(_GONE))
        .group_by(Case.reference)
        .order_by(func.count(CaseMessage.id).desc(), Case.reference)
    ).all()
    return [(ref, int(n)) for ref, n in rows]
