"""The wallet service: the one door ``ui`` uses into storage, ledger and budgets.

Owns the composition (engine, ledger, policy cache, per-site accrual) and emits typed events
(:mod:`wallet.events`). Everything time-dependent reads the injected ``clock``; the user's time
zone is passed in.

Invariants:
- Money accrues for a site only while it is active (:meth:`WalletService.set_site_active`), at
  its rate of pay, and a reservation never exceeds what accrued; the ledger then enforces the
  caps, the global budget and the balance atomically.
- A refusal carries a :class:`~wallet.budgets.Reason`; a busy database raises
  :class:`~wallet.store.errors.StorageBusy` instead.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from wallet.accounts import holds_balance_here
from wallet.budgets import (
    PACE,
    Accrual,
    ActivityClock,
    Asset,
    Decision,
    Effective,
    GlobalPolicy,
    Rate,
    Reason,
    SitePolicy,
    Usage,
    decide,
    effective,
    month_bounds,
    period_keys,
    remaining,
)
from wallet.errors import WalletError
from wallet.events import (
    AccountChanged,
    BudgetReached,
    EventBus,
    HandlerActivated,
    HandlerRegistered,
    HandlerRemoved,
    PaymentCommitted,
    PolicyChanged,
    SettingsChanged,
)
from wallet.ledger import Ledger, RecoveryReport, Refusal, Reservation, reconcile, recover
from wallet.ledger_recovery import OrphanedLease, orphaned_leases
from wallet.provider import BUILTIN_HANDLER_URI
from wallet.reports import HistoryReader
from wallet.site_state import REFUSALS_SHOWN, PageFacts, StatusBoard, WalletFacts, site_status
from wallet.store import open_store, payees, repo
from wallet.store.engine import database_path, transaction
from wallet.store.errors import StorageError
from wallet.store.history import (
    Granularity,
    SeriesPoint,
    SiteTotal,
    series,
    totals_by_site,
)
from wallet.store.history import forget_site as forget_site_history
from wallet.store.payees import PayeeKind, PayeeRecord, PayeeTotal
from wallet.store.repo import AccountInfo, HandlerInfo
from wallet.topup import top_up_sandbox

Clock = Callable[[], datetime]
log = logging.getLogger(__name__)


class UnknownHandlerError(WalletError):
    """No handler with that id is registered."""


# How long a site's effective policy and the global policy are reused without reading the
# database. Changes made through this service apply at once (the cache is dropped); changes
# from another process (``trickle budget``) change the rate of pay here within this long, while
# their pauses, blocks and caps are enforced sooner by the ledger (its flush re-reads them).
POLICY_CACHE_TTL = timedelta(seconds=10)
# The largest lease the ledger is asked for: SQLite stores INTEGER in 64 signed bits.
_MAX_LEASE = 2**63 - 1


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class _SiteState:
    activity: ActivityClock = field(default_factory=ActivityClock)
    accrual: Accrual = field(default_factory=Accrual)
    last_reason: Reason | None = None
    # The last refusal people are told about (a limit or the balance) and when: kept until a
    # payment, a policy change or a top-up supersedes it (``last_reason`` paces accrual).
    refusal: tuple[Reason, datetime] | None = None


class WalletService:
    """Handlers, policies, settings, the account, payments and history — with events."""

    def __init__(
        self,
        engine: Engine,
        *,
        tz: ZoneInfo,
        clock: Clock = _utc_now,
        ledger: Ledger | None = None,
        explicit_rate: Rate | None = None,
        policy_cache_ttl: timedelta = POLICY_CACHE_TTL,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self._engine = engine
        self._tz = tz
        self._clock = clock
        # Active time never exceeds the monotonic time that passed (a sleeping machine accrues
        # nothing: wallet.budgets.ActivityClock). With the real wall clock, the real monotonic
        # clock; a test that injects a wall clock injects a monotonic one too, or has none.
        self._monotonic = monotonic or (time.monotonic if clock is _utc_now else None)
        self._rate = explicit_rate
        self.ledger = ledger or Ledger(engine, tz, explicit_rate=explicit_rate)
        self.events = EventBus()
        self._lock = threading.RLock()
        self._sites: dict[str, _SiteState] = {}
        self._cache_ttl = policy_cache_ttl
        self._cache: dict[str, tuple[datetime, Effective, GlobalPolicy]] = {}
        # Called after every reserve and resolution (on the caller's thread): the app's
        # group-commit timer follows the ledger's due time instead of polling it.
        self.ledger_listeners: list[Callable[[], None]] = []
        # Called when a site may be able to pay where it could not (on the caller's thread):
        # it became active, or its policy or the global one changed (``None``: every site).
        # Pages refused "not now" wait for this instead of asking again and again.
        self.site_listeners: list[Callable[[str | None], None]] = []
        self._reader: HistoryReader | None = None
        # The words the UI last showed for each site, for the demo sites (wallet.site_state).
        self.statuses = StatusBoard()

    @classmethod
    def open(
        cls,
        profile_dir: Path | None = None,
        *,
        tz: ZoneInfo,
        clock: Clock = _utc_now,
        monotonic: Callable[[], float] | None = None,
    ) -> WalletService:
        """Open (create, migrate) the profile database and recover after a crash.

        Raises:
            StorageError: the database cannot be opened or migrated.
        """
        engine = open_store(database_path(profile_dir) if profile_dir else None)
        svc = cls(engine, tz=tz, clock=clock, monotonic=monotonic)
        svc.recover()
        return svc

    def recover(self) -> RecoveryReport:
        """Mark leases of crashed processes as orphaned (counted as spent); see ledger."""
        return recover(self._engine, self._clock(), exclude_owner=self.ledger.owner)

    def orphaned_leases(self) -> list[OrphanedLease]:
        """Money of unknown fate from crashed processes (counted as spent until reconciled)."""
        with transaction(self._engine, readonly=True) as conn:
            return orphaned_leases(conn)

    def reconcile(self, lease_id: int, paid: int) -> int:
        """Settle an orphaned lease with outside evidence of what it paid; returns the refund.

        Raises:
            ReconcileError: not an orphaned lease, or ``paid`` out of range.
        """
        refund = reconcile(self._engine, lease_id, paid=paid, now=self._clock())
        with self._lock:
            self._cache.clear()
            self.ledger.forget_refusals()
        return refund

    def close(self) -> None:
        """Settle the ledger's leases and release the database."""
        self.ledger.close(self._clock())
        if self._reader is not None:
            self._reader.engine.dispose()
        self._engine.dispose()

    def history_reader(self) -> HistoryReader:
        """The reader of the payment history for views and exports (a read-only connection
        pool of its own, so a long read never waits on the writer; brought up to date with
        the ledger before each read)."""
        if self._reader is None:
            url = self._engine.url
            engine = (
                open_store(Path(url.database), migrate=False)
                if url.database and url.database != ":memory:"
                else self._engine
            )
            self._reader = HistoryReader(engine, before_read=self.flush_pending)
        return self._reader

    # --- handlers ------------------------------------------------------------------------------

    def register_handler(self, origin: str, name: str, handler_uri: str) -> bool:
        """Store a handler the user consented to; True if it was already registered."""
        with transaction(self._engine) as conn:
            info, already = repo.add_handler(
                conn, origin=origin, name=name, handler_uri=handler_uri, now=self._clock()
            )
        if not already:
            self.events.emit(HandlerRegistered(info))
            if info.active:
                self.events.emit(HandlerActivated(info))
        return already

    def active_handler(self) -> HandlerInfo | None:
        with transaction(self._engine, readonly=True) as conn:
            return repo.active_handler(conn)

    def list_handlers(self) -> list[HandlerInfo]:
        with transaction(self._engine, readonly=True) as conn:
            return repo.list_handlers(conn)

    def activate_handler(self, handler_id: int) -> HandlerInfo:
        """Make one handler the active one.

        Raises:
            UnknownHandlerError: no such handler.
        """
        with transaction(self._engine) as conn:
            if not repo.activate_handler(conn, handler_id):
                raise UnknownHandlerError(f"no handler {handler_id}")
            info = repo.get_handler(conn, handler_id)
        assert info is not None
        self.events.emit(HandlerActivated(info))
        return info

    def remove_handler(self, handler_id: int) -> None:
        """Forget a handler (if it was active, none is active afterwards).

        Raises:
            UnknownHandlerError: no such handler.
        """
        with transaction(self._engine) as conn:
            info = repo.get_handler(conn, handler_id)
            if info is None or not repo.remove_handler(conn, handler_id):
                raise UnknownHandlerError(f"no handler {handler_id}")
        self.events.emit(HandlerRemoved(handler_id))
        if info.active:
            self.events.emit(HandlerActivated(None))

    # --- site policies and settings ------------------------------------------------------------

    def site_policy(self, site: str) -> SitePolicy:
        """The stored policy of ``site`` (an all-defaults policy if never configured)."""
        with transaction(self._engine, readonly=True) as conn:
            return repo.get_policy(conn, site) or SitePolicy(site=site)

    def list_site_policies(self) -> list[SitePolicy]:
        with transaction(self._engine, readonly=True) as conn:
            return repo.list_policies(conn)

    def set_site_policy(self, policy: SitePolicy) -> None:
        """Save a site's policy; pausing or blocking stops its payments at once."""
        with transaction(self._engine) as conn:
            repo.set_policy(conn, policy, self._clock())
        self._policy_changed(policy.site, policy)

    def reset_site_policy(self, site: str) -> None:
        """Back to the defaults for unconfigured sites."""
        with transaction(self._engine) as conn:
            repo.delete_policy(conn, site)
        self._policy_changed(site, None)

    def forget_site(self, site: str, *, history: bool = False) -> int:
        """Forget ``site``: its policy (back to the defaults) and, with ``history``, its payment
        history. What it was paid still counts against the global budget. Returns the history
        rows deleted."""
        if history:
            self.flush()  # payments not yet written go to history first, then with it
        with transaction(self._engine) as conn:
            repo.delete_policy(conn, site)
            removed = forget_site_history(conn, site) if history else 0
            if history:
                payees.forget_site(conn, site)
        self._policy_changed(site, None)
        return removed

    def _policy_changed(self, site: str, policy: SitePolicy | None) -> None:
        with self._lock:
            self._cache.pop(site, None)
            self.ledger.forget_refusals(site)
            self._site(site).refusal = None
            # The user's edit holds exactly, also for leases already granted: a lowered cap
            # or rate (or a pause, a block) would otherwise let up to a minute of pay run on.
            # Settling returns their unused part, so the next reservation meets the new policy.
            self.ledger.settle(self._clock(), site=site)
        self.events.emit(PolicyChanged(site, policy))
        self._site_changed(site)

    def global_policy(self) -> GlobalPolicy:
        with transaction(self._engine, readonly=True) as conn:
            return repo.load_global_policy(conn)

    def set_global_policy(self, policy: GlobalPolicy) -> None:
        with transaction(self._engine) as conn:
            repo.save_global_policy(conn, policy)
        with self._lock:
            self._cache.clear()
            self.ledger.forget_refusals()
            self._forget_refusals()
            self.ledger.settle(self._clock())  # every site's next reservation meets it
        self.events.emit(SettingsChanged(policy))
        self._site_changed(None)

    def _site_changed(self, site: str | None) -> None:
        for listener in self.site_listeners:
            listener(site)

    def setting(self, key: str, default: Any = None) -> Any:
        """A free-form setting (JSON value) of the browser."""
        with transaction(self._engine, readonly=True) as conn:
            return repo.get_setting(conn, f"ui.{key}", default)

    def set_setting(self, key: str, value: Any) -> None:
        with transaction(self._engine) as conn:
            repo.set_setting(conn, f"ui.{key}", value)

    # --- the built-in account ------------------------------------------------------------------

    def account(self, network: str) -> AccountInfo | None:
        with transaction(self._engine, readonly=True) as conn:
            return repo.get_account(conn, network)

    def top_up_sandbox(self, amount: int) -> AccountInfo:
        """Add play money to the sandbox account (never a real network's).

        Raises:
            TopUpError: no sandbox account yet, or ``amount`` is not positive.
            StorageError: the database failed.
        """
        info = top_up_sandbox(self._engine, amount, self._clock())
        with self._lock:
            self.ledger.forget_refusals()
            self._forget_refusals()
        self.events.emit(AccountChanged(info))
        self._site_changed(None)  # sites stopped for the balance may pay again
        return info

    def set_account(self, network: str, address: str, asset: Asset, balance: int) -> AccountInfo:
        with transaction(self._engine) as conn:
            info = repo.upsert_account(
                conn,
                network=network,
                address=address,
                asset=asset,
                balance=balance,
                now=self._clock(),
            )
        self.events.emit(AccountChanged(info))
        self._site_changed(None)  # a balance that grew may pay sites held for it
        return info

    # --- activity and allowance ----------------------------------------------------------------

    def set_site_active(self, site: str, active: bool) -> None:
        """The site's tab became visible in the focused window (or stopped being)."""
        with self._lock:
            self._accrue(site, self._clock())
            self._site(site).activity.set_active(active, self._clock(), self._mono())
        if active:
            self._site_changed(site)

    def now(self) -> datetime:
        """The wallet's clock (the day and month of every counter)."""
        return self._clock()

    def refusal_lifts_at(self, site: str) -> datetime | None:
        """When time alone lifts the limit that refuses ``site`` now (the local midnight that
        starts the next day or month, for a day or month cap or the monthly budget), as
        :func:`wallet.site_state.site_status` says; ``None``: only a change of facts can."""
        # a page that asks to be paid, by someone (a provider, or the user's own wallet)
        facts = replace(self.site_facts([site])[site], has_provider=True)
        page = PageFacts(open=True, monetized=True)
        return site_status(facts, page, now=self._clock(), tz=self._tz).next_change

    def _mono(self) -> float | None:
        return self._monotonic() if self._monotonic is not None else None

    def _site(self, site: str) -> _SiteState:
        return self._sites.setdefault(site, _SiteState())

    def _forget_refusals(self) -> None:
        for st in self._sites.values():
            st.refusal = None

    def site_facts(self, sites: list[str], *, network: str | None = None) -> dict[str, WalletFacts]:
        """What the wallet knows of each of ``sites`` now (for :func:`wallet.site_state.
        site_status`), read in one transaction. ``network``: the account the built-in provider
        pays from; its balance counts only there (an uplink's money is at the connector)."""
        now = self._clock()
        day, month = period_keys(now, self._tz)
        with transaction(self._engine, readonly=True) as conn:
            glob = repo.load_global_policy(conn)
            active = repo.active_handler(conn)
            account = repo.get_account(conn, network) if network else None
            rows = {
                site: (
                    effective(repo.get_policy(conn, site), glob.defaults),
                    repo.usage(conn, site, day, month),
                )
                for site in sites
            }
        builtin = active is not None and active.handler_uri == BUILTIN_HANDLER_URI
        checked = builtin and network is not None and holds_balance_here(network)
        balance = account.balance if account is not None and checked else None
        with self._lock:
            refusals = {s: st.refusal for s, st in self._sites.items() if st.refusal is not None}
        out: dict[str, WalletFacts] = {}
        for site, (eff, usage) in rows.items():
            reason, at = refusals.get(site, (None, None))
            out[site] = WalletFacts(eff, glob, usage, active is not None, balance, reason, at)
        return out

    def _policy(self, site: str, now: datetime) -> tuple[Effective, GlobalPolicy]:
        hit = self._cache.get(site)
        if hit is not None and now - hit[0] < self._cache_ttl:
            return hit[1], hit[2]
        with transaction(self._engine, readonly=True) as conn:
            glob = repo.load_global_policy(conn)
            eff = effective(repo.get_policy(conn, site), glob.defaults)
        self._cache[site] = (now, eff, glob)
        return eff, glob

    def _accrue(self, site: str, now: datetime) -> tuple[_SiteState, Effective, GlobalPolicy]:
        st = self._site(site)
        eff, glob = self._policy(site, now)
        backlog = glob.max_backlog
        if st.last_reason not in (None, Reason.NO_ACCRUAL):
            # Stopped (paused, capped, out of budget or balance): bank at most one pace period,
            # so that lifting the stop never pays a lump of what accrued meanwhile.
            backlog = min(backlog, PACE)
        active = st.activity.take(now, self._mono())
        st.accrual = st.accrual.accrue(eff.rate_per_hour, active, backlog)
        return st, eff, glob

    def allowance(self, site: str, asset: Asset, want: int, *, accrued: bool = True) -> Decision:
        """How much of ``want`` (source units) may be sent to ``site`` now, and if 0, why;
        ``accrued=False``: whatever viewing time has accrued (a tip)."""
        now = self._clock()
        with self._lock:
            st, eff, glob = self._accrue(site, now)
            day, month = period_keys(now, self._tz)
            with transaction(self._engine, readonly=True) as conn:
                used = repo.usage(conn, site, day, month)
            rate = Rate.between(asset, glob.budget_asset, self._rate)
            available = st.accrual.available if accrued else None
            return decide(remaining(eff, glob, used), want, rate, accrued=available)

    def tip_room(self, site: str, asset: Asset, want: int) -> Decision:
        """How much of a one-time tip of ``want`` source units fits ``site``'s caps and the global
        budget now (viewing time plays no part in a tip), and if not all of it, which limit."""
        return self.allowance(site, asset, want, accrued=False)

    def reserve_tip(
        self,
        site: str,
        provider: str,
        asset: Asset,
        amount: int,
        *,
        min_amount: int | None = None,
        account_id: int | None = None,
        connection: str = "",
        quantum: int = 1,
    ) -> Reservation | Refusal:
        """Reserve a packet of a tip: as :meth:`reserve` — the site's state, its caps, the global
        budget and the balance all apply — but not bounded by accrued viewing time."""
        return self.reserve(
            site,
            provider,
            asset,
            amount,
            min_amount=min_amount,
            account_id=account_id,
            connection=connection,
            quantum=quantum,
            accrued=False,
        )

    # --- the ledger ----------------------------------------------------------------------------

    def reserve(
        self,
        site: str,
        provider: str,
        asset: Asset,
        amount: int,
        *,
        min_amount: int | None = None,
        account_id: int | None = None,
        connection: str = "",
        quantum: int = 1,
        accrued: bool = True,
    ) -> Reservation | Refusal:
        """Reserve a packet's source amount before it leaves (see :class:`Ledger`); with
        ``quantum``, what is reserved is a whole multiple of it (a receiver's learnt minimum);
        ``accrued=False``: not bounded by (nor taken from) accrued viewing time (a tip).

        Raises:
            StorageBusy: the database stayed locked past the deadline.
            NoRateError: budgets are in another asset and no rate was given.
        """
        now = self._clock()
        with self._lock:
            st, eff, glob = self._accrue(site, now)
            pre = remaining(eff, glob, Usage())
            if pre.reason is not None:
                return self._refused(site, Refusal(pre.reason, 0))
            rate = Rate.between(asset, glob.budget_asset, self._rate)
            need = amount if min_amount is None else max(1, min(min_amount, amount))
            affordable = rate.affordable(st.accrual.available) if accrued else amount
            if affordable < need:
                wait = (
                    st.accrual.time_to(rate.charge(need), eff.rate_per_hour, glob.max_backlog)
                    if st.activity.active
                    else None
                )
                return self._refused(site, Refusal(Reason.NO_ACCRUAL, affordable, wait))
            minute = rate.affordable(eff.rate_per_hour // 60)
            ask = min(amount, affordable)
            if quantum > 1 and ask - ask % quantum >= need:
                ask -= ask % quantum
            got = self.ledger.reserve(
                site=site,
                provider=provider,
                asset=asset,
                amount=ask,
                now=now,
                min_amount=need,
                account_id=account_id,
                connection=connection,
                # what may be asked for (a page's setSendMax(2^64-1)) is no lease size: what has
                # accrued is, and SQLite's integers end at 2^63-1
                lease_size=min(max(minute, ask), _MAX_LEASE),
                quantum=quantum,
            )
            if isinstance(got, Refusal):
                return self._refused(site, got)
            if accrued:
                st.accrual = st.accrual.spend(rate.charge(got.amount))
            st.last_reason = None
            st.refusal = None
        self._ledger_changed()
        return got

    def _ledger_changed(self) -> None:
        for listener in self.ledger_listeners:
            listener()

    def _refused(self, site: str, refusal: Refusal) -> Refusal:
        st = self._site(site)
        if refusal.reason in REFUSALS_SHOWN:
            st.refusal = (refusal.reason, self._clock())
        if st.last_reason is not refusal.reason:
            st.last_reason = refusal.reason
            if refusal.reason is not Reason.NO_ACCRUAL:
                self.events.emit(BudgetReached(site, refusal.reason))
        return refusal

    def commit(
        self, res: Reservation, *, delivered: int = 0, dest_asset: Asset | None = None
    ) -> None:
        """A verified Fulfill: the reservation is spent and goes to history."""
        self.ledger.commit(res, self._clock(), delivered=delivered, dest_asset=dest_asset)
        self._ledger_changed()
        self.events.emit(PaymentCommitted(res.site, res.provider, res.asset, res.amount, delivered))

    def commit_part(
        self,
        res: Reservation,
        *,
        spent: int,
        asset: Asset,
        delivered: int = 0,
        dest_asset: Asset | None = None,
    ) -> None:
        """Part of the reservation was paid (see :meth:`Ledger.commit_part`): ``spent`` goes
        to history, the rest — and its accrued allowance — is given back, in one step."""
        with self._lock:
            self.ledger.commit_part(
                res,
                self._clock(),
                spent=spent,
                asset=asset,
                delivered=delivered,
                dest_asset=dest_asset,
            )
            glob = self._policy(res.site, self._clock())[1]
            rate = Rate.between(res.asset, glob.budget_asset, self._rate)
            st = self._site(res.site)
            st.accrual = st.accrual.give_back(rate.charge(res.amount) - rate.charge(spent))
        self._ledger_changed()
        if spent:
            self.events.emit(PaymentCommitted(res.site, res.provider, res.asset, spent, delivered))

    def release(self, res: Reservation) -> None:
        """A Reject: nothing was paid; the accrued allowance is given back."""
        with self._lock:
            self.ledger.release(res, self._clock())
            glob = self._policy(res.site, self._clock())[1]
            rate = Rate.between(res.asset, glob.budget_asset, self._rate)
            st = self._site(res.site)
            st.accrual = st.accrual.give_back(rate.charge(res.amount))
        self._ledger_changed()

    def expire(self, res: Reservation) -> None:
        """No answer before expiry: counted as spent (unresolved) — never refunded."""
        self.ledger.expire(res, self._clock())
        self._ledger_changed()

    def flush(self) -> None:
        """Group-commit pending history now."""
        self.ledger.flush(self._clock())

    def flush_pending(self) -> bool:
        """Write the payments not yet in history (history readers call this first). Best
        effort: if the database will not take the write, the read goes on without them (they
        stay in memory for the next group commit)."""
        try:
            return self.ledger.flush_pending(self._clock())
        except StorageError as e:
            log.warning("history not brought up to date before a read: %s", e)
            return False

    def flush_if_due(self) -> bool:
        """Group-commit if the ledger's period has passed and anything is open (cheap
        otherwise)."""
        return self.ledger.flush_if_due(self._clock())

    def flush_due_in(self) -> float | None:
        """Seconds until :meth:`flush_if_due` has work; ``None`` while nothing is open."""
        due = self.ledger.flush_due_in(self._clock())
        return None if due is None else due.total_seconds()

    # --- history -------------------------------------------------------------------------------

    def site_totals(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        site: str | None = None,
        provider: str | None = None,
    ) -> list[SiteTotal]:
        """Totals per site for ``[start, end)`` (hour resolution), largest first."""
        self.flush_pending()
        with transaction(self._engine, readonly=True) as conn:
            return totals_by_site(conn, start=start, end=end, site=site, provider=provider)

    def record_payee(self, payee: PayeeRecord) -> None:
        """Remember who a link-tag connection (or tip) pays (see :mod:`wallet.store.payees`)."""
        with transaction(self._engine) as conn:
            payees.record(conn, payee, self._clock())

    def latest_payee(self, site: str, kind: PayeeKind | None = None) -> PayeeRecord | None:
        """Who ``site``'s money went to most recently (``None``: no link-tag payment yet)."""
        with transaction(self._engine, readonly=True) as conn:
            return payees.latest_payee(conn, site, kind)

    def payee_totals(
        self,
        *,
        site: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[PayeeTotal]:
        """Payees, newest first, with what history says each received."""
        self.flush_pending()
        with transaction(self._engine, readonly=True) as conn:
            return payees.payee_totals(conn, site=site, start=start, end=end)

    def month_totals(self, when: datetime | None = None) -> list[SiteTotal]:
        """Per-site totals of the local month containing ``when`` (default: now)."""
        start, end = month_bounds(when or self._clock(), self._tz)
        return self.site_totals(start=start, end=end)

    def history_series(
        self,
        granularity: Granularity = Granularity.DAY,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        site: str | None = None,
        provider: str | None = None,
    ) -> list[SeriesPoint]:
        """Per-day or per-month totals in the user's time zone."""
        self.flush_pending()
        with transaction(self._engine, readonly=True) as conn:
            return series(
                conn,
                tz=self._tz,
                granularity=granularity,
                start=start,
                end=end,
                site=site,
                provider=provider,
            )
