"""Payment history: compact hourly aggregates, and the queries the views need.

Owns the ``history`` table. A year of heavy browsing is ~10M packets; storing one row per packet
would cost ~1 GB. Per-packet rows carry nothing a user needs, so packets are aggregated into one
row per (site, provider, source asset, UTC hour, connection) with the sums sent, delivered and
unresolved and the packet count, upserted in the ledger's group commits. A year of heavy use is
then a few tens of thousands of rows.

Invariants: amounts are non-negative integers; ``sent`` is in the row's source asset,
``delivered`` in its destination asset. Local-time series assign each UTC hour to the local
day/month its start falls in (exact for time zones with whole-hour offsets).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, Select, Table, bindparam, func, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from wallet.budgets import Asset
from wallet.store.models import history_day_table as _D
from wallet.store.models import history_table as _T
from wallet.store.repo import EPOCH


def hour_of(t: datetime) -> int:
    """Hours since the epoch (UTC) of aware ``t``."""
    return (t - EPOCH) // timedelta(hours=1)


def hour_start(hour: int) -> datetime:
    return EPOCH + timedelta(hours=hour)


@dataclass(frozen=True, slots=True)
class HistoryDelta:
    """Amounts to add to one aggregate row."""

    site: str
    provider: str
    asset: Asset
    hour: int
    connection: str = ""
    dest_asset: Asset | None = None
    sent: int = 0
    delivered: int = 0
    packets: int = 0
    unresolved: int = 0


_COLUMNS = (
    "site",
    "provider",
    "asset_code",
    "asset_scale",
    "hour",
    "connection",
    "dest_asset_code",
    "dest_asset_scale",
    "sent",
    "delivered",
    "packets",
    "unresolved",
)


def _upsert() -> Any:
    stmt = sqlite_insert(_T).values({c: bindparam(c) for c in _COLUMNS})
    ex = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=[
            _T.c.site,
            _T.c.provider,
            _T.c.asset_code,
            _T.c.asset_scale,
            _T.c.hour,
            _T.c.connection,
        ],
        set_={
            "sent": _T.c.sent + ex.sent,
            "delivered": _T.c.delivered + ex.delivered,
            "packets": _T.c.packets + ex.packets,
            "unresolved": _T.c.unresolved + ex.unresolved,
            "dest_asset_code": func.coalesce(ex.dest_asset_code, _T.c.dest_asset_code),
            "dest_asset_scale": func.coalesce(ex.dest_asset_scale, _T.c.dest_asset_scale),
        },
    )


_UPSERT = _upsert()  # built once: compiled once, run as executemany


def record(conn: Connection, deltas: Iterable[HistoryDelta]) -> None:
    """Upsert ``deltas`` into their aggregate rows (one executemany)."""
    rows = [
        {
            "site": d.site,
            "provider": d.provider,
            "asset_code": d.asset.code,
            "asset_scale": d.asset.scale,
            "hour": d.hour,
            "connection": d.connection,
            "dest_asset_code": d.dest_asset.code if d.dest_asset else None,
            "dest_asset_scale": d.dest_asset.scale if d.dest_asset else None,
            "sent": d.sent,
            "delivered": d.delivered,
            "packets": d.packets,
            "unresolved": d.unresolved,
        }
        for d in deltas
    ]
    if rows:
        conn.execute(_UPSERT, rows)


@dataclass(frozen=True, slots=True)
class SiteTotal:
    site: str
    asset: Asset
    sent: int
    delivered: int
    packets: int
    unresolved: int


def _ceil_hour(t: datetime) -> int:
    return -((EPOCH - t) // timedelta(hours=1))


def _filters(
    start: datetime | None, end: datetime | None, site: str | None, provider: str | None
) -> list[ColumnElement[bool]]:
    return _hour_filters(
        _ceil_hour(start) if start is not None else None,
        _ceil_hour(end) if end is not None else None,
        site,
        provider,
    )


def _hour_filters(
    h0: int | None, h1: int | None, site: str | None, provider: str | None, table: Table = _T
) -> list[ColumnElement[bool]]:
    col = table.c.day if table is _D else table.c.hour
    conds: list[ColumnElement[bool]] = []
    if h0 is not None:
        conds.append(col >= h0)
    if h1 is not None:
        conds.append(col < h1)
    if site is not None:
        conds.append(table.c.site == site)
    if provider is not None:
        conds.append(table.c.provider == provider)
    return conds


def _sums(table: Table, conds: list[ColumnElement[bool]]) -> Select[Any]:
    return (
        select(
            table.c.site,
            table.c.asset_code,
            table.c.asset_scale,
            func.sum(table.c.sent).label("sent"),
            func.sum(table.c.delivered).label("delivered"),
            func.sum(table.c.packets).label("packets"),
            func.sum(table.c.unresolved).label("unresolved"),
        )
        .where(*conds)
        .group_by(table.c.site, table.c.asset_code, table.c.asset_scale)
    )


def totals_by_site(
    conn: Connection,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    site: str | None = None,
    provider: str | None = None,
) -> list[SiteTotal]:
    """Totals per site and source asset for hours starting in ``[start, end)``, largest first.

    Sites whose sums are all zero are left out.

    Whole UTC days inside the range are read from the ``history_day`` rollup, the partial days
    at its edges from the hourly rows: the same sums, ~24x fewer rows for a month.
    """
    h0 = _ceil_hour(start) if start is not None else None
    h1 = _ceil_hour(end) if end is not None else None
    d0 = None if h0 is None else -(-h0 // 24)  # first whole day
    d1 = None if h1 is None else h1 // 24  # first day not wholly inside
    queries: list[Select[Any]] = []
    if d0 is not None and d1 is not None and d0 >= d1:
        queries.append(_sums(_T, _hour_filters(h0, h1, site, provider)))
    else:
        queries.append(_sums(_D, _hour_filters(d0, d1, site, provider, _D)))
        if h0 is not None and d0 is not None and h0 < d0 * 24:
            queries.append(_sums(_T, _hour_filters(h0, d0 * 24, site, provider)))
        if h1 is not None and d1 is not None and d1 * 24 < h1:
            queries.append(_sums(_T, _hour_filters(d1 * 24, h1, site, provider)))
    acc: dict[tuple[str, str, int], list[int]] = {}
    for q in queries:
        for r in conn.execute(q):
            v = acc.setdefault((r.site, r.asset_code, r.asset_scale), [0, 0, 0, 0])
            v[0] += int(r.sent)
            v[1] += int(r.delivered)
            v[2] += int(r.packets)
            v[3] += int(r.unresolved)
    totals = [
        SiteTotal(
            site=k[0],
            asset=Asset(k[1], k[2]),
            sent=v[0],
            delivered=v[1],
            packets=v[2],
            unresolved=v[3],
        )
        for k, v in acc.items()
        if any(v)
    ]
    totals.sort(key=lambda t: (-t.sent, t.site, t.asset.code, t.asset.scale))
    return totals


class Granularity(enum.StrEnum):
    DAY = "day"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """Totals for one local day (or month: the 1st) and source asset."""

    period: date
    asset: Asset
    sent: int
    delivered: int
    packets: int


def series(
    conn: Connection,
    *,
    tz: ZoneInfo,
    granularity: Granularity = Granularity.DAY,
    start: datetime | None = None,
    end: datetime | None = None,
    site: str | None = None,
    provider: str | None = None,
) -> list[SeriesPoint]:
    """Per-day or per-month totals in the user's time zone, oldest first."""
    q = (
        select(
            _T.c.hour,
            _T.c.asset_code,
            _T.c.asset_scale,
            func.sum(_T.c.sent).label("sent"),
            func.sum(_T.c.delivered).label("delivered"),
            func.sum(_T.c.packets).label("packets"),
        )
        .where(*_filters(start, end, site, provider))
        .group_by(_T.c.hour, _T.c.asset_code, _T.c.asset_scale)
    )
    acc: dict[tuple[date, Asset], list[int]] = {}
    for r in conn.execute(q):
        local = hour_start(int(r.hour)).astimezone(tz).date()
        if granularity is Granularity.MONTH:
            local = local.replace(day=1)
        v = acc.setdefault((local, Asset(r.asset_code, r.asset_scale)), [0, 0, 0])
        v[0] += int(r.sent)
        v[1] += int(r.delivered)
        v[2] += int(r.packets)
    return [
        SeriesPoint(period=d, asset=a, sent=v[0], delivered=v[1], packets=v[2])
        for (d, a), v in sorted(acc.items(), key=lambda kv: (kv[0][0], kv[0][1].code))
    ]


def row_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(_T)).scalar() or 0)


def forget_site(conn: Connection, site: str) -> int:
    """Delete ``site``'s history (hourly and daily rows); returns the hourly rows deleted.

    The spend counters stay: what was paid still counts against the global budget.
    """
    removed = conn.execute(_T.delete().where(_T.c.site == site)).rowcount
    conn.execute(_D.delete().where(_D.c.site == site))
    return int(removed or 0)
