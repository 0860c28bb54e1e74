"""Tables of the cases domain. Other domains use ``chorus.cases`` services only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


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
