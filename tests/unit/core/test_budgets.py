"""Budget policy with an injected clock: accrual, roll-over in local time, caps, rounding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallet.budgets import (
    USD9,
    Accrual,
    ActivityClock,
    Allowance,
    Asset,
    Decision,
    Defaults,
    GlobalPolicy,
    InvalidPolicyError,
    NoRateError,
    Rate,
    Reason,
    SitePolicy,
    SiteState,
    Usage,
    day_bounds,
    decide,
    effective,
    month_bounds,
    period_keys,
    remaining,
)

BERLIN = ZoneInfo("Europe/Berlin")
LA = ZoneInfo("America/Los_Angeles")
T0 = datetime(2026, 11, 21, 12, tzinfo=UTC)
ID = Rate.between(USD9, USD9)


def test_accrual_only_during_active_time() -> None:
    clock, acc, rate = ActivityClock(), Accrual(), 3600  # 1 unit per second
    backlog = timedelta(hours=1)
    now = T0
    acc = acc.accrue(rate, clock.take(now), backlog)
    now += timedelta(minutes=5)  # inactive: nothing accrues
    acc = acc.accrue(rate, clock.set_active(True, now), backlog)
    assert acc.available == 0
    now += timedelta(seconds=10)
    acc = acc.accrue(rate, clock.take(now), backlog)
    assert acc.available == 10
    now += timedelta(seconds=5)
    acc = acc.accrue(rate, clock.set_active(False, now), backlog)
    assert acc.available == 15
    now += timedelta(hours=3)  # hidden tab: nothing
    acc = acc.accrue(rate, clock.take(now), backlog)
    assert acc.available == 15


def test_accrual_keeps_fractions_and_caps_the_backlog() -> None:
    acc = Accrual()
    for _ in range(1000):  # 1000 x 1 ms at 3600/h = exactly 1 unit
        acc = acc.accrue(3600, timedelta(milliseconds=1), timedelta(minutes=1))
    assert acc.available == 1
    acc = acc.accrue(3600, timedelta(hours=5), timedelta(minutes=1))
    assert acc.available == 60  # at most one minute's worth banked
    assert acc.spend(25).available == 35
    assert acc.spend(1000).available == 0  # never negative
    assert acc.spend(25).give_back(25).available == 60


@given(
    st.integers(min_value=1, max_value=10**12),
    st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=0, max_value=10**7),
)
def test_time_to_is_the_least_active_time_that_accrues_the_amount(
    rate_per_hour: int, amount: int, already_us: int
) -> None:
    backlog = timedelta(days=1)
    start = Accrual().accrue(rate_per_hour, timedelta(microseconds=already_us), backlog)
    wait = start.time_to(amount, rate_per_hour, backlog)
    if wait is None:  # more than a day's worth: never banked
        assert amount * 3_600_000_000 > rate_per_hour * 86_400_000_000
        return
    assert start.accrue(rate_per_hour, wait, backlog).available >= amount
    if wait:
        short = start.accrue(rate_per_hour, wait - timedelta(microseconds=1), backlog)
        assert short.available < amount


def test_time_to_is_never_at_a_rate_of_zero_or_beyond_the_backlog() -> None:
    backlog = timedelta(seconds=60)
    assert Accrual().time_to(1, 0, backlog) is None
    assert Accrual().time_to(1, 59, backlog) is None  # 60 s banks 59/60 of a unit at most
    assert Accrual().time_to(1, 60, backlog) == timedelta(seconds=60)
    assert Accrual().time_to(0, 0, backlog) == timedelta(0)


def test_activity_clock_never_counts_backwards() -> None:
    c = ActivityClock()
    c.set_active(True, T0)
    assert c.take(T0 - timedelta(seconds=5)) == timedelta(0)
    assert c.take(T0 + timedelta(seconds=2)) == timedelta(seconds=2)


def test_day_and_month_roll_over_at_local_midnight() -> None:
    # 22:59 UTC on 31 Dec is 23:59 in Berlin: still December there...
    before = datetime(2026, 12, 31, 22, 59, tzinfo=UTC)
    assert period_keys(before, BERLIN) == ("d:2026-12-31", "m:2026-12")
    # ...and one minute later it is New Year in Berlin while still 2026 in UTC.
    after = before + timedelta(minutes=1)
    assert period_keys(after, BERLIN) == ("d:2027-01-01", "m:2027-01")
    assert period_keys(after, UTC_ZONE) == ("d:2026-12-31", "m:2026-12")
    # Los Angeles is 8 hours behind: 05:00 UTC on 1 Dec is still November there.
    assert period_keys(datetime(2026, 12, 1, 5, tzinfo=UTC), LA) == ("d:2026-11-30", "m:2026-11")


UTC_ZONE = ZoneInfo("UTC")


def test_bounds_follow_dst() -> None:
    # Berlin leaves DST on 25 Oct 2026: that day has 25 hours.
    start, end = day_bounds(datetime(2026, 10, 25, 12, tzinfo=UTC), BERLIN)
    assert end - start == timedelta(hours=25)
    start, end = month_bounds(datetime(2026, 3, 15, tzinfo=UTC), BERLIN)
    assert start == datetime(2026, 2, 28, 23, tzinfo=UTC)
    assert end == datetime(2026, 3, 31, 22, tzinfo=UTC)  # DST began on 29 March
    start, end = month_bounds(datetime(2026, 12, 15, tzinfo=UTC), BERLIN)
    assert end == datetime(2026, 12, 31, 23, tzinfo=UTC)


def test_naive_times_are_refused() -> None:
    with pytest.raises(InvalidPolicyError):
        period_keys(datetime(2026, 1, 1), BERLIN)


def test_defaults_for_unconfigured_sites() -> None:
    eff = effective(None, Defaults())
    assert eff.rate_per_hour == 600_000_000  # 0.60 USD at scale 9
    assert eff.cap_month == 5_000_000_000  # 5.00 USD
    mine = effective(SitePolicy("s", rate_per_hour=1, cap_total=9), Defaults())
    assert (mine.rate_per_hour, mine.cap_month, mine.cap_total) == (1, 5_000_000_000, 9)


def test_state_and_cap_reasons() -> None:
    g = GlobalPolicy(monthly_budget=100)
    d = g.defaults
    assert remaining(effective(SitePolicy("s", SiteState.PAUSED), d), g, Usage()).reason is (
        Reason.PAUSED
    )
    assert remaining(effective(SitePolicy("s", SiteState.BLOCKED), d), g, Usage()).reason is (
        Reason.BLOCKED
    )
    off = GlobalPolicy(enabled=False)
    assert remaining(effective(None, d), off, Usage()).reason is Reason.DISABLED
    p = effective(SitePolicy("s", cap_day=10, cap_month=50, cap_total=70), d)
    assert remaining(p, g, Usage(site_day=10)) == Allowance(0, Reason.DAY_CAP)
    assert remaining(p, g, Usage(site_month=50)).reason is Reason.MONTH_CAP
    assert remaining(p, g, Usage(site_total=75)).reason is Reason.TOTAL_CAP
    assert remaining(p, g, Usage(global_month=100)).reason is Reason.GLOBAL_BUDGET
    ok = remaining(p, g, Usage(site_day=3, global_month=95))
    assert ok == Allowance(5, Reason.GLOBAL_BUDGET) and ok.reason is None


def test_packets_larger_than_what_is_left_are_cut_not_overshot() -> None:
    allow = Allowance(7, Reason.DAY_CAP)
    d = decide(allow, 1000, ID)
    assert (d.amount, d.reason, d.binding) == (7, None, Reason.DAY_CAP)
    assert decide(allow, 1000, ID, min_amount=8) == Decision(0, Reason.DAY_CAP, Reason.DAY_CAP)
    assert decide(allow, 1000, ID, accrued=3).amount == 3
    assert decide(allow, 5, ID, accrued=0).reason is Reason.NO_ACCRUAL


def test_other_assets_need_an_explicit_rate() -> None:
    xrp = Asset("XRP", 6)
    with pytest.raises(NoRateError):
        Rate.between(xrp, USD9)
    rate = Rate(xrp, USD9, 2_500, 1)  # 1 drop = 2.5e-6 USD = 2500 USD9 units
    assert Rate.between(xrp, USD9, rate) is rate
    with pytest.raises(NoRateError):  # a rate for another pair is not used silently
        Rate.between(Asset("EUR", 2), USD9, rate)
    # Same code, other scale: exact, no rate needed.
    assert Rate.between(Asset("USD", 2), USD9).charge(1) == 10_000_000
    assert Rate.between(Asset("USD", 12), USD9).charge(1) == 1  # rounds up
    assert Rate.between(Asset("USD", 12), USD9).refund(999) == 0  # rounds down


@given(
    left=st.integers(0, 10**15),
    want=st.integers(1, 10**15),
    num=st.integers(1, 10**6),
    den=st.integers(1, 10**6),
    accrued=st.none() | st.integers(0, 10**15),
)
def test_rounding_never_overshoots(
    left: int, want: int, num: int, den: int, accrued: int | None
) -> None:
    rate = Rate(Asset("ABC", 3), USD9, num, den)
    d = decide(Allowance(left, Reason.MONTH_CAP), want, rate, accrued=accrued)
    assert 0 <= d.amount <= want
    assert rate.charge(d.amount) <= left
    if accrued is not None:
        assert rate.charge(d.amount) <= accrued
    if d.amount == 0:
        assert d.reason is not None


def test_invalid_values_are_refused() -> None:
    with pytest.raises(InvalidPolicyError):
        SitePolicy("s", cap_day=-1)
    with pytest.raises(InvalidPolicyError):
        Asset("USD", 300)
    with pytest.raises(InvalidPolicyError):
        Rate(USD9, USD9, 0, 1)
