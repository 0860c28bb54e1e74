"""Tables of the hash bank. Other domains use the services, never these tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chorus.security import models as _security_models  # noqa: F401  (api_keys, for FKs)
from chorus.store.base import Base, BigId, UTCDateTime, utcnow


class BankEntry(Base):
    """One protected item (a photo's fingerprints), owned by an opaque owner id (a case)."""

    __tablename__ = "bank_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    provenance: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    quality: Mapped[int | None]
    source_ref: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    signals: Mapped[list[BankSignal]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="BankSignal.id"
    )
    local: Mapped[BankLocalFeatures | None] = relationship(
        back_populates="entry", cascade="all, delete-orphan"
    )


class BankSignal(Base):
    """One signal value of an entry; its id is the key in the in-memory indexes."""

    __tablename__ = "bank_signals"
    __table_args__ = (
        UniqueConstraint("entry_id", "signal_type", "value", name="uq_bank_signals_entry_value"),
        Index("ix_bank_signals_type_value", "signal_type", "value"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("bank_entries.id", ondelete="CASCADE"))
    signal_type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(64))
    variant: Mapped[str | None] = mapped_column(String(16))

    entry: Mapped[BankEntry] = relationship(back_populates="signals")


class BankLocalFeatures(Base):
    """An entry's local features (``LocalFeatures.to_bytes()``, about 1 KB): one row per
    entry, apart from ``bank_signals`` because they are matched by a geometric check in
    memory, never looked up by value. The entry's id is the key in the local index.

    ``features`` is sealed (:mod:`chorus.matching.local_seal`) when ``sealed`` is true;
    rows banked before sealing existed (``sealed`` false) hold the plain bytes until
    ``chorus bank seal-local`` seals them."""

    __tablename__ = "bank_local_features"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("bank_entries.id", ondelete="CASCADE"), unique=True
    )
    features: Mapped[bytes] = mapped_column(LargeBinary)
    sealed: Mapped[bool] = mapped_column(Boolean, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entry: Mapped[BankEntry] = relationship(back_populates="local")


class BankChange(Base):
    """Append-only change log: the exchange feed and the index replay both read it."""

    __tablename__ = "bank_changes"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("bank_entries.id"), index=True)
    change: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MatchObservation(Base):
    """That an entry matched an item (identified by a digest, never content): for quarantine."""

    __tablename__ = "match_observations"
    __table_args__ = (Index("ix_match_observations_entry_at", "entry_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("bank_entries.id"))
    item_digest: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PartnerFeedback(Base):
    """A partner's verdict on a match."""

    __tablename__ = "partner_feedback"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("bank_entries.id"), index=True)
    verdict: Mapped[str] = mapped_column(String(20))
    item_digest: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LookupAudit(Base):
    """Every lookup: who, when, how many signals, how many matched. No submitted values."""

    __tablename__ = "lookup_audit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id"), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    endpoint: Mapped[str] = mapped_column(String(40))
    signals: Mapped[int]
    matched: Mapped[int]
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
