"""Tables of the cases domain. Other domains use ``chorus.cases`` services only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from chorus.store.base import Base, BigId, UTCDateTime, utcnow


class Case(Base):
    """One survivor's case: the reference they hold, their contact and consent choices."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="open")
    consent_linking: Mapped[bool] = mapped_column(default=True)
    consent_police_contact: Mapped[bool] = mapped_column(default=False)
    consent_peer_contact: Mapped[bool] = mapped_column(default=False)
    #: standard, raised (the survivor's town was seen beside a copy) or high (their name,
    #: handle, school or workplace): caseworkers see it first.
    risk_level: Mapped[str] = mapped_column(String(20), default="standard")
    #: How the survivor wants to hear from us ("portal", "email", "phone") and when; the
    #: address or number itself is sealed with the case's data key.
    contact_channel: Mapped[str] = mapped_column(String(20), default="portal")
    contact_times: Mapped[str | None] = mapped_column(String(200))
    contact_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: When a deletion the survivor asked for is carried out (they can cancel until then).
    deletion_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseAlert(Base):
    """Something the survivor and their caseworker must know about: for now, the survivor's
    own details seen beside a copy (doxxing). Only the kinds of detail are kept, never the
    text of the post (that is in the encrypted evidence capture)."""

    __tablename__ = "case_alerts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    details: Mapped[list[str]] = mapped_column(JSON)
    sighting: Mapped[str | None] = mapped_column(String(40))
    told_via: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))


class IntakeDraft(Base):
    """A report being written on the web form, saved so it can be finished later.

    Found by the SHA-256 of its resume code; the answers are sealed with a key derived
    from the code, which the server never stores: a draft is readable only by whoever holds
    the code. Drafts expire (settings: intake_draft_ttl_s).
    """

    __tablename__ = "intake_drafts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    lookup: Mapped[str] = mapped_column(String(64), unique=True)
    step: Mapped[int] = mapped_column(Integer, default=1)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Report(Base):
    """One report (the counting unit: one per victim). ``answers`` holds the intake form."""

    __tablename__ = "case_reports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(20), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    route: Mapped[str] = mapped_column(String(20))  # web, phone, police, api
    answers: Mapped[dict[str, object]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Artifact(Base):
    """A typed fact from a report (a URL, a thread, a handle, a person named as having had
    access, the survivor's own identifiers) with the key it links on."""

    __tablename__ = "case_artifacts"
    __table_args__ = (Index("ix_case_artifacts_key", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(
        ForeignKey("case_reports.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(24))
    value: Mapped[str] = mapped_column(Text)
    key: Mapped[str | None] = mapped_column(String(300))


class Classification(Base):
    """A recorded offence code for a report; every re-classification is a new row."""

    __tablename__ = "case_classifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("case_reports.id"), index=True)
    codes: Mapped[list[str]] = mapped_column(JSON)
    recorded_by: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Link(Base):
    """A suggested (then confirmed or rejected) link between two reports, with its reasons."""

    __tablename__ = "case_links"
    __table_args__ = (UniqueConstraint("report_a", "report_b", name="uq_case_links_pair"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    report_a: Mapped[int] = mapped_column(ForeignKey("case_reports.id"), index=True)
    report_b: Mapped[int] = mapped_column(ForeignKey("case_reports.id"), index=True)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    score: Mapped[float]
    provenance: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20), default="suggested")
    #: Person names were its only reasons: shown, but it joins no suggested series unless a
    #: caseworker confirms it (linking.WEAK_KINDS).
    weak: Mapped[bool] = mapped_column(default=False)
    decided_by: Mapped[str | None] = mapped_column(String(120))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Series(Base):
    """The investigation unit: reports (of many cases) linked by confirmed links."""

    __tablename__ = "case_series"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(20), unique=True)
    unit: Mapped[str | None] = mapped_column(String(120))
    officer: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SeriesMember(Base):
    """A report's place in a series (a report belongs to one series at most)."""

    __tablename__ = "case_series_members"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("case_series.id"), index=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("case_reports.id"), unique=True)
    added_by: Mapped[str] = mapped_column(String(120))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseContact(Base):
    """A named contact assigned to a case: who, which unit, how to reach them. The latest
    row is the current contact; none yet means the duty contact from the settings."""

    __tablename__ = "case_contacts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str] = mapped_column(String(200))
    reach: Mapped[str] = mapped_column(String(300))  # "0300 123 4567, weekdays 9am-5pm"
    assigned_by: Mapped[str] = mapped_column(String(120))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseStatusChange(Base):
    """Every change of a case's status (closed, transferred, reopening asked, reopened):
    who, when, and why (the reason is sealed with the case's data key)."""

    __tablename__ = "case_status_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20))  # the status afterwards
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("case_contacts.id"))
    reason_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    by: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CaseMessage(Base):
    """A message between the caseworker and the survivor, text sealed with the case's data
    key (so deleting the case's data makes it unreadable). Never an image."""

    __tablename__ = "case_messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(20), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    #: "to_survivor" (from staff) or "from_survivor" (a reply from the portal)
    direction: Mapped[str] = mapped_column(String(20))
    author: Mapped[str] = mapped_column(String(120))
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CaseNotification(Base):
    """A neutral "please sign in" note queued for the survivor's chosen email or phone.

    It holds the channel and the neutral text only: never case details, never the address
    (the sender reads that, sealed, from the case when it sends)."""

    __tablename__ = "case_notifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(String(300))
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Delivery by email (``chorus.cases.notifier``): tries so far, the last refusal, and
    # when to try again (None: at the next run).
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(String(300))
    next_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
