"""What a survivor can do from the portal: change how we keep in touch and what they agree
to, take a copy of their data, and ask for their data to be deleted.

Deletion waits a short cooling-off period (settings: deletion_grace_s) in which the
survivor can change their mind; the fingerprints are withdrawn at once. Carrying it out
crypto-shreds the case (captures, sealed contact details, event details), empties the
reports' answers and artifacts and withdraws every fingerprint. The ledger keeps that it
happened, by opaque ids, so it still verifies.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from chorus.cases import alerts, contact, lifecycle, messages
from chorus.cases.models import (
    Artifact,
    Case,
    CaseMessage,
    CaseNotification,
    CaseStatusChange,
    Classification,
    Link,
    Report,
)
from chorus.cases.service import timeline
from chorus.errors import CasesError
from chorus.evidence import captures, ledger
from chorus.evidence.keys import KeyRing
from chorus.evidence.tags import EventTag
from chorus.matching import bank
from chorus.security import survivor_auth
from chorus.security.policy import Actor, Role
from chorus.store.base import utcnow
from chorus.takedowns import deletion as takedowns

DELETION_REQUESTED, DELETED = "deletion_requested", "deleted"
HOUSEKEEPING = Actor(Role.SYSTEM, "housekeeping")


def case_of(session: Session, reference: str) -> Case:
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None or case.status == DELETED:
        raise CasesError("No case has that reference.")
    return case


def update_choices(
    session: Session, keyring: KeyRing, reference: str, choices: contact.ContactChoices
) -> None:
    """New contact preferences and consents. Withdrawing consent to linking takes back the
    links that were only suggested; links a caseworker already confirmed stay, and are
    for the caseworker to review."""
    case = case_of(session, reference)
    was_linking = case.consent_linking
    contact.apply(session, keyring, case, choices)
    withdrawn = 0
    if was_linking and not case.consent_linking:
        reports = select(Report.id).where(Report.case_id == case.id)
        withdrawn = session.execute(  # type: ignore[attr-defined]
            update(Link)
            .where(Link.state == "suggested")
            .where(or_(Link.report_a.in_(reports), Link.report_b.in_(reports)))
            .values(state="withdrawn", decided_by=f"survivor:{reference}", decided_at=utcnow())
        ).rowcount
    ledger.append(
        session, EventTag.CASE_CHOICES_UPDATED, f"survivor:{reference}", {"case": reference},
        {"channel": case.contact_channel, "consent_linking": case.consent_linking,
         "consent_police_contact": case.consent_police_contact,
         "consent_peer_contact": case.consent_peer_contact, "links_withdrawn": withdrawn},
        scope=captures.case_scope(reference), keyring=keyring,
    )  # fmt: skip


def export_data(session: Session, keyring: KeyRing, reference: str) -> dict[str, Any]:
    """Everything Chorus holds that the survivor gave or that is about their case, in one
    document they can keep (never other survivors' details, never images)."""
    case = case_of(session, reference)
    reports = session.scalars(select(Report).where(Report.case_id == case.id)).all()
    codes = {
        r.public_id: [
            {"codes": c.codes, "recorded_at": c.recorded_at.isoformat(), "reason": c.reason}
            for c in session.scalars(select(Classification).where(Classification.report_id == r.id))
        ]
        for r in reports
    }
    ledger.append(session, EventTag.CASE_DATA_EXPORTED, f"survivor:{reference}",
                  {"case": reference})  # fmt: skip
    return {
        "case_reference": reference,
        "opened": case.created_at.isoformat(),
        "status": case.status,
        "choices": contact.read(session, keyring, case).model_dump(),
        "reports": [
            {
                "report": r.public_id,
                "received": r.received_at.isoformat(),
                "answers": r.answers,
                "classifications": codes[r.public_id],
            }
            for r in reports
        ],
        "photos_protected": bank.count_for_owner(session, reference),
        "messages": [
            {"when": m.when.isoformat(), "from": "you" if m.from_survivor else "us", "text": m.text}
            for m in messages.for_survivor(session, keyring, reference, mark_read=False)
        ],
        "alerts": [
            {"when": a.when.isoformat(), "text": a.text}
            for a in alerts.alerts_for(session, reference)
        ],
        "timeline": [
            {"when": t.when.isoformat(), "text": t.text} for t in timeline(session, reference)
        ],
    }


def request_deletion(session: Session, reference: str, *, grace_s: int) -> datetime:
    """Withdraw the fingerprints now; delete everything else after ``grace_s`` seconds."""
    case = case_of(session, reference)
    actor = f"survivor:{reference}"
    bank.withdraw_owner(session, reference, reason="deletion requested", actor=actor)
    case.status = DELETION_REQUESTED
    case.deletion_due_at = utcnow() + timedelta(seconds=grace_s)
    ledger.append(session, EventTag.CASE_DELETION_REQUESTED, actor, {"case": reference})
    return case.deletion_due_at


def cancel_deletion(session: Session, reference: str) -> None:
    case = case_of(session, reference)
    if case.status != DELETION_REQUESTED:
        raise CasesError("There is no deletion waiting for this case.")
    case.status = lifecycle.status_before_deletion(session, case)  # closed stays closed
    case.deletion_due_at = None
    ledger.append(session, EventTag.CASE_DELETION_CANCELLED, f"survivor:{reference}",
                  {"case": reference})  # fmt: skip


def delete_case_data(session: Session, keyring: KeyRing, reference: str, actor: Actor) -> None:
    """Carry out a deletion: shred, empty, withdraw. The case row keeps only its reference
    and status, so a later sign-in is told plainly that the data was deleted."""
    case = case_of(session, reference)
    bank.withdraw_owner(session, reference, reason="case data deleted", actor=actor.label)
    captures.shred_case(session, keyring, actor, reference)
    report_ids = select(Report.id).where(Report.case_id == case.id)
    session.execute(delete(Artifact).where(Artifact.report_id.in_(report_ids)))
    session.execute(update(Report).where(Report.case_id == case.id).values(answers={}))
    session.execute(  # the reasons of a link name what was reported: they go too
        update(Link)
        .where(or_(Link.report_a.in_(report_ids), Link.report_b.in_(report_ids)))
        .values(state="withdrawn", reasons=[], decided_by=actor.label, decided_at=utcnow())
    )
    # messages and reasons were sealed with the (now destroyed) case key; drop the ciphertext
    session.execute(update(CaseMessage).where(CaseMessage.case_id == case.id).values(sealed=None))
    session.execute(
        update(CaseStatusChange)
        .where(CaseStatusChange.case_id == case.id)
        .values(reason_sealed=None)
    )
    session.execute(  # nothing more is sent to someone whose data is gone
        delete(CaseNotification).where(
            CaseNotification.case_id == case.id, CaseNotification.sent_at.is_(None)
        )
    )
    case.status, case.deletion_due_at = DELETED, None
    case.contact_sealed, case.contact_times, case.contact_channel = None, None, "portal"
    survivor_auth.forget(session, reference)
    takedowns.forget_case(session, reference, by=actor)


def carry_out_due(session: Session, keyring: KeyRing, now: datetime | None = None) -> list[str]:
    """Deletions whose cooling-off period has passed (run by ``chorus serve`` now and then)."""
    now = now or utcnow()
    due = session.scalars(
        select(Case.reference).where(Case.status == DELETION_REQUESTED, Case.deletion_due_at <= now)
    ).all()
    for reference in due:
        delete_case_data(session, keyring, reference, HOUSEKEEPING)
    return list(due)
