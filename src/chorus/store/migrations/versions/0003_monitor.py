"""Monitor: targets, sightings and their URLs, counters.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from chorus.store.base import BigId, UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitor_targets",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("next_check_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(80), nullable=True),
        sa.Column("claim_expires_at", UTCDateTime(), nullable=True),
        sa.Column("etag", sa.String(300), nullable=True),
        sa.Column("last_modified", sa.String(100), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("checked_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_monitor_targets"),
        sa.UniqueConstraint("url", name="uq_monitor_targets_url"),
    )
    op.create_index("ix_monitor_targets_due", "monitor_targets", ["state", "next_check_at"])
    op.create_table(
        "monitor_sightings",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(40), nullable=False),
        sa.Column("bank_entry", sa.String(40), nullable=False),
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("signal_type", sa.String(16), nullable=False),
        sa.Column("distance", sa.Integer(), nullable=False),
        sa.Column("media_url", sa.String(2000), nullable=False),
        sa.Column("page_url", sa.String(2000), nullable=False),
        sa.Column("post_id", sa.String(40), nullable=True),
        sa.Column("thread", sa.String(200), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("reappearance_of", sa.String(40), nullable=True),
        sa.Column("capture_id", sa.String(40), nullable=True),
        sa.Column("first_seen", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        sa.Column("removed_at", UTCDateTime(), nullable=True),
        sa.Column("next_check_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_monitor_sightings"),
        sa.UniqueConstraint("public_id", name="uq_monitor_sightings_public_id"),
        sa.UniqueConstraint("bank_entry", "media_url", name="uq_monitor_sightings_entry_media"),
    )
    op.create_index("ix_monitor_sightings_bank_entry", "monitor_sightings", ["bank_entry"])
    op.create_index("ix_monitor_sightings_owner_id", "monitor_sightings", ["owner_id"])
    op.create_index("ix_monitor_sightings_state", "monitor_sightings", ["state"])
    op.create_table(
        "monitor_sighting_urls",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("sighting_id", BigId, nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("checked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["sighting_id"],
            ["monitor_sightings.id"],
            ondelete="CASCADE",
            name="fk_monitor_sighting_urls_sighting_id_monitor_sightings",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_monitor_sighting_urls"),
    )
    op.create_index(
        "ix_monitor_sighting_urls_sighting_id", "monitor_sighting_urls", ["sighting_id"]
    )
    op.create_table(
        "monitor_counters",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("value", BigId, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_monitor_counters"),
    )


def downgrade() -> None:
    for table in ("monitor_counters", "monitor_sighting_urls", "monitor_sightings",
                  "monitor_targets"):  # fmt: skip
        op.drop_table(table)
