"""Withdrawing a drafted notice is an event of the case: it is in the ledger (who, which
notice), as drafting, sending and answers are, so the ledger never shows a draft that
simply stops."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from chorus.config import Settings
from chorus.evidence.keys import KeyRing
from chorus.evidence.tags import EventTag
from chorus.security.policy import Actor
from chorus.store.session import transaction
from chorus.takedowns import service

from .test_sending import count_events, drafted


def test_a_withdrawn_notice_is_in_the_ledger(
    sessions: sessionmaker[Session], keyring: KeyRing, settings: Settings, caseworker: Actor
) -> None:
    notice_id = drafted(sessions, keyring, settings, caseworker)
    with transaction(sessions) as session:
        view = service.withdraw(session, notice_id, by=caseworker, why="sent to the wrong host")
        assert view.state == "withdrawn"
    assert count_events(sessions, EventTag.NOTICE_WITHDRAWN) == 1
