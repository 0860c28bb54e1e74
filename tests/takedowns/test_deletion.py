"""A survivor's deletion, once carried out, stops their takedowns and erases what the
notices said; who was asked, when and under which law stays, and the ledger verifies."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chorus.cases import service as cases
from chorus.cases import survivor_choices
from chorus.cases.intake import IntakeAnswers
from chorus.config import Settings
from chorus.evidence import audit
from chorus.evidence.keys import KeyRing
from chorus.security.policy import Actor
from chorus.store.base import utcnow
from chorus.store.session import transaction
from chorus.takedowns import metrics, sending, service, tracking
from chorus.takedowns.models import Notice, TakedownTransition
from chorus.takedowns.notices import Choices, Disclosure

from .conftest import Inbox
from .fixtures import LADDER, SITE, sighting
from .test_sending import COMPLETE


def test_deletion_closes_takedowns_and_erases_notice_text(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
    smtp: tuple[Inbox, int],
    caseworker: Actor,
) -> None:
    inbox, _port = smtp
    named = Choices(
        **{**COMPLETE.__dict__, "disclosure": Disclosure("named", "Sam Example", "cw-3")}
    )
    with transaction(sessions) as session:
        filed = cases.file_report(session, keyring, IntakeAnswers(what_was_shared="photos"))
        ref = filed.case_reference
        sid = sighting(session, keyring, case=ref)
        td = service.open_takedown(session, sid, by=caseworker, candidates=LADDER).public_id
        sent = service.draft(
            session,
            td,
            by=caseworker,
            regime="england-wales",
            recipient=SITE,
            notifier=service.notifier_from_settings(settings),
            choices=named,
        )
        draft = service.draft(
            session,
            td,
            by=caseworker,
            regime="eu-dsa-art16",
            recipient=SITE,
            notifier=service.notifier_from_settings(settings),
            choices=named,
        )
    sending.send_email(sessions, keyring, settings, sent.public_id, by=caseworker)
    assert "Sam Example" in inbox.messages[0].get_payload(decode=True).decode()
    with transaction(sessions) as session:  # a note typed into the history names her too
        sending.mark_sent(
            session, keyring, settings, draft.public_id, by=caseworker,
            channel="manual", note="posted to the site's form for Sam Example",
        )  # fmt: skip
    with transaction(sessions) as session:
        due = survivor_choices.request_deletion(session, ref, grace_s=0)
        assert survivor_choices.carry_out_due(session, keyring, due + timedelta(seconds=1)) == [ref]
        view = service.get(session, td)
        assert view.state == "closed"
        assert [n.state for n in view.notices] == ["withdrawn", "withdrawn"]
        assert all("Sam Example" not in n.body and "deleted" in n.body for n in view.notices)
        assert [n.recipient for n in view.notices] == [SITE, SITE]
        history = session.scalars(select(TakedownTransition.why)).all()
        assert history and not any("Sam Example" in why for why in history)
        assert session.scalars(select(Notice.sent_note)).all() == [None, None]
        assert view.notices[0].sent_at is not None and view.notices[1].public_id == draft.public_id
        # Nothing more happens: no re-notice, no escalation, no re-opening.
        done = tracking.advance(session, utcnow() + timedelta(days=3))
        assert (done.renotices, done.proposals, done.reopened) == ([], [], [])
        assert metrics.compute(session).notified == 0
        assert audit.verify_ledger(session, settings).ok
    assert len(inbox.messages) == 1
