"""Closing, transferring and reopening a case, always with a reason and a named contact.

A case is never closed or moved with no one to call: closing names the person who stays
reachable afterwards, a transfer names the new unit's contact. Every change is kept (who,
when, why; the reason sealed with the case's data key) and recorded in the ledger, and the
survivor is told in plain words in the portal (plus a neutral note by email or phone when
that is how they chose to hear from us). A closed case keeps its reference, the portal
keeps working, and the survivor can ask for it to be reopened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from chorus.cases import messages, named_contact, sealed_text
from chorus.cases.models import Case, CaseContact, CaseStatusChange
from chorus.cases.named_contact import NamedContact
from chorus.errors import CasesError, CaseStateError
from chorus.evidence import ledger
from chorus.evidence.keys import KeyRing
from chorus.evidence.tags import EventTag
from chorus.security.policy import Actor, Permission, require

OPEN, CLOSED, TRANSFERRED = "open", "closed", "transferred"
CLOSED_ACTION, TRANSFERRED_ACTION = "closed", "transferred"
REOPEN_REQUESTED, REOPENED = "reopen_requested", "reopened"
MAX_REASON = 2000
_TAGS = {
    CLOSED_ACTION: EventTag.CASE_CLOSED,
    TRANSFERRED_ACTION: EventTag.CASE_TRANSFERRED,
    REOPEN_REQUESTED: EventTag.CASE_REOPEN_REQUESTED,
    REOPENED: EventTag.CASE_REOPENED,
}


def _case(session: Session, reference: str) -> Case:
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None or case.status == "deleted":
        raise CasesError("No case has that reference.")
    if case.status == "deletion_requested":
        raise CaseStateError("The survivor asked for their data to be deleted; the case cannot "
                             "change until that is carried out or they cancel it.")  # fmt: skip
    return case


def _reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise CasesError("Please give the reason. It is kept with the case and the survivor "
                         "is told it in plain words.")  # fmt: skip
    if len(text) > MAX_REASON:
        raise CasesError(f"Please keep the reason under {MAX_REASON:,} characters.")
    return text


def _change(
    session: Session, keyring: KeyRing, case: Case, action: str, status: str, by: str,
    reason: str | None, contact: CaseContact | None, told: str | None,
) -> CaseStatusChange:  # fmt: skip
    row = CaseStatusChange(case_id=case.id, action=action, status=status, by=by,
                           contact_id=contact.id if contact else None)  # fmt: skip
    session.add(row)
    session.flush()
    if reason:
        row.reason_sealed = sealed_text.seal(session, keyring, case.reference,
                                             f"status:{row.id}", reason)  # fmt: skip
    case.status = status
    subjects: dict[str, str] = {"case": case.reference}
    if told:
        subjects["message"] = told
    ledger.append(session, _TAGS[action], by, subjects)
    return row


def close_case(
    session: Session, keyring: KeyRing, actor: Actor, reference: str, *,
    reason: str, contact: NamedContact,
) -> None:  # fmt: skip
    """Close a case, naming who stays reachable afterwards; the survivor is told."""
    require(actor, Permission.MANAGE_CASE)
    case = _case(session, reference)
    if case.status == CLOSED:
        raise CaseStateError("This case is already closed.")
    why = _reason(reason)
    kept = named_contact.record(session, case, contact, actor.label)
    told = messages.tell_survivor(
        session, keyring, case, actor.label,
        f"Your case has been closed. The reason we recorded: {why}\n\nYour case reference "
        f"stays the same and you can still sign in here. If something changes, or you would "
        f"like us to look at it again, you can ask for it to be reopened on the home page, "
        f"or contact {kept.name} from {kept.unit}: {kept.reach}.",
    )  # fmt: skip
    _change(session, keyring, case, CLOSED_ACTION, CLOSED, actor.label, why, kept, told)


def transfer_case(
    session: Session, keyring: KeyRing, actor: Actor, reference: str, *,
    reason: str, to_contact: NamedContact,
) -> None:  # fmt: skip
    """Move a case to another unit, naming that unit's contact; the survivor is told."""
    require(actor, Permission.MANAGE_CASE)
    case = _case(session, reference)
    why = _reason(reason)
    new = to_contact.checked()
    current = session.scalar(
        select(CaseContact.unit)
        .where(CaseContact.case_id == case.id)
        .order_by(CaseContact.id.desc())
    )
    if current is not None and current.strip().casefold() == new.unit.casefold():
        raise CasesError("The case is already with that unit. To change who looks after it "
                         "there, assign a new named contact instead.")  # fmt: skip
    kept = named_contact.record(session, case, new, actor.label)
    told = messages.tell_survivor(
        session, keyring, case, actor.label,
        f"Your case has moved to {kept.unit}. The reason: {why}\n\n{kept.name} is now your "
        f"named contact; you can reach them here: {kept.reach}. Your case reference stays the "
        "same and this page keeps working.",
    )  # fmt: skip
    _change(session, keyring, case, TRANSFERRED_ACTION, TRANSFERRED, actor.label, why, kept, told)


