"""Budget policy: how much may be sent to a site now, and if nothing, why. Pure, no I/O.

Owns the rules; the numbers come in as arguments (policy, usage, accrued allowance, ``now`` and
the user's time zone) and a decision comes out. The ledger applies the same rules inside its
``BEGIN IMMEDIATE`` transaction, the service applies accrual in memory.

Invariants:
- Amounts are ``int`` in *budget units* (the budget asset at its scale, e.g. USD at scale 9);
  ``None`` as a cap means "no cap". Floats never appear.
- Budget units become source units (the paying account's asset) only through :class:`Rate`:
  the same asset code at another scale converts exactly; a different asset code needs an explicit
  rate, never a silent 1:1. Limits convert *down* (floor), charges convert *up* (ceil), so a
  grant can never exceed what is left, whatever the packet size.
- Money accrues only for active time (a tab visible in the focused window), at the site's rate
  per hour, and at most ``max_backlog`` worth is ever banked.
- Day and month roll over at local midnight in the time zone passed in (``zoneinfo``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from wallet.errors import WalletError

_US_PER_HOUR = 3_600_000_000


class BudgetError(WalletError):
    """Base of budget and policy errors."""


class NoRateError(BudgetError):
    """Budgets are set in one asset and the account pays in another, and no rate was given."""


class InvalidPolicyError(BudgetError):
    """A policy value is out of range (negative amount, bad scale, ...)."""


class SiteState(enum.StrEnum):
    ENABLED = "enabled"
    PAUSED = "paused"
    BLOCKED = "blocked"


class Reason(enum.StrEnum):
    """Why nothing (more) may be sent now."""

    PAUSED = "paused"
    BLOCKED = "blocked"
    DISABLED = "disabled"  # monetization switched off globally
    DAY_CAP = "day_cap"
    MONTH_CAP = "month_cap"
    TOTAL_CAP = "total_cap"
    GLOBAL_BUDGET = "global_budget"
    BALANCE = "balance"  # the built-in account has not enough money
    NO_ACCRUAL = "no_accrual"  # not enough active viewing time accrued yet
    PROVIDER_FAILING = "provider_failing"  # the provider lied (a fulfillment that does not verify)


@dataclass(frozen=True, slots=True)
class Asset:
    code: str
    scale: int

    def __post_init__(self) -> None:
        if not 0 <= self.scale <= 255 or not self.code:
            raise InvalidPolicyError(f"invalid asset {self.code!r} scale {self.scale}")


@dataclass(frozen=True, slots=True)
class Rate:
    """``budget_units = source_units * numerator / denominator``, for one asset pair."""

    source: Asset
    budget: Asset
    numerator: int
    denominator: int

    def __post_init__(self) -> None:
        if self.numerator <= 0 or self.denominator <= 0:
            raise InvalidPolicyError("a rate needs a positive numerator and denominator")

    @classmethod
    def between(cls, source: Asset, budget: Asset, explicit: Rate | None = None) -> Rate:
        """The rate from ``source`` to ``budget``.

        Same code: exact scale shift. Different code: ``explicit`` (for exactly that pair).

        Raises:
            NoRateError: different asset codes and no matching explicit rate.
        """
        if source.code == budget.code:
            shift = budget.scale - source.scale
            if shift >= 0:
                return cls(source, budget, 10**shift, 1)
            return cls(source, budget, 1, 10**-shift)
        if explicit is not None and explicit.source == source and explicit.budget == budget:
            return explicit
        raise NoRateError(
            f"budgets are in {budget.code} but the account pays in {source.code}; "
            "set an exchange rate to apply them"
        )

    def charge(self, source_amount: int) -> int:
        """Budget units to charge for ``source_amount`` (rounded up)."""
        return -((-source_amount * self.numerator) // self.denominator)

    def refund(self, source_amount: int) -> int:
        """Budget units that ``source_amount`` is certainly worth (rounded down)."""
        return (source_amount * self.numerator) // self.denominator

    def affordable(self, budget_amount: int) -> int:
        """The most source units whose charge fits in ``budget_amount`` (rounded down)."""
        return (budget_amount * self.denominator) // self.numerator


USD9 = Asset("USD", 9)
# While the rate of pay (not the page) limits a connection, at most one packet per this long:
# each packet then carries this long of accrued pay, instead of thousands of dust packets a
# second. 2 s, as the Interledger Foundation's Web Monetization extension (``MIN_PAYMENT_WAIT =
# 2000`` ms between continuous payments). It is also all that is banked while a site is stopped
# (paused, capped, out of budget or balance), so lifting a stop never pays a lump.
PACE = timedelta(seconds=2)
# The defaults the issue asks for: the equivalent of 0.60 USD per hour, 5.00 USD per month.
DEFAULT_RATE_PER_HOUR = 600_000_000
DEFAULT_CAP_MONTH = 5_000_000_000


@dataclass(frozen=True, slots=True)
class Defaults:
    """What an unconfigured site gets (budget units)."""

    rate_per_hour: int = DEFAULT_RATE_PER_HOUR
    cap_day: int | None = None
    cap_month: int | None = DEFAULT_CAP_MONTH
    cap_total: int | None = None


@dataclass(frozen=True, slots=True)
class GlobalPolicy:
    """Settings that apply across sites."""

    budget_asset: Asset = USD9
    monthly_budget: int | None = None
    enabled: bool = True
    defaults: Defaults = Defaults()
    max_backlog: timedelta = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class SitePolicy:
    """The user's settings for one site; ``None`` fields fall back to :class:`Defaults`."""

    site: str
    state: SiteState = SiteState.ENABLED
    rate_per_hour: int | None = None
    cap_day: int | None = None
    cap_month: int | None = None
    cap_total: int | None = None

    def __post_init__(self) -> None:
        for v in (self.rate_per_hour, self.cap_day, self.cap_month, self.cap_total):
            if v is not None and v < 0:
                raise InvalidPolicyError("amounts in a site policy cannot be negative")


