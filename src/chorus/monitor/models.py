"""Tables of the monitor. Other domains use ``chorus.monitor`` services only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Double, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from chorus.store.base import Base, BigId, UTCDateTime, utcnow


class MonitorTarget(Base):
    """A URL the monitor watches: a board catalog, a thread, or a page a survivor reported."""

    __tablename__ = "monitor_targets"
    __table_args__ = (Index("ix_monitor_targets_due", "state", "next_check_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(20))  # "reported" (by a person) or "discovered"
    state: Mapped[str] = mapped_column(String(20), default="active")  # active, paused, gone
    interval_s: Mapped[int] = mapped_column(Integer, default=60)
    next_check_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    etag: Mapped[str | None] = mapped_column(String(300))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Sighting(Base):
    """A copy of a banked item seen online: where, how close, since when, and its state."""

    __tablename__ = "monitor_sightings"
    __table_args__ = (
        UniqueConstraint("bank_entry", "media_url", name="uq_monitor_sightings_entry_media"),
        Index("ix_monitor_sightings_state", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    bank_entry: Mapped[str] = mapped_column(String(40), index=True)
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    signal_type: Mapped[str] = mapped_column(String(16))
    distance: Mapped[int] = mapped_column(Integer)
    # For a match by the local signal: how many of the photo's corners agree with the copy
    # (``distance`` is then the share of those expected inside it that did not, in %).
    corners: Mapped[int | None] = mapped_column(Integer)
    media_url: Mapped[str] = mapped_column(String(2000))
    page_url: Mapped[str] = mapped_column(String(2000))
    post_id: Mapped[str | None] = mapped_column(String(40))
    thread: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20))  # present, removed
    reappearance_of: Mapped[str | None] = mapped_column(String(40))
    capture_id: Mapped[str | None] = mapped_column(String(40))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_check_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Review of matches found by the robust signal alone (monitor/review.py): None when no
    # review is needed (PDQ or a file digest matched), else held, confirmed or rejected.
    review: Mapped[str | None] = mapped_column(String(20), index=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(120))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Kinds of the survivor's own details seen beside a held copy (never the words), so the
    # alert can be raised if a caseworker confirms it.
    held_details: Mapped[list[str] | None] = mapped_column(JSON)


class SightingUrl(Base):
    """One URL that served (or mentioned) a sighting: removal is verified on each."""

    __tablename__ = "monitor_sighting_urls"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    sighting_id: Mapped[int] = mapped_column(
        ForeignKey("monitor_sightings.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20))  # media, page, thumbnail, api
    url: Mapped[str] = mapped_column(String(2000))
    state: Mapped[str] = mapped_column(String(20), default="present")
    last_status: Mapped[int | None] = mapped_column(Integer)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MonitorCounter(Base):
    """Counts only: media seen and not matched leave nothing else behind."""

    __tablename__ = "monitor_counters"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigId, default=0)


class HostSlot(Base):
    """When each host may next be fetched: the per-host gate shared by monitor processes.

    ``next_at`` is wall-clock time (seconds since the epoch), because workers on several
    machines share it; a worker claims a slot by moving it forward inside a transaction
    that holds the row (``FOR UPDATE`` on PostgreSQL, an immediate write on SQLite).
    """

    __tablename__ = "monitor_host_slots"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    next_at: Mapped[float] = mapped_column(Double)
