"""ISO 8601 repeating intervals as outgoing-payment grants use them: ``R[n]/<start>/<duration>``
(``R/2026-12-06T08:00:00.000Z/P1M`` renews a budget monthly from that instant).

A grant's ``limits.interval`` says when its ``debitAmount`` (or ``receiveAmount``) renews; Rafiki
counts a payment in the repetition it was created in, and before the start or after the last
repetition there is none, and no payment may be made (RAF backend ``payment/outgoing/
limits.ts``, ``service.ts``). The client uses it to say when the budget renews
(:mod:`wallet.funding`); the sandbox wallet to enforce it (:mod:`wallet.sandbox.op_outgoing`).
Sans-IO: time is passed in.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Final

from wallet.openpayments.models import format_timestamp

__all__ = ["RepeatingInterval", "monthly_interval"]

_DURATION: Final = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)
_MAX_STEPS: Final = 100_000


@dataclass(frozen=True)
class _Duration:
    months: int
    delta: dt.timedelta

    def after(self, when: dt.datetime, times: int = 1) -> dt.datetime:
        month = when.month - 1 + self.months * times
        year = when.year + month // 12
        month = month % 12 + 1
        day = min(when.day, calendar.monthrange(year, month)[1])
        return when.replace(year=year, month=month, day=day) + self.delta * times


def monthly_interval(start: dt.datetime) -> str:
    """``R/<start>/P1M``: a budget that renews every month from ``start`` (FLOWS "Connecting a
    wallet": "The starting date for the repeating interval needs to be the users current
    date")."""
    return f"R/{format_timestamp(start)}/P1M"


@dataclass(frozen=True)
class RepeatingInterval:
    """``R[n]/<start>/<duration>`` (:meth:`parse`); :meth:`window` is the repetition a moment
    falls in."""

    start: dt.datetime
    duration: _Duration
    repetitions: int | None  # None: unbounded (``R/``)

    @classmethod
    def parse(cls, text: str) -> RepeatingInterval:
        """``R[n]/<start>/<duration>``.

        Raises:
            ValueError: another form (``R/<start>/<end>``, ``R/<duration>/<end>``) or not ISO.
        """
        parts = text.split("/")
        if len(parts) != 3 or not parts[0].startswith("R"):
            raise ValueError("not an ISO 8601 repeating interval R[n]/<start>/<duration>")
        count = parts[0][1:]
        if count and not count.isdigit():
            raise ValueError("the repetition count is not a number")
        start = dt.datetime.fromisoformat(parts[1].replace("Z", "+00:00"))
        if start.tzinfo is None:
            raise ValueError("the interval's start has no time zone")
        match = _DURATION.match(parts[2])
        if match is None or parts[2] in ("P", "PT"):
            raise ValueError("the interval's duration is not an ISO 8601 duration")
        n = {k: int(v) if v else 0 for k, v in match.groupdict().items()}
        duration = _Duration(
            months=n["years"] * 12 + n["months"],
            delta=dt.timedelta(
                weeks=n["weeks"],
                days=n["days"],
                hours=n["hours"],
                minutes=n["minutes"],
                seconds=n["seconds"],
            ),
        )
        if duration.months == 0 and duration.delta <= dt.timedelta(0):
            raise ValueError("the interval's duration is zero")
        return cls(start, duration, int(count) if count else None)

    def window(self, now: dt.datetime) -> tuple[dt.datetime, dt.datetime] | None:
        """The repetition ``[start, end)`` that contains ``now``, or ``None``."""
        if now < self.start or self.repetitions == 0:
            return None
        step = 0
        begin = self.start
        while step < _MAX_STEPS:
            end = self.duration.after(self.start, step + 1)
            if now < end:
                return begin, end
            step += 1
            begin = end
            if self.repetitions is not None and step >= self.repetitions:
                return None
        return None
