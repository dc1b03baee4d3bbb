"""The ledger: reserve before a packet leaves, commit on Fulfill, release on Reject.

Owns the ``lease`` table and the spend counters; enforces the site's caps, the global monthly
budget and (for the built-in account) its balance, atomically, across processes and crashes.

Design — durable budget leases:

- A *lease* is taken in one ``BEGIN IMMEDIATE`` transaction that re-reads the policy and the
  counters and adds the whole lease amount to every counter it is limited by (site day/month/total
  and the global month) and takes it from the account balance. From then on, until the lease is
  settled, the database already counts the whole lease as spent.
- Packets are reserved from an open lease *in memory* (no I/O): reserve/commit/release cost
  microseconds, so the ledger reaches far more than 1,000 reserve+commit/s with
  ``synchronous=FULL``; the database sees one transaction per lease and one *group commit* per
  ``flush_interval`` (which writes the aggregated history and the lease's committed amount).
- Settling a lease (idle, expired, day roll-over, pause, close) returns the unused part to the
  counters and the balance in one transaction. Only amounts never reserved, or released after a
  Reject, are ever returned; a committed or *expired* (unknown fate) amount never is.

Invariants:
- At every moment, for every limit: durable counter = settled spending + open leases in full
  >= what was really paid; and counter <= limit (checked in the same transaction that raises it).
  In-memory reservations + commits of a lease never exceed its amount.
- After ``kill -9`` the open leases of the dead process stay counted as spent in full (they are
  marked ``orphaned`` by :func:`recover`, their unknown part recorded as ``unresolved`` history).
  Nothing is refunded that might have been paid.
- Each reservation resolves exactly once (commit, release or expire); a second resolution raises
  :class:`ReservationError`.
- A busy database raises :class:`~wallet.store.errors.StorageBusy`; it is never reported as a
  refusal.

The bound (documented promise): a process killed at any moment makes the user *under*-spend by
at most the unused part of its open leases — one per (site, provider, asset, account) used within
the last ``lease_ttl`` (plus, across a day roll-over or a pause, a lease being retired while its
last packets are in flight) — each at most ``lease_size`` source units (default 16 packets' worth;
the service uses one minute of the site's rate of pay, so a crash costs at most about a minute of
payments per site being paid). Payments committed after the last group commit (at most
``flush_interval``) are still counted as spent, but show in history as ``unresolved`` instead of
``sent``. Idle leases go back after ``lease_ttl``. Another process's pause or block takes effect
within ``flush_interval``; a lowered cap cannot take back leases already granted.

Public methods hold one lock, so several threads may share a ledger. Use one ``Ledger`` per
process (its owner id names the process), created after any ``fork``.
"""

from __future__ import annotations

import enum
import itertools
import os
import secrets
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, insert, update

from wallet.budgets import Asset, Rate, Reason, Usage, effective, period_keys, remaining
from wallet.errors import WalletError
from wallet.ledger_recovery import ReconcileError, RecoveryReport, reconcile, recover
from wallet.store import repo
from wallet.store.engine import transaction, write_txn
from wallet.store.history import HistoryDelta, hour_of, record
from wallet.store.models import lease_table as _L


class LedgerError(WalletError):
    """Base of ledger errors."""


class ReservationError(LedgerError):
    """A reservation was resolved twice, or does not belong to this ledger."""


class Fate(enum.StrEnum):
    FULFILLED = "fulfilled"
    REJECTED = "rejected"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Reservation:
    """Source units set aside for one packet; resolve it exactly once."""

    id: int
    site: str
    provider: str
    asset: Asset
    amount: int
    connection: str
    lease_id: int
    owner: str  # the ledger that made it; another ledger refuses to resolve it


@dataclass(frozen=True, slots=True)
class Refusal:
    """Nothing (or less than the minimum) may be sent; ``available`` source units were left.

    ``retry_after``: for ``NO_ACCRUAL`` while the site is active, how long until enough has
    accrued; ``None`` when only a change can help (the site becoming active, a new policy, a
    reservation given back): the service's ``site_listeners`` say when.
    """

    reason: Reason
    available: int
    retry_after: timedelta | None = None


@dataclass(frozen=True, slots=True)
class _Key:
    site: str
    provider: str
    asset: Asset
    account_id: int | None


_HistKey = tuple[int, str, Asset | None]  # hour, connection, destination asset


