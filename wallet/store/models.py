"""Typed SQLAlchemy 2 models: the schema of the profile database.

Owns the table definitions. The schema itself is created and changed only by the Alembic
migrations in ``wallet/store/migrations`` (never ``create_all`` in the app); a test checks that
the migrated schema matches these models.

Invariants (enforced by the database, not just by code):
- Amounts are integers (SQLite INTEGER, i.e. at most 2**63 - 1) and never negative.
- Times are integer milliseconds since the Unix epoch (UTC).
- At most one handler is active (a partial unique index on ``active = 1``).
- A spend counter, a lease and an account balance never go below zero (CHECK constraints).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Handler(Base):
    """A payment handler a provider registered (``WebMonetization.register``)."""

    __tablename__ = "handler"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    handler_uri: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(Text)
    registered_at: Mapped[int] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("0"))
    __table_args__ = (
        UniqueConstraint("origin", "handler_uri", name="uq_handler_origin_uri"),
        Index(
            "ix_handler_one_active",
            "active",
            unique=True,
            sqlite_where=text("active = 1"),
        ),
    )


class SitePolicy(Base):
    """The user's settings for one site (origin). NULL fields mean "use the default"."""

    __tablename__ = "site_policy"
    site: Mapped[str] = mapped_column(Text, primary_key=True)
    state: Mapped[str] = mapped_column(String(16))  # enabled | paused | blocked
    rate_per_hour: Mapped[int | None] = mapped_column(BigInteger)
    cap_day: Mapped[int | None] = mapped_column(BigInteger)
    cap_month: Mapped[int | None] = mapped_column(BigInteger)
    cap_total: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (
        CheckConstraint("state IN ('enabled', 'paused', 'blocked')", name="state"),
        CheckConstraint(
            "coalesce(rate_per_hour, 0) >= 0 AND coalesce(cap_day, 0) >= 0"
            " AND coalesce(cap_month, 0) >= 0 AND coalesce(cap_total, 0) >= 0",
            name="amounts",
        ),
    )


class Setting(Base):
    """A global setting: a key and a JSON value."""

    __tablename__ = "setting"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Account(Base):
    """The built-in account on one network (sandbox, upstream ...)."""

    __tablename__ = "account"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    network: Mapped[str] = mapped_column(String(100), unique=True)
    address: Mapped[str] = mapped_column(Text)
    asset_code: Mapped[str] = mapped_column(String(16))
    asset_scale: Mapped[int] = mapped_column(Integer)
    balance: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance"),
        CheckConstraint("asset_scale BETWEEN 0 AND 255", name="scale"),
    )


class SpendCounter(Base):
    """Spent-or-leased amount, in budget units, for one scope and period.

    ``scope`` is ``site:<origin>`` or ``global``; ``period`` is ``d:YYYY-MM-DD``, ``m:YYYY-MM``
    (both in the user's time zone) or ``total``. The amount includes every open lease in full,
    so it is always >= what was really paid.
    """

    __tablename__ = "spend_counter"
    scope: Mapped[str] = mapped_column(Text, primary_key=True)
    period: Mapped[str] = mapped_column(String(16), primary_key=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (CheckConstraint("amount >= 0", name="amount"),)


class Lease(Base):
    """A durable budget lease: an amount taken from every limit at once, spent in memory.

    ``state``: ``open`` (owned by a live ledger), ``settled`` (unused part returned) or
    ``orphaned`` (its owner died; the whole unsettled part stays counted as spent).
    """

    __tablename__ = "lease"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    site: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(Text)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    asset_code: Mapped[str] = mapped_column(String(16))
    asset_scale: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)  # source units
    charged: Mapped[int] = mapped_column(BigInteger)  # budget units added to the counters
    committed: Mapped[int] = mapped_column(BigInteger, default=0)  # source units, flushed
    day_key: Mapped[str] = mapped_column(String(16))
    month_key: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16))
    __table_args__ = (
        CheckConstraint("state IN ('open', 'settled', 'orphaned')", name="state"),
        CheckConstraint("amount >= 0 AND charged >= 0 AND committed >= 0", name="amounts"),
        CheckConstraint("committed <= amount", name="committed"),
        Index("ix_lease_state_expires", "state", "expires_at"),
    )


