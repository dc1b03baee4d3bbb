"""The service façade: handlers, policies, events, accrual-gated payments and history."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from tests.unit.core.conftest import BERLIN, FakeClock
from wallet.budgets import USD9, Asset, Defaults, GlobalPolicy, Reason, SitePolicy, SiteState
from wallet.events import (
    BudgetReached,
    Event,
    HandlerActivated,
    HandlerRegistered,
    HandlerRemoved,
    PaymentCommitted,
    PolicyChanged,
    SettingsChanged,
)
from wallet.ledger import Ledger, Refusal, Reservation
from wallet.provider import BUILTIN_HANDLER_URI
from wallet.service import UnknownHandlerError, WalletService
from wallet.store.history import Granularity

SITE = "https://news.example"


@pytest.fixture
def svc(engine: Engine, clock: FakeClock) -> WalletService:
    return WalletService(engine, tz=BERLIN, clock=clock)


@pytest.fixture
def seen(svc: WalletService) -> list[Event]:
    got: list[Event] = []
    svc.events.subscribe(got.append)
    return got


def test_open_creates_the_profile_and_recovers(tmp_path: Path, clock: FakeClock) -> None:
    s = WalletService.open(tmp_path / "p", tz=BERLIN, clock=clock)
    assert (tmp_path / "p" / "trickle.sqlite3").exists()
    assert s.list_handlers() == []
    s.close()


def test_handlers(svc: WalletService, seen: list[Event]) -> None:
    assert svc.register_handler("https://a.example", "A", "https://a.example/h") is False
    assert svc.register_handler("https://a.example", "A", "https://a.example/h") is True
    assert svc.register_handler("https://b.example", "B", "https://b.example/h") is False
    a, b = svc.list_handlers()
    assert svc.active_handler() == a  # the first one became active
    assert [type(e) for e in seen] == [HandlerRegistered, HandlerActivated, HandlerRegistered]
    svc.activate_handler(b.id)
    assert svc.active_handler() is not None and svc.active_handler().id == b.id  # type: ignore[union-attr]
    svc.remove_handler(b.id)
    assert svc.active_handler() is None
    assert seen[-2:] == [HandlerRemoved(b.id), HandlerActivated(None)]
    with pytest.raises(UnknownHandlerError):
        svc.activate_handler(b.id)
    with pytest.raises(UnknownHandlerError):
        svc.remove_handler(b.id)


def test_policies_and_settings(svc: WalletService, seen: list[Event]) -> None:
    assert svc.site_policy(SITE) == SitePolicy(SITE)
    p = SitePolicy(SITE, SiteState.PAUSED, cap_month=10)
    svc.set_site_policy(p)
    assert svc.site_policy(SITE) == p and svc.list_site_policies() == [p]
    svc.reset_site_policy(SITE)
    assert svc.site_policy(SITE) == SitePolicy(SITE)
    g = GlobalPolicy(monthly_budget=123)
    svc.set_global_policy(g)
    assert svc.global_policy() == g
    svc.set_setting("home", "trickle://start")
    assert svc.setting("home") == "trickle://start" and svc.setting("nope", 5) == 5
    assert seen == [PolicyChanged(SITE, p), PolicyChanged(SITE, None), SettingsChanged(g)]


def test_money_accrues_only_while_active(svc: WalletService, clock: FakeClock) -> None:
    svc.set_site_policy(SitePolicy(SITE, rate_per_hour=3_600_000))  # 1,000 units a second
    no = svc.reserve(SITE, "p", USD9, 100)
    assert isinstance(no, Refusal) and no.reason is Reason.NO_ACCRUAL
    svc.set_site_active(SITE, True)
    clock.advance(seconds=1)
    r = svc.reserve(SITE, "p", USD9, 700)
    assert isinstance(r, Reservation)
    part = svc.reserve(SITE, "p", USD9, 700, min_amount=1)
    assert isinstance(part, Reservation) and part.amount == 300  # no more than accrued
    svc.release(part)  # a Reject gives the allowance back
    again = svc.reserve(SITE, "p", USD9, 300)
    assert isinstance(again, Reservation)
    svc.set_site_active(SITE, False)
    clock.advance(hours=1)  # hidden: nothing accrues
    assert svc.allowance(SITE, USD9, 10).reason is Reason.NO_ACCRUAL


def test_caps_emit_budget_reached_once(
    svc: WalletService, clock: FakeClock, seen: list[Event]
) -> None:
    svc.set_site_policy(SitePolicy(SITE, rate_per_hour=3_600_000, cap_total=1_500))
    svc.set_site_active(SITE, True)
    for _ in range(3):
        clock.advance(seconds=1)
        r = svc.reserve(SITE, "p", USD9, 1_000, min_amount=1)
        if isinstance(r, Reservation):
            svc.commit(r, delivered=r.amount)
    reached = [e for e in seen if isinstance(e, BudgetReached)]
    assert reached == [BudgetReached(SITE, Reason.TOTAL_CAP)]
    paid = [e for e in seen if isinstance(e, PaymentCommitted)]
    assert sum(e.amount for e in paid) == 1_500
    assert svc.allowance(SITE, USD9, 1).reason is Reason.TOTAL_CAP


def test_pausing_stops_payments_and_returns_the_lease(svc: WalletService, clock: FakeClock) -> None:
    svc.set_site_active(SITE, True)
    clock.advance(seconds=30)
    r = svc.reserve(SITE, "p", USD9, 1_000)
    assert isinstance(r, Reservation)
    svc.commit(r)
    svc.set_site_policy(SitePolicy(SITE, SiteState.PAUSED))
    no = svc.reserve(SITE, "p", USD9, 1)
    assert isinstance(no, Refusal) and no.reason is Reason.PAUSED
    svc.flush()
    (total,) = svc.site_totals()
    assert total.sent == 1_000


def test_history_queries(svc: WalletService, clock: FakeClock) -> None:
    svc.set_global_policy(GlobalPolicy(max_backlog=timedelta(hours=1)))
    usd6 = Asset("USD", 6)  # same code, another scale: converted exactly
    for day in range(3):
        for site in ("https://a.example", "https://b.example"):
            svc.set_site_active(site, True)
            clock.advance(minutes=10)
            r = svc.reserve(site, "prov", usd6, 10 * (day + 1))
            assert isinstance(r, Reservation), r
            svc.commit(r, delivered=5)
            svc.set_site_active(site, False)
        clock.advance(days=1)
    svc.flush()
    month = svc.month_totals()
    assert {(t.site, t.sent) for t in month} == {
        ("https://a.example", 60),
        ("https://b.example", 60),
    }
    only_a = svc.site_totals(site="https://a.example", provider="prov")
    assert [t.packets for t in only_a] == [3]
    assert svc.site_totals(provider="other") == []
    days = svc.history_series(Granularity.DAY, site="https://a.example")
    assert [(p.period, p.sent) for p in days] == [
        (date(2026, 11, 21), 10),
        (date(2026, 11, 22), 20),
        (date(2026, 11, 23), 30),
    ]
    (m,) = svc.history_series(Granularity.MONTH)
    assert (m.period, m.sent, m.delivered) == (date(2026, 11, 1), 120, 30)
    earlier = datetime(2026, 10, 5, tzinfo=UTC)
    assert svc.month_totals(earlier) == []


def test_a_failing_listener_does_not_stop_the_others(svc: WalletService) -> None:
    got: list[Event] = []

    def bad(_e: Event) -> None:
        raise RuntimeError("boom")

    svc.events.subscribe(bad)
    unsub = svc.events.subscribe(got.append, (HandlerRegistered,))
    svc.register_handler("https://a.example", "A", "https://a.example/h")
    assert [type(e) for e in got] == [HandlerRegistered]
    unsub()
    svc.register_handler("https://b.example", "B", "https://b.example/h")
    assert len(got) == 1


def test_raising_a_cap_takes_effect_at_once(svc: WalletService, clock: FakeClock) -> None:
    svc.set_site_policy(SitePolicy(SITE, rate_per_hour=3_600_000, cap_total=100))
    svc.set_site_active(SITE, True)
    clock.advance(seconds=1)
    r = svc.reserve(SITE, "p", USD9, 100)
    assert isinstance(r, Reservation)
    svc.commit(r)
    no = svc.reserve(SITE, "p", USD9, 100)
    assert isinstance(no, Refusal) and no.reason is Reason.TOTAL_CAP
    svc.set_site_policy(SitePolicy(SITE, rate_per_hour=3_600_000, cap_total=1_000))
    assert isinstance(svc.reserve(SITE, "p", USD9, 100), Reservation)


def test_orphaned_leases_and_reconcile(engine: Engine, clock: FakeClock) -> None:
    from wallet.ledger import Ledger

    dead = Ledger(engine, BERLIN, owner="elsewhere:1:dead")
    r = dead.reserve(site=SITE, provider="p", asset=USD9, amount=10, now=clock(), lease_size=500)
    assert isinstance(r, Reservation)
    dead.commit(r, clock())
    dead.flush(clock() + timedelta(seconds=2))
    del dead
    clock.advance(hours=2)
    svc = WalletService(engine, tz=BERLIN, clock=clock)
    assert svc.recover().orphaned == 1
    (orphan,) = svc.orphaned_leases()
    assert (orphan.site, orphan.unknown) == (SITE, 490)
    assert svc.reconcile(orphan.id, paid=0) == 490
    assert svc.orphaned_leases() == []
    (total,) = svc.site_totals()
    assert (total.sent, total.unresolved) == (10, 0)


def test_budgets_in_another_asset_need_a_rate(
    svc: WalletService, engine: Engine, clock: FakeClock
) -> None:
    from wallet.budgets import NoRateError, Rate

    xrp = Asset("XRP", 6)
    svc.set_site_active(SITE, True)
    clock.advance(seconds=30)
    with pytest.raises(NoRateError):
        svc.reserve(SITE, "p", xrp, 10)
    rate = Rate(xrp, USD9, 500, 1)  # 1 drop = 500 USD9 units
    priced = WalletService(engine, tz=BERLIN, clock=clock, explicit_rate=rate)
    priced.set_site_active(SITE, True)
    clock.advance(seconds=30)
    r = priced.reserve(SITE, "p", xrp, 10)
    assert isinstance(r, Reservation)


def test_history_reads_include_pending_payments_and_survive_a_locked_database(
    engine: Engine, db_path: Path, clock: FakeClock
) -> None:
    ledger = Ledger(engine, BERLIN, busy_deadline_s=0.2)
    svc = WalletService(engine, tz=BERLIN, clock=clock, ledger=ledger)
    svc.set_site_active(SITE, True)
    clock.advance(seconds=30)
    for amount in (100, 200):  # the first commit starts the group-commit period
        r = svc.reserve(SITE, "p", USD9, amount)
        assert isinstance(r, Reservation)
        svc.commit(r)
    # Another process holds the write lock: the read still answers, without the pending one.
    other = sqlite3.connect(db_path)
    other.execute("BEGIN IMMEDIATE")
    assert [t.sent for t in svc.site_totals()] == []
    other.rollback()
    other.close()
    # Free again: the read writes the pending payments first and sees them all.
    assert [t.sent for t in svc.site_totals()] == [300]


def test_an_ask_of_2_64_minus_1_with_nothing_capping_it_reserves_what_accrued(
    tmp_path: Path,
) -> None:
    """A page's setSendMax(2^64-1) with no caps and no balance to limit it: the lease is what
    accrued, never the ask (which would overflow SQLite's 64-bit integers)."""
    wall = datetime(2026, 11, 21, 12, tzinfo=UTC)
    clock = [wall]
    svc = WalletService.open(tmp_path, tz=ZoneInfo("UTC"), clock=lambda: clock[0])
    svc.set_global_policy(
        GlobalPolicy(defaults=Defaults(rate_per_hour=3_600_000_000, cap_month=None))
    )
    svc.set_site_active(SITE, True)
    clock[0] = wall + timedelta(seconds=2)
    got = svc.reserve(SITE, "p", USD9, 2**64 - 1, min_amount=1)
    assert isinstance(got, Reservation)
    assert got.amount == 2_000_000  # two seconds at 1e6 a second
    svc.commit(got)
    svc.close()


def test_site_facts_keep_the_refusal_people_are_told_of_until_something_lifts_it(
    svc: WalletService, clock: FakeClock
) -> None:
    svc.set_site_policy(SitePolicy(SITE, rate_per_hour=3_600_000, cap_day=1_500))
    svc.set_site_active(SITE, True)
    refused_at = None
    for _ in range(3):
        clock.advance(seconds=1)
        r = svc.reserve(SITE, "p", USD9, 1_000, min_amount=1_000)
        if isinstance(r, Reservation):
            svc.commit(r, delivered=r.amount)
        else:
            refused_at = clock()  # the last refusal, when
    facts = svc.site_facts([SITE, "https://other.example"])
    mine = facts[SITE]
    assert (mine.refusal, mine.refused_at) == (Reason.DAY_CAP, refused_at)
    assert mine.usage.site_day == 1_500 and mine.policy.cap_day == 1_500
    assert not mine.has_provider and mine.balance is None
    assert facts["https://other.example"].refusal is None
    # Raising the cap supersedes the refusal (and so does any successful reservation).
    svc.set_site_policy(SitePolicy(SITE, rate_per_hour=3_600_000, cap_day=10_000))
    assert svc.site_facts([SITE])[SITE].refusal is None


def test_site_facts_count_the_balance_of_the_builtin_provider_on_the_sandbox_only(
    svc: WalletService,
) -> None:
    svc.set_account("sandbox", "test.sandbox.you", USD9, 0)
    svc.register_handler("https://h.example", "H", "https://h.example/pay")
    assert svc.site_facts([SITE], network="sandbox")[SITE].balance is None
    svc.register_handler("trickle://wallet", "Trickle Wallet", BUILTIN_HANDLER_URI)
    builtin = next(h for h in svc.list_handlers() if h.handler_uri == BUILTIN_HANDLER_URI)
    svc.activate_handler(builtin.id)
    assert svc.site_facts([SITE], network="sandbox")[SITE].balance == 0
    assert svc.site_facts([SITE], network=None)[SITE].balance is None
    svc.top_up_sandbox(5)
    facts = svc.site_facts([SITE], network="sandbox")[SITE]
    assert (facts.balance, facts.has_provider) == (5, True)


def test_a_sleeping_machine_accrues_nothing(engine: Engine, clock: FakeClock) -> None:
    """The wall clock runs on while the machine sleeps; the monotonic clock does not (Linux's
    CLOCK_MONOTONIC, macOS's): active time is the smaller of the two, so nothing accrues for the
    time asleep, and after waking the site accrues again from where it was."""
    mono = [1000.0]
    svc = WalletService(engine, tz=ZoneInfo("UTC"), clock=clock, monotonic=lambda: mono[0])
    svc.set_site_policy(SitePolicy(SITE, rate_per_hour=3_600_000))  # 1,000 units a second
    svc.set_site_active(SITE, True)

    def awake(seconds: float) -> None:
        clock.advance(seconds=seconds)
        mono[0] += seconds

    awake(2)
    r = svc.reserve(SITE, "p", USD9, 10**9, min_amount=1)
    assert isinstance(r, Reservation) and r.amount == 2_000
    svc.commit(r, delivered=r.amount)
    clock.advance(hours=3)  # asleep: the wall clock jumps, the monotonic one stands still
    assert svc.allowance(SITE, USD9, 10).reason is Reason.NO_ACCRUAL
    awake(1)  # awake again, still attended: one second's worth, not three hours'
    r = svc.reserve(SITE, "p", USD9, 10**9, min_amount=1)
    assert isinstance(r, Reservation) and r.amount == 1_000
    svc.commit(r, delivered=r.amount)
    mono[0] += 5  # a wall clock set back: never more than the wall clock says either
    assert svc.allowance(SITE, USD9, 10).reason is Reason.NO_ACCRUAL
