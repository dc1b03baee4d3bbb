"""Congestion control: how many packets may be in flight, how large each may be, and when to
back off (RFC 29 §1: "Congestion control (adjusting the rate at which ILP packets are sent
based on network throughput limits)").

ilp-protocol-stream keeps one packet in flight per connection; that is its throughput ceiling
(WIRE-NOTES §6.5). Trickle keeps a *window* of packets in flight, TCP-style:

* slow start: the window grows by one per fulfilled packet until the first congestion signal,
  then by ``1/window`` (additive increase);
* a congestion signal (T-class or R-class reject) halves it (multiplicative decrease, never
  below 1), and starts an exponential backoff (100 ms, doubling, capped) during which nothing
  new is sent;
* the window never exceeds ``max_window``.

Packet size: ``max_packet`` is the hard ceiling learnt from F08 ("amount too large"),
``floor(sent * maximum / received)`` (WIRE-NOTES §6.4). T04 (insufficient liquidity) lowers a
soft ceiling to 2/3 of the rejected amount; it creeps back up by 1/8 per fulfilled full-size
packet, never above the hard ceiling.
"""

from __future__ import annotations

from wallet.ilp.oer import U64_MAX

__all__ = ["Congestion"]

BACKOFF_START = 0.1
BACKOFF_FACTOR = 2.0
BACKOFF_MAX = 10.0


class Congestion:
    __slots__ = (
        "_ssthresh",
        "backoff_delay",
        "backoff_until",
        "max_packet",
        "max_window",
        "soft_max_packet",
        "window",
    )

    def __init__(self, initial_window: int, max_window: int, max_packet: int | None) -> None:
        self.max_window = max(1, max_window)
        self.window = float(min(max(1, initial_window), self.max_window))
        self._ssthresh = float(self.max_window)
        self.max_packet = U64_MAX if max_packet is None else max_packet
        self.soft_max_packet = self.max_packet
        self.backoff_until = 0.0
        self.backoff_delay = 0.0

    @property
    def packet_cap(self) -> int:
        return min(self.max_packet, self.soft_max_packet)

    def slots(self, in_flight: int) -> int:
        return int(self.window) - in_flight

    def on_fulfill(self, amount: int) -> None:
        if self.window < self._ssthresh:
            self.window = min(self.window + 1.0, float(self.max_window))
        else:
            self.window = min(self.window + 1.0 / self.window, float(self.max_window))
        self.backoff_delay = 0.0
        if amount >= self.soft_max_packet and self.soft_max_packet < self.max_packet:
            self.soft_max_packet = min(
                self.max_packet, self.soft_max_packet + max(1, self.soft_max_packet // 8)
            )

    def on_congestion(self, now: float, *, liquidity_amount: int | None = None) -> None:
        """A T- or R-class reject. ``liquidity_amount``: the amount a T04 refused."""
        self._ssthresh = max(1.0, self.window / 2.0)
        self.window = self._ssthresh
        self.backoff_delay = (
            BACKOFF_START
            if self.backoff_delay == 0.0
            else min(self.backoff_delay * BACKOFF_FACTOR, BACKOFF_MAX)
        )
        self.backoff_until = now + self.backoff_delay
        if liquidity_amount is not None:
            self.soft_max_packet = max(1, min(self.soft_max_packet, liquidity_amount * 2 // 3))

    def clear_backoff(self) -> None:
        """Send at once (the probe just found the path usable)."""
        self.backoff_until = 0.0

    def on_too_large(self, new_max: int) -> None:
        """F08: a hard ceiling (only ever lowered)."""
        new_max = max(0, new_max)
        self.max_packet = min(self.max_packet, new_max)
        self.soft_max_packet = min(self.soft_max_packet, self.max_packet)
