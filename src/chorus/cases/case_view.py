"""What a caseworker reads of one case, and which cases are waiting for them.

One case on one page: its status, its named contact now and before, a reopen request the
survivor is waiting on, the messages (reading them marks the survivor's replies read),
every close, transfer and reopening, the reports it holds, how the survivor chose to hear
from us and any neutral note still waiting to reach them. Everything comes from the cases
services, each of which asks the policy; the page only shows what this returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chorus.cases import contact, lifecycle, messages, named_contact, notifier
from chorus.cases.lifecycle import StatusChange
from chorus.cases.messages import MessageView
from chorus.cases.models import Case, CaseStatusChange, Report
from chorus.cases.named_contact import Assignment, NamedContact
from chorus.config import Settings
from chorus.errors import CasesError
from chorus.evidence.keys import KeyRing
from chorus.security.policy import Actor, Permission, require


@dataclass(frozen=True)
class CaseView:
    reference: str
    status: str  # open, closed, transferred, deletion_requested
    created_at: datetime
    risk_level: str
    contact: NamedContact
    contacts: list[Assignment]  # oldest first
    reopen_requested_at: datetime | None
    statuses: list[StatusChange]  # oldest first
    messages: list[MessageView]  # newest first
    reports: list[str]  # report ids, oldest first
    channel: str  # portal, email or phone
    times: str | None  # when the survivor said we may contact them
    phone: str | None  # the number to call, when they chose phone
    notes: list[notifier.WaitingNote]  # neutral notes not yet delivered
    email_on: bool  # whether Chorus sends email notes here (settings)


def _case(session: Session, reference: str) -> Case:
    case = session.scalar(select(Case).where(Case.reference == reference))
    if case is None or case.status == "deleted":
        raise CasesError("No case has that reference. Please check it and try again.")
    return case


def case_view(
    session: Session, settings: Settings, keyring: KeyRing, actor: Actor, reference: str
) -> CaseView:
    """The case for a caseworker; the survivor's replies count as read from now."""
    require(actor, Permission.MANAGE_CASE)
    require(actor, Permission.MESSAGE_SURVIVOR)
    case = _case(session, reference.strip().upper())
    ref = case.reference
    choices = contact.read(session, keyring, case)
    reports = list(session.scalars(
        select(Report.public_id).where(Report.case_id == case.id).order_by(Report.id)
    ))  # fmt: skip
    return CaseView(
        reference=ref,
        status=case.status,
        created_at=case.created_at,
        risk_level=case.risk_level,
        contact=named_contact.current_contact(session, settings, ref),
        contacts=named_contact.contact_history(session, actor, ref),
        reopen_requested_at=lifecycle.pending_reopen_request(session, ref),
        statuses=lifecycle.status_history(session, keyring, actor, ref),
        messages=messages.for_staff(session, keyring, actor, ref),
        reports=reports,
        channel=choices.channel,
        times=choices.times,
        phone=choices.detail if choices.channel == "phone" else None,
        notes=notifier.waiting(session, ref),
        email_on=notifier.email_configured(settings),
    )


@dataclass(frozen=True)
class WaitingCase:
    """A case that needs a caseworker now, and why."""

    reference: str
    reopen_requested_at: datetime | None
    unread_replies: int
    call_waiting: bool  # a neutral note to give by phone (no SMS provider here)


def waiting_cases(session: Session, actor: Actor) -> list[WaitingCase]:
    """Reopen requests first (longest waiting first), then unread replies (most first),
    then survivors waiting for a call."""
    require(actor, Permission.MANAGE_CASE)
    last = (
        select(func.max(CaseStatusChange.id)).group_by(CaseStatusChange.case_id).scalar_subquery()
    )
    reopen = dict(
        session.execute(
            select(Case.reference, CaseStatusChange.at)
            .join(Case, Case.id == CaseStatusChange.case_id)
            .where(CaseStatusChange.id.in_(last), Case.status == lifecycle.CLOSED)
            .where(CaseStatusChange.action == lifecycle.REOPEN_REQUESTED)
        ).all()
    )
    unread = dict(messages.cases_with_unread_replies(session, actor))
    calls = set(notifier.calls_waiting(session))
    refs = set(reopen) | set(unread) | calls
    found = [WaitingCase(r, reopen.get(r), unread.get(r, 0), r in calls) for r in refs]

    def order(w: WaitingCase) -> tuple[int, float, int, str]:
        if w.reopen_requested_at is not None:
            return (0, w.reopen_requested_at.timestamp(), 0, w.reference)
        return (1 if w.unread_replies else 2, 0.0, -w.unread_replies, w.reference)

    return sorted(found, key=order)
