"""`chorus serve` advances takedowns by itself: its periodic job sends a due re-notice."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from chorus.config import Settings
from chorus.evidence.keys import KeyRing
from chorus.security.policy import Actor
from chorus.store.base import utcnow
from chorus.store.session import transaction
from chorus.takedowns import service
from chorus.takedowns.models import Notice
from chorus.web.app import _jobs

from .conftest import Inbox
from .test_tracking import open_and_send


def test_the_serve_job_sends_a_due_renotice(
    sessions: sessionmaker[Session],
    keyring: KeyRing,
    settings: Settings,
    smtp: tuple[Inbox, int],
    caseworker: Actor,
) -> None:
    inbox, _port = smtp
    _sid, td, first = open_and_send(sessions, keyring, settings, caseworker)
    with transaction(sessions) as session:
        session.execute(
            update(Notice)
            .where(Notice.public_id == first)
            .values(due_at=utcnow() - timedelta(minutes=1))
        )
    jobs = {what: (interval, work) for interval, work, what in _jobs(sessions, settings, keyring)}
    interval, work = jobs["advance takedowns"]
    assert interval == settings.takedown_advance_interval_s == 300
    work()
    assert len(inbox.messages) == 2 and inbox.messages[1]["Subject"].startswith("Second request")
    with transaction(sessions) as session:
        assert [n.state for n in service.get(session, td).notices] == ["no_response", "sent"]
    off = settings.model_copy(update={"takedown_advance_interval_s": 0})
    assert "advance takedowns" not in {what for _i, _w, what in _jobs(sessions, off, keyring)}
