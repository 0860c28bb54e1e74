"""A case always has a named contact; closing and transferring need a reason and a contact
who stays reachable; every change is kept and in the ledger; the survivor is told."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chorus.cases import (
    lifecycle,
    messages,
    named_contact,
    notifications,
    service,
    survivor_choices,
)
from chorus.cases.contact import ContactChoices
from chorus.cases.intake import IntakeAnswers
from chorus.cases.models import Case, CaseContact, CaseNotification, CaseStatusChange
from chorus.cases.named_contact import NamedContact
from chorus.config import Settings
from chorus.errors import AccessDeniedError, CasesError, CaseStateError, ConfigError
from chorus.evidence import audit, ledger
from chorus.evidence.keys import KeyRing
from chorus.evidence.tags import EventTag
from chorus.store.session import transaction

from ..evidence.conftest import CASEWORKER, INVESTIGATOR, keyring, settings  # noqa: F401

SAM = NamedContact("Sam Okoro", "Example Helpline", "0300 123 4567, weekdays 9am to 5pm")
PRIYA = NamedContact("DC Priya Shah", "Exampleshire Police, Online Harms Unit",
                     "101, ask for the Online Harms Unit (any time)")  # fmt: skip


def _file(sessions: sessionmaker[Session], keyring: KeyRing, channel: str = "email") -> str:  # noqa: F811
    choices = ContactChoices(channel=channel, detail="amy@example.org") if channel != "portal" \
        else ContactChoices()  # fmt: skip
    with transaction(sessions) as session:
        answers = IntakeAnswers(what_was_shared="photos from an old album")
        return service.file_report(
            session, keyring, answers, contact_choices=choices
        ).case_reference


def _actions(session: Session) -> list[str]:
    size, _ = ledger.head(session)
    return [e.fields["action"] for e in ledger.entries(session, range(size))]


def test_the_duty_contact_from_the_first_moment_then_a_named_one(
    sessions: sessionmaker[Session],
    keyring: KeyRing,  # noqa: F811
    settings: Settings,  # noqa: F811
) -> None:
    ref = _file(sessions, keyring)
    duty = settings.model_copy(
        update={
            "duty_contact_name": "The duty caseworker",
            "duty_contact_unit": "Example Helpline",
            "duty_contact_reach": "0300 123 4567, 9am to 5pm",
        }
    )
    with transaction(sessions) as session:
        now = named_contact.current_contact(session, duty, ref)
        assert now.is_duty_contact and now.unit == "Example Helpline"
        assert named_contact.current_contact(session, settings, ref).is_duty_contact  # placeholder
        with pytest.raises(AccessDeniedError):
            named_contact.assign_contact(session, keyring, INVESTIGATOR, ref, SAM)
        with pytest.raises(CasesError, match="the reach is missing"):
            named_contact.assign_contact(session, keyring, CASEWORKER, ref,
                                         NamedContact("Sam", "Helpline", "  "))  # fmt: skip
        assert session.scalars(select(CaseContact)).all() == []  # refused: nothing changed
        named_contact.assign_contact(session, keyring, CASEWORKER, ref, SAM)
        assert named_contact.current_contact(session, duty, ref) == SAM
        history = named_contact.contact_history(session, CASEWORKER, ref)
        assert [(h.contact.name, h.by) for h in history] == [("Sam Okoro", "caseworker:cw-3")]
        told = messages.for_survivor(session, keyring, ref)
        assert "Sam Okoro from Example Helpline is now your named contact" in told[0].text
        assert EventTag.CASE_CONTACT_ASSIGNED in _actions(session)
        texts = [t.text for t in service.timeline(session, ref)]
        assert "Sam Okoro from Example Helpline became your named contact." in texts


def test_production_needs_a_duty_contact() -> None:
    key = base64.b64encode(b"k" * 32).decode()
    base = {"env": "production", "secret_key": "s" * 40, "evidence_signing_key": key,
            "evidence_master_key": key}  # fmt: skip
    with pytest.raises(ConfigError, match="CHORUS_DUTY_CONTACT_NAME"):
        Settings(**base).require_secrets()  # type: ignore[arg-type]
    Settings(**base, duty_contact_name="The duty caseworker", duty_contact_unit="Helpline",
             duty_contact_reach="0300 123 4567").require_secrets()  # type: ignore[arg-type]  # fmt: skip


def test_close_transfer_reopen_keep_every_change_and_tell_the_survivor(
    sessions: sessionmaker[Session],
    keyring: KeyRing,  # noqa: F811
    settings: Settings,  # noqa: F811
) -> None:
    ref = _file(sessions, keyring)
    with transaction(sessions) as session:
        with pytest.raises(CasesError, match="give the reason"):
            lifecycle.close_case(session, keyring, CASEWORKER, ref, reason=" ", contact=SAM)
        with pytest.raises(CasesError, match="a person's name"):
            lifecycle.close_case(session, keyring, CASEWORKER, ref, reason="Done",
                                 contact=NamedContact("", "Helpline", "0300"))  # fmt: skip
        with pytest.raises(AccessDeniedError):
            lifecycle.close_case(session, keyring, INVESTIGATOR, ref, reason="x", contact=SAM)
        with pytest.raises(CaseStateError, match="not closed"):
            lifecycle.request_reopen(session, keyring, ref)
        case = session.scalar(select(Case).where(Case.reference == ref))
        assert case is not None and case.status == "open"
        assert session.scalars(select(CaseStatusChange)).all() == []
        assert session.scalars(select(CaseNotification)).all() == []

    with transaction(sessions) as session:
        lifecycle.transfer_case(session, keyring, CASEWORKER, ref,
                                reason="The police unit for your area is investigating.",
                                to_contact=PRIYA)  # fmt: skip
        with pytest.raises(CasesError, match="already with that unit"):
            lifecycle.transfer_case(session, keyring, CASEWORKER, ref, reason="again",
                                    to_contact=PRIYA)  # fmt: skip
        assert named_contact.current_contact(session, settings, ref) == PRIYA
        lifecycle.close_case(session, keyring, CASEWORKER, ref,
                             reason="The posts were removed and no one could be identified.",
                             contact=SAM)  # fmt: skip
        with pytest.raises(CaseStateError, match="already closed"):
            lifecycle.close_case(session, keyring, CASEWORKER, ref, reason="x", contact=SAM)
        # one neutral note waiting, whatever happened and however often
        queued = notifications.pending(session)
        assert [(n.case_reference, n.channel) for n in queued] == [(ref, "email")]
        assert queued[0].text == notifications.NEUTRAL_TEXT
        assert "case" not in queued[0].text.lower() and "amy" not in queued[0].text.lower()

    with transaction(sessions) as session:
        told = messages.for_survivor(session, keyring, ref)
        assert told[0].text.startswith("Your case has been closed. The reason we recorded: "
                                       "The posts were removed")  # fmt: skip
        assert "Sam Okoro from Example Helpline: 0300 123 4567" in told[0].text
        assert "moved to Exampleshire Police, Online Harms Unit" in told[1].text
        lifecycle.request_reopen(session, keyring, ref, "They posted them again last night.")
        with pytest.raises(CaseStateError, match="already asked"):
            lifecycle.request_reopen(session, keyring, ref)
        assert lifecycle.pending_reopen_request(session, ref) is not None
        staff = messages.for_staff(session, keyring, CASEWORKER, ref)
        assert staff[0].from_survivor and "posted them again" in staff[0].text
        lifecycle.reopen_case(session, keyring, CASEWORKER, ref, reason="New posts found.",
                              contact=SAM)  # fmt: skip
        assert lifecycle.pending_reopen_request(session, ref) is None
        history = lifecycle.status_history(session, keyring, CASEWORKER, ref)
        assert [(h.action, h.status) for h in history] == [
            ("transferred", "transferred"), ("closed", "closed"),
            ("reopen_requested", "closed"), ("reopened", "open")]  # fmt: skip
        assert history[1].reason == "The posts were removed and no one could be identified."
        assert history[1].by == "caseworker:cw-3" and history[1].contact == SAM
        assert history[0].contact == PRIYA
        actions = _actions(session)
        for tag in (EventTag.CASE_TRANSFERRED, EventTag.CASE_CLOSED,
                    EventTag.CASE_REOPEN_REQUESTED, EventTag.CASE_REOPENED):  # fmt: skip
            assert actions.count(tag) == 1
        texts = [t.text for t in service.timeline(session, ref)]
        assert texts[-1] == "Your case was reopened."
        assert "Your case moved to Exampleshire Police, Online Harms Unit, who now look " \
            "after it." in texts  # fmt: skip
        assert "Your case was closed. You can still sign in here and ask for it to be " \
            "reopened." in texts  # fmt: skip
        assert audit.verify_ledger(session, settings).ok


def test_portal_only_survivors_get_no_note_and_cancelled_deletion_keeps_closed(
    sessions: sessionmaker[Session],
    keyring: KeyRing,  # noqa: F811
) -> None:
    ref = _file(sessions, keyring, channel="portal")
    with transaction(sessions) as session:
        lifecycle.close_case(session, keyring, CASEWORKER, ref, reason="Resolved", contact=SAM)
        assert notifications.pending(session) == []
        survivor_choices.request_deletion(session, ref, grace_s=3600)
        with pytest.raises(CaseStateError, match="deleted"):
            lifecycle.reopen_case(session, keyring, CASEWORKER, ref, reason="x")
        survivor_choices.cancel_deletion(session, ref)
        assert survivor_choices.case_of(session, ref).status == "closed"
