"""Initial schema: handlers, site policies, settings, account, spend counters, leases, history.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-21 15:26:01.340368
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network", sa.String(length=100), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("asset_code", sa.String(length=16), nullable=False),
        sa.Column("asset_scale", sa.Integer(), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("asset_scale BETWEEN 0 AND 255", name=op.f("ck_account_scale")),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_account_balance")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account")),
        sa.UniqueConstraint("network", name=op.f("uq_account_network")),
    )
    op.create_table(
        "handler",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("handler_uri", sa.Text(), nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("registered_at", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handler")),
        sa.UniqueConstraint("origin", "handler_uri", name="uq_handler_origin_uri"),
    )
    with op.batch_alter_table("handler", schema=None) as batch_op:
        batch_op.create_index(
            "ix_handler_one_active", ["active"], unique=True, sqlite_where=sa.text("active = 1")
        )

    op.create_table(
        "history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.Text(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("asset_code", sa.String(length=16), nullable=False),
        sa.Column("asset_scale", sa.Integer(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("connection", sa.String(length=64), nullable=False),
        sa.Column("dest_asset_code", sa.String(length=16), nullable=True),
        sa.Column("dest_asset_scale", sa.Integer(), nullable=True),
        sa.Column("sent", sa.BigInteger(), nullable=False),
        sa.Column("delivered", sa.BigInteger(), nullable=False),
        sa.Column("packets", sa.BigInteger(), nullable=False),
        sa.Column("unresolved", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "sent >= 0 AND delivered >= 0 AND packets >= 0 AND unresolved >= 0",
            name=op.f("ck_history_amounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history")),
        sa.UniqueConstraint(
            "site",
            "provider",
            "asset_code",
            "asset_scale",
            "hour",
            "connection",
            name="uq_history_key",
        ),
    )
    with op.batch_alter_table("history", schema=None) as batch_op:
        batch_op.create_index("ix_history_hour_site", ["hour", "site"], unique=False)

    op.create_table(
        "setting",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_setting")),
    )
    op.create_table(
        "site_policy",
        sa.Column("site", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("rate_per_hour", sa.BigInteger(), nullable=True),
        sa.Column("cap_day", sa.BigInteger(), nullable=True),
        sa.Column("cap_month", sa.BigInteger(), nullable=True),
        sa.Column("cap_total", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "state IN ('enabled', 'paused', 'blocked')", name=op.f("ck_site_policy_state")
        ),
        sa.CheckConstraint(
            "coalesce(rate_per_hour, 0) >= 0 AND coalesce(cap_day, 0) >= 0"
            " AND coalesce(cap_month, 0) >= 0 AND coalesce(cap_total, 0) >= 0",
            name=op.f("ck_site_policy_amounts"),
        ),
        sa.PrimaryKeyConstraint("site", name=op.f("pk_site_policy")),
    )
    op.create_table(
        "spend_counter",
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_spend_counter_amount")),
        sa.PrimaryKeyConstraint("scope", "period", name=op.f("pk_spend_counter")),
    )
    op.create_table(
        "lease",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("site", sa.Text(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("asset_code", sa.String(length=16), nullable=False),
        sa.Column("asset_scale", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("charged", sa.BigInteger(), nullable=False),
        sa.Column("committed", sa.BigInteger(), nullable=False),
        sa.Column("day_key", sa.String(length=16), nullable=False),
        sa.Column("month_key", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.CheckConstraint("state IN ('open', 'settled', 'orphaned')", name=op.f("ck_lease_state")),
        sa.CheckConstraint(
            "amount >= 0 AND charged >= 0 AND committed >= 0", name=op.f("ck_lease_amounts")
        ),
        sa.CheckConstraint("committed <= amount", name=op.f("ck_lease_committed")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_lease_account_id_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lease")),
    )
    with op.batch_alter_table("lease", schema=None) as batch_op:
        batch_op.create_index("ix_lease_state_expires", ["state", "expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lease", schema=None) as batch_op:
        batch_op.drop_index("ix_lease_state_expires")

    op.drop_table("lease")
    op.drop_table("spend_counter")
    op.drop_table("site_policy")
    op.drop_table("setting")
    with op.batch_alter_table("history", schema=None) as batch_op:
        batch_op.drop_index("ix_history_hour_site")

    op.drop_table("history")
    with op.batch_alter_table("handler", schema=None) as batch_op:
        batch_op.drop_index("ix_handler_one_active", sqlite_where=sa.text("active = 1"))

    op.drop_table("handler")
    op.drop_table("account")
