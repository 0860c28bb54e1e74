"""Messages between caseworker and survivor: newest first, unread marked, replies, sealed
with the case's key (deleting the case's data makes them unreadable), ids-only ledger."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chorus.cases import messages, notifications, sealed_text, service, survivor_choices
from chorus.cases.contact import ContactChoices
from chorus.cases.intake import IntakeAnswers
from chorus.cases.models import CaseMessage
from chorus.config import Settings
from chorus.errors import AccessDeniedError, CasesError, EvidenceShreddedError
from chorus.evidence import audit, ledger
from chorus.evidence.keys import KeyRing
from chorus.evidence.tags import EventTag
from chorus.security.policy import Actor, Role
from chorus.store.session import transaction

from ..evidence.conftest import CASEWORKER, INVESTIGATOR, keyring, settings  # noqa: F401

TEXT = "Hello Amy, I am your caseworker. We found two copies and asked the site to remove them."


def test_messages_replies_unread_and_shredding(
    sessions: sessionmaker[Session],
    keyring: KeyRing,  # noqa: F811
    settings: Settings,  # noqa: F811
) -> None:
    with transaction(sessions) as session:
        ref = service.file_report(
            session, keyring, IntakeAnswers(what_was_shared="photos"),
            contact_choices=ContactChoices(channel="phone", detail="07700 900123"),
        ).case_reference  # fmt: skip
        other = service.file_report(session, keyring, IntakeAnswers(what_was_shared="x"))
    with transaction(sessions) as session:
        with pytest.raises(CasesError, match="empty"):
            messages.send_message(session, keyring, CASEWORKER, ref, "   ")
        with pytest.raises(CasesError, match="under 5,000"):
            messages.send_message(session, keyring, CASEWORKER, ref, "x" * 5001)
        with pytest.raises(AccessDeniedError):
            messages.send_message(session, keyring, INVESTIGATOR, ref, TEXT)
        with pytest.raises(AccessDeniedError):
            messages.send_message(session, keyring, Actor(Role.SURVIVOR, ref), other.case_reference,
                                  TEXT)  # fmt: skip
        with pytest.raises(CasesError, match="No case"):
            messages.send_message(session, keyring, CASEWORKER, "CH-NOPE", TEXT)
        assert session.scalars(select(CaseMessage)).all() == []
        first = messages.send_message(session, keyring, CASEWORKER, ref, TEXT)
        second = messages.send_message(session, keyring, CASEWORKER, ref, "<img src=x> Any news?")
        assert messages.unread_count(session, ref) == 2
        assert messages.unread_count(session, other.case_reference) == 0
        row = session.scalar(select(CaseMessage).where(CaseMessage.public_id == first))
        assert row is not None and b"caseworker" not in bytes(row.sealed or b"")
        assert len(notifications.pending(session)) == 1  # one neutral note, not two

    with transaction(sessions) as session:
        seen = messages.for_survivor(session, keyring, ref)
        assert [m.id for m in seen] == [second, first]  # newest first
        assert all(m.unread for m in seen) and not any(m.from_survivor for m in seen)
        assert messages.unread_count(session, ref) == 0  # now read
        assert not any(m.unread for m in messages.for_survivor(session, keyring, ref))
        answer = messages.reply(session, keyring, ref, "Thank you. Please call after 6pm.")
        assert messages.cases_with_unread_replies(session, CASEWORKER) == [(ref, 1)]
        staff = messages.for_staff(session, keyring, CASEWORKER, ref)
        assert staff[0].id == answer and staff[0].from_survivor and staff[0].unread
        assert messages.cases_with_unread_replies(session, CASEWORKER) == []
        data = survivor_choices.export_data(session, keyring, ref)
        assert [m["from"] for m in data["messages"]] == ["you", "us", "us"]
        size, _ = ledger.head(session)
        entries = ledger.entries(session, range(size))
        sent = [e.fields for e in entries if e.fields["action"] == EventTag.MESSAGE_SENT]
        assert len(sent) == 2 and sent[0]["subjects"] == {"case": [ref], "message": [first]}
        assert "Amy" not in str([e.fields for e in entries])
        assert [e.fields["action"] for e in entries].count(EventTag.MESSAGE_RECEIVED) == 1

    with transaction(sessions) as session:  # deletion: the texts can no longer be read
        stored = session.scalar(select(CaseMessage).where(CaseMessage.public_id == first))
        assert stored is not None and stored.sealed
        kept = bytes(stored.sealed)  # as if from a backup taken before the deletion
        due = survivor_choices.request_deletion(session, ref, grace_s=0)
        survivor_choices.carry_out_due(session, keyring, due)
        assert notifications.pending(session) == []  # nothing is sent after deletion
    with transaction(sessions) as session:
        row = session.scalar(select(CaseMessage).where(CaseMessage.public_id == first))
        assert row is not None and row.sealed is None  # the ciphertext is gone too
        with pytest.raises(EvidenceShreddedError):  # and its key: a backup cannot be read
            sealed_text.unseal(session, keyring, ref, f"message:{first}", kept)
        with pytest.raises(CasesError):
            messages.for_survivor(session, keyring, ref)
        assert audit.verify_ledger(session, settings).ok
