"""States of takedowns, notices and escalations, and the one way to change them.

A notice moves draft -> sent -> acknowledged -> removed | refused | no_response ->
escalated. ``sending`` is the claim held while an email is on its way (see sending.py);
``withdrawn`` is a draft the caseworker dropped. Every change is a row in
``takedown_transitions`` (from, to, when, who, why) in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from chorus.errors import TakedownError
from chorus.store.base import utcnow
from chorus.takedowns.models import EscalationProposal, Notice, Takedown, TakedownTransition

# takedowns (closed: the survivor's data was deleted at their request; nothing more is sent)
OPEN, REMOVED, CLOSED = "open", "removed", "closed"
# notices
DRAFT, SENDING, SENT, ACKNOWLEDGED = "draft", "sending", "sent", "acknowledged"
REFUSED, NO_RESPONSE, ESCALATED, WITHDRAWN = "refused", "no_response", "escalated", "withdrawn"
#: Notices that went out and are waiting for the copy to go.
AWAITING = (SENT, ACKNOWLEDGED)
# escalation proposals
PROPOSED, APPROVED, DECLINED = "proposed", "approved", "declined"

_NOTICE_MOVES: dict[str, set[str]] = {
    DRAFT: {SENDING, SENT, WITHDRAWN},
    SENDING: {DRAFT, SENT},
    SENT: {ACKNOWLEDGED, REMOVED, REFUSED, NO_RESPONSE},
    ACKNOWLEDGED: {REMOVED, REFUSED, NO_RESPONSE},
    NO_RESPONSE: {REMOVED, ESCALATED},
    REFUSED: {REMOVED, ESCALATED},
}
#: States a notice may still leave: on deletion of the case's data they are stopped.
LIVE = (DRAFT, SENDING, SENT, ACKNOWLEDGED, NO_RESPONSE, REFUSED)

#: What a state means, in words a caseworker (or a survivor) reads.
PLAIN = {
    DRAFT: "ready to check and send",
    SENDING: "being sent (if this lasts, it may already have gone: check before resending)",
    SENT: "sent, waiting for the copy to be removed",
    ACKNOWLEDGED: "the recipient replied; waiting for the copy to be removed",
    REMOVED: "the copy is gone (checked by Chorus on every address)",
    REFUSED: "the recipient refused",
    NO_RESPONSE: "no removal in time; followed up",
    ESCALATED: "taken further up the chain",
    WITHDRAWN: "not sent (withdrawn)",
}


def move_notice(
    session: Session,
    takedown: Takedown,
    notice: Notice,
    to: str,
    *,
    by: str,
    why: str,
    at: datetime | None = None,
) -> None:
    if to not in _NOTICE_MOVES.get(notice.state, set()):
        raise TakedownError(
            f"Notice {notice.public_id} is {PLAIN.get(notice.state, notice.state)}; it cannot "
            f"become '{to}' from there."
        )
    record(session, takedown, notice.public_id, notice.state, to, by=by, why=why, at=at)
    notice.state = to


def move_proposal(
    session: Session,
    takedown: Takedown,
    proposal: EscalationProposal,
    to: str,
    *,
    by: str,
    why: str,
) -> None:
    if proposal.state != PROPOSED:
        raise TakedownError(f"Escalation {proposal.public_id} was already {proposal.state}.")
    record(session, takedown, proposal.public_id, proposal.state, to, by=by, why=why)
    proposal.state = to


def record(
    session: Session,
    takedown: Takedown,
    subject: str,
    from_state: str | None,
    to: str,
    *,
    by: str,
    why: str,
    at: datetime | None = None,
) -> None:
    session.add(
        TakedownTransition(
            takedown_id=takedown.id,
            subject=subject,
            from_state=from_state,
            to_state=to,
            at=at or utcnow(),
            by=by[:120],
            why=why,
        )
    )
