"""History: a per-UTC-day rollup kept exact by triggers, for fast totals over long ranges.

The hourly ``history`` rows stay the source of truth. ``history_day`` holds, per site, provider,
asset and UTC day, the sums of that day's hourly rows; triggers on ``history`` (insert, update,
delete) keep it exact whoever writes, and the upgrade backfills it. (The SQL below is built from
module constants only, never from data.)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 16:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_KEY = "site, provider, asset_code, asset_scale, day"
_SUMS = ("sent", "delivered", "packets", "unresolved")


def _match(row: str) -> str:
    return (
        f"site = {row}.site AND provider = {row}.provider AND asset_code = {row}.asset_code"
        f" AND asset_scale = {row}.asset_scale AND day = {row}.hour / 24"
    )


def _ensure(row: str) -> str:
    # Not "INSERT OR IGNORE": inside a trigger the outer statement's conflict handling (the
    # ledger's UPSERT) overrides it. Insert only when missing instead.
    return (
        f"INSERT INTO history_day ({_KEY}, sent, delivered, packets, unresolved)"  # noqa: S608
        f" SELECT {row}.site, {row}.provider, {row}.asset_code, {row}.asset_scale,"
        f" {row}.hour / 24, 0, 0, 0, 0"
        f" WHERE NOT EXISTS (SELECT 1 FROM history_day WHERE {_match(row)});"
    )


def _add(row: str, sign: str) -> str:
    sets = ", ".join(f"{c} = {c} {sign} {row}.{c}" for c in _SUMS)
    return f"UPDATE history_day SET {sets} WHERE {_match(row)};"  # noqa: S608 - constants


def _drop_empty(row: str) -> str:
    zero = " AND ".join(f"{c} = 0" for c in _SUMS)
    return f"DELETE FROM history_day WHERE {_match(row)} AND {zero};"  # noqa: S608 - constants


TRIGGERS = {
    "history_day_after_insert": (
        f"AFTER INSERT ON history BEGIN {_ensure('NEW')} {_add('NEW', '+')} END"
    ),
    "history_day_after_update": (
        f"AFTER UPDATE ON history BEGIN {_add('OLD', '-')} {_drop_empty('OLD')}"
        f" {_ensure('NEW')} {_add('NEW', '+')} END"
    ),
    "history_day_after_delete": (
        f"AFTER DELETE ON history BEGIN {_add('OLD', '-')} {_drop_empty('OLD')} END"
    ),
}


def upgrade() -> None:
    op.create_table(
        "history_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.Text(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("asset_code", sa.String(length=16), nullable=False),
        sa.Column("asset_scale", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("sent", sa.BigInteger(), nullable=False),
        sa.Column("delivered", sa.BigInteger(), nullable=False),
        sa.Column("packets", sa.BigInteger(), nullable=False),
        sa.Column("unresolved", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "sent >= 0 AND delivered >= 0 AND packets >= 0 AND unresolved >= 0",
            name=op.f("ck_history_day_amounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_history_day")),
        sa.UniqueConstraint(
            "site", "provider", "asset_code", "asset_scale", "day", name="uq_history_day_key"
        ),
    )
    with op.batch_alter_table("history_day", schema=None) as batch_op:
        batch_op.create_index("ix_history_day_day_site", ["day", "site"], unique=False)
    op.execute(
        f"INSERT INTO history_day ({_KEY}, sent, delivered, packets, unresolved)"  # noqa: S608
        " SELECT site, provider, asset_code, asset_scale, hour / 24,"
        " sum(sent), sum(delivered), sum(packets), sum(unresolved)"
        " FROM history GROUP BY site, provider, asset_code, asset_scale, hour / 24"
    )
    for name, body in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    with op.batch_alter_table("history_day", schema=None) as batch_op:
        batch_op.drop_index("ix_history_day_day_site")
    op.drop_table("history_day")
