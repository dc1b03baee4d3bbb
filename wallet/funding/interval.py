"""ISO 8601 repeating intervals as Open Payments grant limits use them: ``R/<start>/P1M``.

Open Payments (``limits.interval``, auth-server.yaml ``interval``): "ISO8601 repeating interval";
the Web Monetization flows: "Let *interval* be an ISO 8601 repeating interval if *renewMonthly*
is true [...] The starting date for the repeating interval needs to be the users current date".
A grant's ``debitAmount`` is then a budget per period: the wallet counts what was spent since the
current period's start. Only what such budgets need is read here: ``R[n]/<start>/<duration>``
with a date duration (years, months, weeks, days; e.g. ``P1M``). Months are added as calendar
months, clamped to the month's last day (Jan 31 + P1M = Feb 28/29), as Rafiki's luxon does.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from wallet.errors import WalletError

__all__ = ["IntervalError", "RepeatingInterval", "monthly_from"]

_DURATION = re.compile(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?")
_REPEAT = re.compile(r"R(\d*)")


class IntervalError(WalletError, ValueError):
    """Not a repeating interval Trickle can follow."""


@dataclass(frozen=True)
class RepeatingInterval:
    start: dt.datetime
    years: int = 0
    months: int = 0
    days: int = 0
    repetitions: int | None = None  # ``None``: for ever

    @classmethod
    def parse(cls, text: str) -> RepeatingInterval:
        """Raises: IntervalError."""
        parts = text.split("/") if isinstance(text, str) else []
        if len(parts) != 3 or (repeat := _REPEAT.fullmatch(parts[0])) is None:
            raise IntervalError("the grant's interval is not an R/<start>/<duration> interval")
        duration = _DURATION.fullmatch(parts[2])
        if duration is None or not any(duration.groups()):
            raise IntervalError("the grant's interval has no date duration (P1M, P7D, ...)")
        try:
            start = dt.datetime.fromisoformat(parts[1].replace("Z", "+00:00"))
        except ValueError as e:
            raise IntervalError("the grant's interval has no valid start time") from e
        if start.tzinfo is None:
            start = start.replace(tzinfo=dt.UTC)
        y, m, w, d = (int(g or 0) for g in duration.groups())
        return cls(
            start,
            years=y,
            months=m,
            days=7 * w + d,
            repetitions=int(repeat.group(1)) if repeat.group(1) else None,
        )

    def __str__(self) -> str:
        units = ((self.years, "Y"), (self.months, "M"), (self.days, "D"))
        duration = "P" + "".join(f"{n}{unit}" for n, unit in units if n)
        reps = "" if self.repetitions is None else str(self.repetitions)
        start = self.start.astimezone(dt.UTC).isoformat(timespec="milliseconds")
        return f"R{reps}/{start.replace('+00:00', 'Z')}/{duration}"

    def boundary(self, k: int) -> dt.datetime:
        """The start of period ``k`` (``k = 0``: the interval's start)."""
        months = self.start.month - 1 + k * (12 * self.years + self.months)
        year, month = self.start.year + months // 12, months % 12 + 1
        day = min(self.start.day, calendar.monthrange(year, month)[1])
        return self.start.replace(year=year, month=month, day=day) + dt.timedelta(
            days=k * self.days
        )

    def period(self, now: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
        """``[start, end)`` of the period holding ``now``; ``None`` before the start or after
        the last repetition."""
        if now < self.start:
            return None
        # a first guess from the average period length, then walk to the right period
        average = (self.boundary(1) - self.start).total_seconds() or 1.0
        k = max(0, int((now - self.start).total_seconds() // average) - 1)
        while self.boundary(k + 1) <= now:
            k += 1
        while k > 0 and self.boundary(k) > now:
            k -= 1
        if self.repetitions is not None and k >= max(self.repetitions, 1):
            return None
        return self.boundary(k), self.boundary(k + 1)


def monthly_from(start: dt.datetime) -> RepeatingInterval:
    """``R/<start>/P1M``: a budget that renews every month from ``start``."""
    return RepeatingInterval(start.astimezone(dt.UTC), months=1)