def pending_reopen_request(session: Session, reference: str) -> datetime | None:
    """When the survivor asked for their closed case to be reopened, if they are waiting."""
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None or case.status != CLOSED:
        return None
    last = session.scalar(
        select(CaseStatusChange)
        .where(CaseStatusChange.case_id == case.id)
        .order_by(CaseStatusChange.id.desc())
    )
    return last.at if last is not None and last.action == REOPEN_REQUESTED else None


def request_reopen(session: Session, keyring: KeyRing, reference: str, note: str = "") -> None:
    """The survivor asks for their closed case to be looked at again (from the portal)."""
    case = _case(session, reference)
    if case.status != CLOSED:
        raise CaseStateError("Your case is not closed, so there is nothing to reopen.")
    if pending_reopen_request(session, reference) is not None:
        raise CaseStateError("You have already asked for your case to be reopened. Your "
                             "contact will get back to you.")  # fmt: skip
    note = (note or "").strip()
    if len(note) > messages.MAX_LENGTH:
        raise CasesError(f"Please keep the note under {messages.MAX_LENGTH:,} characters.")
    text = "I would like my case to be reopened." + (f"\n\n{note}" if note else "")
    by = f"survivor:{reference}"
    row = messages.post(session, keyring, case, messages.FROM_SURVIVOR, by, text)
    _change(session, keyring, case, REOPEN_REQUESTED, CLOSED, by, note or None, None,
            row.public_id)  # fmt: skip


def reopen_case(
    session: Session, keyring: KeyRing, actor: Actor, reference: str, *,
    reason: str, contact: NamedContact | None = None,
) -> None:  # fmt: skip
    """Reopen a closed case (optionally with a new named contact); the survivor is told."""
    require(actor, Permission.MANAGE_CASE)
    case = _case(session, reference)
    if case.status != CLOSED:
        raise CaseStateError("Only a closed case can be reopened.")
    why = _reason(reason)
    kept = named_contact.record(session, case, contact, actor.label) if contact else None
    who = f" {kept.name} from {kept.unit} is your named contact: {kept.reach}." if kept else ""
    text = f"Your case has been reopened. The reason: {why}{who}"
    told = messages.tell_survivor(session, keyring, case, actor.label, text)
    _change(session, keyring, case, REOPENED, OPEN, actor.label, why, kept, told)


@dataclass(frozen=True)
class StatusChange:
    action: str
    status: str
    by: str
    when: datetime
    reason: str | None
    contact: NamedContact | None


def status_history(
    session: Session, keyring: KeyRing, actor: Actor, reference: str
) -> list[StatusChange]:
    """Every close, transfer and reopening of the case: who, when, why, oldest first."""
    require(actor, Permission.MANAGE_CASE)
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None or case.status == "deleted":
        raise CasesError("No case has that reference.")
    rows = session.execute(
        select(CaseStatusChange, CaseContact)
        .outerjoin(CaseContact, CaseContact.id == CaseStatusChange.contact_id)
        .where(CaseStatusChange.case_id == case.id)
        .order_by(CaseStatusChange.id)
    ).all()
    out = []
    for row, contact in rows:
        reason = (sealed_text.unseal(session, keyring, reference, f"status:{row.id}",
                                     row.reason_sealed) if row.reason_sealed else None)  # fmt: skip
        who = NamedContact(contact.name, contact.unit, contact.reach) if contact else None
        out.append(StatusChange(row.action, row.status, row.by, row.at, reason, who))
    return out


def status_before_deletion(session: Session, case: Case) -> str:
    """The status a case returns to when a deletion request is cancelled."""
    last = session.scalar(
        select(CaseStatusChange.status)
        .where(CaseStatusChange.case_id == case.id)
        .order_by(CaseStatusChange.id.desc())
    )
    return last or OPEN
