"""The story on a real database: 100 reports in one day become one suggested series; the
50 that share only the board's root or the town stay apart; caseworkers decide."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from chorus.cases import service
from chorus.cases.intake import IntakeAnswers
from chorus.errors import CasesError
from chorus.evidence import ledger
from chorus.evidence.keys import KeyRing
from chorus.evidence.tags import EventTag
from chorus.store.session import transaction

from ..evidence.conftest import keyring, settings  # noqa: F401  (fixtures)
from .scenario import series_reports, unrelated_reports


def test_one_suggested_series_of_100_with_reasons(
    sessions: sessionmaker[Session],
    keyring: KeyRing,  # noqa: F811
) -> None:
    related, unrelated = series_reports(), unrelated_reports()
    filed = []
    for answers in [*related[:50], *unrelated, *related[50:]]:  # interleaved, as they come in
        with transaction(sessions) as session:
            filed.append(
                service.file_report(session, keyring, IntakeAnswers.model_validate(answers))
            )
    related_ids = {f.report_id for f in filed[:50] + filed[100:]}
    unrelated_ids = {f.report_id for f in filed[50:100]}
    assert len({f.case_reference for f in filed}) == 150  # one reference per survivor
    assert all(f.suggested_codes[0][0] == "SOA03-66B1" for f in filed)
    with transaction(sessions) as session:
        groups = service.suggested_series(session)
        assert len(groups) == 1 and set(groups[0]) == related_ids
        assert not unrelated_ids & {r for g in groups for r in g}
        some = sorted(related_ids)[0]
        links = service.links_of(session, some)
        assert links and all(link.reasons for link in links)
        reasons = " ".join(r for link in links for r in link.reasons)
        assert "the same board thread" in reasons
        # a caseworker confirms two links and rejects one; confirmed links form the series
        first, second, third = links[0], *service.links_of(session, sorted(related_ids)[1])[:2]
        service.decide_link(session, first.id, confirm=True, by="caseworker:cw-3")
        service.decide_link(session, second.id, confirm=True, by="caseworker:cw-3")
        service.decide_link(session, third.id, confirm=False, by="caseworker:cw-3")
        confirmed = service.suggested_series(session, states=("confirmed",))
        assert confirmed and all(len(g) >= 2 for g in confirmed)
        series = service.form_series(session, confirmed[0], by="caseworker:cw-3")
        size, _ = ledger.head(session)
        actions = [e.fields["action"] for e in ledger.entries(session, range(size))]
        assert actions.count(EventTag.REPORT_RECEIVED) == 150
        assert actions.count(EventTag.LINK_CONFIRMED) == 2
        assert actions.count(EventTag.LINK_REJECTED) == 1
        assert actions.count(EventTag.SERIES_MEMBER_ADDED) >= 2
        assert series.public_id.startswith("S-")


def test_classification_keeps_every_change_and_refuses_no_crime(
    sessions: sessionmaker[Session],
    keyring: KeyRing,  # noqa: F811
) -> None:
    answers = IntakeAnswers(what_was_shared="photos an ex had", how_obtained="sent_to_someone")
    with transaction(sessions) as session:
        filed = service.file_report(session, keyring, answers)
        with pytest.raises(CasesError, match="however the images were obtained"):
            service.classify(session, filed.report_id, [], by="caseworker:cw-3", reason="x")
        service.classify(session, filed.report_id, ["SOA03-66B1"], by="caseworker:cw-3",
                         reason="Shared without consent")  # fmt: skip
        service.classify(session, filed.report_id, ["SOA03-66B2", "PHA97-2"],
                         by="caseworker:cw-4", reason="Intent to distress; messages")  # fmt: skip
        size, _ = ledger.head(session)
        actions = [e.fields["action"] for e in ledger.entries(session, range(size))]
        assert actions[-2:] == [EventTag.REPORT_CLASSIFIED, EventTag.REPORT_RECLASSIFIED]


def test_no_links_without_consent(sessions: sessionmaker[Session], keyring: KeyRing) -> None:  # noqa: F811
    answers = IntakeAnswers(what_was_shared="x", urls=["https://board.example/b/thread/5"])
    with transaction(sessions) as session:
        service.file_report(session, keyring, answers)
        second = service.file_report(session, keyring, answers, consent_linking=False)
        assert second.new_links == 0
        third = service.file_report(session, keyring, answers)
        assert third.new_links == 1
        with pytest.raises(CasesError, match="No case has that reference"):
            service.file_report(session, keyring, answers, case_reference="CH-NOPE")
