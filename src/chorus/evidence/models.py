"""Tables of the evidence domain. Other domains use ``chorus.evidence`` services only.

The ledger tables (entries, subjects, nodes, tree heads) are append-only: the code never
updates or deletes a row, and database triggers (migration 0002) refuse it on SQLite and
PostgreSQL alike. ``ledger_head`` is the one mutable row: a cache of the tree's size and
frontier that appends lock, and that ``verify_ledger`` recomputes from the entries.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chorus.store.base import Base, BigId, UTCDateTime, utcnow

#: Tables whose rows may never change once written (enforced by triggers).
APPEND_ONLY_TABLES = ("ledger_entries", "ledger_subjects", "ledger_nodes", "ledger_tree_heads")


class LedgerEntry(Base):
    """One event. ``body`` is the canonical JSON that is hashed; columns repeat it for queries."""

    __tablename__ = "ledger_entries"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(80), index=True)
    body: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerSubject(Base):
    """Which case, series, capture, ... an entry is about: finds the entries for an export."""

    __tablename__ = "ledger_subjects"
    __table_args__ = (Index("ix_ledger_subjects_seq", "seq"),)

    kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    ref: Mapped[str] = mapped_column(String(80), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class LedgerNode(Base):
    """A complete Merkle subtree of height >= 1: key = height << 40 | index (leaves are entries)."""

    __tablename__ = "ledger_nodes"

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerHead(Base):
    """The current size, root and right edge of the tree (one row, id 1)."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    last_leaf: Mapped[bytes] = mapped_column(LargeBinary(32))
    frontier: Mapped[bytes] = mapped_column(LargeBinary)  # concatenated complete-subtree hashes
    root: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerTreeHead(Base):
    """A signed tree head (RFC 9162 style): size, root, time, signing key."""

    __tablename__ = "ledger_tree_heads"
    __table_args__ = (Index("ix_ledger_tree_heads_tree_size", "tree_size"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    key_id: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    body: Mapped[str] = mapped_column(Text)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))


class LedgerPayload(Base):
    """An entry's payload and salt, encrypted with its scope's data key (shreddable)."""

    __tablename__ = "ledger_payloads"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    scope: Mapped[str] = mapped_column(String(80), index=True)
    nonce: Mapped[bytes] = mapped_column(LargeBinary(12))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)


class DataKey(Base):
    """A scope's (a case's) data key, wrapped by the master key; destroyed to crypto-shred."""

    __tablename__ = "evidence_data_keys"

    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    master_key_id: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Capture(Base):
    """An evidence capture (a WARC of a page and its media, or a screenshot), encrypted."""

    __tablename__ = "evidence_captures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    scope: Mapped[str] = mapped_column(String(80), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    media_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(200))
    source_url: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime)
    chorus_version: Mapped[str] = mapped_column(String(40))
    added_by: Mapped[str] = mapped_column(String(120))
    ledger_seq: Mapped[int] = mapped_column(BigInteger)
    nonce: Mapped[bytes | None] = mapped_column(LargeBinary(12))
    ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
