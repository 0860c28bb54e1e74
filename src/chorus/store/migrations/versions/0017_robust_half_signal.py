"""Robust signal: half-frame codes become their own signal type, ``robust_half``.

Issue 9's tuning matches the half-frame codes (variants top, bottom, left, right) only
against each other, within a stricter radius than the whole-region codes. Rows banked
before it carry ``signal_type = 'robust'``; this moves them to ``'robust_half'`` (data
only, no schema change). In-memory index snapshots saved before it are rebuilt from the
bank on load, because their radii differ.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE bank_signals SET signal_type = 'robust_half' WHERE signal_type = 'robust' "
        "AND variant IN ('top', 'bottom', 'left', 'right')"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE bank_signals SET signal_type = 'robust' WHERE signal_type = 'robust_half' "
        "AND variant IN ('top', 'bottom', 'left', 'right')"
    )
