"""Crash recovery of ledger leases: the open leases of dead processes become ``orphaned``.

Owns the rule for deciding that a lease's owner is gone and what happens to its money: nothing is
refunded. The part of an orphaned lease not known to be committed stays counted as spent (site
and global counters, account balance) and is recorded in history as ``unresolved`` — the bounded
under-spend documented in :mod:`wallet.ledger`.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, select, update

from wallet.budgets import Asset
from wallet.errors import WalletError
from wallet.store import repo
from wallet.store.engine import write_txn
from wallet.store.history import HistoryDelta, hour_of, record
from wallet.store.models import history_table
from wallet.store.models import lease_table as _L


@dataclass(frozen=True, slots=True)
class RecoveryReport:
    orphaned: int
    unresolved: int  # source units whose fate is unknown, kept counted as spent


def _owner_alive(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid_s = rest.partition(":")[0]
    if host != socket.gethostname()[:32] or not pid_s.isdigit():
        return True  # cannot tell: wait for the grace period
    try:
        os.kill(int(pid_s), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(
    engine: Engine,
    now: datetime,
    *,
    grace: timedelta = timedelta(hours=1),
    exclude_owner: str | None = None,
) -> RecoveryReport:
    """Mark the open leases of dead processes ``orphaned``; never refunds anything.

    A lease is orphaned when its owner process is gone (same host: at once, expired or not — a
    dead process commits nothing more), or when it expired more than ``grace`` ago (owner on
    another host, or unknown). Its part not known to be committed is recorded in history as
    ``unresolved`` and stays counted as spent (the bounded under-spend).

    Raises:
        StorageBusy: the database stayed locked past the deadline.
    """
    late_ms = repo.to_ms(now - grace)
    now_ms = repo.to_ms(now)

    def txn(conn: Connection) -> RecoveryReport:
        rows = conn.execute(select(_L).where(_L.c.state == "open")).all()
        count = unresolved = 0
        for r in rows:
            if r.owner == exclude_owner:
                continue
            if r.expires_at > late_ms and _owner_alive(r.owner):
                continue
            # ``expires_at`` becomes the moment the fate became unknown (the history key that
            # :func:`reconcile` finds again).
            when = min(int(r.expires_at), now_ms)
            conn.execute(
                update(_L).where(_L.c.id == r.id).values(state="orphaned", expires_at=when)
            )
            unknown = int(r.amount) - int(r.committed)
            if unknown:
                record(
                    conn,
                    [
                        HistoryDelta(
                            site=r.site,
                            provider=r.provider,
                            asset=Asset(r.asset_code, r.asset_scale),
                            hour=hour_of(repo.from_ms(when)),
                            unresolved=unknown,
                        )
                    ],
                )
            count += 1
            unresolved += unknown
        return RecoveryReport(count, unresolved)

    return write_txn(engine, txn)


@dataclass(frozen=True, slots=True)
class OrphanedLease:
    """A crashed process's lease whose ``unknown`` source units stay counted as spent."""

    id: int
    site: str
    provider: str
    asset: Asset
    unknown: int
    since: datetime


def orphaned_leases(conn: Connection) -> list[OrphanedLease]:
    """Orphaned leases with an unknown part, oldest first."""
    rows = conn.execute(
        select(_L)
        .where(_L.c.state == "orphaned", _L.c.amount > _L.c.committed)
        .order_by(_L.c.expires_at, _L.c.id)
    )
    return [
        OrphanedLease(
            id=int(r.id),
            site=r.site,
            provider=r.provider,
            asset=Asset(r.asset_code, r.asset_scale),
            unknown=int(r.amount) - int(r.committed),
            since=repo.from_ms(int(r.expires_at)),
        )
        for r in rows
    ]


class ReconcileError(WalletError):
    """The lease is not orphaned, or the amount paid is outside what was unknown."""


def reconcile(engine: Engine, lease_id: int, *, paid: int, now: datetime) -> int:
    """Close an orphaned lease with outside evidence of what its unknown part really paid.

    For the built-in account the evidence is the upstream account's own statement; without
    evidence, never call this (the lease simply stays counted as spent). ``paid`` source units of
    the unknown part become ``sent``; the rest goes back to the counters and the balance.
    Returns the source units given back.

    Raises:
        ReconcileError: no such orphaned lease, or ``paid`` is negative or above the unknown part.
        StorageBusy: the database stayed locked past the deadline.
    """

    def txn(conn: Connection) -> int:
        r = conn.execute(select(_L).where(_L.c.id == lease_id, _L.c.state == "orphaned")).first()
        if r is None:
            raise ReconcileError(f"lease {lease_id} is not an orphaned lease")
        amount, committed, charged = int(r.amount), int(r.committed), int(r.charged)
        unknown = amount - committed
        if not 0 <= paid <= unknown:
            raise ReconcileError(f"paid must be between 0 and {unknown}")
        keep = committed + paid
        # Charged was ceil(amount x rate): keep the proportional part, rounded up (conservative).
        new_charged = -((-charged * keep) // amount) if amount else 0
        repo.add_to_counters(conn, r.site, r.day_key, r.month_key, new_charged - charged)
        if r.account_id is not None and amount > keep:
            repo.adjust_balance(conn, int(r.account_id), amount - keep, now)
        conn.execute(
            update(_L)
            .where(_L.c.id == lease_id)
            .values(state="settled", amount=keep, committed=keep, charged=new_charged)
        )
        hour = hour_of(repo.from_ms(int(r.expires_at)))
        h = history_table
        conn.execute(
            update(h)
            .where(
                h.c.site == r.site,
                h.c.provider == r.provider,
                h.c.asset_code == r.asset_code,
                h.c.asset_scale == r.asset_scale,
                h.c.hour == hour,
                h.c.connection == "",
            )
            .values(unresolved=h.c.unresolved - unknown, sent=h.c.sent + paid)
        )
        return amount - keep

    return write_txn(engine, txn)
