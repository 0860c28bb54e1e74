"""Hash bank, change log, match observations, partner feedback, lookup audit, API keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from chorus.store.base import BigId, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _id() -> sa.Column[int]:
    return sa.Column("id", BigId, primary_key=True, autoincrement=True)


def upgrade() -> None:
    op.create_table(
        "api_keys",
        _id(),
        sa.Column("key_id", sa.String(24), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("secret_digest", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(200), nullable=False),
        sa.Column("rate_limit_per_minute", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
        sa.UniqueConstraint("key_id", name="uq_api_keys_key_id"),
    )
    op.create_table(
        "bank_entries",
        _id(),
        sa.Column("public_id", sa.String(40), nullable=False),
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("provenance", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("quality", sa.Integer(), nullable=True),
        sa.Column("source_ref", sa.String(200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_bank_entries"),
        sa.UniqueConstraint("public_id", name="uq_bank_entries_public_id"),
    )
    op.create_index("ix_bank_entries_owner_id", "bank_entries", ["owner_id"])
    op.create_index("ix_bank_entries_status", "bank_entries", ["status"])
    op.create_table(
        "bank_signals",
        _id(),
        sa.Column("entry_id", BigId, nullable=False),
        sa.Column("signal_type", sa.String(16), nullable=False),
        sa.Column("value", sa.String(64), nullable=False),
        sa.Column("variant", sa.String(16), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["bank_entries.id"],
            ondelete="CASCADE",
            name="fk_bank_signals_entry_id_bank_entries",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_bank_signals"),
        sa.UniqueConstraint("entry_id", "signal_type", "value", name="uq_bank_signals_entry_value"),
    )
    op.create_index("ix_bank_signals_type_value", "bank_signals", ["signal_type", "value"])
    op.create_table(
        "bank_changes",
        sa.Column("seq", BigId, primary_key=True, autoincrement=True),
        sa.Column("entry_id", BigId, nullable=False),
        sa.Column("change", sa.String(10), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["bank_entries.id"], name="fk_bank_changes_entry_id_bank_entries"
        ),
        sa.PrimaryKeyConstraint("seq", name="pk_bank_changes"),
    )
    op.create_index("ix_bank_changes_entry_id", "bank_changes", ["entry_id"])
    op.create_table(
        "match_observations",
        _id(),
        sa.Column("entry_id", BigId, nullable=False),
        sa.Column("item_digest", sa.String(64), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["bank_entries.id"], name="fk_match_observations_entry_id_bank_entries"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_match_observations"),
    )
    op.create_index("ix_match_observations_entry_at", "match_observations", ["entry_id", "at"])
    op.create_table(
        "partner_feedback",
        _id(),
        sa.Column("api_key_id", BigId, nullable=True),
        sa.Column("entry_id", BigId, nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("item_digest", sa.String(64), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_keys.id"], name="fk_partner_feedback_api_key_id_api_keys"
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["bank_entries.id"], name="fk_partner_feedback_entry_id_bank_entries"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_partner_feedback"),
    )
    op.create_index("ix_partner_feedback_api_key_id", "partner_feedback", ["api_key_id"])
    op.create_index("ix_partner_feedback_entry_id", "partner_feedback", ["entry_id"])
    op.create_table(
        "lookup_audit",
        _id(),
        sa.Column("api_key_id", BigId, nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("endpoint", sa.String(40), nullable=False),
        sa.Column("signals", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_keys.id"], name="fk_lookup_audit_api_key_id_api_keys"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_lookup_audit"),
    )
    op.create_index("ix_lookup_audit_api_key_id", "lookup_audit", ["api_key_id"])
    op.create_index("ix_lookup_audit_at", "lookup_audit", ["at"])


def downgrade() -> None:
    for table in (
        "lookup_audit",
        "partner_feedback",
        "match_observations",
        "bank_changes",
        "bank_signals",
        "bank_entries",
        "api_keys",
    ):
        op.drop_table(table)
