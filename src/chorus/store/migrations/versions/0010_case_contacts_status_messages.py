"""Cases: named contacts, status changes (close, transfer, reopen), messages, queued
notifications, series members, weak links.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from chorus.store.base import BigId, UTCDateTime

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    with op.batch_alter_table("case_links") as batch:
        batch.add_column(sa.Column("weak", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "case_series_members",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("series_id", BigId, nullable=False),
        sa.Column("report_id", BigId, nullable=False),
        sa.Column("added_by", sa.String(120), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        _fk("case_series_members", "series_id", "case_series"),
        _fk("case_series_members", "report_id", "case_reports"),
        sa.PrimaryKeyConstraint("id", name="pk_case_series_members"),
        sa.UniqueConstraint(
            "report_id", name="uq_case_series_members_report_id"
        ),  # one series at most
    )
    op.create_index("ix_case_series_members_series_id", "case_series_members", ["series_id"])
    op.create_table(
        "case_contacts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("case_id", BigId, nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("unit", sa.String(200), nullable=False),
        sa.Column("reach", sa.String(300), nullable=False),
        sa.Column("assigned_by", sa.String(120), nullable=False),
        sa.Column("assigned_at", UTCDateTime(), nullable=False),
        _fk("case_contacts", "case_id", "cases"),
        sa.PrimaryKeyConstraint("id", name="pk_case_contacts"),
    )
    op.create_index("ix_case_contacts_case_id", "case_contacts", ["case_id"])
    op.create_table(
        "case_status_changes",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("case_id", BigId, nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("contact_id", BigId, nullable=True),
        sa.Column("reason_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("by", sa.String(120), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        _fk("case_status_changes", "case_id", "cases"),
        _fk("case_status_changes", "contact_id", "case_contacts"),
        sa.PrimaryKeyConstraint("id", name="pk_case_status_changes"),
    )
    op.create_index("ix_case_status_changes_case_id", "case_status_changes", ["case_id"])
    op.create_table(
        "case_messages",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(20), nullable=False),
        sa.Column("case_id", BigId, nullable=False),
        sa.Column("direction", sa.String(20), nullable=False),
        sa.Column("author", sa.String(120), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        _fk("case_messages", "case_id", "cases"),
        sa.PrimaryKeyConstraint("id", name="pk_case_messages"),
        sa.UniqueConstraint("public_id", name="uq_case_messages_public_id"),
    )
    op.create_index("ix_case_messages_case_id", "case_messages", ["case_id"])
    op.create_table(
        "case_notifications",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("case_id", BigId, nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("text", sa.String(300), nullable=False),
        sa.Column("queued_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        _fk("case_notifications", "case_id", "cases"),
        sa.PrimaryKeyConstraint("id", name="pk_case_notifications"),
    )
    op.create_index("ix_case_notifications_case_id", "case_notifications", ["case_id"])
    op.create_index("ix_case_notifications_sent_at", "case_notifications", ["sent_at"])


def downgrade() -> None:
    for table in ("case_notifications", "case_messages", "case_status_changes"):
        op.drop_table(table)
    op.drop_table("case_contacts")
    op.drop_table("case_series_members")
    with op.batch_alter_table("case_links") as batch:
        batch.drop_column("weak")
