"""Staff accounts (password + sealed TOTP, lockout) and the reports of each series.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from chorus.store.base import BigId, UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_members",
        sa.Column("id", BigId, nullable=False, autoincrement=True),
        sa.Column("username", sa.String(40), nullable=False),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("unit", sa.String(120), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("totp_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("disabled_at", UTCDateTime(), nullable=True),
        sa.Column("last_sign_in_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_staff_members"),
        sa.UniqueConstraint("username", name="uq_staff_members_username"),
    )
    op.create_table(
        "case_series_members",
        sa.Column("id", BigId, nullable=False, autoincrement=True),
        sa.Column("series_id", BigId, nullable=False),
        sa.Column("report_id", BigId, nullable=False),
        sa.Column("added_by", sa.String(120), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["case_series.id"],
            name="fk_case_series_members_series_id_case_series",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["case_reports.id"],
            name="fk_case_series_members_report_id_case_reports",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_case_series_members"),
        sa.UniqueConstraint("report_id", name="uq_case_series_members_report_id"),
    )
    op.create_index(
        "ix_case_series_members_series_id", "case_series_members", ["series_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_case_series_members_series_id", table_name="case_series_members")
    op.drop_table("case_series_members")
    op.drop_table("staff_members")
