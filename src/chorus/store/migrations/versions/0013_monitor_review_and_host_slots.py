"""Monitor: review of robust-only sightings, and per-host slots shared by workers.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from chorus.store.base import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("monitor_sightings") as batch:
        batch.add_column(sa.Column("review", sa.String(20), nullable=True))
        batch.add_column(sa.Column("reviewed_by", sa.String(120), nullable=True))
        batch.add_column(sa.Column("reviewed_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("held_details", sa.JSON(), nullable=True))
        batch.create_index("ix_monitor_sightings_review", ["review"])
    op.create_table(
        "monitor_host_slots",
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("next_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("host", name="pk_monitor_host_slots"),
    )


def downgrade() -> None:
    op.drop_table("monitor_host_slots")
    with op.batch_alter_table("monitor_sightings") as batch:
        batch.drop_index("ix_monitor_sightings_review")
        batch.drop_column("held_details")
        batch.drop_column("reviewed_at")
        batch.drop_column("reviewed_by")
        batch.drop_column("review")