@dataclass(frozen=True, slots=True)
class Effective:
    """A site's policy with the defaults filled in."""

    state: SiteState
    rate_per_hour: int
    cap_day: int | None
    cap_month: int | None
    cap_total: int | None


def effective(policy: SitePolicy | None, defaults: Defaults) -> Effective:
    """Fill ``policy``'s gaps from ``defaults`` (``None`` policy: an unconfigured site)."""
    p = policy or SitePolicy(site="")
    return Effective(
        state=p.state,
        rate_per_hour=p.rate_per_hour if p.rate_per_hour is not None else defaults.rate_per_hour,
        cap_day=p.cap_day if p.cap_day is not None else defaults.cap_day,
        cap_month=p.cap_month if p.cap_month is not None else defaults.cap_month,
        cap_total=p.cap_total if p.cap_total is not None else defaults.cap_total,
    )


@dataclass(frozen=True, slots=True)
class Usage:
    """Spent-or-reserved budget units in the current periods."""

    site_day: int = 0
    site_month: int = 0
    site_total: int = 0
    global_month: int = 0


@dataclass(frozen=True, slots=True)
class Allowance:
    """What may be spent now: ``amount`` (``None`` = unlimited) and the ``limit`` that binds."""

    amount: int | None
    limit: Reason | None

    @property
    def reason(self) -> Reason | None:
        """Why nothing may be spent (``None`` while something is left)."""
        return self.limit if self.amount == 0 else None


def period_keys(now: datetime, tz: ZoneInfo) -> tuple[str, str]:
    """The day and month keys of ``now`` in the user's time zone (``d:YYYY-MM-DD``, ``m:YYYY-MM``).

    Raises:
        InvalidPolicyError: ``now`` is naive.
    """
    local = _local(now, tz)
    return f"d:{local:%Y-%m-%d}", f"m:{local:%Y-%m}"


def _local(now: datetime, tz: ZoneInfo) -> datetime:
    if now.tzinfo is None:
        raise InvalidPolicyError("times must be timezone-aware")
    return now.astimezone(tz)


