"""Robust signal version 3: the bank no longer keeps half-frame codes.

The four half-frame codes a photo banked (signal type ``robust_half``, variants top,
bottom, left, right) gave the privacy test's attacker a picture of their own: with them
the robust codes rebuilt one of the first 60 shared photos at correlation 0.68 with its
thumbnail, past the 0.65 bar, and without them at most 0.60, no more than the full-frame
code alone (``tests/fingerprint/test_robust_privacy.py``). In matching they added almost
nothing (RESULTS.md). So they are deleted; registration drops them from older records.

The codes cannot be recomputed without the photo, which the server never had: the
downgrade leaves them deleted.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM bank_signals WHERE signal_type = 'robust_half'")


def downgrade() -> None:
    """Nothing to restore (see the module's docstring)."""
