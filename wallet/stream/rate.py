"""Exchange-rate probing and the minimum acceptable rate (RFC 29 §3.4).

"Implementations SHOULD use the ratio of the amount that arrived at the remote endpoint and
the amount sent to determine the path exchange rate. They MAY send an unfulfillable test
packet when the connection is initiated to estimate the path exchange rate."

As ilp-protocol-stream does (WIRE-NOTES §6.4): unfulfillable probes of 1, 1e3, 1e6, 1e9 and
1e12 source units, in parallel; each F99 reply states the amount that arrived. The rate comes
from the reply that delivered the most, and must have at least ``precision`` (3) significant
digits — i.e. at least 100 units arrived. F08 lowers the amount to
``floor(sent * maximum / received)`` and the probe is retried; a T-class reject retries at 2/3
of the amount after a backoff. At most 15 retries per probe.

Rates are :class:`~fractions.Fraction` (destination units per source unit, in raw integer
units, scale included), never floats.
"""

from __future__ import annotations

from fractions import Fraction

__all__ = ["MAX_PROBE_RETRIES", "Probe", "min_destination_amount", "to_fraction"]

MAX_PROBE_RETRIES = 15


def to_fraction(value: Fraction | int | str) -> Fraction:
    """A rate from a Fraction, an int or a decimal string ("0.000792")."""
    return value if isinstance(value, Fraction) else Fraction(value)


def min_destination_amount(amount: int, rate: Fraction) -> int:
    """``floor(amount * rate)`` — the STREAM ``prepareAmount`` of a Prepare (§5.2)."""
    return amount * rate.numerator // rate.denominator


class Probe:
    """The state of one connection's rate probe. The connection sends what :meth:`next_amounts`
    returns and reports each outcome."""

    __slots__ = ("_queue", "_retries", "best_delivered", "best_sent", "in_flight", "precision")

    def __init__(self, amounts: tuple[int, ...], max_packet: int, precision: int) -> None:
        self._queue = sorted({max(1, min(a, max_packet)) for a in amounts})
        self._retries = 0
        self.in_flight = 0
        self.best_sent = 0
        self.best_delivered = 0
        self.precision = precision

    def next_amounts(self) -> list[int]:
        out, self._queue = self._queue, []
        self.in_flight += len(out)
        return out

    @property
    def done(self) -> bool:
        return self.in_flight == 0 and not self._queue

    def delivered(self, sent: int, arrived: int) -> None:
        self.in_flight -= 1
        if arrived > self.best_delivered or (
            arrived == self.best_delivered and sent > self.best_sent
        ):
            self.best_sent, self.best_delivered = sent, arrived

    def retry(self, amount: int) -> None:
        """Retry at ``amount`` (after F08 or a T-class reject), if any retries are left."""
        self.in_flight -= 1
        if amount >= 1 and self._retries < MAX_PROBE_RETRIES:
            self._retries += 1
            self._queue.append(amount)

    def failed(self) -> None:
        self.in_flight -= 1

    @property
    def rate(self) -> Fraction | None:
        """The measured rate, or ``None`` if no probe met the precision."""
        if self.best_delivered < 10 ** (self.precision - 1) or self.best_sent == 0:
            return None
        return Fraction(self.best_delivered, self.best_sent)
