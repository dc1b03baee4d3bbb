"""The money gate of one STREAM connection: admission, reservation, pacing and outcomes.

A :class:`PacketGate` is the ``wallet.stream.BudgetGate`` of one connection opened by one
document (:class:`~wallet.payments.documents.Document`) through one provider. The STREAM core
calls it synchronously, on the wallet loop, for every money packet:
``reserve(packet_id, amount) -> approved`` before the Prepare leaves, then exactly one
``settle(packet_id, amount, outcome, delivered)``. What each outcome costs is the table of
:mod:`wallet.payments.outcomes`.

Owns: the connection's open and held reservations, its pacing, its "capped" future (the page's
``sendTotal`` rejects when it resolves) and the waking of a connection refused "not now".

Invariants (all state is touched on the wallet loop only; no locks):
- nothing is reserved unless the document is alive and attended and its provider not failing;
- every reservation is settled exactly once: committed, released, or charged; a held one is
  charged when the gate closes without the receiver's word;
- while the rate of pay limits the connection, at most one packet leaves per ``pace`` seconds;
- a refusal that means "not now" waits for a change (the wallet's ``retry_after``, the site
  becoming payable, a packet settling), never polls; "no more" resolves ``capped``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from wallet.budgets import PACE, Asset, Reason
from wallet.ledger import Refusal, Reservation
from wallet.payments.minimums import MinimumSend
from wallet.payments.outcomes import HELD_MAX, SETTLEMENT, Settlement
from wallet.stream import Outcome

__all__ = ["Budget", "Evidence", "PacketGate", "Payer"]

# Refusals that mean "not now" (sending pauses); any other reason means "no more".
NOT_NOW = frozenset({Reason.NO_ACCRUAL, Reason.PAUSED})
# Only where nothing tells a refused connection when to ask again (no site activity: tools).
RETRY_SECONDS = 0.5


class Budget(Protocol):
    """The part of :class:`~wallet.service.WalletService` a gate uses (thread-safe)."""

    def reserve(
        self,
        site: str,
        provider: str,
        asset: Asset,
        amount: int,
        *,
        min_amount: int | None = None,
        account_id: int | None = None,
        connection: str = "",
        quantum: int = 1,
    ) -> Reservation | Refusal: ...

    def commit(
        self, res: Reservation, *, delivered: int = 0, dest_asset: Asset | None = None
    ) -> None: ...

    def commit_part(
        self,
        res: Reservation,
        *,
        spent: int,
        asset: Asset,
        delivered: int = 0,
        dest_asset: Asset | None = None,
    ) -> None: ...

    def release(self, res: Reservation) -> None: ...

    def expire(self, res: Reservation) -> None: ...


class Payer(Protocol):
    """Who asks: the document a gate pays for (see ``wallet.payments.documents``)."""

    @property
    def site(self) -> str: ...

    def may_pay(self, provider: str) -> bool:
        """Alive, attended, and ``provider`` not marked failing for it."""
        ...

    def provider_failing(self, provider: str) -> bool: ...

    def mark_provider_failing(self, provider: str) -> None: ...

    def wait_for_change(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` once when the site may be able to pay again."""
        ...

    def stop_waiting(self, wake: Callable[[], None]) -> None: ...


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the receiver's authenticated replies say arrived, beside Trickle's own count.

    ``reported``: the sum of the receiver's ``totalReceived`` over the connection's streams;
    ``counted``: what Trickle counted as delivered (the receiver's claims in verified Fulfills);
    ``busy``: other packets in flight (then the two cannot be compared).
    """

    reported: int
    counted: int
    busy: bool


class PacketGate:
    """A ``wallet.stream.BudgetGate`` for one connection of one document."""

    not_now: frozenset[Reason] = NOT_NOW
    """Refusals this gate waits out with its connection open; any other resolves ``capped``
    (a draft-4 page's ``sendTotal`` rejects; a link session holds or ends, as
    :mod:`wallet.payments.lifecycle` says)."""

    def __init__(
        self,
        budget: Budget,
        payer: Payer,
        *,
        loop: asyncio.AbstractEventLoop,
        provider: str,
        account_id: int | None = None,
        pace: float = PACE.total_seconds(),
        has_activity: bool = True,
    ) -> None:
        self._budget = budget
        self._reserve_packet = budget.reserve  # a tip's gate reserves without accrual
        self._payer = payer
        self._loop = loop
        self._provider = provider
        self._account_id = account_id
        self._pace = pace
        self._has_activity = has_activity
        self._asset: Asset | None = None
        self._dest_asset: Asset | None = None
        self._connection = ""
        self._paced_until = 0.0
        self._open: dict[int, Reservation] = {}
        self._held: deque[Reservation] = deque()
        self._capped: asyncio.Future[None] | None = None
        self._waker: Callable[[], None] | None = None
        self._evidence: Callable[[], Evidence | None] | None = None
        self._retry: asyncio.TimerHandle | None = None
        self._wake_on_settle = False
        self._closed = False
        self.refusal: Reason | None = None
        self.minimum: MinimumSend | None = None
        """The receiver's learnt minimum (:mod:`~wallet.payments.minimums`): packets are whole
        multiples of it, and what happens to them teaches it. ``None``: any amount."""

    # -- set-up (wallet loop) --

    @property
    def provider(self) -> str:
        return self._provider

    @property
    def capped(self) -> asyncio.Future[None]:
        """Resolves when a limit stops this connection for good."""
        if self._capped is None:
            self._capped = self._loop.create_future()
        return self._capped

    def bind(self, asset: Asset, connection: str) -> None:
        """The source asset (from IL-DCP) and the connection's name in history."""
        self._asset = asset
        self._connection = connection

    def set_destination_asset(self, asset: Asset | None) -> None:
        """The receiver's asset (from STREAM), so history records what it says arrived."""
        self._dest_asset = asset

    def set_waker(self, wake: Callable[[], None]) -> None:
        """How to make the STREAM connection ask again (after a "not now")."""
        self._waker = wake

    def set_evidence(self, evidence: Callable[[], Evidence | None]) -> None:
        """Where the receiver's reported totals are read (see :mod:`~wallet.payments.outcomes`)."""
        self._evidence = evidence

    @property
    def held(self) -> int:
        """Source units held on unverified rejects."""
        return sum(res.amount for res in self._held)

    @property
    def in_flight(self) -> int:
        return sum(res.amount for res in self._open.values())

    # -- wallet.stream.BudgetGate --

    def reserve(self, packet_id: int, amount: int) -> int:
        if self._closed or self._asset is None:
            return 0
        if self._payer.provider_failing(self._provider):
            self._stop(Reason.PROVIDER_FAILING)
            return 0
        if not self._payer.may_pay(self._provider):
            return 0  # the document woke us when it is attended again
        wait = self._paced_until - self._loop.time()
        if wait > 0:
            # The last packet took all that had accrued: wait for more rather than sending a
            # packet for every few microseconds of viewing time (that would burn a core).
            self._retry_later(wait)
            return 0
        step = self.minimum.minimum if self.minimum is not None else 1
        amount -= amount % step
        if amount <= 0:
            return 0  # the path's packets are smaller than this receiver takes
        got = self._ask(self._asset, amount, step)
        if isinstance(got, Refusal):
            self._refused(got)
            return 0
        self.refusal = None
        self._open[packet_id] = got
        if got.amount < amount:  # limited by what has accrued: pace the next packet
            self._paced_until = self._loop.time() + self._pace
        return got.amount

    def _ask(self, asset: Asset, amount: int, step: int) -> Reservation | Refusal:
        """The wallet's answer for one packet (whole multiples of ``step``)."""
        return self._reserve_packet(
            self._payer.site,
            self._provider,
            asset,
            amount,
            min_amount=step,
            account_id=self._account_id,
            connection=self._connection,
            quantum=step,
        )

    def settle(self, packet_id: int, amount: int, outcome: Outcome, delivered: int = 0) -> None:
        res = self._open.pop(packet_id, None)
        if res is not None and self.minimum is not None:
            if outcome is Outcome.FULFILLED:
                self.minimum.fulfilled(amount, delivered)
            elif outcome in (Outcome.REFUSED, Outcome.REJECTED):
                self.minimum.rejected(amount)
        if res is not None:
            how = SETTLEMENT[outcome]
            if how is Settlement.COMMIT:
                self._budget.commit(res, delivered=delivered, dest_asset=self._dest_asset)
            elif how is Settlement.RELEASE:
                self._budget.release(res)
            elif how is Settlement.HOLD:
                self._hold(res)
            else:
                self._budget.expire(res)
                if outcome is Outcome.BAD_FULFILLMENT:
                    self._payer.mark_provider_failing(self._provider)
            if how in (Settlement.COMMIT, Settlement.RELEASE):
                self.receiver_spoke()  # an authenticated reply: it may carry its totals
        if self._wake_on_settle:
            self._wake_on_settle = False
            self._loop.call_soon(self.wake)

    def receiver_spoke(self) -> None:
        """The receiver's authenticated word may have come: weigh it against what is held,
        once the reply that carried it has been applied in full."""
        if self._held:
            self._loop.call_soon(self._weigh_evidence)

    # -- lifecycle --

    def wake(self) -> None:
        """Make the connection ask again (the site may pay again, the tab is attended...)."""
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if self._waker is not None and not self._closed:
            self._waker()

    def close(self) -> None:
        """The document or the connection is gone: reserve nothing more; held money without
        the receiver's word is charged. Packets still in flight settle as they come."""
        if self._closed:
            return
        self._closed = True
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        self._payer.stop_waiting(self.wake)
        while self._held:
            self._budget.expire(self._held.popleft())

    @property
    def closed(self) -> bool:
        return self._closed

    # -- inside --

    def _hold(self, res: Reservation) -> None:
        self._held.append(res)
        while len(self._held) > HELD_MAX:
            self._budget.expire(self._held.popleft())
        if self._closed:
            while self._held:
                self._budget.expire(self._held.popleft())

    def _weigh_evidence(self) -> None:
        if not self._held or self._evidence is None:
            return
        evidence = self._evidence()
        if evidence is None or evidence.busy or evidence.reported < evidence.counted:
            return  # no conclusion (yet): keep holding
        settle = (
            self._budget.release if evidence.reported == evidence.counted else self._budget.expire
        )
        while self._held:
            settle(self._held.popleft())

    def _refused(self, refusal: Refusal) -> None:
        self.refusal = refusal.reason
        if refusal.reason in self.not_now or self._open:
            # more accrues with viewing time; or packets in flight may still be given back
            self._wait_for_change(refusal)
        else:
            self._stop(refusal.reason)

    def _stop(self, reason: Reason) -> None:
        self.refusal = reason
        if not self.capped.done():
            self.capped.set_result(None)

    def _wait_for_change(self, refusal: Refusal) -> None:
        """Ask again when asking may succeed: after the ``retry_after`` the wallet gave, when
        the site may pay again, or when a packet in flight settles. Never by polling, unless
        nothing would say so."""
        if refusal.retry_after is not None:
            self._retry_later(refusal.retry_after.total_seconds())
        if self._open:
            self._wake_on_settle = True
        if self._has_activity:
            self._payer.wait_for_change(self.wake)
        elif refusal.retry_after is None:
            self._retry_later(RETRY_SECONDS)

    def _retry_later(self, delay: float) -> None:
        if self._retry is not None and self._retry.when() <= self._loop.time() + delay:
            return
        if self._retry is not None:
            self._retry.cancel()
        self._retry = self._loop.call_later(delay, self.wake)
