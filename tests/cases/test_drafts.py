"""Saved report drafts: readable only with their code, expiring, hostile codes refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from chorus.cases import drafts
from chorus.cases.models import IntakeDraft
from chorus.errors import CasesError
from chorus.store.base import utcnow
from chorus.store.session import transaction

TTL = 3600


def test_a_draft_is_sealed_with_its_code(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        draft = drafts.save(session, None, 2, {"what_was_shared": "Album photos"}, ttl_s=TTL)
    with transaction(sessions) as session:
        stored = session.scalars(select(IntakeDraft)).one()
        assert b"Album" not in bytes(stored.sealed)
        assert draft.code.replace("-", "") not in stored.lookup
        again = drafts.load(session, draft.code.lower().replace("-", " "))
        assert again.values == {"what_was_shared": "Album photos"} and again.step == 2
        drafts.save(session, draft.code, 3, {"what_was_shared": "changed"}, ttl_s=TTL)
        assert session.scalars(select(IntakeDraft)).one().step == 3


@pytest.mark.parametrize("code", ["", "x" * 40, "AAAA-BBBB-CCCC-DDD0", "'; drop table --"])
def test_bad_codes_get_one_calm_answer(sessions: sessionmaker[Session], code: str) -> None:
    with transaction(sessions) as session, pytest.raises(CasesError, match="could not find"):
        drafts.load(session, code)


def test_expired_drafts_are_gone(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        old = drafts.save(session, None, 1, {"a": "1"}, ttl_s=TTL)
        session.execute(update(IntakeDraft).values(expires_at=utcnow() - timedelta(seconds=1)))
    with transaction(sessions) as session, pytest.raises(CasesError):
        drafts.load(session, old.code)
    with transaction(sessions) as session:
        drafts.save(session, None, 1, {"b": "2"}, ttl_s=TTL)  # saving sweeps expired ones
        assert session.scalar(select(IntakeDraft.id).where(IntakeDraft.step == 1)) is not None
        assert len(session.scalars(select(IntakeDraft)).all()) == 1


def test_huge_drafts_are_refused(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session, pytest.raises(CasesError, match="too long"):
        drafts.save(session, None, 1, {"what_was_shared": "x" * 300_000}, ttl_s=TTL)
