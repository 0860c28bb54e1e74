"""Removal progress for the survivor's portal: counts and dates in plain words, never URLs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from chorus.takedowns import states
from chorus.takedowns.models import Notice, Takedown


@dataclass(frozen=True)
class RemovalProgress:
    asked: int  # copies we have asked someone to remove
    removed: int  # of them, checked and gone
    still_up: int
    first_asked: datetime | None
    last_removed: datetime | None

    @property
    def words(self) -> list[str]:
        if not self.asked:
            return ["We have not needed to ask anyone to remove a copy yet."]
        lines = [
            f"We have asked for {self.asked} {_copies(self.asked)} to be removed"
            + (f", starting on {_day(self.first_asked)}." if self.first_asked else ".")
        ]
        if self.removed:
            lines.append(
                f"{self.removed} {_copies(self.removed)} {_be(self.removed)} now gone: we "
                f"checked, the latest on {_day(self.last_removed)}."
            )
        if self.still_up:
            lines.append(
                f"{self.still_up} {_copies(self.still_up)} {_be(self.still_up)} still online. "
                "We are following up, and will keep going until they are gone."
            )
        return lines


def _copies(n: int) -> str:
    return "copy" if n == 1 else "copies"


def _be(n: int) -> str:
    return "is" if n == 1 else "are"


def _day(when: datetime | None) -> str:
    return f"{when.day} {when:%B %Y}" if when else ""


def removal_progress(session: Session, case_ref: str) -> RemovalProgress:
    """What the survivor sees: how many copies were asked about and removed, and when."""
    rows = list(session.scalars(select(Takedown).where(Takedown.case_ref == case_ref)))
    sent: dict[int, datetime] = {}
    for t_id, at in session.execute(
        select(Notice.takedown_id, Notice.sent_at).where(
            Notice.takedown_id.in_([t.id for t in rows]), Notice.sent_at.is_not(None)
        )
    ).all():
        if at is not None and (t_id not in sent or at < sent[t_id]):
            sent[t_id] = at
    asked = [t for t in rows if t.id in sent]
    removed = [t for t in asked if t.state == states.REMOVED and t.removed_at]
    return RemovalProgress(
        asked=len(asked),
        removed=len(removed),
        still_up=len(asked) - len(removed),
        first_asked=min((sent[t.id] for t in asked), default=None),
        last_removed=max((t.removed_at for t in removed if t.removed_at), default=None),
    )
