"""Who was paid: one ``payee`` row per link-tag connection or tip, joined to ``history``.

A ``<link rel="monetization">`` session opens one STREAM connection per incoming payment
(renewed about every ten minutes); each gets a row here under the connection name its
``history`` rows carry, with the wallet address, its ``publicName`` and asset, and the
incoming payment (NULL over SPSP). :func:`payee_totals` adds what ``history`` says went over
each such connection, so the History view can say who received what and which was a tip.

Owns the ``payee`` table. Invariants: one row per (site, connection); ``kind`` is ``stream``
or ``tip``; amounts live in ``history`` only.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from wallet.budgets import Asset
from wallet.store.history import _filters as hour_filters
from wallet.store.models import history_table as _H
from wallet.store.models import payee_table as _P
from wallet.store.repo import from_ms, to_ms

__all__ = [
    "PayeeKind",
    "PayeeRecord",
    "PayeeTotal",
    "forget_site",
    "latest_payee",
    "payee_totals",
    "record",
    "short_address",
]

CONNECTION_CHARS = 64  # as history's ``connection`` column


class PayeeKind(enum.StrEnum):
    STREAM = "stream"
    TIP = "tip"


@dataclass(frozen=True, slots=True)
class PayeeRecord:
    """Who one connection pays."""

    site: str
    connection: str
    href: str
    kind: PayeeKind = PayeeKind.STREAM
    wallet_address: str | None = None
    public_name: str | None = None
    asset: Asset | None = None
    incoming_payment: str | None = None
    created_at: datetime | None = None

    def describe(self) -> str:
        """``Alice's blog (wallet.example/alice)``, or the address alone when it has no name."""
        address = short_address(self.wallet_address or self.href)
        return f"{self.public_name} ({address})" if self.public_name else address


@dataclass(frozen=True, slots=True)
class PayeeTotal:
    """One payee with what ``history`` says went to it (``sent`` in the payer's asset,
    ``delivered`` in the receiver's)."""

    payee: PayeeRecord
    sent: int
    delivered: int
    source_asset: Asset | None


def record(conn: Connection, payee: PayeeRecord, now: datetime) -> None:
    """Add ``payee`` (a connection already recorded is left as it is)."""
    stmt = sqlite_insert(_P).values(
        site=payee.site,
        connection=payee.connection[:CONNECTION_CHARS],
        kind=str(payee.kind),
        href=payee.href,
        wallet_address=payee.wallet_address,
        public_name=payee.public_name,
        asset_code=payee.asset.code if payee.asset else None,
        asset_scale=payee.asset.scale if payee.asset else None,
        incoming_payment=payee.incoming_payment,
        created_at=to_ms(payee.created_at or now),
    )
    conn.execute(stmt.on_conflict_do_nothing(index_elements=[_P.c.site, _P.c.connection]))


def _row(r: object) -> PayeeRecord:
    code, scale = getattr(r, "asset_code", None), getattr(r, "asset_scale", None)
    return PayeeRecord(
        site=r.site,  # type: ignore[attr-defined]
        connection=r.connection,  # type: ignore[attr-defined]
        href=r.href,  # type: ignore[attr-defined]
        kind=PayeeKind(r.kind),  # type: ignore[attr-defined]
        wallet_address=r.wallet_address,  # type: ignore[attr-defined]
        public_name=r.public_name,  # type: ignore[attr-defined]
        asset=Asset(code, scale) if code is not None and scale is not None else None,
        incoming_payment=r.incoming_payment,  # type: ignore[attr-defined]
        created_at=from_ms(r.created_at),  # type: ignore[attr-defined]
    )


def latest_payee(conn: Connection, site: str, kind: PayeeKind | None = None) -> PayeeRecord | None:
    """The payee ``site`` paid most recently (by when its connection opened)."""
    q = select(_P).where(_P.c.site == site)
    if kind is not None:
        q = q.where(_P.c.kind == str(kind))
    row = conn.execute(q.order_by(_P.c.created_at.desc(), _P.c.id.desc()).limit(1)).first()
    return _row(row) if row is not None else None


def payee_totals(
    conn: Connection,
    *,
    site: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 200,
) -> list[PayeeTotal]:
    """Payees (newest first) with the sums of their connections' ``history`` rows in hours
    starting in ``[start, end)``; payees with nothing in that range are left out."""
    joined = (
        select(
            _P,
            func.sum(_H.c.sent).label("sent"),
            func.sum(_H.c.delivered).label("delivered"),
            func.min(_H.c.asset_code).label("source_code"),
            func.min(_H.c.asset_scale).label("source_scale"),
        )
        .join(_H, (_H.c.site == _P.c.site) & (_H.c.connection == _P.c.connection))
        .group_by(_P.c.id)
        .order_by(_P.c.created_at.desc(), _P.c.id.desc())
        .limit(limit)
    )
    joined = joined.where(*hour_filters(start, end, site, None))
    out: list[PayeeTotal] = []
    for r in conn.execute(joined):
        if not (r.sent or r.delivered):
            continue
        source = (
            Asset(r.source_code, r.source_scale)
            if r.source_code is not None and r.source_scale is not None
            else None
        )
        out.append(PayeeTotal(_row(r), int(r.sent or 0), int(r.delivered or 0), source))
    return out


def forget_site(conn: Connection, site: str) -> None:
    """Delete ``site``'s payees (with its history)."""
    conn.execute(_P.delete().where(_P.c.site == site))


def short_address(url: str) -> str:
    """``https://wallet.example/alice`` → ``wallet.example/alice``; ``$w.example/a`` →
    ``w.example/a``."""
    text = url.strip()
    if text.startswith("$"):
        return text[1:]
    for prefix in ("https://", "http://"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text.rstrip("/")