class HistoryBucket(Base):
    """Aggregated payment history: one row per site, provider, asset, hour and connection.

    ``sent`` is in the source asset; ``delivered`` in the destination asset
    (``dest_asset_code``/``dest_asset_scale``); ``unresolved`` is the source amount whose fate is
    unknown (an expired packet or a crashed lease), counted as spent until reconciled.
    """

    __tablename__ = "history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(Text)
    asset_code: Mapped[str] = mapped_column(String(16))
    asset_scale: Mapped[int] = mapped_column(Integer)
    hour: Mapped[int] = mapped_column(Integer)  # hours since the epoch, UTC
    connection: Mapped[str] = mapped_column(String(64))
    dest_asset_code: Mapped[str | None] = mapped_column(String(16))
    dest_asset_scale: Mapped[int | None] = mapped_column(Integer)
    sent: Mapped[int] = mapped_column(BigInteger, default=0)
    delivered: Mapped[int] = mapped_column(BigInteger, default=0)
    packets: Mapped[int] = mapped_column(BigInteger, default=0)
    unresolved: Mapped[int] = mapped_column(BigInteger, default=0)
    __table_args__ = (
        UniqueConstraint(
            "site",
            "provider",
            "asset_code",
            "asset_scale",
            "hour",
            "connection",
            name="uq_history_key",
        ),
        Index("ix_history_hour_site", "hour", "site"),
        Index("ix_history_site_hour", "site", "hour"),  # revision 0002
        CheckConstraint(
            "sent >= 0 AND delivered >= 0 AND packets >= 0 AND unresolved >= 0", name="amounts"
        ),
    )


class HistoryDay(Base):
    """Per-UTC-day sums of ``history`` (site, provider, asset), kept exact by triggers (0003).

    ``day`` is days since the epoch (``hour // 24``). Never written by code: the triggers on
    ``history`` maintain it, so totals over long ranges read ~24x fewer rows.
    """

    __tablename__ = "history_day"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(Text)
    provider: Mapped[str] = mapped_column(Text)
    asset_code: Mapped[str] = mapped_column(String(16))
    asset_scale: Mapped[int] = mapped_column(Integer)
    day: Mapped[int] = mapped_column(Integer)
    sent: Mapped[int] = mapped_column(BigInteger)
    delivered: Mapped[int] = mapped_column(BigInteger)
    packets: Mapped[int] = mapped_column(BigInteger)
    unresolved: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (
        UniqueConstraint(
            "site", "provider", "asset_code", "asset_scale", "day", name="uq_history_day_key"
        ),
        Index("ix_history_day_day_site", "day", "site"),
        CheckConstraint(
            "sent >= 0 AND delivered >= 0 AND packets >= 0 AND unresolved >= 0", name="amounts"
        ),
    )


class Payee(Base):
    """Who one connection paid (revision 0004_link_payees): a ``<link rel="monetization">``
    session's leg or a tip, by the ``connection`` name its ``history`` rows carry.

    ``wallet_address`` (the wallet address's ``id``), ``public_name``, the wallet's asset and
    ``incoming_payment`` are NULL over SPSP; ``kind`` is ``stream`` (paid while read) or
    ``tip`` (a one-time amount the user sent). Text from wallets is stored as given and shown
    as plain text.
    """

    __tablename__ = "payee"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(Text)
    connection: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    href: Mapped[str] = mapped_column(Text)
    wallet_address: Mapped[str | None] = mapped_column(Text)
    public_name: Mapped[str | None] = mapped_column(Text)
    asset_code: Mapped[str | None] = mapped_column(String(16))
    asset_scale: Mapped[int | None] = mapped_column(Integer)
    incoming_payment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (
        UniqueConstraint("site", "connection", name="uq_payee_site_connection"),
        Index("ix_payee_site_created", "site", "created_at"),
        CheckConstraint("kind IN ('stream', 'tip')", name="kind"),
    )


def _table(model: type[Base]) -> Table:
    t = model.__table__
    assert isinstance(t, Table)
    return t


# Core tables, typed as ``Table`` for insert/update/delete statements.
handler_table = _table(Handler)
site_policy_table = _table(SitePolicy)
setting_table = _table(Setting)
account_table = _table(Account)
spend_counter_table = _table(SpendCounter)
lease_table = _table(Lease)
history_table = _table(HistoryBucket)
history_day_table = _table(HistoryDay)
payee_table = _table(Payee)
