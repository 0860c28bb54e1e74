"""Takedown discoveries: each run of recipient discovery for a copy, with failed sources.

Revision ID: 0014
Revises: 0013 (needs takedowns, 0011)
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from chorus.store.base import BigId, UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "takedown_discoveries",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("takedown_id", BigId, nullable=False),
        sa.Column("urls", sa.JSON(), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("failures", sa.JSON(), nullable=False),
        sa.Column("cdn", sa.String(120), nullable=True),
        sa.Column("ran_by", sa.String(120), nullable=False),
        sa.Column("ran_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["takedown_id"],
            ["takedowns.id"],
            name="fk_takedown_discoveries_takedown_id_takedowns",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_takedown_discoveries"),
    )
    op.create_index("ix_takedown_discoveries_takedown_id", "takedown_discoveries", ["takedown_id"])


def downgrade() -> None:
    op.drop_index("ix_takedown_discoveries_takedown_id", table_name="takedown_discoveries")
    op.drop_table("takedown_discoveries")
