"""Takedown services: what a caseworker's page (or the CLI) calls.

Open a takedown for a sighting, draft notices, review and revise them, record answers,
approve or decline escalations, list a case's takedowns. Sending is in ``sending``;
what happens by itself over time is in ``tracking``. The monitor and cases are reached
through their service functions only; every change that matters goes to the ledger.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from chorus.errors import SightingReviewError, TakedownError
from chorus.evidence import ledger
from chorus.evidence.tags import EventTag
from chorus.monitor import sightings
from chorus.security.policy import Actor, Permission, require
from chorus.store.base import utcnow
from chorus.takedowns import notices, states
from chorus.takedowns.models import EscalationProposal, Notice, Takedown
from chorus.takedowns.notices import Choices, NoticeInput, Notifier
from chorus.takedowns.recipient import Recipient
from chorus.takedowns.views import (
    NoticeView,
    ProposalView,
    TakedownView,
    copy_urls,
    notice_view,
    view,
)


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(6).upper()}"


# -- lookups ------------------------------------------------------------------------------


def takedown_row(session: Session, takedown_id: str) -> Takedown:
    row = session.scalar(select(Takedown).where(Takedown.public_id == takedown_id))
    if row is None:
        raise TakedownError(f"No takedown has the id {takedown_id}.")
    return row


def notice_row(session: Session, notice_id: str) -> tuple[Takedown, Notice]:
    notice = session.scalar(select(Notice).where(Notice.public_id == notice_id))
    if notice is None:
        raise TakedownError(f"No notice has the id {notice_id}.")
    takedown = session.get(Takedown, notice.takedown_id)
    assert takedown is not None
    return takedown, notice


def get(session: Session, takedown_id: str) -> TakedownView:
    return view(session, takedown_row(session, takedown_id))


def notice(session: Session, notice_id: str) -> NoticeView:
    return notice_view(*notice_row(session, notice_id))


def notice_choices(session: Session, notice_id: str) -> Choices | None:
    """What a notice was filled in with (for its form); None once it was erased."""
    _takedown, row = notice_row(session, notice_id)
    if "forgotten" in row.elements:
        return None
    return notices.choices_from(row.elements)


def for_case(session: Session, case_ref: str) -> list[TakedownView]:
    """Every takedown of a case, oldest first (a caseworker's list)."""
    rows = session.scalars(
        select(Takedown).where(Takedown.case_ref == case_ref).order_by(Takedown.id)
    )
    return [view(session, row) for row in rows]


def listing(session: Session, case_ref: str | None = None) -> list[TakedownView]:
    """Takedowns of one case, or every open one (oldest first)."""
    if case_ref:
        return for_case(session, case_ref)
    rows = session.scalars(
        select(Takedown).where(Takedown.state == states.OPEN).order_by(Takedown.id)
    )
    return [view(session, row) for row in rows]


def for_sighting(session: Session, sighting_id: str) -> Takedown | None:
    return session.scalar(select(Takedown).where(Takedown.sighting == sighting_id))


def record_event(session: Session, tag: EventTag, by: str, takedown: Takedown, **more: str) -> None:
    subjects = {
        "case": takedown.case_ref,
        "takedown": takedown.public_id,
        "sighting": takedown.sighting,
        **more,
    }
    ledger.append(session, tag, by, subjects)


# -- opening and drafting ------------------------------------------------------------------


def open_takedown(
    session: Session,
    sighting_id: str,
    *,
    by: Actor,
    candidates: Sequence[Recipient] = (),
    reopened_from: str | None = None,
    why: str = "opened to get this copy removed",
) -> Takedown:
    """A takedown for one sighting (one copy location); the same sighting is refused twice."""
    require(by, Permission.MANAGE_TAKEDOWNS)
    try:
        info = sightings.for_takedown(session, sighting_id)  # held or rejected: refused
    except SightingReviewError as exc:  # no such sighting
        raise TakedownError(exc.message) from exc
    if session.scalar(select(Takedown.id).where(Takedown.sighting == sighting_id)):
        raise TakedownError(f"Sighting {sighting_id} already has a takedown.")
    takedown = Takedown(
        public_id=new_id("TD"),
        case_ref=info.case,
        sighting=sighting_id,
        state=states.OPEN,
        candidates=[notices.recipient_snapshot(r) for r in candidates],
        reopened_from=reopened_from,
        opened_by=by.label,
    )
    session.add(takedown)
    session.flush()
    states.record(session, takedown, takedown.public_id, None, states.OPEN, by=by.label, why=why)
    record_event(session, EventTag.TAKEDOWN_OPENED, by.label, takedown)
    return takedown


def notifier_from_settings(settings: object) -> Notifier:
    return Notifier(
        name=str(getattr(settings, "takedown_notifier_name", "")),
        email=str(getattr(settings, "takedown_notifier_email", "")),
        address=str(getattr(settings, "takedown_notifier_address", "")),
        phone=str(getattr(settings, "takedown_notifier_phone", "")),
    )


def _message_id(public_id: str, notifier_email: str) -> str:
    domain = notifier_email.rpartition("@")[2] or "chorus.invalid"
    return f"<{public_id.lower()}.{secrets.token_hex(8)}@{domain}>"


def draft(
    session: Session,
    takedown_id: str,
    *,
    by: Actor,
    regime: str,
    recipient: Recipient,
    notifier: Notifier,
    choices: Choices | None = None,
    renotice_of: Notice | None = None,
) -> NoticeView:
    """A notice to ``recipient`` under ``regime`` for the takedown's copy, as a draft.

    Bad input (a regime that does not apply, a malformed address, hashes for a recipient
    that does not take them) is refused and nothing is stored. Missing elements are not an
    error yet: the draft lists them and cannot be sent until they are filled.
    """
    require(by, Permission.MANAGE_TAKEDOWNS)
    takedown = takedown_row(session, takedown_id)
    if takedown.state == states.REMOVED:
        raise TakedownError(
            f"The copy of takedown {takedown_id} was checked and is gone; no notice is needed."
        )
    info = sightings.find(session, takedown.sighting)
    if info is None:
        raise TakedownError(f"The sighting of takedown {takedown_id} no longer exists.")
    given = NoticeInput(regime, recipient, tuple(copy_urls(info)), notifier, choices or Choices())
    elements = notices.elements_of(given)
    public_id = new_id("N")
    subject, body = notices.render(regime, takedown.public_id, recipient.name, elements)
    if renotice_of is not None:
        subject, body = _follow_up(renotice_of, subject, body)
    notice = Notice(
        public_id=public_id,
        takedown_id=takedown.id,
        recipient=notices.recipient_snapshot(recipient),
        regime=regime,
        elements=elements,
        subject=subject,
        body=body,
        state=states.DRAFT,
        idempotency_key=f"{public_id}:{secrets.token_hex(8)}",
        message_id=_message_id(public_id, elements["notifier_email"]),
        renotice_of=renotice_of.public_id if renotice_of else None,
        created_by=by.label,
    )
    session.add(notice)
    session.flush()
    why = f"re-notice of {renotice_of.public_id}" if renotice_of else "drafted"
    states.record(session, takedown, public_id, None, states.DRAFT, by=by.label, why=why)
    record_event(session, EventTag.NOTICE_DRAFTED, by.label, takedown, notice=public_id)
    return notice_view(takedown, notice)


def _follow_up(earlier: Notice, subject: str, body: str) -> tuple[str, str]:
    when = earlier.sent_at.strftime("%d %B %Y at %H:%M UTC") if earlier.sent_at else "earlier"
    intro = (
        f"We sent you this notice on {when} (Message-ID {earlier.message_id}). The content "
        "is still online at the addresses below. Please act on it now.\n\n"
    )
    return f"Second request: {subject}"[:300], intro + body


def revise(
    session: Session,
    notice_id: str,
    *,
    by: Actor,
    choices: Choices,
    recipient: Recipient | None = None,
) -> NoticeView:
    """Change a draft's choices (or its recipient's details) and render it again."""
    require(by, Permission.MANAGE_TAKEDOWNS)
    takedown, notice = notice_row(session, notice_id)
    if notice.state != states.DRAFT:
        raise TakedownError(f"Notice {notice_id} was already {notice.state}; only drafts change.")
    recipient = recipient or notices.recipient_from(notice.recipient)
    given = NoticeInput(
        notice.regime,
        recipient,
        tuple(notice.elements["content_urls"]),
        notices.notifier_from(notice.elements),
        choices,
    )
    elements = notices.elements_of(given)
    notice.subject, notice.body = notices.render(
        notice.regime, takedown.public_id, recipient.name, elements
    )
    notice.elements, notice.recipient = elements, notices.recipient_snapshot(recipient)
    states.record(
        session, takedown, notice.public_id, states.DRAFT, states.DRAFT, by=by.label, why="revised"
    )
    return notice_view(takedown, notice)


def withdraw(session: Session, notice_id: str, *, by: Actor, why: str) -> NoticeView:
    require(by, Permission.MANAGE_TAKEDOWNS)
    takedown, notice = notice_row(session, notice_id)
    states.move_notice(
        session, takedown, notice, states.WITHDRAWN, by=by.label, why=reason_given(why)
    )
    record_event(session, EventTag.NOTICE_WITHDRAWN, by.label, takedown, notice=notice.public_id)
    return notice_view(takedown, notice)


def reason_given(why: str) -> str:
    why = why.strip()
    if not why:
        raise TakedownError("Please say why; it is kept with the takedown's history.")
    return why[:2000]


# -- answers from recipients ---------------------------------------------------------------


def record_answer(
    session: Session, notice_id: str, outcome: str, *, by: Actor, note: str
) -> NoticeView:
    """The recipient replied: ``acknowledged`` or ``refused``. Removal is never taken from
    a reply: only the monitor's re-checks of every URL make a copy "removed"."""
    require(by, Permission.MANAGE_TAKEDOWNS)
    tags = {
        states.ACKNOWLEDGED: EventTag.NOTICE_ACKNOWLEDGED,
        states.REFUSED: EventTag.NOTICE_REFUSED,
    }
    if outcome not in tags:
        raise TakedownError(
            "A reply is recorded as 'acknowledged' or 'refused'. Removal is confirmed by "
            "Chorus checking the addresses, not by the recipient's word."
        )
    takedown, notice = notice_row(session, notice_id)
    states.move_notice(session, takedown, notice, outcome, by=by.label, why=reason_given(note))
    record_event(session, tags[outcome], by.label, takedown, notice=notice.public_id)
    return notice_view(takedown, notice)


# -- escalation decisions ------------------------------------------------------------------


def decide_escalation(
    session: Session,
    proposal_id: str,
    *,
    approve: bool,
    by: Actor,
    why: str,
    recipient: Recipient | None = None,
) -> ProposalView:
    """Approve (a draft notice to the proposed recipient is made) or decline, with a reason.

    ``recipient`` fills in or corrects whom to write to (e.g. the regulator's route when
    none was known)."""
    require(by, Permission.MANAGE_TAKEDOWNS)
    proposal = session.scalar(
        select(EscalationProposal).where(EscalationProposal.public_id == proposal_id)
    )
    if proposal is None:
        raise TakedownError(f"No escalation has the id {proposal_id}.")
    takedown = session.get(Takedown, proposal.takedown_id)
    assert takedown is not None
    why = reason_given(why)
    proposal.decided_by, proposal.decided_at = by.label, utcnow()
    if not approve:
        states.move_proposal(session, takedown, proposal, states.DECLINED, by=by.label, why=why)
        record_event(
            session, EventTag.ESCALATION_DECLINED, by.label, takedown, escalation=proposal.public_id
        )
        return _proposal_view(proposal)
    chosen = recipient or (
        notices.recipient_from(proposal.recipient) if proposal.recipient else None
    )
    if chosen is None or not chosen.reachable:
        raise TakedownError(
            f"No way to reach a {proposal.role} is known yet: add their email address or web "
            "form to approve this step."
        )
    _, earlier = notice_row(session, proposal.after_notice)
    states.move_proposal(session, takedown, proposal, states.APPROVED, by=by.label, why=why)
    if earlier.state in (states.NO_RESPONSE, states.REFUSED):
        states.move_notice(
            session,
            takedown,
            earlier,
            states.ESCALATED,
            by=by.label,
            why=f"escalated: {proposal.public_id}",
        )
    made = draft(
        session,
        takedown.public_id,
        by=by,
        regime=earlier.regime,
        recipient=chosen,
        notifier=notices.notifier_from(earlier.elements),
        choices=notices.choices_from(earlier.elements),
    )
    proposal.notice = made.public_id
    record_event(
        session,
        EventTag.ESCALATION_APPROVED,
        by.label,
        takedown,
        escalation=proposal.public_id,
        notice=made.public_id,
    )
    return _proposal_view(proposal)


def _proposal_view(p: EscalationProposal) -> ProposalView:
    recipient = notices.recipient_from(p.recipient) if p.recipient else None
    return ProposalView(p.public_id, p.role, recipient, p.reason, p.state, p.notice)
