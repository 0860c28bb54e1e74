"""Evidence ledger (entries, subjects, Merkle nodes, head, signed tree heads), payloads,
data keys and captures; triggers that make the ledger tables append-only.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

from chorus.store.base import BigId, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

APPEND_ONLY = ("ledger_entries", "ledger_subjects", "ledger_nodes", "ledger_tree_heads")

_PG_FUNCTION = """
CREATE FUNCTION chorus_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'chorus: % is append-only; % refused', TG_TABLE_NAME, TG_OP;
END;
$$
"""


def _append_only_triggers(table: str) -> list[str]:
    if op.get_bind().dialect.name == "postgresql":
        return [
            f"CREATE TRIGGER trg_{table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION chorus_refuse_change()",
            f"CREATE TRIGGER trg_{table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION chorus_refuse_change()",
        ]
    return [
        f"CREATE TRIGGER trg_{table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'chorus: {table} is append-only; UPDATE refused'); END",
        f"CREATE TRIGGER trg_{table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'chorus: {table} is append-only; DELETE refused'); END",
    ]


def upgrade() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("action", sa.String(80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_ledger_entries"),
    )
    op.create_index("ix_ledger_entries_action", "ledger_entries", ["action"])
    op.create_table(
        "ledger_subjects",
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("ref", sa.String(80), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("kind", "ref", "seq", name="pk_ledger_subjects"),
    )
    op.create_index("ix_ledger_subjects_seq", "ledger_subjects", ["seq"])
    op.create_table(
        "ledger_nodes",
        sa.Column("key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_ledger_nodes"),
    )
    head = op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("last_leaf", sa.LargeBinary(32), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_head"),
    )
    op.bulk_insert(
        head,
        [
            {
                "id": 1,
                "size": 0,
                "last_leaf": bytes(32),
                "frontier": b"",
                "root": hashlib.sha256(b"").digest(),
            }
        ],
    )
    op.create_table(
        "ledger_tree_heads",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("signed_at", UTCDateTime(), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("public_key", sa.LargeBinary(32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("signature", sa.LargeBinary(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_tree_heads"),
    )
    op.create_index("ix_ledger_tree_heads_tree_size", "ledger_tree_heads", ["tree_size"])
    op.create_table(
        "ledger_payloads",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("scope", sa.String(80), nullable=False),
        sa.Column("nonce", sa.LargeBinary(12), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_ledger_payloads"),
    )
    op.create_index("ix_ledger_payloads_scope", "ledger_payloads", ["scope"])
    op.create_table(
        "evidence_data_keys",
        sa.Column("scope", sa.String(80), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("master_key_id", sa.String(16), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("destroyed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("scope", name="pk_evidence_data_keys"),
    )
    op.create_table(
        "evidence_captures",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(40), nullable=False),
        sa.Column("scope", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("captured_at", UTCDateTime(), nullable=False),
        sa.Column("chorus_version", sa.String(40), nullable=False),
        sa.Column("added_by", sa.String(120), nullable=False),
        sa.Column("ledger_seq", sa.BigInteger(), nullable=False),
        sa.Column("nonce", sa.LargeBinary(12), nullable=True),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_evidence_captures"),
        sa.UniqueConstraint("public_id", name="uq_evidence_captures_public_id"),
    )
    op.create_index("ix_evidence_captures_scope", "evidence_captures", ["scope"])

    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
    for table in APPEND_ONLY:
        for statement in _append_only_triggers(table):
            op.execute(statement)


def downgrade() -> None:
    for table in (
        "evidence_captures",
        "evidence_data_keys",
        "ledger_payloads",
        "ledger_tree_heads",
        "ledger_head",
        "ledger_nodes",
        "ledger_subjects",
        "ledger_entries",
    ):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION chorus_refuse_change()")
