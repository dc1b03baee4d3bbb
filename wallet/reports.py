"""Reports over the payment history: pages of rows for a lazy table, CSV, distinct sites.

Owns the read side the History view and ``trickle history`` share, so both show the same rows:
a :class:`HistoryReader` over the profile's database (its own engine: reads are plain
``BEGIN`` transactions, safe under WAL while the browser writes), the CSV layout, and the
user's time zone.

Invariants: one history row is one aggregate row of ``wallet.store.history`` (site, provider,
source asset, UTC hour, connection); amounts stay ``int`` and become text only through
:mod:`wallet.amounts`; paging never loads the whole table — a page near the end is read in
reverse order, so "scroll to the last row" costs as much as "show the first".
"""

from __future__ import annotations

import contextlib
import csv
import enum
import io
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, Engine, Select, func, select

from wallet.amounts import decimal_string
from wallet.budgets import Asset, day_bounds, month_bounds
from wallet.store.engine import transaction
from wallet.store.history import Granularity, SeriesPoint, SiteTotal, hour_of, hour_start
from wallet.store.models import history_table as _T
from wallet.store.models import payee_table as _P
from wallet.store.payees import PayeeKind, PayeeRecord
from wallet.store.repo import EPOCH


def local_zone() -> ZoneInfo:
    """The user's time zone: ``$TZ``, else ``/etc/localtime``, else ``/etc/timezone``, else UTC."""
    candidates: list[str] = []
    if tz := os.environ.get("TZ", "").lstrip(":"):
        candidates.append(tz)
    try:
        link = os.readlink("/etc/localtime")
        if "zoneinfo/" in link:
            candidates.append(link.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text(encoding="utf-8").strip())
    for name in candidates:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


class SortKey(enum.StrEnum):
    TIME = "time"
    SITE = "site"
    PROVIDER = "provider"
    SENT = "sent"
    DELIVERED = "delivered"
    PACKETS = "packets"
    UNRESOLVED = "unresolved"
    PAYEE = "payee"