@dataclass(slots=True)
class _Lease:
    id: int
    key: _Key
    rate: Rate
    amount: int
    charged: int
    day_key: str
    month_key: str
    expires_at: datetime
    used: int = 0  # committed + unknown fate, in memory
    flushed: int = 0  # ``used`` as of the last group commit
    inflight: int = 0
    retired: bool = False
    touched: bool = False  # reserved from since the last group commit (renew, don't expire)
    pending: dict[_HistKey, list[int]] = field(default_factory=dict)

    @property
    def free(self) -> int:
        return self.amount - self.used - self.inflight


@dataclass(frozen=True, slots=True)
class _Grant:
    lease_id: int
    amount: int
    charged: int
    rate: Rate


def make_owner_id() -> str:
    """An id for this process: host, pid and a random part (at most 64 characters)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(6)}"


# The group commit's period. A page pays about one packet every 2 s (the browser paces them),
# so a shorter period would mean a write transaction per packet; a crash shows at most this
# long of payments as ``unresolved`` (still counted as spent).
FLUSH_INTERVAL = timedelta(seconds=5)


class Ledger:
    """Reserve/commit/release against durable leases. Time always comes in as ``now``."""

    def __init__(
        self,
        engine: Engine,
        tz: ZoneInfo,
        *,
        owner: str | None = None,
        lease_ttl: timedelta = timedelta(seconds=30),
        flush_interval: timedelta = FLUSH_INTERVAL,
        explicit_rate: Rate | None = None,
        busy_deadline_s: float = 30.0,
    ) -> None:
        self._engine = engine
        self._tz = tz
        self.owner = owner or make_owner_id()
        self._ttl = lease_ttl
        self._flush_interval = flush_interval
        self._explicit_rate = explicit_rate
        self._busy_deadline = busy_deadline_s
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._active: dict[_Key, _Lease] = {}
        self._retiring: dict[int, _Lease] = {}
        self._by_id: dict[int, _Lease] = {}
        self._open: dict[int, Reservation] = {}
        self._last_flush: datetime | None = None
        self._refused: dict[_Key, tuple[Refusal, datetime]] = {}

    # --- the packet path (in memory unless a lease is needed) ------------------------------

    def reserve(
        self,
        *,
        site: str,
        provider: str,
        asset: Asset,
        amount: int,
        now: datetime,
        min_amount: int | None = None,
        account_id: int | None = None,
        connection: str = "",
        lease_size: int | None = None,
        quantum: int = 1,
    ) -> Reservation | Refusal:
        """Set aside up to ``amount`` (at least ``min_amount``, default all of it), in whole
        multiples of ``quantum`` when less than ``amount`` is free (``amount`` and
        ``min_amount`` should be multiples of it: a receiver's learnt minimum).

        Returns a :class:`Reservation` (possibly smaller than ``amount`` but >= ``min_amount``)
        or a :class:`Refusal` saying which limit stopped it.

        Raises:
            StorageBusy: the database stayed locked past the deadline.
            StorageError: any other database failure.
            NoRateError: the budgets are in another asset and no rate was given.
        """
        if amount <= 0:
            raise LedgerError("a reservation needs a positive amount")
        need = amount if min_amount is None else max(1, min(min_amount, amount))
        key = _Key(site, provider, asset, account_id)
        with self._lock:
            lease = self._usable(key, now)
            if lease is None or lease.free < amount:
                cached = self._refused.get(key)
                refusal: Refusal | None = None
                if cached is not None and now < cached[1] and need > cached[0].available:
                    # Refused recently for less than ``need``: do not ask the database again.
                    if lease is None or lease.free < need:
                        return Refusal(cached[0].reason, lease.free if lease else 0)
                else:
                    want = max(lease_size or amount * 16, amount)
                    refusal = self._acquire(
                        key, lease, want=want, amount=amount, need=need, now=now
                    )
                    lease = self._active.get(key)
                if lease is None or lease.free < need:
                    refusal = refusal or Refusal(Reason.BALANCE, 0)
                    # Budgets rarely free up: do not ask the database again for a while.
                    self._refused[key] = (refusal, now + self._flush_interval)
                    return refusal
                self._refused.pop(key, None)
            grant = min(amount, lease.free)
            if grant < amount and quantum > 1 and grant - grant % quantum >= need:
                grant -= grant % quantum
            lease.inflight += grant
            lease.touched = True
            res = Reservation(
                next(self._ids), site, provider, asset, grant, connection[:64], lease.id, self.owner
            )
            self._open[res.id] = res
            return res

    def commit(
        self,
        res: Reservation,
        now: datetime,
        *,
        delivered: int = 0,
        dest_asset: Asset | None = None,
    ) -> None:
        """The packet was fulfilled (the Fulfill was verified by the caller): it is spent.

        Raises:
            ReservationError: already resolved.
        """
        self._resolve(res, Fate.FULFILLED, now, delivered, dest_asset)

    def commit_part(
        self,
        res: Reservation,
        now: datetime,
        *,
        spent: int,
        asset: Asset,
        delivered: int = 0,
        dest_asset: Asset | None = None,
    ) -> None:
        """Part of the reservation was paid: ``spent`` (in ``asset``, which must be the
        reservation's) is committed, the rest released, in one step: no moment sees both or
        neither. ``spent`` = 0 is a release, ``spent`` = the whole amount a commit.

        Crash-safe as every resolution is: until the next group commit writes the committed
        part (history and the lease's ``committed``, one transaction), the database counts
        the whole lease as spent, and a crash before then leaves it so (orphaned,
        ``unresolved``) — never less than was paid.

        Raises:
            LedgerError: ``spent`` is negative, more than reserved, or in another asset.
            ReservationError: already resolved.
        """
        if asset != res.asset:
            raise LedgerError(
                f"a part of a {res.asset.code}/{res.asset.scale} reservation cannot be "
                f"committed in {asset.code}/{asset.scale}"
            )
        if not 0 <= spent <= res.amount:
            raise LedgerError(f"{spent} is not a part of a reservation of {res.amount}")
        self._resolve(res, Fate.FULFILLED, now, delivered, dest_asset, spent=spent)

    def release(self, res: Reservation, now: datetime) -> None:
        """The packet was rejected: nothing was paid, the amount is free again.

        Raises:
            ReservationError: already resolved.
        """
        self._resolve(res, Fate.REJECTED, now, 0, None)

    def expire(self, res: Reservation, now: datetime) -> None:
        """No answer before expiry: fate unknown, counted as spent (``unresolved``).

        Raises:
            ReservationError: already resolved.
        """
        self._resolve(res, Fate.UNKNOWN, now, 0, None)

    def _resolve(
        self,
        res: Reservation,
        fate: Fate,
        now: datetime,
        delivered: int,
        dest: Asset | None,
        *,
        spent: int | None = None,
    ) -> None:
        """Resolve ``res``: of its amount, ``spent`` (default: all of it unless rejected) is
        used — sent or, with ``UNKNOWN``, unresolved — and the rest is free again."""
        used = (0 if fate is Fate.REJECTED else res.amount) if spent is None else spent
        with self._lock:
            if res.owner != self.owner or self._open.get(res.id) != res:
                raise ReservationError(f"reservation {res.id} is not open in this ledger")
            del self._open[res.id]
            lease = self._by_id[res.lease_id]
            lease.inflight -= res.amount
            if used:
                lease.used += used
                hk = (hour_of(now), res.connection, dest if fate is Fate.FULFILLED else None)
                row = lease.pending.setdefault(hk, [0, 0, 0, 0])
                if fate is Fate.FULFILLED:
                    row[0] += used
                    row[1] += delivered
                    row[2] += 1
                else:
                    row[3] += used
            if self._last_flush is None:
                self._last_flush = now
            elif now - self._last_flush >= self._flush_interval:
                self.flush(now)

    # --- leases ------------------------------------------------------------------------------

    def _usable(self, key: _Key, now: datetime) -> _Lease | None:
        lease = self._active.get(key)
        if lease is None:
            return None
        day, month = period_keys(now, self._tz)
        if now >= lease.expires_at or lease.day_key != day or lease.month_key != month:
            self._retire(lease)
            return None
        return lease

    def _retire(self, lease: _Lease) -> None:
        lease.retired = True
        if self._active.get(lease.key) is lease:
            del self._active[lease.key]
        self._retiring[lease.id] = lease

    def _rate(self, asset: Asset, budget: Asset) -> Rate:
        return Rate.between(asset, budget, self._explicit_rate)

    def _acquire(
        self,
        key: _Key,
        current: _Lease | None,
        *,
        want: int,
        amount: int,
        need: int,
        now: datetime,
    ) -> Refusal | None:
        """Extend ``current`` or open a new lease; also group-commits everything pending.

        All checks and writes happen in one ``BEGIN IMMEDIATE`` transaction; memory is only
        updated after it committed (the transaction function may be re-run while busy).
        """
        day, month = period_keys(now, self._tz)
        expires = now + self._ttl
        have = current.free if current else 0
        self._retire_idle(now)

        def txn(conn: Connection) -> _Grant | Refusal:
            self._write_pending(conn, now)
            glob = repo.load_global_policy(conn)
            eff = effective(repo.get_policy(conn, key.site), glob.defaults)
            allow = remaining(eff, glob, repo.usage(conn, key.site, day, month))
            if allow.reason is not None:
                return Refusal(allow.reason, have)
            rate = self._rate(key.asset, glob.budget_asset)
            grant, limit = want, allow.limit
            if allow.amount is not None and rate.affordable(allow.amount) < grant:
                grant = rate.affordable(allow.amount)
            if key.account_id is not None:
                acct = repo.get_account_by_id(conn, key.account_id)
                balance = acct.balance if acct is not None else 0
                if balance < grant:
                    grant, limit = balance, Reason.BALANCE
            if grant <= 0 or have + grant < need:
                return Refusal(limit or Reason.BALANCE, have + max(grant, 0))
            if current is not None:
                charged = rate.charge(current.amount + grant)
                extended = conn.execute(
                    update(_L)
                    .where(_L.c.id == current.id, _L.c.state == "open")
                    .values(
                        amount=current.amount + grant,
                        charged=charged,
                        expires_at=repo.to_ms(expires),
                    )
                ).rowcount
                if extended:
                    repo.add_to_counters(conn, key.site, day, month, charged - current.charged)
                    if key.account_id is not None:
                        repo.adjust_balance(conn, key.account_id, -grant, now)
                    return _Grant(current.id, grant, charged, rate)
                # Orphaned under us (we stalled past the grace period): open a new lease.
            return self._new_lease(
                conn, key, rate=rate, grant=grant, periods=(day, month), now=now, expires=expires
            )

        got = write_txn(self._engine, txn, deadline_s=self._busy_deadline)
        self._after_write(now)
        if isinstance(got, Refusal):
            return got
        if current is not None and got.lease_id == current.id:
            current.amount += got.amount
            current.charged = got.charged
            current.expires_at = expires
        else:
            if current is not None:
                self._retire(current)
            lease = _Lease(
                got.lease_id, key, got.rate, got.amount, got.charged, day, month, expires
            )
            self._active[key] = lease
            self._by_id[lease.id] = lease
        return None

    def _new_lease(
        self,
        conn: Connection,
        key: _Key,
        *,
        rate: Rate,
        grant: int,
        periods: tuple[str, str],
        now: datetime,
        expires: datetime,
    ) -> _Grant:
        charged = rate.charge(grant)
        new_id = conn.execute(
            insert(_L).values(
                owner=self.owner,
                site=key.site,
                provider=key.provider,
                account_id=key.account_id,
                asset_code=key.asset.code,
                asset_scale=key.asset.scale,
                amount=grant,
                charged=charged,
                committed=0,
                day_key=periods[0],
                month_key=periods[1],
                created_at=repo.to_ms(now),
                expires_at=repo.to_ms(expires),
                state="open",
            )
        ).inserted_primary_key
        assert new_id is not None
        repo.add_to_counters(conn, key.site, periods[0], periods[1], charged)
        if key.account_id is not None:
            repo.adjust_balance(conn, key.account_id, -grant, now)
        return _Grant(int(new_id[0]), grant, charged, rate)

    # --- group commit and settlement ------------------------------------------------------------

    def _write_pending(self, conn: Connection, now: datetime) -> None:
        """Inside a transaction: history, committed amounts, renewals and idle settlements."""
        exp_ms = repo.to_ms(now + self._ttl)
        for lease in list(self._by_id.values()):
            deltas = [
                HistoryDelta(
                    site=lease.key.site,
                    provider=lease.key.provider,
                    asset=lease.key.asset,
                    hour=hk[0],
                    connection=hk[1],
                    dest_asset=hk[2],
                    sent=v[0],
                    delivered=v[1],
                    packets=v[2],
                    unresolved=v[3],
                )
                for hk, v in lease.pending.items()
            ]
            record(conn, deltas)
            if lease.retired and lease.inflight == 0:
                self._settle_row(conn, lease, now)
            elif lease.used != lease.flushed or (lease.touched and not lease.retired):
                renew = lease.touched and not lease.retired
                conn.execute(
                    update(_L)
                    .where(_L.c.id == lease.id, _L.c.state == "open")
                    .values(
                        committed=lease.used,
                        expires_at=exp_ms if renew else repo.to_ms(lease.expires_at),
                    )
                )

    def _settle_row(self, conn: Connection, lease: _Lease, now: datetime) -> None:
        unused = lease.amount - lease.used
        charged = lease.rate.charge(lease.used)
        done = conn.execute(
            update(_L)
            .where(_L.c.id == lease.id, _L.c.state == "open")
            .values(state="settled", amount=lease.used, committed=lease.used, charged=charged)
        ).rowcount
        if not done:
            return  # orphaned by recovery: its whole amount stays spent (conservative)
        repo.add_to_counters(
            conn, lease.key.site, lease.day_key, lease.month_key, charged - lease.charged
        )
        if lease.key.account_id is not None and unused:
            repo.adjust_balance(conn, lease.key.account_id, unused, now)

    def _after_write(self, now: datetime) -> None:
        """The transaction committed: apply what ``_write_pending`` wrote to memory."""
        self._last_flush = now
        for lease in list(self._by_id.values()):
            lease.pending.clear()
            lease.flushed = lease.used
            if lease.retired and lease.inflight == 0:
                del self._by_id[lease.id]
                self._retiring.pop(lease.id, None)
            elif not lease.retired and lease.touched:
                lease.expires_at = max(lease.expires_at, now + self._ttl)
                lease.touched = False

    def _retire_idle(self, now: datetime) -> None:
        """Leases nobody reserved from until they expired go back (bounds idle holdings)."""
        for lease in list(self._active.values()):
            if not lease.touched and now >= lease.expires_at:
                self._retire(lease)

    def flush(self, now: datetime) -> None:
        """Group commit: history, committed amounts, renewals, settlement of idle old leases.

        Raises:
            StorageBusy: the database stayed locked past the deadline.
        """
        with self._lock:
            self._check_policies(now)
            self._retire_idle(now)
            write_txn(
                self._engine,
                lambda conn: self._write_pending(conn, now),
                deadline_s=self._busy_deadline,
            )
            self._after_write(now)

    def flush_if_due(self, now: datetime) -> bool:
        """Group-commit if a period has passed and anything is open or pending (call often:
        it costs nothing otherwise). Keeps history current after the last packet, renews
        leases in use and returns idle ones.

        Raises:
            StorageBusy: the database stayed locked past the deadline.
        """
        with self._lock:
            if not self._by_id:
                return False
            if self._last_flush is not None and now - self._last_flush < self._flush_interval:
                return False
            self.flush(now)
            return True

    def flush_due_in(self, now: datetime) -> timedelta | None:
        """How long until :meth:`flush_if_due` has work (zero: now); ``None`` while nothing is
        open, so an idle ledger needs no timer at all."""
        with self._lock:
            if not self._by_id:
                return None
            if self._last_flush is None:
                return timedelta(0)
            return max(timedelta(0), self._last_flush + self._flush_interval - now)

    def flush_pending(self, now: datetime) -> bool:
        """Group-commit now if any committed or expired packet is not in history yet (before
        history is read, so that readers see every payment); nothing otherwise.

        Raises:
            StorageBusy: the database stayed locked past the deadline.
        """
        with self._lock:
            if not any(lease.pending for lease in self._by_id.values()):
                return False
            self.flush(now)
            return True

    def _check_policies(self, now: datetime) -> None:
        """Retire leases of sites another process paused or blocked (read-only check)."""
        if not self._active:
            return
        with transaction(self._engine, readonly=True) as conn:
            glob = repo.load_global_policy(conn)
            for key, lease in list(self._active.items()):
                eff = effective(repo.get_policy(conn, key.site), glob.defaults)
                if remaining(eff, glob, Usage()).reason is not None:
                    self._retire(lease)

    def settle(self, now: datetime, *, site: str | None = None) -> None:
        """Retire the leases (of ``site``, or all) and return their unused part.

        Leases with packets in flight are settled when the last one resolves and the next
        flush runs.

        Raises:
            StorageBusy: the database stayed locked past the deadline.
        """
        with self._lock:
            self._refused.clear()
            for lease in list(self._active.values()):
                if site is None or lease.key.site == site:
                    self._retire(lease)
            write_txn(
                self._engine,
                lambda conn: self._write_pending(conn, now),
                deadline_s=self._busy_deadline,
            )
            self._after_write(now)

    def forget_refusals(self, site: str | None = None) -> None:
        """Drop remembered refusals (of ``site``, or all): a policy changed, ask again."""
        with self._lock:
            for key in [k for k in self._refused if site is None or k.site == site]:
                del self._refused[key]

    def close(self, now: datetime) -> None:
        """Settle everything that can be settled (call on shutdown)."""
        self.settle(now)

    @property
    def in_flight(self) -> int:
        """Reservations not yet resolved."""
        return len(self._open)


__all__ = [
    "Fate",
    "Ledger",
    "LedgerError",
    "ReconcileError",
    "RecoveryReport",
    "Refusal",
    "Reservation",
    "ReservationError",
    "make_owner_id",
    "reconcile",
    "recover",
]
