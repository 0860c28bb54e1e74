"""Sending: a real SMTP server on 127.0.0.1 receives each notice exactly once, whatever is
retried; a crash between claim and commit never leads to a second send; web form packs and
manual sends are recorded the same way."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from chorus.config import Settings
from chorus.errors import NoticeIncompleteError, SendError, TakedownError
from chorus.evidence import ledger
from chorus.evidence.keys import KeyRing
from chorus.evidence.tags import EventTag
from chorus.security.policy import Actor
from chorus.store.session import transaction
from chorus.takedowns import packs, sending, service
from chorus.takedowns.models import Notice, TakedownTransition
from chorus.takedowns.notices import Choices

from .conftest import Inbox
from .fixtures import CDN, LADDER, SITE, sighting

COMPLETE = Choices(
    non_consent_confirmed=True,
    accuracy_confirmed=True,
    signature="/s/ A. Caseworker, authorised representative",
)


def drafted(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
    by: Actor,
    regime: str = "eu-dsa-art16",
    choices: Choices = COMPLETE,
    recipient=SITE,
) -> str:  # type: ignore[no-untyped-def]
    with transaction(sessions) as session:
        sid = sighting(session, keyring)
        takedown = service.open_takedown(session, sid, by=by, candidates=LADDER)
        notice = service.draft(
            session,
            takedown.public_id,
            by=by,
            regime=regime,
            recipient=recipient,
            notifier=service.notifier_from_settings(settings),
            choices=choices,
        )
    return notice.public_id


def count_events(sessions: sessionmaker[Session], tag: EventTag) -> int:
    with transaction(sessions) as session:
        size, _ = ledger.head(session)
        return sum(1 for e in ledger.entries(session, range(size)) if e.fields["action"] == tag)


def test_an_email_is_received_once_and_retries_send_nothing(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
    smtp: tuple[Inbox, int],
    caseworker: Actor,
) -> None:
    inbox, _port = smtp
    notice_id = drafted(sessions, keyring, settings, caseworker)
    first = sending.send_email(sessions, keyring, settings, notice_id, by=caseworker)
    assert first.sent_now and first.state == "sent"
    again = sending.send_email(sessions, keyring, settings, notice_id, by=caseworker)
    assert not again.sent_now and "already sent" in again.message
    assert len(inbox.messages) == 1
    mail = inbox.messages[0]
    assert inbox.envelopes[0] == ("takedowns@helpline.example", ["abuse@board.example"])
    assert "Article 16" in mail["Subject"]
    assert mail.get_content_type() == "text/plain" and not mail.is_multipart()  # no attachment
    body = mail.get_payload(decode=True).decode()
    assert "https://board.example/b/thread/1" in body
    with transaction(sessions) as session:
        view = service.get(session, service.notice_row(session, notice_id)[0].public_id)
        notice = view.notices[0]
        assert mail["Message-ID"] == notice.message_id
        assert notice.state == "sent" and notice.channel == "email" and notice.due_at
        assert [(h.from_state, h.to_state) for h in view.history if h.subject == notice_id] == [
            (None, "draft"),
            ("draft", "sending"),
            ("sending", "sent"),
        ]
    assert count_events(sessions, EventTag.NOTICE_SENT) == 1


def test_a_crash_between_claim_and_commit_never_sends_twice(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
    smtp: tuple[Inbox, int],
    caseworker: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inbox, _port = smtp
    notice_id = drafted(sessions, keyring, settings, caseworker)

    def crash(*_args: object, **_kwargs: object) -> None:
        raise SystemExit("power cut after the mail server accepted the notice")

    monkeypatch.setattr(sending, "_mark_sent", crash)
    with pytest.raises(SystemExit):
        sending.send_email(sessions, keyring, settings, notice_id, by=caseworker)
    monkeypatch.undo()
    assert len(inbox.messages) == 1
    # The retry (a worker restarting, a caseworker pressing "send" again) sends nothing.
    for _ in range(2):
        with pytest.raises(SendError, match="may already have gone out"):
            sending.send_email(sessions, keyring, settings, notice_id, by=caseworker)
    assert len(inbox.messages) == 1
    with transaction(sessions) as session:
        assert sending.unconfirmed(session, older_than_s=-60) == [notice_id]
    # A person resends on purpose: the same Message-ID, so the recipient can see a duplicate.
    with pytest.raises(TakedownError, match="say why"):
        sending.resend_unconfirmed(sessions, keyring, settings, notice_id, by=caseworker, why=" ")
    done = sending.resend_unconfirmed(
        sessions,
        keyring,
        settings,
        notice_id,
        by=caseworker,
        why="no reply; the host says it never arrived",
    )
    assert done.sent_now and len(inbox.messages) == 2
    assert inbox.messages[0]["Message-ID"] == inbox.messages[1]["Message-ID"]
    assert count_events(sessions, EventTag.NOTICE_SENT) == 1


def test_a_crash_after_the_claim_can_be_confirmed_by_hand(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
    smtp: tuple[Inbox, int],
    caseworker: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inbox, _port = smtp
    notice_id = drafted(sessions, keyring, settings, caseworker)
    monkeypatch.setattr(sending.Mailer, "send", lambda *_a: (_ for _ in ()).throw(SystemExit))
    with pytest.raises(SystemExit):  # killed before the mail went out
        sending.send_email(sessions, keyring, settings, notice_id, by=caseworker)
    monkeypatch.undo()
    with transaction(sessions) as session:
        result = sending.mark_sent(
            session,
            keyring,
            settings,
            notice_id,
            by=caseworker,
            channel="email",
            note="the host confirmed receipt",
        )
    assert result.state == "sent"
    sending.send_email(sessions, keyring, settings, notice_id, by=caseworker)
    assert inbox.messages == []


def test_a_refusal_by_the_mail_server_leaves_a_draft_to_send_later(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
    smtp: tuple[Inbox, int],
    caseworker: Actor,
) -> None:
    inbox, _port = smtp
    notice_id = drafted(sessions, keyring, settings, caseworker)
    inbox.refuse_next = True
    with pytest.raises(SendError, match=r"not sent.*still a draft"):
        sending.send_email(sessions, keyring, settings, notice_id, by=caseworker)
    with transaction(sessions) as session:
        assert service.notice_row(session, notice_id)[1].state == "draft"
    assert sending.send_email(sessions, keyring, settings, notice_id, by=caseworker).sent_now
    assert len(inbox.messages) == 1


def test_an_unreachable_server_sends_nothing_and_changes_nothing(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
    caseworker: Actor,
) -> None:
    notice_id = drafted(sessions, keyring, settings, caseworker)
    closed = settings.model_copy(update={"smtp_port": 9})  # nothing listens there
    with pytest.raises(SendError, match="could not be used"):
        sending.send_email(sessions, keyring, closed, notice_id, by=caseworker)
    with transaction(sessions) as session:
        assert service.notice_row(session, notice_id)[1].state == "draft"


def test_incomplete_notices_are_refused_before_anything_is_claimed(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
    smtp: tuple[Inbox, int],
    caseworker: Actor,
) -> None:
    inbox, _port = smtp
    notice_id = drafted(
        sessions, keyring, settings, caseworker, regime="us-take-it-down", choices=Choices()
    )
    with transaction(sessions) as session:
        before = session.scalar(select(func.count()).select_from(TakedownTransition))
    with pytest.raises(NoticeIncompleteError, match="signature") as caught:
        sending.send_email(sessions, keyring, settings, notice_id, by=caseworker)
    assert "did not consent" in caught.value.message
    with transaction(sessions) as session:
        assert service.notice_row(session, notice_id)[1].state == "draft"
        assert session.scalar(select(func.count()).select_from(TakedownTransition)) == before
        with pytest.raises(NoticeIncompleteError):
            sending.mark_sent(session, keyring, settings, notice_id, by=caseworker)
    assert inbox.messages == []
    # Filling the gaps makes it sendable.
    with transaction(sessions) as session:
        view = service.revise(session, notice_id, by=caseworker, choices=COMPLETE)
        assert view.missing == []
    assert sending.send_email(sessions, keyring, settings, notice_id, by=caseworker).sent_now


def test_web_form_pack_and_manual_send(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
    smtp: tuple[Inbox, int],
    caseworker: Actor,
) -> None:
    inbox, _port = smtp
    notice_id = drafted(sessions, keyring, settings, caseworker, recipient=CDN)
    with pytest.raises(SendError, match=r"no email address.*web form pack"):
        sending.send_email(sessions, keyring, settings, notice_id, by=caseworker)
    with transaction(sessions) as session:
        pack = packs.web_form_pack(session, notice_id)
        text = pack.as_text()
        assert pack.form_url == "https://cdn.example/abuse" and not pack.missing
        fields = dict(pack.fields)
        assert fields["Your email address"] == "takedowns@helpline.example"
        assert "https://board.example/b/thread/1" in fields["URL(s) of the content (one per line)"]
        assert "Authorised representative" in fields["Your relationship to the person shown"]
        assert "Do not upload any image" in text and "[ ] Submit the form" in text
        sending.mark_sent(
            session,
            keyring,
            settings,
            notice_id,
            by=caseworker,
            channel="web_form",
            note="ticket 4471",
        )
        notice = session.scalar(select(Notice).where(Notice.public_id == notice_id))
        assert notice is not None and notice.state == "sent" and notice.channel == "web_form"
        assert notice.sent_note == "ticket 4471"
        with pytest.raises(TakedownError, match="already sent"):
            packs.web_form_pack(session, notice_id)
    assert inbox.messages == []


def test_only_staff_who_may_manage_takedowns_can_act(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
) -> None:
    from chorus.errors import AccessDeniedError
    from chorus.security.policy import Role

    with transaction(sessions) as session, pytest.raises(AccessDeniedError):
        service.open_takedown(session, sighting(session, keyring), by=Actor(Role.PARTNER, "p"))


def test_unsafe_mail_settings_are_refused(settings: Settings) -> None:
    from chorus.errors import ConfigError

    remote = settings.model_copy(update={"smtp_host": "mail.example.net"})
    with pytest.raises(ConfigError, match="unencrypted"):
        remote.require_secrets()
    with pytest.raises(ConfigError, match="unencrypted"):
        sending.Mailer(remote)
    no_password = settings.model_copy(update={"smtp_username": "helpline"})
    with pytest.raises(ConfigError, match="never defaulted"):
        no_password.require_secrets()
    settings.require_secrets()  # a mail server on this machine without TLS is fine
    with pytest.raises(SendError, match="not set up"):
        sending.Mailer(settings.model_copy(update={"smtp_host": ""}))


def test_no_notice_once_the_copy_is_gone(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
    caseworker: Actor,
) -> None:
    from chorus.takedowns import tracking

    from .fixtures import set_gone

    with transaction(sessions) as session:
        sid = sighting(session, keyring)
        takedown = service.open_takedown(session, sid, by=caseworker)
        set_gone(session, keyring, sid)
        tracking.advance(session)
        with pytest.raises(TakedownError, match="checked and is gone"):
            service.draft(
                session,
                takedown.public_id,
                by=caseworker,
                regime="england-wales",
                recipient=SITE,
                notifier=service.notifier_from_settings(settings),
            )
        with pytest.raises(TakedownError, match="already has a takedown"):
            service.open_takedown(session, sid, by=caseworker)
        with pytest.raises(TakedownError, match="No sighting has the id"):
            service.open_takedown(session, "SG-NOPE", by=caseworker)
