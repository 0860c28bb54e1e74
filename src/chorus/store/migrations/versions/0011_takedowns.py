"""Takedowns: one per copy location, notices per regime, escalations, every transition.

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from chorus.store.base import BigId, UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "takedowns",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(40), nullable=False),
        sa.Column("case_ref", sa.String(64), nullable=False),
        sa.Column("sighting", sa.String(40), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("reopened_from", sa.String(40), nullable=True),
        sa.Column("opened_by", sa.String(120), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("removed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_takedowns"),
        sa.UniqueConstraint("public_id", name="uq_takedowns_public_id"),
        sa.UniqueConstraint("sighting", name="uq_takedowns_sighting"),
    )
    op.create_index("ix_takedowns_case_ref", "takedowns", ["case_ref"])
    op.create_index("ix_takedowns_state", "takedowns", ["state"])
    op.create_table(
        "takedown_notices",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(40), nullable=False),
        sa.Column("takedown_id", BigId, nullable=False),
        sa.Column("recipient", sa.JSON(), nullable=False),
        sa.Column("regime", sa.String(40), nullable=False),
        sa.Column("elements", sa.JSON(), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(20), nullable=True),
        sa.Column("idempotency_key", sa.String(80), nullable=False),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("renotice_of", sa.String(40), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("sent_note", sa.String(500), nullable=True),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["takedown_id"], ["takedowns.id"], name="fk_takedown_notices_takedown_id_takedowns"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_takedown_notices"),
        sa.UniqueConstraint("public_id", name="uq_takedown_notices_public_id"),
        sa.UniqueConstraint("idempotency_key", name="uq_takedown_notices_idempotency_key"),
        sa.UniqueConstraint("message_id", name="uq_takedown_notices_message_id"),
        sa.UniqueConstraint("renotice_of", name="uq_takedown_notices_renotice_of"),
    )
    op.create_index("ix_takedown_notices_takedown_id", "takedown_notices", ["takedown_id"])
    op.create_index("ix_takedown_notices_state_due", "takedown_notices", ["state", "due_at"])
    op.create_table(
        "takedown_escalations",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(40), nullable=False),
        sa.Column("takedown_id", BigId, nullable=False),
        sa.Column("after_notice", sa.String(40), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("recipient", sa.JSON(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("notice", sa.String(40), nullable=True),
        sa.Column("decided_by", sa.String(120), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["takedown_id"],
            ["takedowns.id"],
            name="fk_takedown_escalations_takedown_id_takedowns",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_takedown_escalations"),
        sa.UniqueConstraint("public_id", name="uq_takedown_escalations_public_id"),
        sa.UniqueConstraint("after_notice", name="uq_takedown_escalations_after_notice"),
    )
    op.create_index("ix_takedown_escalations_takedown_id", "takedown_escalations", ["takedown_id"])
    op.create_table(
        "takedown_transitions",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("takedown_id", BigId, nullable=False),
        sa.Column("subject", sa.String(40), nullable=False),
        sa.Column("from_state", sa.String(20), nullable=True),
        sa.Column("to_state", sa.String(20), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("by", sa.String(120), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["takedown_id"],
            ["takedowns.id"],
            name="fk_takedown_transitions_takedown_id_takedowns",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_takedown_transitions"),
    )
    op.create_index("ix_takedown_transitions_takedown_id", "takedown_transitions", ["takedown_id"])


def downgrade() -> None:
    op.drop_table("takedown_transitions")
    op.drop_table("takedown_escalations")
    op.drop_table("takedown_notices")
    op.drop_table("takedowns")
