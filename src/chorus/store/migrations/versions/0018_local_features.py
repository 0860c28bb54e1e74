"""Local signal (issue 9): banked photos' local features, and how many corners a sighting
found by them agrees on.

``bank_local_features`` holds one row per bank entry (the packed features, about 1 KB),
apart from ``bank_signals``: they are matched in memory by a geometric check, never looked
up by value, so they need no value index. ``monitor_sightings.corners`` records the
strength of a match by the local signal ("23 corners agree").

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from chorus.store.base import BigId, UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_local_features",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("entry_id", BigId, nullable=False),
        sa.Column("features", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["bank_entries.id"],
            ondelete="CASCADE",
            name="fk_bank_local_features_entry_id_bank_entries",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_bank_local_features"),
        sa.UniqueConstraint("entry_id", name="uq_bank_local_features_entry_id"),
    )
    with op.batch_alter_table("monitor_sightings") as batch:
        batch.add_column(sa.Column("corners", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("monitor_sightings") as batch:
        batch.drop_column("corners")
    op.drop_table("bank_local_features")
