"""Grant intervals (``R[n]/<start>/<duration>``): one reader, in ``wallet.openpayments``, for
the client (when the budget renews) and the sandbox wallet (which enforces it)."""

from __future__ import annotations

import datetime as dt

import pytest

from wallet.funding import connected
from wallet.openpayments.intervals import RepeatingInterval, monthly_interval
from wallet.openpayments.outgoing_models import monthly_interval as exported
from wallet.sandbox import op_auth, op_outgoing

UTC = dt.UTC


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_one_implementation_for_client_and_sandbox() -> None:
    for user in (connected, op_auth, op_outgoing):
        assert vars(user)["RepeatingInterval"] is RepeatingInterval, user.__name__
    assert exported is monthly_interval


def test_a_monthly_budget_renews_on_the_same_day_or_the_months_last() -> None:
    interval = RepeatingInterval.parse(monthly_interval(at(2026, 1, 31, 8)))
    assert interval.window(at(2026, 1, 31, 8)) == (at(2026, 1, 31, 8), at(2026, 2, 28, 8))
    assert interval.window(at(2026, 3, 30, 9)) == (at(2026, 2, 28, 8), at(2026, 3, 31, 8))
    assert interval.window(at(2026, 4, 1)) == (at(2026, 3, 31, 8), at(2026, 4, 30, 8))
    assert interval.window(at(2026, 1, 31, 7)) is None  # before the start: no budget


def test_repetitions_end_and_other_forms_are_named_errors() -> None:
    interval = RepeatingInterval.parse("R2/2026-12-06T08:00:00.000Z/PT1H")
    assert interval.window(at(2026, 12, 6, 9, 30)) == (at(2026, 12, 6, 9), at(2026, 12, 6, 10))
    assert interval.window(at(2026, 12, 6, 10)) is None  # two repetitions, then none
    for bad in (
        "R/2026-12-06T08:00:00Z/2026-12-07T08:00:00Z",
        "P1M",
        "R/2026-12-06T08:00:00/P1M",
        "R/2026-12-06T08:00:00Z/PT",
        "Rx/2026-12-06T08:00:00Z/P1M",
    ):
        with pytest.raises(ValueError):
            RepeatingInterval.parse(bad)
