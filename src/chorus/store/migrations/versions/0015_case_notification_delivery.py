"""Cases: delivery of the neutral notes to survivors (tries, the last refusal, next try).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from chorus.store.base import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_notifications") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_error", sa.String(300), nullable=True))
        batch.add_column(sa.Column("next_try_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_notifications") as batch:
        batch.drop_column("next_try_at")
        batch.drop_column("last_error")
        batch.drop_column("attempts")
