"""History: an index by site and hour for the per-site views and filters.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 16:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("history", schema=None) as batch_op:
        batch_op.create_index("ix_history_site_hour", ["site", "hour"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("history", schema=None) as batch_op:
        batch_op.drop_index("ix_history_site_hour")
