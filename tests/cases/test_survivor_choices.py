"""What a survivor can do from the portal: choices, a copy of their data, fingerprints
back, deletion with a week to change their mind; the ledger still verifies afterwards."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chorus.cases import contact, service, survivor_choices
from chorus.cases.contact import ContactChoices
from chorus.cases.intake import IntakeAnswers
from chorus.cases.models import Case, Link, Report
from chorus.config import Settings
from chorus.errors import CasesError, EvidenceShreddedError, SignInError
from chorus.evidence import audit
from chorus.evidence.keys import KeyRing
from chorus.matching import bank
from chorus.matching.bank import SignalInput
from chorus.security import survivor_auth
from chorus.store.session import transaction

from ..evidence.conftest import keyring, settings  # noqa: F401  (fixtures)

THREAD = "https://board.example/b/thread/48213"


def _file(sessions: sessionmaker[Session], keyring: KeyRing, who: str) -> str:  # noqa: F811
    answers = IntakeAnswers(what_was_shared="photos", urls=[THREAD],
                            people_with_access=[who])  # fmt: skip
    choices = ContactChoices(channel="email", detail=f"{who.split()[0].lower()}@example.org")
    with transaction(sessions) as session:
        filed = service.file_report(session, keyring, answers, contact_choices=choices)
        survivor_auth.set_pin(session, filed.case_reference, "620418")
        bank.register(session, owner_id=filed.case_reference, provenance="survivor_device",
                      signals=SignalInput(pdq=secrets.token_hex(32), quality=90))  # fmt: skip
        return filed.case_reference


def test_choices_export_and_deletion(
    sessions: sessionmaker[Session],
    keyring: KeyRing,  # noqa: F811
    settings: Settings,  # noqa: F811
) -> None:
    amy, ben = _file(sessions, keyring, "Amy Stone"), _file(sessions, keyring, "Ben Hart")
    with transaction(sessions) as session:
        assert session.scalars(select(Link.state)).all() == ["suggested"]  # same thread
        case = survivor_choices.case_of(session, amy)
        assert b"amy@example.org" not in bytes(case.contact_sealed or b"")
        assert contact.read(session, keyring, case).detail == "amy@example.org"
        data = survivor_choices.export_data(session, keyring, amy)
        assert data["reports"][0]["answers"]["people_with_access"] == ["Amy Stone"]
        assert "Ben Hart" not in str(data) and "ben@example.org" not in str(data)
        assert data["choices"]["detail"] == "amy@example.org" and data["photos_protected"] == 1

    with transaction(sessions) as session:  # Amy stops comparing: the suggestion goes
        survivor_choices.update_choices(session, keyring, amy, ContactChoices(
            channel="portal", consent_linking=False))  # fmt: skip
        assert session.scalars(select(Link.state)).all() == ["withdrawn"]
        assert survivor_choices.case_of(session, amy).contact_sealed is None
    with transaction(sessions) as session, pytest.raises(CasesError, match="email address"):
        survivor_choices.update_choices(session, keyring, amy, ContactChoices(channel="email"))

    with transaction(sessions) as session:
        due = survivor_choices.request_deletion(session, amy, grace_s=3600)
        assert bank.count_for_owner(session, amy) == 0  # fingerprints withdrawn at once
        survivor_choices.cancel_deletion(session, amy)
        survivor_choices.request_deletion(session, amy, grace_s=3600)
        assert survivor_choices.carry_out_due(session, keyring) == []  # not yet
        assert survivor_choices.carry_out_due(session, keyring, due + timedelta(seconds=1)) == [amy]
    with transaction(sessions) as session:
        with pytest.raises(CasesError):
            survivor_choices.case_of(session, amy)
        row = session.scalar(select(Case).where(Case.reference == amy))
        assert row is not None and row.status == "deleted" and row.contact_sealed is None
        answers = session.scalars(select(Report.answers).where(Report.case_id == row.id)).all()
        assert answers == [{}]
        with pytest.raises(EvidenceShreddedError):
            keyring.data_key(session, f"case:{amy}", create=False)
        with pytest.raises(SignInError):
            survivor_auth.sign_in(session, amy, "620418")
        assert survivor_choices.case_of(session, ben).status == "open"  # Ben is untouched
        assert bank.count_for_owner(session, ben) == 1
        assert audit.verify_ledger(session, settings).ok
