"""Cases: risk level, contact preferences, deletion, alerts (own details seen), drafts.

Revision ID: 0008
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from chorus.store.base import BigId, UTCDateTime

revision = "0008"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(
            sa.Column("risk_level", sa.String(20), nullable=False, server_default="standard")
        )
        batch.add_column(
            sa.Column("contact_channel", sa.String(20), nullable=False, server_default="portal")
        )
        batch.add_column(sa.Column("contact_times", sa.String(200), nullable=True))
        batch.add_column(sa.Column("contact_sealed", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("deletion_due_at", UTCDateTime(), nullable=True))
    op.create_table(
        "case_alerts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("case_id", BigId, nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("sighting", sa.String(40), nullable=True),
        sa.Column("told_via", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(120), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_alerts_case_id_cases"),
        sa.PrimaryKeyConstraint("id", name="pk_case_alerts"),
    )
    op.create_index("ix_case_alerts_case_id", "case_alerts", ["case_id"])
    op.create_table(
        "intake_drafts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("lookup", sa.String(64), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_intake_drafts"),
        sa.UniqueConstraint("lookup", name="uq_intake_drafts_lookup"),
    )
    op.create_index("ix_intake_drafts_expires_at", "intake_drafts", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_intake_drafts_expires_at", table_name="intake_drafts")
    op.drop_table("intake_drafts")
    op.drop_index("ix_case_alerts_case_id", table_name="case_alerts")
    op.drop_table("case_alerts")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("deletion_due_at")
        batch.drop_column("contact_sealed")
        batch.drop_column("contact_times")
        batch.drop_column("contact_channel")
        batch.drop_column("risk_level")
