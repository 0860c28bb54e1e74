"""Cases: cases, reports, artifacts, classifications, links, series.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from chorus.store.base import BigId, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("reference", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("consent_linking", sa.Boolean(), nullable=False),
        sa.Column("consent_police_contact", sa.Boolean(), nullable=False),
        sa.Column("consent_peer_contact", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.UniqueConstraint("reference", name="uq_cases_reference"),
    )
    op.create_table(
        "case_reports",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(20), nullable=False),
        sa.Column("case_id", BigId, nullable=False),
        sa.Column("route", sa.String(20), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_reports_case_id_cases"),
        sa.PrimaryKeyConstraint("id", name="pk_case_reports"),
        sa.UniqueConstraint("public_id", name="uq_case_reports_public_id"),
    )
    op.create_index("ix_case_reports_case_id", "case_reports", ["case_id"])
    op.create_table(
        "case_artifacts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("report_id", BigId, nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("key", sa.String(300), nullable=True),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["case_reports.id"],
            ondelete="CASCADE",
            name="fk_case_artifacts_report_id_case_reports",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_case_artifacts"),
    )
    op.create_index("ix_case_artifacts_key", "case_artifacts", ["key"])
    op.create_index("ix_case_artifacts_report_id", "case_artifacts", ["report_id"])
    op.create_table(
        "case_classifications",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("report_id", BigId, nullable=False),
        sa.Column("codes", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(120), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["case_reports.id"],
            name="fk_case_classifications_report_id_case_reports",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_case_classifications"),
    )
    op.create_index("ix_case_classifications_report_id", "case_classifications", ["report_id"])
    op.create_table(
        "case_links",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("report_a", BigId, nullable=False),
        sa.Column("report_b", BigId, nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("provenance", sa.String(40), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("decided_by", sa.String(120), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["report_a"], ["case_reports.id"], name="fk_case_links_report_a_case_reports"
        ),
        sa.ForeignKeyConstraint(
            ["report_b"], ["case_reports.id"], name="fk_case_links_report_b_case_reports"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_case_links"),
        sa.UniqueConstraint("report_a", "report_b", name="uq_case_links_pair"),
    )
    op.create_index("ix_case_links_report_a", "case_links", ["report_a"])
    op.create_index("ix_case_links_report_b", "case_links", ["report_b"])
    op.create_table(
        "case_series",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(20), nullable=False),
        sa.Column("unit", sa.String(120), nullable=True),
        sa.Column("officer", sa.String(120), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_case_series"),
        sa.UniqueConstraint("public_id", name="uq_case_series_public_id"),
    )


def downgrade() -> None:
    for table in ("case_series", "case_links", "case_classifications", "case_artifacts",
                  "case_reports", "cases"):  # fmt: skip
        op.drop_table(table)
