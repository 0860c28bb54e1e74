"""Tables of the takedowns domain. Other domains use ``chorus.takedowns.service`` only.

A :class:`Takedown` is one copy location (a monitor sighting, by its public id) in one case
(by reference): both are opaque ids, never foreign keys into other domains' tables. Each
:class:`Notice` is one request to one recipient under one legal regime, with the recipient
as it was known when the notice was drafted. Every change of state of a takedown or a
notice is kept in :class:`TakedownTransition` (from, to, when, who, why).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chorus.store.base import Base, BigId, UTCDateTime, utcnow


class Takedown(Base):
    """Getting one copy (one sighting) removed, until the monitor verifies it is gone."""

    __tablename__ = "takedowns"
    __table_args__ = (Index("ix_takedowns_state", "state"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    case_ref: Mapped[str] = mapped_column(String(64), index=True)
    sighting: Mapped[str] = mapped_column(String(40), unique=True)
    #: open (notices in progress), removed (verified by the monitor's re-checks).
    state: Mapped[str] = mapped_column(String(20), default="open")
    #: Everyone who could be asked (discovery's result when the takedown was opened), as
    #: snapshots: the escalation ladder proposes the next of them.
    candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: The takedown this one re-opens (the copy came back at a new location).
    reopened_from: Mapped[str | None] = mapped_column(String(40))
    opened_by: Mapped[str] = mapped_column(String(120))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Notice(Base):
    """One request to one recipient under one regime: rendered text, state, delivery."""

    __tablename__ = "takedown_notices"
    __table_args__ = (Index("ix_takedown_notices_state_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    takedown_id: Mapped[int] = mapped_column(ForeignKey("takedowns.id"), index=True)
    recipient: Mapped[dict[str, Any]] = mapped_column(JSON)  # snapshot, see recipient.py
    regime: Mapped[str] = mapped_column(String(40))
    #: The values the regime's elements were filled with (URLs, notifier, statements...).
    elements: Mapped[dict[str, Any]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    #: draft, sending (claimed for sending), sent, acknowledged, removed, refused,
    #: no_response, escalated, withdrawn.
    state: Mapped[str] = mapped_column(String(20), default="draft")
    #: email, web_form or manual (set when it is sent).
    channel: Mapped[str | None] = mapped_column(String(20))
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    #: The notice this one follows up (a re-notice after no removal); at most one each,
    #: so two workers advancing at once cannot both re-notice.
    renotice_of: Mapped[str | None] = mapped_column(String(40), unique=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When no removal by then means a re-notice (sent_at + takedown_renotice_after_s).
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The recipient's own reference, or how a manual send was done ("web form, ticket 123").
    sent_note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EscalationProposal(Base):
    """The next rung of the ladder, proposed to the caseworker with the reason."""

    __tablename__ = "takedown_escalations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    takedown_id: Mapped[int] = mapped_column(ForeignKey("takedowns.id"), index=True)
    after_notice: Mapped[str] = mapped_column(String(40), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default="proposed")  # approved, declined
    notice: Mapped[str | None] = mapped_column(String(40))  # drafted when approved
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TakedownTransition(Base):
    """Every change of state of a takedown, a notice or an escalation: kept, never edited."""

    __tablename__ = "takedown_transitions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    takedown_id: Mapped[int] = mapped_column(ForeignKey("takedowns.id"), index=True)
    subject: Mapped[str] = mapped_column(String(40))  # the takedown's, notice's or proposal's id
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by: Mapped[str] = mapped_column(String(120))
    why: Mapped[str] = mapped_column(Text)


class TakedownDiscovery(Base):
    """One run of recipient discovery for a takedown's copy: what was found, what failed.

    Kept (not only the latest candidates on the takedown) because the caseworker chooses
    from it across requests, re-running it costs seconds of look-ups, and what was known
    when a recipient was chosen is part of the record."""

    __tablename__ = "takedown_discoveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    takedown_id: Mapped[int] = mapped_column(ForeignKey("takedowns.id"), index=True)
    urls: Mapped[list[str]] = mapped_column(JSON)  # the copy's addresses looked up
    recipients: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # snapshots, recipient.py
    #: Sources that gave nothing: {"host", "source", "reason"} in a caseworker's words.
    failures: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    cdn: Mapped[str | None] = mapped_column(String(120))  # a CDN in front of the site
    ran_by: Mapped[str] = mapped_column(String(120))
    ran_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
