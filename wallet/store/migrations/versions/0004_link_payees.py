"""Payees: who each link-tag session (and tip) paid — wallet address, its ``publicName`` and
asset, the incoming payment — keyed by the connection name its ``history`` rows carry.

Revision ID: 0004_link_payees
Revises: 0003
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_link_payees"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payee",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.Text(), nullable=False),
        sa.Column("connection", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("href", sa.Text(), nullable=False),
        sa.Column("wallet_address", sa.Text(), nullable=True),
        sa.Column("public_name", sa.Text(), nullable=True),
        sa.Column("asset_code", sa.String(length=16), nullable=True),
        sa.Column("asset_scale", sa.Integer(), nullable=True),
        sa.Column("incoming_payment", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("kind IN ('stream', 'tip')", name=op.f("ck_payee_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payee")),
        sa.UniqueConstraint("site", "connection", name="uq_payee_site_connection"),
    )
    with op.batch_alter_table("payee", schema=None) as batch_op:
        batch_op.create_index("ix_payee_site_created", ["site", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payee", schema=None) as batch_op:
        batch_op.drop_index("ix_payee_site_created")
    op.drop_table("payee")
