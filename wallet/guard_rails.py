"""Guard rails: which rates and caps are big enough to ask "are you sure?", and the worst case.

Pure, no I/O. The thresholds are in *whole units* of the budget asset, taken from US dollars
(more than 5 an hour, more than 100 a month) and scaled by a small table for currencies whose
unit is worth far less (no exchange rates are fetched: the table only keeps the question from
firing on every yen). A new profile's global monthly budget comes from the same table.

Invariant: every figure is an ``int`` at the asset's scale.
"""

from __future__ import annotations

from dataclasses import dataclass

from wallet.budgets import Asset

HOURS_PER_MONTH = 24 * 31  # the longest month, paid around the clock: the worst case

# Dollars per hour / per month that need a confirmation, and a new profile's monthly budget.
RATE_THRESHOLD_USD = 5
MONTH_THRESHOLD_USD = 100
NEW_PROFILE_MONTHLY_BUDGET_USD = 5

# Units of these currencies per US dollar, rounded to a power of ten: enough for a threshold.
_SMALL_UNITS = {
    "JPY": 100,
    "INR": 100,
    "RUB": 100,
    "KRW": 1_000,
    "HUF": 100,
    "ISK": 100,
    "CLP": 1_000,
    "COP": 1_000,
    "IDR": 10_000,
    "VND": 10_000,
}


def _units(asset: Asset, dollars: int) -> int:
    """About ``dollars`` US dollars in ``asset``, at its scale."""
    whole: int = dollars * _SMALL_UNITS.get(asset.code.upper(), 1)
    factor: int = 10**asset.scale
    return whole * factor


def new_profile_monthly_budget(asset: Asset) -> int:
    """The global monthly budget a new profile starts with: 5 USD or about that in ``asset``."""
    return _units(asset, NEW_PROFILE_MONTHLY_BUDGET_USD)


@dataclass(frozen=True, slots=True)
class Limits:
    """One site's (or the defaults') rate per hour and caps, ``None`` meaning "none"."""

    rate_per_hour: int | None
    cap_day: int | None = None
    cap_month: int | None = None
    cap_total: int | None = None


def monthly_worst_case(limits: Limits, monthly_budget: int | None = None) -> int | None:
    """The most a month can cost under ``limits`` (and the global budget); ``None``: unbounded."""
    bounds = [
        b
        for b in (
            None if limits.rate_per_hour is None else limits.rate_per_hour * HOURS_PER_MONTH,
            None if limits.cap_day is None else limits.cap_day * 31,
            limits.cap_month,
            limits.cap_total,
            monthly_budget,
        )
        if b is not None
    ]
    return min(bounds) if bounds else None


def needs_confirmation(limits: Limits, asset: Asset) -> bool:
    """Whether a rate above 5 USD an hour, or a cap letting more than 100 USD a month go, is set."""
    if limits.rate_per_hour is not None and limits.rate_per_hour > _units(
        asset, RATE_THRESHOLD_USD
    ):
        return True
    month = _units(asset, MONTH_THRESHOLD_USD)
    caps = (
        None if limits.cap_day is None else limits.cap_day * 31,
        limits.cap_month,
        limits.cap_total,
    )
    return any(c is not None and c > month for c in caps)


def budget_needs_confirmation(monthly_budget: int | None, asset: Asset) -> bool:
    """Whether a global monthly budget is above the 100 USD threshold."""
    return monthly_budget is not None and monthly_budget > _units(asset, MONTH_THRESHOLD_USD)


__all__ = [
    "HOURS_PER_MONTH",
    "Limits",
    "budget_needs_confirmation",
    "monthly_worst_case",
    "needs_confirmation",
    "new_profile_monthly_budget",
]
