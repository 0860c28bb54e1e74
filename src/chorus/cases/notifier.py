"""Delivering the neutral notes queued for survivors (``chorus.cases.notifications``).

Email: ``chorus serve`` runs :func:`send_due` every ``CHORUS_SURVIVOR_NOTES_INTERVAL_S``.
Each note is locked (``FOR UPDATE SKIP LOCKED``, so several servers never send the same
note at once), the address is unsealed from the case at that moment, and a message with
only the neutral text goes out through the shared transport (:mod:`chorus.mail`), from
the neutral ``CHORUS_SURVIVOR_MAIL_FROM``, with a Message-ID that is the same on every try.
It is marked delivered, and recorded in the ledger, in the same transaction. A crash
after the mail server accepted it and before the commit sends it again later with the same
Message-ID: a survivor may get the note twice, never not at all. A refusal is kept (as a
code, never the address) and tried again later, less and less often, up to
:data:`MAX_ATTEMPTS` tries; the case page shows it.

Phone: there is no SMS or voice provider here, so those notes are never sent by Chorus.
They wait on the case page ("call the survivor at the times they chose") until the
caseworker records the call (:func:`record_call`).
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session, sessionmaker

from chorus import mail
from chorus.cases import contact
from chorus.cases.models import Case, CaseNotification
from chorus.config import Settings
from chorus.errors import CasesError, ChorusError
from chorus.evidence import ledger
from chorus.evidence.keys import KeyRing
from chorus.evidence.tags import EventTag
from chorus.security.policy import Actor, Permission, require
from chorus.store.base import utcnow
from chorus.store.session import transaction

#: The subject of every note: as neutral as its text.
SUBJECT = "An update for you"
MAX_ATTEMPTS = 8
FIRST_RETRY_S, LONGEST_RETRY_S = 300, 6 * 3600
SENDER = "system:survivor-notes"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WaitingNote:
    id: int
    channel: str
    queued_at: datetime
    attempts: int
    last_error: str | None
    gave_up: bool  # email refused MAX_ATTEMPTS times: no more tries


def _waiting_rows(session: Session, case_id: int) -> list[CaseNotification]:
    return list(session.scalars(
        select(CaseNotification)
        .where(CaseNotification.case_id == case_id, CaseNotification.sent_at.is_(None))
        .order_by(CaseNotification.id)
    ))  # fmt: skip


def waiting(session: Session, reference: str) -> list[WaitingNote]:
    """The case's notes not yet delivered (for its staff page)."""
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None:
        return []
    rows = _waiting_rows(session, case.id)
    return [
        WaitingNote(
            r.id, r.channel, r.queued_at, r.attempts, r.last_error, r.attempts >= MAX_ATTEMPTS
        )
        for r in rows
    ]


def calls_waiting(session: Session) -> list[str]:
    """References of cases whose survivor is waiting for a call (a phone note)."""
    return sorted(set(session.scalars(
        select(Case.reference)
        .join(CaseNotification, CaseNotification.case_id == Case.id)
        .where(CaseNotification.sent_at.is_(None), CaseNotification.channel == "phone")
        .where(Case.status != "deleted")
    )))  # fmt: skip


def email_configured(settings: Settings) -> bool:
    return bool(settings.smtp_host.strip() and settings.survivor_mail_from.strip())


def _delivered(session: Session, row: CaseNotification, case: Case, by: str) -> None:
    """Delivered now; the ledger says so (the actor tells email, by Chorus, from a call)."""
    row.sent_at = utcnow()
    ledger.append(session, EventTag.NOTE_DELIVERED, by, {"case": case.reference})


def record_call(session: Session, actor: Actor, reference: str, note_id: int) -> None:
    """The caseworker called the survivor (at the times they chose): the note is delivered."""
    require(actor, Permission.MESSAGE_SURVIVOR)
    case = session.scalar(select(Case).where(Case.reference == reference))
    row = session.get(CaseNotification, note_id)
    if case is None or row is None or row.case_id != case.id:
        raise CasesError("That note is not part of this case. Please reload the page.")
    if row.sent_at is not None:
        raise CasesError("This note was already recorded as given; nothing was changed.")
    if row.channel != "phone":
        raise CasesError("This note goes by email; Chorus sends it by itself.")
    _delivered(session, row, case, actor.label)


@dataclass(frozen=True)
class Delivery:
    sent: int = 0
    refused: int = 0
    stopped: str | None = None  # why the run stopped early (the mail server is unusable)


