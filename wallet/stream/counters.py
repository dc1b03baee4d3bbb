"""The totals of one connection (the spec's ``IlpConnection`` fields) and its reject streak.

Owns: how much we sent (fulfilled, our units), how much the receiver says arrived (its units),
how much we received, how many packets came back and how they ended (how many we sent is
:class:`~wallet.stream.inflight.PacketsInFlight`'s sequence), the exchange rate of
the last packet that said, and how many packets in a row were rejected.

Invariants:

* ``total_sent`` grows only with a fulfilled packet's amount (the one place money becomes
  "sent" is :func:`wallet.stream.replies.on_fulfilled`);
* ``total_delivered`` and ``last_packet_exchange_rate`` are the receiver's claims: statistics,
  never accounting;
* the reject streak is reset by a fulfilled packet and nothing else.
"""

from __future__ import annotations

from fractions import Fraction

__all__ = ["Counters"]


class Counters:
    __slots__ = (
        "_rejects_in_a_row",
        "last_packet_exchange_rate",
        "packets_fulfilled",
        "packets_received",
        "packets_rejected",
        "total_delivered",
        "total_received",
        "total_sent",
    )

    def __init__(self) -> None:
        # Read freely; changed only through the methods below.
        self.total_sent = 0
        self.total_delivered = 0
        self.total_received = 0
        self.packets_fulfilled = 0
        self.packets_rejected = 0
        self.packets_received = 0  # authentic Prepares from the peer
        self.last_packet_exchange_rate: Fraction | None = None
        self._rejects_in_a_row = 0

    def fulfilled(self, amount: int, delivered: int | None) -> None:
        """A packet of ``amount`` was fulfilled; ``delivered``: what the receiver's authentic
        reply says arrived (``None``: it said nothing)."""
        self.packets_fulfilled += 1
        self._rejects_in_a_row = 0
        self.total_sent += amount
        if amount and delivered is not None:
            self.total_delivered += delivered
            self.last_packet_exchange_rate = Fraction(delivered, amount)

    def failed(self) -> None:
        """A packet of ours was not fulfilled (rejected, expired, lost)."""
        self.packets_rejected += 1

    def rejected(self) -> int:
        """A Reject came back; returns how many in a row now."""
        self._rejects_in_a_row += 1
        return self._rejects_in_a_row

    def observed_rate(self, rate: Fraction) -> None:
        """The rate a probe or a refusal showed."""
        self.last_packet_exchange_rate = rate

    def prepare_received(self) -> None:
        self.packets_received += 1

    def received(self, amount: int) -> None:
        self.total_received += amount
