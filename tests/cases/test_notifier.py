"""Survivors' neutral notes reach a real SMTP server on 127.0.0.1 (aiosmtpd): only the neutral
text, from the neutral sender, once per note, marked delivered and in the ledger; a refusal is
kept as a code (never the address) and tried again later; a mail server that is down costs
nothing; ``chorus serve`` runs the sender."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from chorus.cases import messages, notifications, notifier, service
from chorus.cases.contact import ContactChoices
from chorus.cases.intake import IntakeAnswers
from chorus.cases.models import CaseNotification
from chorus.config import Settings
from chorus.evidence import ledger
from chorus.evidence.keys import KeyRing
from chorus.store.base import utcnow
from chorus.store.session import transaction
from chorus.web.app import _jobs

from ..evidence.conftest import CASEWORKER, keyring, settings  # noqa: F401

ADDRESS = "amy@example.org"
WORDS = "We found two copies on the Exampletown board and asked the host to remove them."


@dataclass
class Inbox:
    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: bool = False

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          options: Any) -> str:  # fmt: skip
        if self.refuse:
            return f"550 5.1.1 <{address}> no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _mail(settings: Settings, port: int) -> Settings:  # noqa: F811
    return settings.model_copy(update={
        "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_tls": "none", "smtp_timeout_s": 5,
        "survivor_mail_from": "Updates <updates@notes.example>",
    })  # fmt: skip


def _case_with_news(sessions: sessionmaker[Session], keyring: KeyRing, channel: str = "email",  # noqa: F811
                    detail: str = ADDRESS) -> str:  # fmt: skip
    with transaction(sessions) as session:
        ref = service.file_report(
            session, keyring, IntakeAnswers(what_was_shared="photos from an old album"),
            contact_choices=ContactChoices(channel=channel, detail=detail),  # type: ignore[arg-type]
        ).case_reference  # fmt: skip
        messages.send_message(session, keyring, CASEWORKER, ref, WORDS)
    return ref


def _note(sessions: sessionmaker[Session]) -> CaseNotification:
    with transaction(sessions) as session:
        row = session.scalars(select(CaseNotification)).one()
        session.expunge(row)
        return row


def test_a_neutral_note_is_emailed_once_with_nothing_of_the_case(
    sessions: sessionmaker[Session], keyring: KeyRing, settings: Settings,  # noqa: F811
    smtp: tuple[Inbox, int],
) -> None:  # fmt: skip
    inbox, port = smtp
    mail_settings = _mail(settings, port)
    ref = _case_with_news(sessions, keyring)
    assert notifier.send_due(sessions, keyring, mail_settings).sent == 1
    assert len(inbox.messages) == 1
    sent = inbox.messages[0]
    assert inbox.envelopes[0] == ("updates@notes.example", [ADDRESS])
    assert sent["Subject"] == "An update for you" and sent["To"] == ADDRESS
    assert sent.get_payload(decode=True).decode().strip() == notifications.NEUTRAL_TEXT
    raw = sent.as_string()
    for secret in (ref, "Exampletown", "copies", "photo", "case", "Chorus", "abuse", "image"):
        assert secret.lower() not in raw.lower()
    assert _note(sessions).sent_at is not None
    # Nothing more to send; a second run sends nothing (each note goes once).
    assert notifier.send_due(sessions, keyring, mail_settings).sent == 0
    assert len(inbox.messages) == 1
    with transaction(sessions) as session:
        size, _ = ledger.head(session)
        actions = [e.fields["action"] for e in ledger.entries(session, range(size))]
        assert actions.count("cases:note:delivered") == 1


def test_refusals_are_kept_as_codes_and_tried_again_later(
    sessions: sessionmaker[Session], keyring: KeyRing, settings: Settings,  # noqa: F811
    smtp: tuple[Inbox, int],
) -> None:  # fmt: skip
    inbox, port = smtp
    mail_settings = _mail(settings, port)
    ref = _case_with_news(sessions, keyring)
    down = mail_settings.model_copy(update={"smtp_port": _free_port()})  # nothing listens
    result = notifier.send_due(sessions, keyring, down)
    assert result.sent == 0 and result.stopped and "could not be used" in result.stopped
    assert _note(sessions).attempts == 0  # the server was down: not the note's fault
    inbox.refuse = True
    assert notifier.send_due(sessions, keyring, mail_settings).refused == 1
    note = _note(sessions)
    assert note.sent_at is None and note.attempts == 1 and note.next_try_at is not None
    assert note.last_error == "The mail server refused the address (code 550)."
    assert ADDRESS not in (note.last_error or "")
    with transaction(sessions) as session:
        assert [w.last_error for w in notifier.waiting(session, ref)] == [note.last_error]
    inbox.refuse = False
    assert notifier.send_due(sessions, keyring, mail_settings).sent == 0  # not due yet
    with transaction(sessions) as session:
        session.execute(update(CaseNotification).values(next_try_at=utcnow() - timedelta(1)))
    assert notifier.send_due(sessions, keyring, mail_settings).sent == 1
    assert len(inbox.messages) == 1
    # After MAX_ATTEMPTS refusals Chorus stops trying, and the case page can say so.
    messages_ref = _case_with_news(sessions, keyring)
    with transaction(sessions) as session:
        session.execute(update(CaseNotification).where(CaseNotification.sent_at.is_(None))
                        .values(attempts=notifier.MAX_ATTEMPTS))  # fmt: skip
        assert notifier.waiting(session, messages_ref)[0].gave_up
    assert notifier.send_due(sessions, keyring, mail_settings).sent == 0


def test_an_address_with_line_breaks_is_never_sent_to(
    sessions: sessionmaker[Session], keyring: KeyRing, settings: Settings,  # noqa: F811
    smtp: tuple[Inbox, int],
) -> None:  # fmt: skip
    inbox, port = smtp
    _case_with_news(sessions, keyring, detail="amy@example.org\r\nBcc: someone@example.net")
    result = notifier.send_due(sessions, keyring, _mail(settings, port))
    assert result.refused == 1 and inbox.messages == []
    note = _note(sessions)
    assert note.attempts == notifier.MAX_ATTEMPTS and "cannot be used" in (note.last_error or "")


def test_phone_notes_are_never_sent_and_portal_only_notes_are_dropped(
    sessions: sessionmaker[Session], keyring: KeyRing, settings: Settings,  # noqa: F811
    smtp: tuple[Inbox, int],
) -> None:  # fmt: skip
    inbox, port = smtp
    ref = _case_with_news(sessions, keyring, channel="phone", detail="07700 900123")
    assert notifier.send_due(sessions, keyring, _mail(settings, port)).sent == 0
    with transaction(sessions) as session:
        assert notifier.calls_waiting(session) == [ref]
    assert inbox.messages == []
    assert notifier.send_due(sessions, keyring, settings).stopped  # email not set up: waits


def test_chorus_serve_runs_the_sender_when_email_is_set_up(
    sessions: sessionmaker[Session], keyring: KeyRing, settings: Settings,  # noqa: F811
    smtp: tuple[Inbox, int],
) -> None:  # fmt: skip
    inbox, port = smtp
    assert "send survivors' notes" not in {w for _i, _f, w in _jobs(sessions, settings, keyring)}
    mail_settings = _mail(settings, port)
    jobs = {what: (i, work) for i, work, what in _jobs(sessions, mail_settings, keyring)}
    interval, work = jobs["send survivors' notes"]
    assert interval == 60
    _case_with_news(sessions, keyring)
    work()
    assert len(inbox.messages) == 1
