"""On a real database: reports sharing only a person's name get a weak link (kept, with its
reason) but no suggested series, until a caseworker confirms it or a second key appears."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chorus.cases import service
from chorus.cases.intake import IntakeAnswers
from chorus.cases.models import Link
from chorus.evidence.keys import KeyRing
from chorus.store.session import transaction

from ..evidence.conftest import keyring, settings  # noqa: F401  (fixtures)


def test_person_only_links_are_weak_until_confirmed(
    sessions: sessionmaker[Session],
    keyring: KeyRing,  # noqa: F811
) -> None:
    with transaction(sessions) as session:
        first = service.file_report(session, keyring, IntakeAnswers(
            what_was_shared="photos", people_with_access=["Jon Smyth"]))  # fmt: skip
        second = service.file_report(session, keyring, IntakeAnswers(
            what_was_shared="photos", people_with_access=["John Smith"]))  # fmt: skip
        third = service.file_report(session, keyring, IntakeAnswers(
            what_was_shared="photos", people_with_access=["John Smith"],
            handles=["@jsmith_99"]))  # fmt: skip
        fourth = service.file_report(session, keyring, IntakeAnswers(
            what_was_shared="photos", handles=["@JSmith_99"]))  # fmt: skip
        assert first.new_links == 0 and second.new_links == 1
        links = {(link.reasons[0], link.weak) for link in session.scalars(select(Link))}
        assert ("both name a person with access: john smith / jon smyth", True) in links
        groups = service.suggested_series(session)
        assert groups == [[third.report_id, fourth.report_id]]  # the handle links them
        weak = service.links_of(session, first.report_id)
        assert weak and all(link.weak for link in weak)
        service.decide_link(session, weak[0].id, confirm=True, by="caseworker:cw-3")
        confirmed = service.suggested_series(session, states=("confirmed",))
        assert len(confirmed) == 1 and first.report_id in confirmed[0]