_SORT_COLUMNS = {
    SortKey.TIME: _T.c.hour,
    SortKey.SITE: _T.c.site,
    SortKey.PROVIDER: _T.c.provider,
    SortKey.SENT: _T.c.sent,
    SortKey.DELIVERED: _T.c.delivered,
    SortKey.PACKETS: _T.c.packets,
    SortKey.UNRESOLVED: _T.c.unresolved,
    SortKey.PAYEE: _P.c.public_name,
}


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    """Which rows: one site (exact origin), one provider, hours starting in ``[start, end)``."""

    site: str | None = None
    provider: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = []
        if self.start is not None:
            conds.append(_T.c.hour >= -((EPOCH - self.start) // timedelta(hours=1)))  # ceil
        if self.end is not None:
            conds.append(_T.c.hour < -((EPOCH - self.end) // timedelta(hours=1)))
        if self.site is not None:
            conds.append(_T.c.site == self.site)
        if self.provider is not None:
            conds.append(_T.c.provider == self.provider)
        return conds


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One aggregate row: what went to ``site`` through ``provider`` in one UTC hour."""

    id: int
    start: datetime  # the hour's start, UTC
    site: str
    provider: str
    asset: Asset
    sent: int
    delivered: int
    dest_asset: Asset | None
    packets: int
    unresolved: int
    payee: PayeeRecord | None = None
    """Who the row's connection paid (link-tag sessions and tips; ``None`` for draft-4)."""


_COLUMNS = (
    _T.c.id,
    _T.c.hour,
    _T.c.site,
    _T.c.provider,
    _T.c.asset_code,
    _T.c.asset_scale,
    _T.c.sent,
    _T.c.delivered,
    _T.c.dest_asset_code,
    _T.c.dest_asset_scale,
    _T.c.packets,
    _T.c.unresolved,
    _P.c.connection.label("payee_connection"),
    _P.c.kind.label("payee_kind"),
    _P.c.href.label("payee_href"),
    _P.c.wallet_address.label("payee_wallet"),
    _P.c.public_name.label("payee_name"),
    _P.c.asset_code.label("payee_asset_code"),
    _P.c.asset_scale.label("payee_asset_scale"),
    _P.c.incoming_payment.label("payee_incoming_payment"),
)
# Each history row with its payee, if its connection has one (a unique index lookup per row).
_WITH_PAYEE = _T.outerjoin(_P, (_P.c.site == _T.c.site) & (_P.c.connection == _T.c.connection))


def _payee(r: Any) -> PayeeRecord | None:
    if r.payee_connection is None:
        return None
    code, scale = r.payee_asset_code, r.payee_asset_scale
    return PayeeRecord(
        site=r.site,
        connection=r.payee_connection,
        href=r.payee_href,
        kind=PayeeKind(r.payee_kind),
        wallet_address=r.payee_wallet,
        public_name=r.payee_name,
        asset=Asset(code, int(scale)) if code is not None and scale is not None else None,
        incoming_payment=r.payee_incoming_payment,
    )


def _row(r: Any) -> HistoryRow:
    dest = (
        Asset(r.dest_asset_code, r.dest_asset_scale)
        if r.dest_asset_code is not None and r.dest_asset_scale is not None
        else None
    )
    return HistoryRow(
        id=int(r.id),
        start=hour_start(int(r.hour)),
        site=r.site,
        provider=r.provider,
        asset=Asset(r.asset_code, int(r.asset_scale)),
        sent=int(r.sent),
        delivered=int(r.delivered),
        dest_asset=dest,
        packets=int(r.packets),
        unresolved=int(r.unresolved),
        payee=_payee(r),
    )


class HistoryReader:
    """Read-only queries of the history table for views and scripts.

    ``before_read`` runs before each query: in the app it writes the ledger's payments that
    are not in history yet (``WalletService.flush_pending``), so a view never lags them.
    """

    def __init__(self, engine: Engine, *, before_read: Callable[[], object] | None = None) -> None:
        self._engine = engine
        self._before_read = before_read

    def _sync(self) -> None:
        if self._before_read is not None:
            self._before_read()

    @property
    def engine(self) -> Engine:
        return self._engine

    def count(self, flt: HistoryFilter = HistoryFilter()) -> int:
        """How many rows match."""
        self._sync()
        q = select(func.count()).select_from(_T).where(*flt.conditions())
        with transaction(self._engine, readonly=True) as conn:
            return int(conn.execute(q).scalar() or 0)

    def _ordered(self, flt: HistoryFilter, key: SortKey, descending: bool) -> Select[Any]:
        col = _SORT_COLUMNS[key]
        order = [col.desc(), _T.c.id.desc()] if descending else [col.asc(), _T.c.id.asc()]
        return select(*_COLUMNS).select_from(_WITH_PAYEE).where(*flt.conditions()).order_by(*order)

    def page(
        self,
        offset: int,
        limit: int,
        *,
        flt: HistoryFilter = HistoryFilter(),
        key: SortKey = SortKey.TIME,
        descending: bool = True,
        total: int | None = None,
    ) -> list[HistoryRow]:
        """Rows ``[offset, offset + limit)`` in the given order.

        With ``total`` (the current :meth:`count`), a page in the second half is read in the
        opposite order from the end, so SQLite never steps over more than half the table.
        """
        if limit <= 0 or offset < 0:
            return []
        self._sync()
        with transaction(self._engine, readonly=True) as conn:
            if total is not None and offset + limit > total // 2:
                first = max(0, total - offset - limit)
                count = min(limit, total - offset)
                if count <= 0:
                    return []
                q = self._ordered(flt, key, not descending).offset(first).limit(count)
                rows = [_row(r) for r in conn.execute(q)]
                rows.reverse()
                return rows
            q = self._ordered(flt, key, descending).offset(offset).limit(limit)
            return [_row(r) for r in conn.execute(q)]

    def iter_rows(
        self, flt: HistoryFilter = HistoryFilter(), *, chunk: int = 5_000
    ) -> Iterator[HistoryRow]:
        """Every matching row, oldest first (then by site), read in chunks by key."""
        self._sync()
        after: tuple[int, str, int] | None = None
        while True:
            q = select(*_COLUMNS).select_from(_WITH_PAYEE).where(*flt.conditions())
            if after is not None:
                h, s, i = after
                q = q.where(
                    (_T.c.hour > h)
                    | ((_T.c.hour == h) & (_T.c.site > s))
                    | ((_T.c.hour == h) & (_T.c.site == s) & (_T.c.id > i))
                )
            q = q.order_by(_T.c.hour, _T.c.site, _T.c.id).limit(chunk)
            with transaction(self._engine, readonly=True) as conn:
                rows = [_row(r) for r in conn.execute(q)]
            yield from rows
            if len(rows) < chunk:
                return
            last = rows[-1]
            after = (hour_of(last.start), last.site, last.id)

    def sites(self) -> list[str]:
        """Every site that has history, sorted."""
        self._sync()
        q = select(_T.c.site).distinct().order_by(_T.c.site)
        with transaction(self._engine, readonly=True) as conn:
            return [str(s) for s in conn.execute(q).scalars()]

    def providers(self) -> list[str]:
        """Every provider that has history, sorted."""
        self._sync()
        q = select(_T.c.provider).distinct().order_by(_T.c.provider)
        with transaction(self._engine, readonly=True) as conn:
            return [str(s) for s in conn.execute(q).scalars()]


# --- CSV ---------------------------------------------------------------------------------------

CSV_HEADER = (
    "start",
    "site",
    "provider",
    "asset",
    "sent",
    "delivered",
    "delivered_asset",
    "packets",
    "unresolved",
)


def csv_record(row: HistoryRow, tz: ZoneInfo) -> tuple[str, ...]:
    """One CSV record: ISO 8601 local start, amounts as decimal strings at their scale."""
    dest = row.dest_asset
    return (
        row.start.astimezone(tz).isoformat(timespec="seconds"),
        row.site,
        row.provider,
        row.asset.code,
        decimal_string(row.sent, row.asset.scale),
        decimal_string(row.delivered, dest.scale) if dest is not None else "",
        dest.code if dest is not None else "",
        str(row.packets),
        decimal_string(row.unresolved, row.asset.scale),
    )


def write_csv(rows: Sequence[HistoryRow] | Iterator[HistoryRow], out: TextIO, tz: ZoneInfo) -> int:
    """Write the header and ``rows`` (RFC 4180, CRLF line ends); returns the row count."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    n = 0
    for row in rows:
        writer.writerow(csv_record(row, tz))
        n += 1
    return n


def csv_text(rows: Sequence[HistoryRow] | Iterator[HistoryRow], tz: ZoneInfo) -> str:
    buf = io.StringIO()
    write_csv(rows, buf, tz)
    return buf.getvalue()


__all__ = [
    "CSV_HEADER",
    "Granularity",
    "HistoryFilter",
    "HistoryReader",
    "HistoryRow",
    "PayeeKind",
    "PayeeRecord",
    "SeriesPoint",
    "SiteSpend",
    "SiteTotal",
    "SortKey",
    "csv_record",
    "csv_text",
    "local_zone",
    "site_spend",
    "spend_by_site",
    "write_csv",
]


# --- spend per site (over the service's history queries) ----------------------------------------


class _Totals(Protocol):
    def site_totals(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        site: str | None = None,
        provider: str | None = None,
    ) -> list[SiteTotal]: ...


@dataclass(frozen=True, slots=True)
class SiteSpend:
    """What went to one site today, this month and in total (source units, per asset)."""

    site: str
    today: dict[Asset, int]
    month: dict[Asset, int]
    total: dict[Asset, int]


def _by_asset(totals: Sequence[SiteTotal]) -> dict[Asset, int]:
    out: dict[Asset, int] = {}
    for t in totals:
        out[t.asset] = out.get(t.asset, 0) + t.sent
    return out


def site_spend(service: _Totals, site: str, now: datetime, tz: ZoneInfo) -> SiteSpend:
    """Today's, this month's and all-time spend of ``site`` (local days and months)."""
    d0, d1 = day_bounds(now, tz)
    m0, m1 = month_bounds(now, tz)
    return SiteSpend(
        site=site,
        today=_by_asset(service.site_totals(start=d0, end=d1, site=site)),
        month=_by_asset(service.site_totals(start=m0, end=m1, site=site)),
        total=_by_asset(service.site_totals(site=site)),
    )


def spend_by_site(
    service: _Totals, now: datetime, tz: ZoneInfo
) -> dict[str, tuple[dict[Asset, int], dict[Asset, int]]]:
    """For every site with history: (this month, in total) per asset — two queries in all."""
    m0, m1 = month_bounds(now, tz)
    out: dict[str, tuple[dict[Asset, int], dict[Asset, int]]] = {}
    for t in service.site_totals():
        out.setdefault(t.site, ({}, {}))[1][t.asset] = t.sent
    for t in service.site_totals(start=m0, end=m1):
        out.setdefault(t.site, ({}, {}))[0][t.asset] = t.sent
    return out
