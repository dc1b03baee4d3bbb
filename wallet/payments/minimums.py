"""The smallest amount a receiver takes, learnt from what happens to packets — never guessed.

Why: a receiver (or the path to it) may swallow small packets. Rafiki's ILP payments hold one
unit back "to make up for potential flooring loss, meaning that if we send 1 unit, we will
still get 0 as the expected delivery amount ... we always need to send at least 2 units"
(interledger/rafiki#3480); a failed Open Payments quote says ``details.minSendAmount``
(rafiki#3411). The Web Monetization extension hard-coded a minimum per link and its users paid
it for every link on every page load (web-monetization-extension#976, #1071, #1126). Trickle
starts from the smallest unit there is and raises the minimum only on evidence:

* a packet that was **fulfilled but delivered nothing** (the receiver's own STREAM reply says 0
  arrived): the money was dust; the minimum doubles past it;
* **two rejects in a row** (F05/T04-style: a connector or the receiver would not take a packet
  that small) with no fulfilled packet between them: the minimum doubles past the amount;
* a failed quote's ``minSendAmount``: taken as is (:meth:`MinimumSend.quoted`; link sessions
  stream without quotes, a payment through the user's own wallet quotes first).

The minimum never rises above the smallest amount known to have delivered something, so a
reject for another reason (congestion, a hiccup) costs at most larger, rarer packets. A
receiver whose Fulfills never say what arrived (no STREAM reply: Trickle then counts 0) would
look like dust at every size: after :data:`MAX_DUST_RAISES` raises in a row without a single
packet known to deliver, the learner concludes that, goes back to one unit and stops learning
from "nothing arrived". Packets
are then sent in whole multiples of the minimum (:meth:`MinimumSend.packet`), and nothing is
sent before a whole minimum has accrued.

Owns: one receiver's learnt minimum (:class:`MinimumSend`), and the table of them by receiver
(:class:`Minimums`), kept for the life of the payment layer so a reload or a second tab pays
the dust at most once. Wallet loop only.
"""

from __future__ import annotations

__all__ = ["MinimumSend", "Minimums"]

# Rejects in a row (no fulfilled packet between them) that mean "too small".
REJECTS_MEAN_TOO_SMALL = 2
# Dust raises in a row, with no packet known to deliver, after which "0 arrived" is taken to
# mean "the receiver does not say" (2**8 = 256 times the first minimum).
MAX_DUST_RAISES = 8
# How many receivers' minimums are kept (least recently used beyond this are forgotten).
MAX_RECEIVERS = 1024


class MinimumSend:
    """What one receiver takes (source units of the payer's asset)."""

    def __init__(self) -> None:
        self._minimum = 1
        self._smallest_good: int | None = None
        self._rejects = 0
        self._dust_raises = 0
        self._silent = False  # its Fulfills do not say what arrived: 0 teaches nothing

    @property
    def minimum(self) -> int:
        """The least a packet to this receiver may carry."""
        return self._minimum

    @property
    def known_good(self) -> int | None:
        """The smallest amount known to have delivered something (``None``: none yet)."""
        return self._smallest_good

    def packet(self, amount: int) -> int:
        """``amount`` rounded down to a whole multiple of the minimum (0: not enough yet)."""
        return amount - amount % self._minimum if amount >= self._minimum else 0

    def fulfilled(self, amount: int, delivered: int) -> None:
        """A packet of ``amount`` was fulfilled; the receiver says ``delivered`` arrived."""
        self._rejects = 0
        if delivered > 0:
            self._dust_raises = 0
            if self._smallest_good is None or amount < self._smallest_good:
                self._smallest_good = amount
            return
        if self._silent or amount < self._minimum:
            return
        self._dust_raises += 1
        if self._dust_raises > MAX_DUST_RAISES and self._smallest_good is None:
            self._silent, self._minimum = True, 1
            return
        self._too_small(amount)

    def rejected(self, amount: int) -> None:
        """A packet of ``amount`` was rejected (by the receiver or the path)."""
        self._rejects += 1
        if self._rejects >= REJECTS_MEAN_TOO_SMALL:
            self._rejects = 0
            self._too_small(amount)

    def quoted(self, min_send_amount: int) -> None:
        """A quote failed and named the least it can send (rafiki#3411: the ``value`` of
        :class:`wallet.openpayments.errors.QuoteTooSmallError`'s ``min_send_amount``)."""
        if min_send_amount > self._minimum:
            self._minimum = min_send_amount
            if self._smallest_good is not None and self._smallest_good < min_send_amount:
                self._smallest_good = None

    def _too_small(self, amount: int) -> None:
        if amount < self._minimum:
            return  # an older packet, already learnt from
        raised = max(2 * amount, amount + 1)
        if self._smallest_good is not None:
            raised = min(raised, self._smallest_good)
        self._minimum = max(self._minimum, raised)


class Minimums:
    """The learnt minimum of each receiver, by its wallet address (or payment pointer)."""

    def __init__(self, capacity: int = MAX_RECEIVERS) -> None:
        self._by_receiver: dict[str, MinimumSend] = {}
        self._capacity = capacity

    def of(self, receiver: str) -> MinimumSend:
        learnt = self._by_receiver.pop(receiver, None) or MinimumSend()
        self._by_receiver[receiver] = learnt  # most recently used last
        while len(self._by_receiver) > self._capacity:
            del self._by_receiver[next(iter(self._by_receiver))]
        return learnt
