"""Sending notices: email over SMTP, a web-form pack to paste from, or marked sent by hand.

Idempotency. A notice is *claimed* (draft -> sending, a conditional UPDATE committed on its
own) before any mail is sent, and marked sent in a second transaction after the mail
server accepted it. A retry finds the claim and sends nothing, so Chorus never sends a
notice twice by itself (at most once). The one uncertain case is a crash after the claim
and before the second commit: the notice stays ``sending`` and is shown as "may already
have gone"; a person confirms it (:func:`mark_sent`) or deliberately resends it
(:func:`resend_unconfirmed`), which reuses the same Message-ID so the recipient's mail
system can recognise a duplicate. A refusal the mail server states (a 4xx/5xx reply, no
connection at all) means nothing was accepted: the claim is given back and the notice can
be sent again.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from chorus import mail
from chorus.config import Settings
from chorus.errors import SendError, TakedownError
from chorus.evidence import captures, ledger
from chorus.evidence.keys import KeyRing
from chorus.evidence.offline.proofs import sha256
from chorus.evidence.tags import EventTag
from chorus.security.policy import Actor, Permission, require
from chorus.store.base import utcnow
from chorus.store.session import transaction
from chorus.takedowns import notices, service, states
from chorus.takedowns.models import Notice

EMAIL, WEB_FORM, MANUAL = "email", "web_form", "manual"


#: The mail server said no (or could not be reached): nothing was accepted.
Refused = mail.Refused


class Mailer:
    """Notices' delivery through the shared mail transport (:mod:`chorus.mail`); ``send``
    raises :class:`Refused` only when certain that the message was not accepted, and any
    other error when it cannot be sure."""

    def __init__(self, settings: Settings) -> None:
        server = mail.MailServer.configured(settings)
        if server is None:
            raise SendError(
                "Email sending is not set up (CHORUS_SMTP_HOST is empty). Use the "
                "web form pack, or send it yourself and mark it sent."
            )
        self.server = server
        self.sender = settings.takedown_mail_from or settings.takedown_notifier_email
        if not self.sender:
            raise SendError("Set CHORUS_TAKEDOWN_MAIL_FROM or CHORUS_TAKEDOWN_NOTIFIER_EMAIL.")

    def send(self, message: EmailMessage) -> None:
        self.server.send(message, from_addr=self.sender)


def build_message(notice: Notice, sender: str, reply_to: str) -> EmailMessage:
    recipient = notice.recipient
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient["email"]
    if reply_to and reply_to != sender:
        message["Reply-To"] = reply_to
    message["Subject"] = notice.subject
    message["Message-ID"] = notice.message_id
    message["Date"] = format_datetime(notice.claimed_at or utcnow())
    message["Auto-Submitted"] = "no"
    message.set_content(notice.body)  # text only: a notice never carries an attachment
    return message


@dataclass(frozen=True)
class SendResult:
    notice: str
    state: str
    sent_now: bool
    message: str


def _claim(session: Session, notice_id: str, by: Actor) -> Notice | SendResult:
    takedown, notice = service.notice_row(session, notice_id)
    if notice.state in (
        states.SENT,
        states.ACKNOWLEDGED,
        states.REMOVED,
        states.REFUSED,
        states.NO_RESPONSE,
        states.ESCALATED,
    ):
        return SendResult(notice_id, notice.state, False, "This notice was already sent.")
    if notice.state == states.SENDING:
        when = f"{notice.claimed_at:%H:%M UTC on %d %B %Y}" if notice.claimed_at else "earlier"
        raise SendError(
            f"Notice {notice_id} was claimed for sending at {when} and may already have gone "
            "out. Check with the recipient, then mark it sent, or resend it on purpose (it "
            "keeps the same Message-ID)."
        )
    if notice.state != states.DRAFT:
        raise TakedownError(f"Notice {notice_id} is {notice.state}; it cannot be sent.")
    notices.require_complete(notice.regime, notice.elements)
    if not notice.recipient.get("email"):
        raise SendError(
            f"{notice.recipient['name']} has no email address. Use the web form pack, or "
            "send it another way and mark it sent."
        )
    claimed = session.execute(  # type: ignore[attr-defined]
        update(Notice)
        .where(Notice.id == notice.id, Notice.state == states.DRAFT)
        .values(state=states.SENDING, claimed_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:  # another worker claimed it between our read and our update
        return SendResult(notice_id, states.SENDING, False, "Another process is sending it.")
    states.record(
        session,
        takedown,
        notice.public_id,
        states.DRAFT,
        states.SENDING,
        by=by.label,
        why="claimed for sending by email",
    )
    session.refresh(notice)
    return notice


def send_email(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
    notice_id: str,
    *,
    by: Actor,
    mailer: Mailer | None = None,
) -> SendResult:
    """Send a complete notice by email, at most once (see the module's docstring)."""
    require(by, Permission.MANAGE_TAKEDOWNS)
    mailer = mailer or Mailer(settings)
    with transaction(sessions) as session:
        claimed = _claim(session, notice_id, by)
        if isinstance(claimed, SendResult):
            return claimed
        message = build_message(claimed, mailer.sender, settings.takedown_notifier_email)
    return _deliver(sessions, keyring, settings, notice_id, message, mailer, by)


def _deliver(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
    notice_id: str,
    message: EmailMessage,
    mailer: Mailer,
    by: Actor,
) -> SendResult:
    try:
        mailer.send(message)
    except Refused as exc:
        with transaction(sessions) as session:
            takedown, notice = service.notice_row(session, notice_id)
            if notice.state == states.SENDING:
                states.move_notice(
                    session, takedown, notice, states.DRAFT, by=by.label, why=f"not sent: {exc}"
                )
        raise SendError(
            f"The notice was not sent: {exc}. It is still a draft; try again "
            "later or send it another way."
        ) from exc
    except (OSError, smtplib.SMTPException) as exc:  # the server may have accepted it
        raise SendError(
            f"The connection broke while the notice was being sent ({exc}); it may have gone "
            "out. It is held as 'being sent': check with the recipient, then mark it sent or "
            "resend it on purpose."
        ) from exc
    with transaction(sessions) as session:
        _mark_sent(session, keyring, settings, notice_id, EMAIL, by, note=None)
    return SendResult(notice_id, states.SENT, True, "Sent by email.")


def _mark_sent(
    session: Session,
    keyring: KeyRing,
    settings: Settings,
    notice_id: str,
    channel: str,
    by: Actor,
    *,
    note: str | None,
    at: datetime | None = None,
) -> Notice:
    takedown, notice = service.notice_row(session, notice_id)
    now = at or utcnow()
    how = {
        EMAIL: "sent by email",
        WEB_FORM: "sent through the recipient's web form",
        MANUAL: "sent by hand",
    }[channel]
    states.move_notice(
        session,
        takedown,
        notice,
        states.SENT,
        by=by.label,
        why=how + (f": {note}" if note else ""),
        at=now,
    )
    notice.channel, notice.sent_at, notice.sent_note = channel, now, (note or None)
    notice.due_at = now + timedelta(seconds=settings.takedown_renotice_after_s)
    tag = EventTag.NOTICE_RENOTICED if notice.renotice_of else EventTag.NOTICE_SENT
    ledger.append(
        session,
        tag,
        by.label,
        {
            "case": takedown.case_ref,
            "takedown": takedown.public_id,
            "notice": notice.public_id,
            "sighting": takedown.sighting,
        },
        {
            "regime": notice.regime,
            "recipient": notice.recipient["name"],
            "recipient_role": notice.recipient["role"],
            "channel": channel,
            "message_id": notice.message_id,
            "body_sha256": sha256(notice.body.encode()).hex(),
            "note": note,
        },
        scope=captures.case_scope(takedown.case_ref),
        keyring=keyring,
    )
    return notice


def mark_sent(
    session: Session,
    keyring: KeyRing,
    settings: Settings,
    notice_id: str,
    *,
    by: Actor,
    channel: str = MANUAL,
    note: str = "",
) -> SendResult:
    """Record a notice sent by hand or through a web form (or confirm an unconfirmed email).

    The completeness check applies as to email: an incomplete notice is not "sent"."""
    require(by, Permission.MANAGE_TAKEDOWNS)
    if channel not in (MANUAL, WEB_FORM, EMAIL):
        raise TakedownError("A notice is sent by 'email', 'web_form' or 'manual'.")
    _takedown, notice = service.notice_row(session, notice_id)
    if notice.state in states.AWAITING:
        return SendResult(notice_id, notice.state, False, "This notice was already sent.")
    notices.require_complete(notice.regime, notice.elements)
    _mark_sent(session, keyring, settings, notice_id, channel, by, note=note.strip()[:500])
    return SendResult(notice_id, states.SENT, False, "Recorded as sent.")


def resend_unconfirmed(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
    notice_id: str,
    *,
    by: Actor,
    why: str,
    mailer: Mailer | None = None,
) -> SendResult:
    """A person's deliberate resend of a notice left ``sending`` (same Message-ID)."""
    require(by, Permission.MANAGE_TAKEDOWNS)
    mailer = mailer or Mailer(settings)
    with transaction(sessions) as session:
        takedown, notice = service.notice_row(session, notice_id)
        if notice.state != states.SENDING:
            raise TakedownError(
                f"Notice {notice_id} is {notice.state}, not waiting to be "
                "confirmed; send it the usual way."
            )
        states.record(
            session,
            takedown,
            notice.public_id,
            states.SENDING,
            states.SENDING,
            by=by.label,
            why=f"resent on purpose: {service.reason_given(why)}",
        )
        message = build_message(notice, mailer.sender, settings.takedown_notifier_email)
    return _deliver(sessions, keyring, settings, notice_id, message, mailer, by)


def unconfirmed(session: Session, older_than_s: int = 600) -> list[str]:
    """Notices claimed for sending longer ago than ``older_than_s``: a person must look."""
    cutoff = utcnow() - timedelta(seconds=older_than_s)
    return list(
        session.scalars(
            select(Notice.public_id).where(
                Notice.state == states.SENDING, Notice.claimed_at < cutoff
            )
        )
    )
