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
from wallet.store import repo
from wallet.store.engine import write_txn
from wallet.store.history import HistoryDelta, hour_of, record
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

    A lease is orphaned when it expired and its owner process is gone (same host), or when it
    expired more than ``grace`` ago. Its part not known to be committed is recorded in history as
    ``unresolved`` and stays counted as spent (the bounded under-spend).

    Raises:
        StorageBusy: the database stayed locked past the deadline.
    """
    now_ms = repo.to_ms(now)
    late_ms = repo.to_ms(now - grace)

    def txn(conn: Connection) -> RecoveryReport:
        rows = conn.execute(select(_L).where(_L.c.state == "open", _L.c.expires_at <= now_ms)).all()
        count = unresolved = 0
        for r in rows:
            if r.owner == exclude_owner:
                continue
            if r.expires_at > late_ms and _owner_alive(r.owner):
                continue
            conn.execute(update(_L).where(_L.c.id == r.id).values(state="orphaned"))
            unknown = int(r.amount) - int(r.committed)
            if unknown:
                record(
                    conn,
                    [
                        HistoryDelta(
                            site=r.site,
                            provider=r.provider,
                            asset=Asset(r.asset_code, r.asset_scale),
                            hour=hour_of(now),
                            unresolved=unknown,
                        )
                    ],
                )
            count += 1
            unresolved += unknown
        return RecoveryReport(count, unresolved)

    return write_txn(engine, txn)
