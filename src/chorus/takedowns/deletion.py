"""Deletion at the survivor's request, as far as takedowns go (called by cases)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from chorus.security.policy import Actor, Permission, require
from chorus.takedowns import states
from chorus.takedowns.models import EscalationProposal, Notice, Takedown, TakedownTransition

FORGOTTEN = "(The text of this notice was deleted at the survivor's request.)"
#: What the history keeps of a reason or note typed before the deletion (it may hold
#: details of the case): the fact of the step, not its words.
FORGOTTEN_REASON = "(deleted at the survivor's request)"


def forget_case(session: Session, case_ref: str, *, by: Actor) -> int:
    """The survivor's data is being deleted: close the case's takedowns, send nothing more,
    and erase what the notices said (their text and the details they were filled with);
    who was asked, under which law and when is kept, as is the ledger. Returns how many
    takedowns were closed."""
    require(by, Permission.MANAGE_TAKEDOWNS)
    why = "closed: the survivor's data was deleted at their request"
    rows = list(session.scalars(select(Takedown).where(Takedown.case_ref == case_ref)))
    ids = [t.id for t in rows]
    if ids:  # free text typed into the history (notes, reasons) goes with the notices' text
        session.execute(
            update(TakedownTransition)
            .where(TakedownTransition.takedown_id.in_(ids))
            .values(why=FORGOTTEN_REASON)
        )
        session.execute(
            update(EscalationProposal)
            .where(EscalationProposal.takedown_id.in_(ids))
            .values(reason=FORGOTTEN_REASON)
        )
        session.execute(update(Notice).where(Notice.takedown_id.in_(ids)).values(sent_note=None))
    for takedown in rows:
        for notice in session.scalars(select(Notice).where(Notice.takedown_id == takedown.id)):
            if notice.state in states.LIVE:
                states.record(
                    session,
                    takedown,
                    notice.public_id,
                    notice.state,
                    states.WITHDRAWN,
                    by=by.label,
                    why=why,
                )
                notice.state = states.WITHDRAWN
            notice.body, notice.subject = FORGOTTEN, "(deleted)"
            notice.elements = {"forgotten": True}
        for proposal in session.scalars(
            select(EscalationProposal).where(
                EscalationProposal.takedown_id == takedown.id,
                EscalationProposal.state == states.PROPOSED,
            )
        ):
            states.move_proposal(session, takedown, proposal, states.DECLINED, by=by.label, why=why)
        if takedown.state != states.CLOSED:
            states.record(
                session,
                takedown,
                takedown.public_id,
                takedown.state,
                states.CLOSED,
                by=by.label,
                why=why,
            )
            takedown.state = states.CLOSED
    return len(rows)