def _refusal(exc: BaseException) -> str:
    """What the mail server said, as codes only (its text may repeat the address)."""
    cause = exc.__cause__
    if isinstance(cause, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(code) for code, _ in cause.recipients.values()})
        return f"The mail server refused the address (code {', '.join(codes)})."
    if isinstance(cause, smtplib.SMTPResponseException):
        return f"The mail server refused the note (code {cause.smtp_code})."
    return "The mail server refused the note."


def _retry(row: CaseNotification, why: str, now: datetime, *, final: bool = False) -> None:
    row.attempts = MAX_ATTEMPTS if final else row.attempts + 1
    row.last_error = why[:300]
    wait = min(FIRST_RETRY_S * 2 ** (row.attempts - 1), LONGEST_RETRY_S)
    row.next_try_at = now + timedelta(seconds=wait)


def _message(settings: Settings, row: CaseNotification, address: str) -> EmailMessage:
    sender = settings.survivor_mail_from.strip()
    message = EmailMessage()
    message["From"] = sender
    message["To"] = address  # ValueError for an address with line breaks
    message["Subject"] = SUBJECT
    message["Message-ID"] = mail.stable_message_id(
        settings.effective_secret_key, f"survivor-note:{row.id}:{row.queued_at.isoformat()}",
        sender,
    )  # fmt: skip
    message["Date"] = format_datetime(utcnow())
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.text)  # the neutral text, and nothing else
    return message


def _due(session: Session, now: datetime, limit: int) -> list[int]:
    return list(session.scalars(
        select(CaseNotification.id)
        .where(CaseNotification.sent_at.is_(None), CaseNotification.channel == "email")
        .where(CaseNotification.attempts < MAX_ATTEMPTS)
        .where(or_(CaseNotification.next_try_at.is_(None), CaseNotification.next_try_at <= now))
        .order_by(CaseNotification.id)
        .limit(limit)
    ))  # fmt: skip


def send_due(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
    *,
    server: mail.MailServer | None = None,
    limit: int = 100,
) -> Delivery:
    """Email the notes that are due, one transaction each (see the module's docstring)."""
    server = server or (mail.MailServer.configured(settings) if email_configured(settings)
                        else None)  # fmt: skip
    if server is None:
        return Delivery(stopped="email notes are not set up (CHORUS_SMTP_HOST, "
                                "CHORUS_SURVIVOR_MAIL_FROM)")  # fmt: skip
    sent = refused = 0
    with transaction(sessions) as session:
        due = _due(session, utcnow(), limit)
    for note_id in due:
        with transaction(sessions) as session:
            row = session.scalar(
                select(CaseNotification)
                .where(CaseNotification.id == note_id, CaseNotification.sent_at.is_(None))
                .with_for_update(skip_locked=True)
            )
            if row is None:  # sent meanwhile, or another server holds it
                continue
            case = session.get(Case, row.case_id)
            if case is None or case.status == "deleted" or case.contact_channel == "portal":
                session.execute(delete(CaseNotification).where(CaseNotification.id == row.id))
                continue  # no longer wanted: the survivor chose the portal only
            if case.contact_channel == "phone":
                row.channel = "phone"  # they changed their mind: the caseworker calls
                continue
            now = utcnow()
            try:
                address = contact.read(session, keyring, case).detail or ""
                message = _message(settings, row, address)
            except (ValueError, ChorusError) as exc:
                log.warning("survivor note %s has an unusable address: %s", row.id, type(exc))
                _retry(row, "The email address the survivor gave cannot be used.", now,
                       final=True)  # fmt: skip
                refused += 1
                continue
            try:
                server.send(message, from_addr=settings.survivor_mail_from.strip())
            except mail.Refused as exc:
                if exc.connection:  # every other note would meet the same refusal now
                    log.warning("survivor notes wait: %s", exc)
                    return Delivery(sent, refused, stopped=str(exc))
                _retry(row, _refusal(exc), now)
                refused += 1
                continue
            except (OSError, smtplib.SMTPException):
                why = ("The connection broke while the note was being sent; it may have "
                       "arrived. It is tried again later (a repeat is recognisable).")  # fmt: skip
                _retry(row, why, now)
                refused += 1
                continue
            _delivered(session, row, case, SENDER)
            sent += 1
    return Delivery(sent, refused)
