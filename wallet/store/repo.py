"""Repositories: typed reads and writes of handlers, policies, settings, accounts and counters.

Every function takes an open :class:`~sqlalchemy.Connection` inside a transaction the caller
opened (``wallet.store.engine.transaction``/``write_txn``), so several of them compose into one
atomic state change. They return frozen dataclasses, never ORM rows or dicts.

Invariants: at most one active handler (also enforced by a partial unique index); counters never
negative (CHECK); settings are JSON values under fixed keys.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from wallet.budgets import Asset, Defaults, GlobalPolicy, SitePolicy, SiteState, Usage
from wallet.store.errors import StorageError
from wallet.store.models import (
    account_table,
    handler_table,
    setting_table,
    site_policy_table,
    spend_counter_table,
)

GLOBAL_SCOPE = "global"
TOTAL_PERIOD = "total"


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_ms(t: datetime) -> int:
    """Milliseconds since the epoch of an aware datetime (exact integer arithmetic)."""
    if t.tzinfo is None:
        raise StorageError("times stored in the database must be timezone-aware")
    return (t - EPOCH) // timedelta(milliseconds=1)


def from_ms(ms: int) -> datetime:
    """The aware UTC datetime of ``ms`` milliseconds since the epoch."""
    return EPOCH + timedelta(milliseconds=ms)


def site_scope(site: str) -> str:
    return f"site:{site}"


# --- handlers -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HandlerInfo:
    id: int
    name: str
    handler_uri: str
    origin: str
    registered_at: datetime
    active: bool


def _handler(row: Any) -> HandlerInfo:
    return HandlerInfo(
        id=row.id,
        name=row.name,
        handler_uri=row.handler_uri,
        origin=row.origin,
        registered_at=from_ms(row.registered_at),
        active=bool(row.active),
    )


_H = handler_table


def add_handler(
    conn: Connection, *, origin: str, name: str, handler_uri: str, now: datetime
) -> tuple[HandlerInfo, bool]:
    """Register a handler; returns it and whether it was already registered.

    The first handler ever registered becomes active.
    """
    row = conn.execute(
        select(_H).where(_H.c.origin == origin, _H.c.handler_uri == handler_uri)
    ).first()
    if row is not None:
        return _handler(row), True
    any_active = conn.execute(select(func.count()).select_from(_H).where(_H.c.active)).scalar()
    new_id = conn.execute(
        insert(_H).values(
            origin=origin,
            name=name,
            handler_uri=handler_uri,
            registered_at=to_ms(now),
            active=not any_active,
        )
    ).inserted_primary_key
    assert new_id is not None
    got = get_handler(conn, int(new_id[0]))
    assert got is not None
    return got, False


def get_handler(conn: Connection, handler_id: int) -> HandlerInfo | None:
    row = conn.execute(select(_H).where(_H.c.id == handler_id)).first()
    return _handler(row) if row is not None else None


def list_handlers(conn: Connection) -> list[HandlerInfo]:
    return [_handler(r) for r in conn.execute(select(_H).order_by(_H.c.registered_at, _H.c.id))]


def active_handler(conn: Connection) -> HandlerInfo | None:
    row = conn.execute(select(_H).where(_H.c.active)).first()
    return _handler(row) if row is not None else None


def activate_handler(conn: Connection, handler_id: int) -> bool:
    """Make ``handler_id`` the one active handler; False if it does not exist."""
    if get_handler(conn, handler_id) is None:
        return False
    conn.execute(update(_H).where(_H.c.active).values(active=False))
    conn.execute(update(_H).where(_H.c.id == handler_id).values(active=True))
    return True


def remove_handler(conn: Connection, handler_id: int) -> bool:
    """Delete a handler; False if it did not exist. Removing the active one leaves none active."""
    return conn.execute(delete(_H).where(_H.c.id == handler_id)).rowcount > 0


# --- site policies --------------------------------------------------------------------------

_P = site_policy_table


def get_policy(conn: Connection, site: str) -> SitePolicy | None:
    row = conn.execute(select(_P).where(_P.c.site == site)).first()
    if row is None:
        return None
    return SitePolicy(
        site=row.site,
        state=SiteState(row.state),
        rate_per_hour=row.rate_per_hour,
        cap_day=row.cap_day,
        cap_month=row.cap_month,
        cap_total=row.cap_total,
    )


def list_policies(conn: Connection) -> list[SitePolicy]:
    sites = conn.execute(select(_P.c.site).order_by(_P.c.site)).scalars().all()
    return [p for s in sites if (p := get_policy(conn, s)) is not None]


def set_policy(conn: Connection, policy: SitePolicy, now: datetime) -> None:
    values = {
        "state": policy.state.value,
        "rate_per_hour": policy.rate_per_hour,
        "cap_day": policy.cap_day,
        "cap_month": policy.cap_month,
        "cap_total": policy.cap_total,
        "updated_at": to_ms(now),
    }
    stmt = sqlite_insert(_P).values(site=policy.site, **values)
    conn.execute(stmt.on_conflict_do_update(index_elements=[_P.c.site], set_=values))


def delete_policy(conn: Connection, site: str) -> bool:
    return conn.execute(delete(_P).where(_P.c.site == site)).rowcount > 0


# --- settings -------------------------------------------------------------------------------

_S = setting_table


def get_setting(conn: Connection, key: str, default: Any = None) -> Any:
    raw = conn.execute(select(_S.c.value).where(_S.c.key == key)).scalar()
    if raw is None:
        return default
    try:
        return json.loads(raw)
    except ValueError as e:
        raise StorageError(f"setting {key!r} holds an unreadable value") from e


def set_setting(conn: Connection, key: str, value: Any) -> None:
    raw = json.dumps(value, sort_keys=True)
    stmt = sqlite_insert(_S).values(key=key, value=raw)
    conn.execute(stmt.on_conflict_do_update(index_elements=[_S.c.key], set_={"value": raw}))


GLOBAL_POLICY_KEY = "global_policy"


def load_global_policy(conn: Connection) -> GlobalPolicy:
    """The global policy (defaults when never saved)."""
    raw = get_setting(conn, GLOBAL_POLICY_KEY)
    if not isinstance(raw, dict):
        return GlobalPolicy()
    try:
        d = raw["defaults"]
        return GlobalPolicy(
            budget_asset=Asset(str(raw["asset_code"]), int(raw["asset_scale"])),
            monthly_budget=_opt_int(raw["monthly_budget"]),
            enabled=bool(raw["enabled"]),
            defaults=Defaults(
                rate_per_hour=int(d["rate_per_hour"]),
                cap_day=_opt_int(d["cap_day"]),
                cap_month=_opt_int(d["cap_month"]),
                cap_total=_opt_int(d["cap_total"]),
            ),
            max_backlog=timedelta(milliseconds=int(raw["max_backlog_ms"])),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise StorageError("the saved global policy is unreadable") from e


def save_global_policy(conn: Connection, g: GlobalPolicy) -> None:
    d = g.defaults
    set_setting(
        conn,
        GLOBAL_POLICY_KEY,
        {
            "asset_code": g.budget_asset.code,
            "asset_scale": g.budget_asset.scale,
            "monthly_budget": g.monthly_budget,
            "enabled": g.enabled,
            "defaults": {
                "rate_per_hour": d.rate_per_hour,
                "cap_day": d.cap_day,
                "cap_month": d.cap_month,
                "cap_total": d.cap_total,
            },
            "max_backlog_ms": g.max_backlog // timedelta(milliseconds=1),
        },
    )


def _opt_int(v: Any) -> int | None:
    return None if v is None else int(v)


# --- accounts -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountInfo:
    id: int
    network: str
    address: str
    asset: Asset
    balance: int


_A = account_table


def _account(row: Any) -> AccountInfo:
    return AccountInfo(
        id=row.id,
        network=row.network,
        address=row.address,
        asset=Asset(row.asset_code, row.asset_scale),
        balance=row.balance,
    )


def upsert_account(
    conn: Connection, *, network: str, address: str, asset: Asset, balance: int, now: datetime
) -> AccountInfo:
    """Create or overwrite the built-in account on ``network``."""
    values = {
        "address": address,
        "asset_code": asset.code,
        "asset_scale": asset.scale,
        "balance": balance,
        "updated_at": to_ms(now),
    }
    stmt = sqlite_insert(_A).values(network=network, **values)
    conn.execute(stmt.on_conflict_do_update(index_elements=[_A.c.network], set_=values))
    got = get_account(conn, network)
    assert got is not None
    return got


def get_account(conn: Connection, network: str) -> AccountInfo | None:
    row = conn.execute(select(_A).where(_A.c.network == network)).first()
    return _account(row) if row is not None else None


def get_account_by_id(conn: Connection, account_id: int) -> AccountInfo | None:
    row = conn.execute(select(_A).where(_A.c.id == account_id)).first()
    return _account(row) if row is not None else None


def list_accounts(conn: Connection) -> list[AccountInfo]:
    return [_account(r) for r in conn.execute(select(_A).order_by(_A.c.id))]


def adjust_balance(conn: Connection, account_id: int, delta: int, now: datetime) -> None:
    """Add ``delta`` (may be negative) to a balance; the CHECK refuses going below zero."""
    conn.execute(
        update(_A)
        .where(_A.c.id == account_id)
        .values(balance=_A.c.balance + delta, updated_at=to_ms(now))
    )


# --- spend counters -------------------------------------------------------------------------

_C = spend_counter_table


def usage(conn: Connection, site: str, day_key: str, month_key: str) -> Usage:
    """Spent-or-leased budget units for ``site`` today/this month/in total, and globally."""
    keys = {
        (site_scope(site), day_key): "site_day",
        (site_scope(site), month_key): "site_month",
        (site_scope(site), TOTAL_PERIOD): "site_total",
        (GLOBAL_SCOPE, month_key): "global_month",
    }
    rows = conn.execute(
        select(_C.c.scope, _C.c.period, _C.c.amount).where(
            _C.c.scope.in_([site_scope(site), GLOBAL_SCOPE]),
            _C.c.period.in_([day_key, month_key, TOTAL_PERIOD]),
        )
    )
    found = {keys[(r.scope, r.period)]: int(r.amount) for r in rows if (r.scope, r.period) in keys}
    return Usage(**found)


def add_to_counters(conn: Connection, site: str, day_key: str, month_key: str, delta: int) -> None:
    """Add ``delta`` budget units (negative to refund) to the site's and the global counters."""
    if delta == 0:
        return
    for scope, period in (
        (site_scope(site), day_key),
        (site_scope(site), month_key),
        (site_scope(site), TOTAL_PERIOD),
        (GLOBAL_SCOPE, month_key),
    ):
        if delta < 0:  # a refund: the row exists (the lease created it); CHECK keeps it >= 0
            conn.execute(
                update(_C)
                .where(_C.c.scope == scope, _C.c.period == period)
                .values(amount=_C.c.amount + delta)
            )
            continue
        stmt = sqlite_insert(_C).values(scope=scope, period=period, amount=delta)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[_C.c.scope, _C.c.period],
                set_={"amount": _C.c.amount + stmt.excluded.amount},
            )
        )


def counter(conn: Connection, scope: str, period: str) -> int:
    v = conn.execute(select(_C.c.amount).where(_C.c.scope == scope, _C.c.period == period)).scalar()
    return int(v or 0)
