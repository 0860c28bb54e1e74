"""Staff casework services: the queue's order, link decisions, series made and grown from
confirmed links, and assignment to a named investigator; refusals change nothing."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chorus.cases import series_view, series_work, service, worklist
from chorus.cases.intake import IntakeAnswers
from chorus.cases.models import Case, Link, Report, Series, SeriesMember
from chorus.config import Settings
from chorus.errors import AccessDeniedError, CasesError
from chorus.evidence.keys import KeyRing
from chorus.security import staff_auth
from chorus.security.policy import Actor, Role
from chorus.store.session import transaction

CASEWORKER = Actor(Role.CASEWORKER, "a.khan")
THREAD = "https://board.example/b/thread/777"


@pytest.fixture
def keyring(database_url: str, tmp_path: Path) -> KeyRing:
    key = base64.b64encode(b"k" * 32).decode()
    return KeyRing(Settings(env="test", secret_key="t" * 40, database_url=database_url,
                            data_dir=tmp_path, evidence_signing_key=key,  # type: ignore[arg-type]
                            evidence_master_key=key))  # type: ignore[arg-type]  # fmt: skip


def file(session: Session, keyring: KeyRing, n: int) -> list[str]:
    answers = IntakeAnswers(what_was_shared="Photos", urls=[THREAD])
    return [service.file_report(session, keyring, answers).report_id for _ in range(n)]


def link_between(session: Session, a: str, b: str) -> int:
    pks = dict(session.execute(select(Report.public_id, Report.id)).all())
    lo, hi = sorted((pks[a], pks[b]))
    link = session.scalar(select(Link.id).where(Link.report_a == lo, Link.report_b == hi))
    assert link is not None
    return link


def test_queue_puts_highest_risk_first_then_oldest(
    sessions: sessionmaker[Session], keyring: KeyRing
) -> None:
    with transaction(sessions) as session:
        first, second, third = file(session, keyring, 3)
        case = session.scalar(select(Case).join(Report).where(Report.public_id == third))
        assert case is not None
        case.risk_level = "high"
        order = [i.report_id for i in worklist.queue(session, CASEWORKER)]
        assert order == [third, first, second]
        assert worklist.queue(session, CASEWORKER)[1].suggested_links >= 1
        with pytest.raises(AccessDeniedError):
            worklist.queue(session, Actor(Role.ADMIN, "r.admin"))


def test_series_are_made_from_confirmed_links_and_grow_with_them(
    sessions: sessionmaker[Session], keyring: KeyRing
) -> None:
    with transaction(sessions) as session:
        a, b, c = file(session, keyring, 3)
        with pytest.raises(CasesError, match="Confirm at least one link"):
            series_work.make_series(session, CASEWORKER, a)
        assert session.scalar(select(Series.id)) is None
        worklist.decide_link(session, CASEWORKER, link_between(session, a, b), confirm=True)
        with pytest.raises(CasesError, match="already confirmed"):
            worklist.decide_link(session, CASEWORKER, link_between(session, a, b), confirm=False)
        series_id = series_work.make_series(session, CASEWORKER, b)
        assert series_work.make_series(session, CASEWORKER, a) == series_id  # not a second one
        assert session.query(SeriesMember).count() == 2
        grown = worklist.decide_link(session, CASEWORKER, link_between(session, a, c),
                                     confirm=True)  # fmt: skip
        assert grown == series_id
        view = series_view.series_view(session, CASEWORKER, series_id)
        assert sorted(m.report_id for m in view.members) == sorted([a, b, c])
        assert all(m.artifacts == [("url", THREAD)] for m in view.members)
        assert {e.state for e in view.edges} >= {"confirmed"}


def test_assignment_goes_to_one_active_investigator_with_a_reason(
    sessions: sessionmaker[Session], keyring: KeyRing
) -> None:
    with transaction(sessions) as session:
        a, b = file(session, keyring, 2)
        worklist.decide_link(session, CASEWORKER, link_between(session, a, b), confirm=True)
        series_id = series_work.make_series(session, CASEWORKER, a)
        for username, role in (("d.osei", "investigator"), ("m.rossi", "caseworker")):
            staff_auth.add_staff(session, keyring, username, role=role, display_name=username,
                                 unit="Online Harms", password="a long passphrase")  # fmt: skip
        for officer, reason, message in (("m.rossi", "lead", "not an active investigator"),
                                         ("nobody", "lead", "no staff account"),
                                         ("d.osei", " ", "Say why")):  # fmt: skip
            with pytest.raises(CasesError, match=message):
                series_work.assign(session, keyring, CASEWORKER, series_id, officer, reason)
        series = session.scalar(select(Series))
        assert series is not None and series.officer is None
        series_work.assign(session, keyring, CASEWORKER, series_id, "d.osei", "Online harms lead")
        assert (series.unit, series.officer) == ("Online Harms", "d.osei")
        with pytest.raises(AccessDeniedError):
            series_work.assign(session, keyring, Actor(Role.INVESTIGATOR, "d.osei"), series_id,
                               "d.osei", "me")  # fmt: skip
