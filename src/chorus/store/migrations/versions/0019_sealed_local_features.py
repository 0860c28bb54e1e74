"""Banked local features sealed at rest.

``bank_local_features.sealed`` says whether ``features`` holds the packed features sealed
(AES-256-GCM with the data key of scope ``bank-local-features``, wrapped by the evidence
master key; see ``chorus.matching.local_seal``) or, for rows banked before this revision,
the plain bytes. The migration cannot seal existing rows itself: the master key is not
(and must not be) available to it. They are kept as they are (``sealed`` false), still
read and matched, and sealed in place by ``chorus bank seal-local``; new rows are
sealed when banked.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bank_local_features") as batch:
        batch.add_column(
            sa.Column("sealed", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    # Sealed rows cannot be turned back into plain bytes here (no key): they are dropped,
    # and those photos are matched by their other signals until registered again.
    op.execute(sa.text("DELETE FROM bank_local_features WHERE sealed"))
    with op.batch_alter_table("bank_local_features") as batch:
        batch.drop_column("sealed")
