"""Ledger behaviour on a real SQLite file with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from tests.unit.core.ledgerkit import ASSET, SITE, balance, configure, counters
from wallet.budgets import Asset, Reason, SitePolicy, SiteState
from wallet.ledger import Ledger, LedgerError, Refusal, Reservation, ReservationError, recover
from wallet.store import repo
from wallet.store.engine import transaction
from wallet.store.history import totals_by_site

TZ = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 11, 21, 12, tzinfo=UTC)


def _reserve(led: Ledger, amount: int, now: datetime = T0, **kw: object) -> Reservation:
    r = led.reserve(site=SITE, provider="p", asset=ASSET, amount=amount, now=now, **kw)  # type: ignore[arg-type]
    assert isinstance(r, Reservation), r
    return r


def test_reserve_commit_release_and_settle(engine: Engine) -> None:
    configure(engine, T0, site_total=10_000, global_month=50_000)
    led = Ledger(engine, TZ)
    a = _reserve(led, 100, lease_size=1000)
    assert counters(engine) == (1000, 1000)  # the whole lease is counted at once
    b = _reserve(led, 200)
    led.commit(a, T0, delivered=90)
    led.release(b, T0)
    led.close(T0)
    assert counters(engine) == (100, 100)  # only the committed part stays spent
    with transaction(engine, readonly=True) as conn:
        (tot,) = totals_by_site(conn)
    assert (tot.sent, tot.delivered, tot.packets, tot.unresolved) == (100, 90, 1, 0)


def test_each_reservation_resolves_once(engine: Engine) -> None:
    configure(engine, T0, site_total=10_000)
    led = Ledger(engine, TZ)
    r = _reserve(led, 10)
    led.commit(r, T0)
    for resolve in (led.commit, led.release, led.expire):
        with pytest.raises(ReservationError):
            resolve(r, T0)


def test_caps_cut_the_packet_and_then_refuse(engine: Engine) -> None:
    configure(engine, T0, site_total=250, global_month=10_000)
    led = Ledger(engine, TZ)
    r = _reserve(led, 100, lease_size=100)
    led.commit(r, T0)
    r = _reserve(led, 100, lease_size=100)
    led.commit(r, T0)
    # 50 left: a 100 packet with min 1 gets 50, with no minimum it is refused.
    no = led.reserve(site=SITE, provider="p", asset=ASSET, amount=100, now=T0)
    assert isinstance(no, Refusal) and no.reason is Reason.TOTAL_CAP and no.available == 50
    part = _reserve(led, 100, min_amount=1)
    assert part.amount == 50
    led.commit(part, T0)
    no = led.reserve(site=SITE, provider="p", asset=ASSET, amount=1, now=T0)
    assert isinstance(no, Refusal) and no.reason is Reason.TOTAL_CAP
    led.close(T0)
    assert counters(engine) == (250, 250)


def test_global_budget_and_balance(engine: Engine) -> None:
    acct = configure(engine, T0, site_total=10_000, global_month=300, balance=1_000)
    led = Ledger(engine, TZ)
    r = _reserve(led, 300, account_id=acct)
    assert balance(engine, acct) == 700  # type: ignore[arg-type]
    no = led.reserve(site=SITE, provider="p", asset=ASSET, amount=1, now=T0, account_id=acct)
    assert isinstance(no, Refusal) and no.reason is Reason.GLOBAL_BUDGET
    led.release(r, T0)
    led.close(T0)
    assert balance(engine, acct) == 1_000  # type: ignore[arg-type]
    configure(engine, T0, site_total=10_000, global_month=None, balance=40)
    no = led.reserve(site=SITE, provider="p", asset=ASSET, amount=50, now=T0, account_id=acct)
    assert isinstance(no, Refusal) and no.reason is Reason.BALANCE and no.available == 40


def test_pause_and_block_refuse(engine: Engine) -> None:
    configure(engine, T0, site_total=10_000)
    for state, reason in ((SiteState.PAUSED, Reason.PAUSED), (SiteState.BLOCKED, Reason.BLOCKED)):
        with transaction(engine) as conn:
            repo.set_policy(conn, SitePolicy(SITE, state), T0)
        led = Ledger(engine, TZ)
        no = led.reserve(site=SITE, provider="p", asset=ASSET, amount=1, now=T0)
        assert isinstance(no, Refusal) and no.reason is reason


def test_another_process_pausing_stops_leases_within_a_flush(engine: Engine) -> None:
    configure(engine, T0, site_total=10_000)
    led = Ledger(engine, TZ)
    led.commit(_reserve(led, 10, lease_size=1000), T0)
    with transaction(engine) as conn:  # as if another process paused the site
        repo.set_policy(conn, SitePolicy(SITE, SiteState.PAUSED), T0)
    led.flush(T0 + timedelta(seconds=1))
    no = led.reserve(site=SITE, provider="p", asset=ASSET, amount=1, now=T0)
    assert isinstance(no, Refusal) and no.reason is Reason.PAUSED
    assert counters(engine) == (10, 10)  # the unused lease went back


def test_expired_packets_stay_spent(engine: Engine) -> None:
    acct = configure(engine, T0, site_total=10_000, balance=1_000)
    led = Ledger(engine, TZ)
    r = _reserve(led, 100, account_id=acct, lease_size=500)
    led.expire(r, T0)
    led.close(T0)
    assert counters(engine) == (100, 100)
    assert balance(engine, acct) == 900  # type: ignore[arg-type]
    with transaction(engine, readonly=True) as conn:
        (tot,) = totals_by_site(conn)
    assert (tot.sent, tot.unresolved) == (0, 100)


def test_day_roll_over_opens_a_new_lease_charged_to_the_new_day(engine: Engine) -> None:
    configure(engine, T0, site_day=1_000)
    led = Ledger(engine, TZ)
    late = datetime(2026, 11, 21, 22, 59, tzinfo=UTC)  # 23:59 in Berlin
    led.commit(_reserve(led, 1_000, now=late, lease_size=1_000), late)
    no = led.reserve(site=SITE, provider="p", asset=ASSET, amount=1, now=late)
    assert isinstance(no, Refusal) and no.reason is Reason.DAY_CAP
    midnight = late + timedelta(minutes=1)  # 00:00 on the 22nd in Berlin
    r = _reserve(led, 600, now=midnight)
    led.commit(r, midnight)
    led.close(midnight)
    with transaction(engine, readonly=True) as conn:
        assert repo.counter(conn, repo.site_scope(SITE), "d:2026-11-21") == 1_000
        assert repo.counter(conn, repo.site_scope(SITE), "d:2026-11-22") == 600


def test_a_crashed_process_leases_stay_spent_after_recovery(engine: Engine) -> None:
    acct = configure(engine, T0, site_total=10_000, balance=5_000)
    dead = Ledger(engine, TZ, owner="elsewhere:1:dead")
    dead.commit(_reserve(dead, 100, account_id=acct, lease_size=1_000), T0)
    dead.flush(T0 + timedelta(seconds=2))
    dead.commit(_reserve(dead, 100, now=T0 + timedelta(seconds=3), account_id=acct), T0)
    del dead  # "killed": nothing settled
    # Before its expiry + grace nothing happens; afterwards it is orphaned, never refunded.
    assert recover(engine, T0 + timedelta(seconds=5)).orphaned == 0
    rep = recover(engine, T0 + timedelta(hours=2))
    assert rep.orphaned == 1 and rep.unresolved == 900
    assert counters(engine) == (1_000, 1_000)
    assert balance(engine, acct) == 4_000  # type: ignore[arg-type]
    with transaction(engine, readonly=True) as conn:
        (tot,) = totals_by_site(conn)
    assert (tot.sent, tot.unresolved) == (100, 900)


def test_recovery_orphans_dead_local_owners_at_once(engine: Engine) -> None:
    import os

    configure(engine, T0, site_total=10_000)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            led = Ledger(engine, TZ, lease_ttl=timedelta(seconds=1))
            led.reserve(site=SITE, provider="p", asset=ASSET, amount=5, now=T0, lease_size=50)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert recover(engine, T0 + timedelta(seconds=2)).orphaned == 1


def test_idle_leases_go_back_after_their_ttl(engine: Engine) -> None:
    configure(engine, T0, site_total=10_000)
    led = Ledger(engine, TZ, lease_ttl=timedelta(seconds=30))
    led.commit(_reserve(led, 10, lease_size=1_000), T0)
    led.flush(T0 + timedelta(seconds=1))  # used since the last flush: renewed, kept
    assert counters(engine) == (1_000, 1_000)
    led.flush(T0 + timedelta(seconds=20))  # idle, not yet expired
    assert counters(engine) == (1_000, 1_000)
    led.flush(T0 + timedelta(seconds=40))  # idle past its expiry: settled
    assert counters(engine) == (10, 10)


def test_a_reservation_from_another_ledger_is_refused(engine: Engine) -> None:
    configure(engine, T0, site_total=10_000)
    a, b = Ledger(engine, TZ), Ledger(engine, TZ)
    r = _reserve(a, 10)
    with pytest.raises(ReservationError):
        b.commit(r, T0)
    a.commit(r, T0)


def test_reconcile_an_orphan_with_outside_evidence(engine: Engine) -> None:
    from wallet.ledger import ReconcileError, reconcile

    acct = configure(engine, T0, site_total=10_000, balance=5_000)
    dead = Ledger(engine, TZ, owner="elsewhere:1:dead")
    dead.commit(_reserve(dead, 100, account_id=acct, lease_size=1_000), T0)
    dead.flush(T0 + timedelta(seconds=2))
    del dead
    recover(engine, T0 + timedelta(hours=2))
    with transaction(engine, readonly=True) as conn:
        lease_id = conn.exec_driver_sql("SELECT id FROM lease WHERE state = 'orphaned'").scalar()
    assert isinstance(lease_id, int)
    with pytest.raises(ReconcileError):
        reconcile(engine, lease_id, paid=901, now=T0)  # more than was unknown
    assert reconcile(engine, lease_id, paid=50, now=T0 + timedelta(hours=3)) == 850
    assert counters(engine) == (150, 150)
    assert balance(engine, acct) == 4_850  # type: ignore[arg-type]
    with transaction(engine, readonly=True) as conn:
        (tot,) = totals_by_site(conn)
    assert (tot.sent, tot.unresolved) == (150, 0)
    with pytest.raises(ReconcileError):  # only once
        reconcile(engine, lease_id, paid=0, now=T0)


def _history(engine: Engine) -> tuple[int, int]:
    with transaction(engine, readonly=True) as conn:
        rows = totals_by_site(conn)
    return (rows[0].sent, rows[0].packets) if rows else (0, 0)


def test_flush_if_due_keeps_history_current_between_packets(engine: Engine) -> None:
    configure(engine, T0, site_total=10_000)
    led = Ledger(engine, TZ, flush_interval=timedelta(seconds=5), lease_ttl=timedelta(seconds=30))
    assert not led.flush_if_due(T0)  # nothing open: no database work at all
    assert led.flush_due_in(T0) is None  # ... and no timer needed
    first = _reserve(led, 100, lease_size=1000)
    led.commit(first, T0)  # the first commit starts the period
    assert led.flush_due_in(T0 + timedelta(seconds=1)) == timedelta(seconds=4)
    late = _reserve(led, 200)
    led.commit(late, T0 + timedelta(seconds=1))  # within the period: held in memory
    assert _history(engine) == (0, 0)
    assert not led.flush_if_due(T0 + timedelta(seconds=4))
    # No more packets come; the period ends: the history appears without waiting for one.
    assert led.flush_if_due(T0 + timedelta(seconds=5))
    assert _history(engine) == (300, 2)
    assert counters(engine) == (1000, 1000)  # the lease is still open, counted in full
    # Idle past its ttl: the lease goes back, and with nothing open the calls stop.
    assert led.flush_if_due(T0 + timedelta(seconds=40))
    assert counters(engine) == (300, 300)
    assert not led.flush_if_due(T0 + timedelta(seconds=60))
    assert led.flush_due_in(T0 + timedelta(seconds=60)) is None


def test_flush_pending_lets_readers_see_every_payment(engine: Engine) -> None:
    configure(engine, T0, site_total=10_000)
    led = Ledger(engine, TZ, flush_interval=timedelta(seconds=5))
    assert not led.flush_pending(T0)
    first = _reserve(led, 100, lease_size=1000)
    led.commit(first, T0)
    second = _reserve(led, 50)
    led.commit(second, T0 + timedelta(seconds=1))
    assert _history(engine) == (0, 0)  # within the period: in memory only
    assert led.flush_pending(T0 + timedelta(seconds=1))
    assert _history(engine) == (150, 2)
    assert not led.flush_pending(T0 + timedelta(seconds=1))  # nothing new: no write


def test_a_partial_commit_spends_the_part_and_frees_the_rest(engine: Engine) -> None:
    acct = configure(engine, T0, site_total=10_000, balance=1_000)
    led = Ledger(engine, TZ)
    r = _reserve(led, 100, account_id=acct, lease_size=100)
    led.commit_part(r, T0, spent=37, asset=ASSET, delivered=30, dest_asset=ASSET)
    with pytest.raises(ReservationError):
        led.release(r, T0)  # resolved once, like any reservation
    # The 63 not spent are free again at once: a second reservation of them succeeds.
    again = _reserve(led, 63, account_id=acct)
    led.release(again, T0)
    led.close(T0)
    assert counters(engine) == (37, 37)
    assert balance(engine, acct) == 963  # type: ignore[arg-type]
    with transaction(engine, readonly=True) as conn:
        (tot,) = totals_by_site(conn)
    assert (tot.sent, tot.delivered, tot.packets, tot.unresolved) == (37, 30, 1, 0)


def test_a_partial_commit_refuses_a_wrong_part_and_stays_open(engine: Engine) -> None:
    configure(engine, T0, site_total=10_000)
    led = Ledger(engine, TZ)
    r = _reserve(led, 100)
    for spent, asset in ((101, ASSET), (-1, ASSET), (10, Asset("EUR", 9)), (10, Asset("USD", 2))):
        with pytest.raises(LedgerError):
            led.commit_part(r, T0, spent=spent, asset=asset)
    led.commit_part(r, T0, spent=100, asset=ASSET)  # still open: the whole of it is spent
    led.close(T0)
    assert counters(engine) == (100, 100)


def test_a_crash_before_a_partial_commit_is_written_keeps_the_whole_lease_spent(
    engine: Engine,
) -> None:
    configure(engine, T0, site_total=10_000)
    dead = Ledger(engine, TZ, owner="elsewhere:1:dead")
    r = _reserve(dead, 100, lease_size=100)
    dead.commit_part(r, T0, spent=40, asset=ASSET)
    del dead  # "killed" before its group commit: the part is not in the database yet
    rep = recover(engine, T0 + timedelta(hours=2))
    assert rep.orphaned == 1 and rep.unresolved == 100
    assert counters(engine) == (100, 100)  # charged in full, never less than was paid
