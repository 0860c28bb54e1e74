"""Common connections in a series: only people on at least k consenting survivors' lists,
with how many lists; never a whole list, never who named whom; every view is logged."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chorus.cases import connections, service
from chorus.cases.contact import ContactChoices
from chorus.cases.intake import IntakeAnswers
from chorus.cases.models import Report
from chorus.config import Settings
from chorus.errors import AccessDeniedError, CasesError
from chorus.evidence import ledger
from chorus.evidence.keys import KeyRing
from chorus.evidence.tags import EventTag
from chorus.store.session import transaction

from ..evidence.conftest import CASEWORKER, INVESTIGATOR, keyring, settings  # noqa: F401

THREAD = "https://board.example/b/thread/48213"
LISTS = [
    (["Jon Smyth", "Amy Stone", "@dave_k", "Priya Patel"], True),
    (["John Smith", "Beth Cole", "instagram.com/Dave_K"], True),
    (["jon smith", "Carl Wu", "Beth Cole"], True),
    (["Jonathan Smyth", "Dana Fox", "Amy Stone", "Beth Cole"], False),  # did not consent
    (["Eve Long"], True),
]


def _series(sessions: sessionmaker[Session], keyring: KeyRing) -> str:  # noqa: F811
    with transaction(sessions) as session:
        for people, consent in LISTS:
            answers = IntakeAnswers(what_was_shared="photos", urls=[THREAD],
                                    people_with_access=people)  # fmt: skip
            choices = ContactChoices(consent_linking=consent)
            service.file_report(session, keyring, answers, consent_linking=consent,
                                contact_choices=choices)  # fmt: skip
        members = [r for g in service.suggested_series(session) for r in g]
        # a caseworker forms the series from all five reports (one did not consent to
        # linking: its report is a member, but its list is never compared)
        every = list(session.scalars(select(Report.public_id).order_by(Report.id)))
        assert set(members) < set(every)
        return service.form_series(session, every, by="caseworker:cw-3").public_id


def test_only_entries_on_k_lists_with_counts(
    sessions: sessionmaker[Session],
    keyring: KeyRing,  # noqa: F811
    settings: Settings,  # noqa: F811
) -> None:
    series = _series(sessions, keyring)
    with transaction(sessions) as session:
        found = connections.common_connections(session, settings, INVESTIGATOR, series)
        as_dict = {c.shown: c.lists for c in found}
        # Jon Smyth / John Smith / jon smith: one person on three consenting lists
        assert max(n for s, n in as_dict.items() if "smith" in s or "smyth" in s) == 3
        assert as_dict.get("beth cole") == 2  # the non-consenting fourth list is not counted
        assert as_dict.get("@dave_k") == 2  # a handle and a profile address
        shown = " ".join(as_dict)
        for alone in ("amy stone", "priya", "carl", "dana", "eve"):  # on one list only
            assert alone not in shown
        assert len(found) == 3
        strict = settings.model_copy(update={"connections_min_lists": 3})
        assert [c.lists for c in connections.common_connections(
            session, strict, INVESTIGATOR, series)] == [3]  # fmt: skip
        with pytest.raises(AccessDeniedError):
            connections.common_connections(session, settings, CASEWORKER, series)
        with pytest.raises(CasesError, match="No series"):
            connections.common_connections(session, settings, INVESTIGATOR, "S-NOPE")
        size, _ = ledger.head(session)
        viewed = [e.fields for e in ledger.entries(session, range(size))
                  if e.fields["action"] == EventTag.SERIES_CONNECTIONS_VIEWED]  # fmt: skip
        assert len(viewed) == 2 and viewed[0]["actor"] == "investigator:officer-7"
        assert viewed[0]["subjects"]["series"] == [series]
        assert len(viewed[0]["subjects"]["case"]) == 4  # the consenting cases compared


def test_counting_is_by_survivor_not_by_mention() -> None:
    same_list = {1: ["Jon Smyth", "John Smith", "jon smith"], 2: ["Ann Lee"]}
    assert connections.count(same_list, 2) == []  # one survivor naming him thrice is one list
    lists = {1: ["@Dave_K"], 2: ["https://www.instagram.com/dave_k/"], 3: ["Dave K"]}
    assert [(c.shown, c.lists) for c in connections.count(lists, 2)] == [("@dave_k", 2)]