def day_bounds(now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Start and end (UTC) of ``now``'s local day."""
    local = _local(now, tz)
    start = datetime(local.year, local.month, local.day, tzinfo=tz)
    # Aware arithmetic with one tzinfo is wall-clock: +1 day is the next local midnight.
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def month_bounds(now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Start and end (UTC) of ``now``'s local month."""
    local = _local(now, tz)
    start = datetime(local.year, local.month, 1, tzinfo=tz)
    y, m = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return start.astimezone(UTC), datetime(y, m, 1, tzinfo=tz).astimezone(UTC)


def remaining(eff: Effective, glob: GlobalPolicy, usage: Usage) -> Allowance:
    """How much of every cap and the global budget is left (the smallest wins).

    The state checks come first: a paused or blocked site gets 0 whatever its caps.
    """
    if not glob.enabled:
        return Allowance(0, Reason.DISABLED)
    if eff.state is SiteState.BLOCKED:
        return Allowance(0, Reason.BLOCKED)
    if eff.state is SiteState.PAUSED:
        return Allowance(0, Reason.PAUSED)
    best: int | None = None
    why: Reason | None = None
    for cap, used, reason in (
        (eff.cap_day, usage.site_day, Reason.DAY_CAP),
        (eff.cap_month, usage.site_month, Reason.MONTH_CAP),
        (eff.cap_total, usage.site_total, Reason.TOTAL_CAP),
        (glob.monthly_budget, usage.global_month, Reason.GLOBAL_BUDGET),
    ):
        if cap is None:
            continue
        left = max(0, cap - used)
        if best is None or left < best:
            best, why = left, reason
    return Allowance(best, why)


@dataclass(frozen=True, slots=True)
class Decision:
    """How many *source* units may be sent now; ``reason`` says why when it is 0."""

    amount: int
    reason: Reason | None
    binding: Reason | None = None  # the limit that cut the amount, if any


def decide(
    allowance: Allowance,
    want: int,
    rate: Rate,
    *,
    accrued: int | None = None,
    min_amount: int = 1,
) -> Decision:
    """Grant up to ``want`` source units within ``allowance`` and ``accrued`` budget units.

    A grant below ``min_amount`` is a refusal. The charge of the grant (rounded up) never exceeds
    either limit, whatever the size of ``want``.
    """
    if allowance.reason is not None:
        return Decision(0, allowance.reason, allowance.reason)
    amount = want
    binding: Reason | None = None
    if allowance.amount is not None:
        cap = rate.affordable(allowance.amount)
        if cap < amount:
            amount, binding = cap, allowance.limit
    if accrued is not None:
        cap = rate.affordable(accrued)
        if cap < amount:
            amount, binding = cap, Reason.NO_ACCRUAL
    if amount < max(1, min_amount):
        return Decision(0, binding, binding)
    return Decision(amount, None, binding)


@dataclass(frozen=True, slots=True)
class Accrual:
    """Allowance earned by active viewing, in budget units times microseconds per hour.

    Kept scaled so that no fraction is lost between short active intervals.
    """

    scaled: int = 0

    def accrue(self, rate_per_hour: int, active: timedelta, max_backlog: timedelta) -> Accrual:
        """Add ``active`` time at ``rate_per_hour``, banking at most ``max_backlog`` worth."""
        us = max(0, _us(active))
        cap = rate_per_hour * max(0, _us(max_backlog))
        return replace(self, scaled=min(cap, self.scaled + rate_per_hour * us))

    @property
    def available(self) -> int:
        """Whole budget units accrued."""
        return self.scaled // _US_PER_HOUR

    def time_to(
        self, budget_amount: int, rate_per_hour: int, max_backlog: timedelta
    ) -> timedelta | None:
        """The active viewing time until ``budget_amount`` whole units have accrued; ``None``
        if they never will at this rate (a rate of 0, or more than ``max_backlog`` banks)."""
        missing = budget_amount * _US_PER_HOUR - self.scaled
        if missing <= 0:
            return timedelta(0)
        if rate_per_hour <= 0 or budget_amount * _US_PER_HOUR > rate_per_hour * _us(max_backlog):
            return None
        return timedelta(microseconds=-(-missing // rate_per_hour))

    def spend(self, budget_amount: int) -> Accrual:
        """Take ``budget_amount`` out (never below zero)."""
        return replace(self, scaled=max(0, self.scaled - budget_amount * _US_PER_HOUR))

    def give_back(self, budget_amount: int) -> Accrual:
        """Return ``budget_amount`` (a released reservation)."""
        return replace(self, scaled=self.scaled + budget_amount * _US_PER_HOUR)


def _us(d: timedelta) -> int:
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds


class ActivityClock:
    """Tracks when a site is active (visible in the focused window). Time is passed in.

    A monotonic reading (``mono``, seconds) may come with each wall-clock ``now``: then active
    time is the smaller of the two elapsed times, so a machine that slept (the wall clock ran on,
    the monotonic clock did not: Linux's ``CLOCK_MONOTONIC``, macOS's) or a wall clock set forward
    never counts as time the user attended to the site.
    """

    __slots__ = ("_mono", "_since")

    def __init__(self) -> None:
        self._since: datetime | None = None  # active since, or None when inactive
        self._mono: float | None = None  # the monotonic reading at _since, if given

    @property
    def active(self) -> bool:
        return self._since is not None

    def set_active(self, active: bool, now: datetime, mono: float | None = None) -> timedelta:
        """Switch activity; returns the active time that elapsed up to ``now``."""
        elapsed = self.take(now, mono)
        self._since = now if active else None
        self._mono = mono if active else None
        return elapsed

    def take(self, now: datetime, mono: float | None = None) -> timedelta:
        """Active time since the last call (0 if inactive; never negative; never more than the
        monotonic time that passed, when both readings have one)."""
        if self._since is None:
            return timedelta(0)
        elapsed = max(timedelta(0), now - self._since)
        if mono is not None and self._mono is not None:
            elapsed = min(elapsed, timedelta(seconds=max(0.0, mono - self._mono)))
        self._since = max(self._since, now)
        if mono is not None:
            self._mono = mono if self._mono is None else max(self._mono, mono)
        return elapsed


__all__ = [
    "DEFAULT_CAP_MONTH",
    "DEFAULT_RATE_PER_HOUR",
    "PACE",
    "USD9",
    "Accrual",
    "ActivityClock",
    "Allowance",
    "Asset",
    "BudgetError",
    "Decision",
    "Defaults",
    "Effective",
    "GlobalPolicy",
    "InvalidPolicyError",
    "NoRateError",
    "Rate",
    "Reason",
    "SitePolicy",
    "SiteState",
    "Usage",
    "day_bounds",
    "decide",
    "effective",
    "month_bounds",
    "period_keys",
    "remaining",
]
