"""A ``<link rel="monetization">`` session paid from the user's own Open Payments wallet.

When the connected wallet is the funding source (:mod:`wallet.funding`), each link of a
document is paid by outgoing payments from the user's wallet to the site's incoming payment
(Web Monetization flows, "Payment streaming": "send a create outgoing payment request with
[the] walletAddressDetails, session's incomingPaymentId, amountValue"), instead of STREAM
packets over the local account. An :class:`OpLinkSession`:

1. resolves the href to the site's incoming payment (the same
   :class:`~wallet.payments.link_targets.LinkResolver` as STREAM sessions; SPSP-only sites
   cannot be paid this way: :class:`~wallet.payments.op_errors.StreamOnlySiteError`);
2. learns the receiver's minimum sendable amount by quoting (:meth:`PayingWallet.min_send`);
3. then, paced (the document's :class:`~wallet.payments.links.Rotation`: at least ``pace``
   seconds between payments, 2 s in the app), **reserves** what accrued in the ledger in whole
   multiples of the minimum, as link sessions send packets (never dust; at most what is left
   of the wallet's grant), **creates** an outgoing payment of
   exactly that debit amount, **polls** it until the wallet reports it completed or failed, and
   settles the reservation by what the wallet said:

   ===========================================  ===========================  ============
   what the wallet said                         what Trickle knows           settlement
   ===========================================  ===========================  ============
   completed                                    paid                         COMMIT
   failed, ``sentAmount`` 0                     nothing left the wallet      RELEASE
   failed, ``sentAmount`` > 0                   that part was debited        COMMIT PART
   failed, ``sentAmount`` unreadable            not what was debited         CHARGE
   a refusal of the create request (4xx)        no payment was made          RELEASE
   no answer, a 5xx, still pending at deadline  maybe paid                  CHARGE
   ===========================================  ===========================  ============

   COMMIT counts the whole reservation (= the payment's ``debitAmount``, fee included) as
   sent; COMMIT PART commits ``sentAmount`` and releases the rest in one step (see
   :meth:`OpLinkSession._settle_failed`); CHARGE counts the whole reservation as spent
   (``unresolved`` in history), never refunded;
4. fires ``monetization`` for each completed payment (``on_payment``) with what the wallet
   says the receiver gets (``receiveAmount``, in the receiver's asset: the same meaning as a
   STREAM session's ``amountSent``);
5. stops with words when the wallet refuses for lack of grant, or the grant is revoked
   (every session paid from the wallet stops: the refusal is the wallet's, and reconnecting
   fixes it); says so and tries again every ``retry_after`` seconds when the wallet lacks
   the money or does not answer; replaces the incoming payment a minute before it expires,
   and when the receiver says it is gone;
6. holds while the user's policy refuses (a cap, the budget, a pause, a block), as STREAM
   sessions do, and resumes when the refusal may have lifted: its start, stop, end with the
   document and holding are :mod:`wallet.payments.lifecycle`'s.

Only one payment of a session is in flight at a time, and a payment once requested is always
followed to its settlement, even when the session is stopped meanwhile (its poll is bounded).

Threads: the wallet loop, as :mod:`wallet.payments.links`; :meth:`OpLinkSession.stop` from
any thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from wallet.budgets import Asset
from wallet.errors import WalletError
from wallet.ledger import Refusal, Reservation
from wallet.net.link import Link
from wallet.payments.documents import Document
from wallet.payments.errors import (
    BudgetExceededError,
    IncomingPaymentClosedError,
    LinkError,
    PaymentError,
)
from wallet.payments.gate import Budget, PacketGate
from wallet.payments.lifecycle import LINK_NOT_NOW, Holds, SessionLifecycle, ends_session
from wallet.payments.link_targets import LinkResolver, LinkTarget, payee_of
from wallet.payments.links import (
    CLOSE_TIMEOUT,
    RENEWAL_LEAD,
    LinkListener,
    LinkPayment,
    PayeeBook,
    record_in_background,
)
from wallet.payments.op_errors import (
    FundingError,
    InvalidReceiverError,
    PaymentFateUnknownError,
    StreamOnlySiteError,
    WalletStuckError,
)
from wallet.payments.rotation import Rotation

__all__ = ["OpLinkSession", "PayingWallet", "PaymentState", "WalletPayment"]

# The most one payment may ask the ledger for (SQLite's integers; far above any grant).
MAX_ASK = 2**53
# A pending outgoing payment is read again after FIRST_POLL seconds, then twice as long each
# time up to POLL_INTERVAL (most complete within a fraction of a second); after POLL_DEADLINE
# its fate is called unknown (and charged).
FIRST_POLL = 0.01
POLL_INTERVAL = 0.5
POLL_DEADLINE = 30.0
# How long a session waits before trying again after the wallet did not answer.
RETRY_AFTER = 5.0
# Consecutive failed payments (nothing sent) before the session stops.
MAX_FAILED = 3


class PaymentState(enum.Enum):
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class WalletPayment:
    """An outgoing payment as the user's wallet reports it (amounts in minor units)."""

    id: str
    state: PaymentState
    debit: int  # ``debitAmount``: what the user's wallet is debited once paid (``asset``)
    sent: int  # ``sentAmount``: what left the wallet so far (``sent_asset``)
    receive: int  # ``receiveAmount``: what the receiver gets (its asset)
    receive_asset: Asset
    failure: FundingError | None = None  # why it failed, where the wallet says
    asset: Asset | None = None  # ``debitAmount``'s asset (``None``: the wallet's)
    sent_asset: Asset | None = None  # ``sentAmount``'s asset (``None``: the wallet's)


class PayingWallet(Protocol):
    """The connected wallet, as a session needs it (:class:`wallet.funding.ConnectedWallet`).

    Wallet loop only. ``left``/``claim``/``settle`` keep the grant's budget: a claim takes part
    of what is left until the payment settles, so concurrent sessions never ask for more than
    the grant allows.
    """

    @property
    def provider(self) -> str:
        """The name history records payments under (the wallet address)."""
        ...

    @property
    def asset(self) -> Asset: ...

    @property
    def closed(self) -> bool:
        """Disconnected (or replaced by a new connection): it pays no more."""
        ...

    @property
    def problem(self) -> FundingError | None:
        """Why the wallet pays nothing now (a refusal that concerns every site), or ``None``."""
        ...

    def left(self) -> int:
        """What may still be claimed from the grant in this period."""
        ...

    def busy(self) -> bool:
        """Whether claims are in flight (what is left may grow back when they settle)."""
        ...

    def used_up(self) -> FundingError:
        """The grant's budget is spent: the problem, in words (also reported)."""
        ...

    def claim(self, amount: int) -> None: ...

    def settle(self, amount: int, *, spent: int) -> None:
        """A claim of ``amount`` settled; ``spent`` of it counts as spent from the grant."""
        ...

    def report(self, problem: FundingError | None, *, site: str) -> None:
        """What happened to the last payment (``None``: it went through)."""
        ...

    def wait_for_change(self) -> Awaitable[object]:
        """Resolves when the wallet's state changes (reconnected, problem cleared)."""
        ...

    async def min_send(self, receiver: str) -> int:
        """The smallest debit amount the wallet can send to the incoming payment ``receiver``.

        Raises: FundingError."""
        ...

    async def create_payment(self, receiver: str, debit: int) -> WalletPayment:
        """An outgoing payment of exactly ``debit`` to the incoming payment ``receiver``.

        Raises:
            PaymentFateUnknownError: the request may have been taken (no answer, a 5xx).
            FundingError: refused; no payment was made.
        """
        ...

    async def read_payment(self, payment: WalletPayment) -> WalletPayment:
        """The payment as the wallet reports it now. Raises: FundingError."""
        ...


class OpGate(PacketGate):
    """A document's gate for outgoing payments: admission, caps and pacing as for packets,
    but one reservation per payment, with the receiver's minimum as the least it takes."""

    not_now = LINK_NOT_NOW  # a limit holds the session (wallet.payments.lifecycle)

    def __init__(
        self,
        budget: Budget,
        doc: Document,
        *,
        loop: asyncio.AbstractEventLoop,
        provider: str,
        pace: float,
        rotation: Rotation,
        on_close: Callable[[], None],
    ) -> None:
        super().__init__(budget, doc, loop=loop, provider=provider, pace=pace)
        self._rotation = rotation
        self._on_close = on_close

    def reserve(self, packet_id: int, amount: int) -> int:
        raise TypeError("an Open Payments gate reserves whole payments (take)")

    def take(self, most: int, least: int) -> Reservation | None:
        """A reservation of a whole multiple of ``least`` (the receiver's minimum), at most
        ``most`` (and what accrued), as a link session's packets are (:mod:`~wallet.payments.
        minimums`): never dust. ``None``: the gate wakes its waker when asking again may
        succeed, or resolves ``capped``."""
        most -= most % least
        if self.closed or self._asset is None or most < least:
            return None
        if not self._payer.may_pay(self.provider):
            return None  # the document wakes its gates when it is attended again
        if not self._rotation.may_reserve(self):
            return None  # the rotation wakes us in our turn
        wait = self._paced_until - self._loop.time()
        if wait > 0:
            self._retry_later(wait)
            return None
        got = self._budget.reserve(
            self._payer.site,
            self.provider,
            self._asset,
            most,
            min_amount=least,
            connection=self._connection,
            quantum=least,
        )
        if isinstance(got, Refusal):
            self._refused(got)
            return None
        self.refusal = None
        self._paced_until = self._loop.time() + self._pace
        self._rotation.reserved(self, limited=True)
        return got

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        self._rotation.leave(self)
        self._on_close()


class OpLinkSession(SessionLifecycle):
    """Pays one link of one document from the connected wallet until :meth:`stop`, the
    document's end, or the wallet's refusal, holding while a limit refuses (see the module
    docstring)."""

    def __init__(
        self,
        *,
        doc: Document,
        href: str,
        listener: LinkListener,
        resolver: LinkResolver,
        wallet: PayingWallet,
        rotation: Rotation,
        budget: Budget,
        loop: asyncio.AbstractEventLoop,
        pace: float,
        holds: Holds,
        link: Link | None = None,
        payees: PayeeBook | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        poll_interval: float = POLL_INTERVAL,
        poll_deadline: float = POLL_DEADLINE,
        retry_after: float = RETRY_AFTER,
    ) -> None:
        super().__init__(doc=doc, href=href, loop=loop, holds=holds)
        self._listener = listener
        self._resolver = resolver
        self._wallet = wallet
        self._rotation = rotation
        self._budget = budget
        self._pace = pace
        self._link = link  # an ILP link the caller opened anyway: unused, closed at the end
        self._payees = payees
        self._recorded: set[str] = set()  # connections whose payee history knows
        self._writes: set[asyncio.Future[None]] = set()
        self._sleep = sleep
        self._poll_interval = poll_interval
        self._poll_deadline = poll_deadline
        self._retry_after = retry_after
        self._woken = asyncio.Event()
        self._target: LinkTarget | None = None
        self._start()  # stop() leaves a payment in flight to be settled

    @property
    def target(self) -> LinkTarget | None:
        return self._target

    # -- the session --

    async def _run(self) -> None:
        loaded = False
        reason: PaymentError | None = None
        try:
            if self._link is not None:
                link, self._link = self._link, None
                await link.close()
            target = await self._until_stopped(self._resolver.resolve(self.href))
            if target is None:
                return
            if target.incoming_payment is None:
                raise StreamOnlySiteError()
            loaded = True
            self._target = target
            self._listener.on_load(target)
            reason = await self._pay(target)
        except WalletError as e:
            error = (
                e if isinstance(e, LinkError) else LinkError(f"This site is not being paid: {e}")
            )
            if loaded:
                reason = error
            else:
                self._listener.on_error(error)
        finally:
            if self._writes:  # history knows who was paid before the session says it ended
                await asyncio.wait(self._writes, timeout=CLOSE_TIMEOUT)
            if loaded:
                self.ended_by = reason
                self._listener.on_stop(reason)

    def _open_gate(self, target: LinkTarget) -> OpGate:
        gate = OpGate(
            self._budget,
            self._doc,
            loop=self._loop,
            provider=self._wallet.provider,
            pace=self._pace,
            rotation=self._rotation,
            on_close=self._gate_closed,
        )
        gate.bind(self._wallet.asset, _connection_name(target))
        gate.set_waker(self._woken.set)
        self._rotation.join(gate)
        self._doc.add_gate(gate)  # accrues for the site from now; closed with the document
        return gate

    async def _hold_gate(self, gate: OpGate, least: int) -> bool:
        """A limit refused: give the gate up (the site accrues nothing meanwhile) and hold
        until the limit lifts (``True``) or the session ends."""
        hold = self._begin_hold()
        self._doc.remove_gate(gate)
        return await self._hold(hold, self._wallet.asset, least)

    async def _pay(self, target: LinkTarget) -> PaymentError | None:
        wallet = self._wallet
        gate = self._open_gate(target)
        renewed = False
        failed = 0
        try:
            receiver = target.incoming_payment
            assert receiver is not None
            while True:
                if self._ended or _closed(wallet):
                    return None
                if self._renewal_due(target):
                    new = await self._until_stopped(self._resolver.renew(target))
                    if new is None or new.incoming_payment is None:
                        return None
                    target, receiver = new, new.incoming_payment
                    self._target = new
                    gate.bind(wallet.asset, _connection_name(new))  # its own history rows
                if wallet.problem is not None and not wallet.problem.retry:
                    return wallet.problem
                try:  # learnt once per receiver (and again after a "too small" refusal)
                    minimum = await self._until_stopped(wallet.min_send(receiver))
                except FundingError as e:
                    wallet.report(e, site=self._doc.site)
                    return e
                if minimum is None:
                    return None
                left = wallet.left()
                if left < minimum:
                    if not wallet.busy():
                        return wallet.used_up()
                    await self._wait(gate)  # another session's payment may give some back
                    continue
                res = gate.take(min(left, MAX_ASK), minimum)
                if res is None:
                    if gate.capped.done():
                        if ends_session(gate.refusal):
                            return BudgetExceededError(str(gate.refusal or ""))
                        if not await self._hold_gate(gate, minimum):
                            return None
                        gate = self._open_gate(target)
                        continue
                    await self._wait(gate)
                    continue
                wallet.claim(res.amount)
                problem = await self._send(res, target)
                if _closed(wallet):
                    return None  # disconnected meanwhile: its refusals are no news
                wallet.report(problem, site=self._doc.site)
                if problem is None:
                    failed, renewed = 0, False
                    continue
                if problem.for_wallet and not problem.retry:
                    return problem
                if problem.retry or isinstance(problem, WalletStuckError):
                    await self._until_stopped(self._sleep(self._retry_after))
                    continue
                if isinstance(problem, InvalidReceiverError):
                    if renewed:
                        return IncomingPaymentClosedError(str(problem))
                    new = await self._until_stopped(self._resolver.renew(target))
                    if new is None or new.incoming_payment is None:
                        return None
                    renewed = True
                    target, receiver = new, new.incoming_payment
                    self._target = new
                    gate.bind(wallet.asset, _connection_name(new))  # its own history rows
                    continue
                failed += 1
                if failed >= MAX_FAILED:
                    return problem
        finally:
            self._doc.remove_gate(gate)

    def _renewal_due(self, target: LinkTarget) -> bool:
        """The incoming payment ends within a minute: time for the next one (as STREAM
        sessions do; one that ended early is replaced when the wallet says so)."""
        if target.expires_at is None:
            return False
        return self._resolver.now() >= target.expires_at - RENEWAL_LEAD

    async def _wait(self, gate: OpGate) -> None:
        """Until the gate (or the wallet, or a stop) says asking again may succeed."""
        self._woken.clear()
        woken = asyncio.ensure_future(self._woken.wait())
        changed = asyncio.ensure_future(self._wallet.wait_for_change())
        try:
            waits: set[asyncio.Future[Any]] = {self._stopping, gate.capped, woken, changed}
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            woken.cancel()
            changed.cancel()

    async def _send(self, res: Reservation, target: LinkTarget) -> FundingError | None:
        """Create, follow and settle one outgoing payment of ``res.amount``; what went wrong."""
        wallet, budget = self._wallet, self._budget
        receiver = target.incoming_payment
        assert receiver is not None
        try:
            payment = await wallet.create_payment(receiver, res.amount)
        except PaymentFateUnknownError as e:
            budget.expire(res)
            wallet.settle(res.amount, spent=res.amount)
            return e
        except FundingError as e:
            budget.release(res)
            wallet.settle(res.amount, spent=0)
            return e
        except BaseException:
            budget.expire(res)  # cancelled or a bug mid-request: maybe paid
            wallet.settle(res.amount, spent=res.amount)
            raise
        try:
            payment = await self._follow(payment)
        except BaseException:
            budget.expire(res)
            wallet.settle(res.amount, spent=res.amount)
            raise
        if payment.state is PaymentState.COMPLETED:
            budget.commit(res, delivered=payment.receive, dest_asset=payment.receive_asset)
            self._record_payee(target, res.connection)
            wallet.settle(res.amount, spent=res.amount)
            self._listener.on_payment(
                LinkPayment(self.href, receiver, payment.receive, payment.receive_asset)
            )
            return None
        if payment.state is PaymentState.FAILED:
            self._record_payee(target, res.connection)  # (if anything was sent, it went there)
            return self._settle_failed(res, payment)
        budget.expire(res)  # still pending: charged, never refunded
        wallet.settle(res.amount, spent=res.amount)
        return WalletStuckError("a payment stayed pending; it is counted as spent")

    def _settle_failed(self, res: Reservation, payment: WalletPayment) -> FundingError:
        """Settle a payment the wallet says failed, by what it took from the user.

        What a failed payment takes: the OpenAPI (resource-server.yaml ``outgoing-payment``)
        says ``debitAmount`` is what "should be deducted from the sender's account when this
        outgoing payment has been paid" — a failed one "failed to send its full amount" and
        was not paid — and ``sentAmount`` is "The total amount that has been sent under this
        outgoing payment", in the sender's asset. Rafiki's accounting docs say what becomes
        of the rest: "any excess liquidity that remains after an outgoing payment completes
        must be withdrawn from the outgoing payment liquidity account" by the wallet's
        operator, and go on: "How you choose to handle the excess is up to you. You could, for
        example, refund the excess to the sender or take the amount as a fee." Rafiki's own
        reference operator and the Interledger test wallet refund it (they debit a failed
        payment's ``sentAmount`` and nothing more), and Rafiki counts a failed payment
        against the grant by its ``sentAmount`` too; an operator that kept the excess would
        be charging a fee no Open Payments answer shows, which Trickle cannot see.
        A fee is not taken on a failure: it comes out of ``debitAmount`` and is kept only
        when the payment completes ("Quotes / Fees"), and ``sentAmount`` never includes it.

        So ``sentAmount`` is committed (what the site received of it is not known: history
        records it as sent, delivering nothing Trickle can vouch for, and no ``monetization``
        event fires) and the rest of the reservation is released, in one ledger step. When
        the report cannot say what was taken — ``sentAmount`` in another asset than the
        reservation, or more than it — the whole reservation is charged.
        """
        wallet, budget = self._wallet, self._budget
        asset = payment.sent_asset or wallet.asset
        if payment.sent == 0 and asset == res.asset:
            budget.release(res)
            wallet.settle(res.amount, spent=0)
            return payment.failure or FundingError()
        if asset != res.asset or not 0 < payment.sent <= res.amount:
            budget.expire(res)  # what was taken cannot be known: charged, never refunded
            wallet.settle(res.amount, spent=res.amount)
        else:
            budget.commit_part(res, spent=payment.sent, asset=asset)
            wallet.settle(res.amount, spent=payment.sent)
        return FundingError(words="Your wallet sent only part of a payment to this site.")

    def _record_payee(self, target: LinkTarget, connection: str) -> None:
        """History learns who the payments of ``connection`` (one incoming payment) went to,
        as a link session's STREAM connections do: once, after the first one settles."""
        if connection in self._recorded:
            return
        self._recorded.add(connection)
        writing = record_in_background(self._payees, payee_of(target, self._doc.site, connection))
        self._writes.add(writing)
        writing.add_done_callback(self._writes.discard)

    async def _follow(self, payment: WalletPayment) -> WalletPayment:
        """Poll until completed or failed, or the deadline (then it is returned pending)."""
        deadline = self._loop.time() + self._poll_deadline
        wait = min(FIRST_POLL, self._poll_interval)
        while payment.state is PaymentState.PENDING and self._loop.time() < deadline:
            await asyncio.sleep(wait)
            wait = min(wait * 2, self._poll_interval)
            with contextlib.suppress(FundingError):
                payment = await self._wallet.read_payment(payment)
        return payment


def _connection_name(target: LinkTarget) -> str:
    """History's ``connection`` for this session's payments (at most 64 characters)."""
    tail = (target.incoming_payment or target.href).rsplit("/", 1)[-1]
    return f"op:{tail}"[:64]


def _closed(wallet: PayingWallet) -> bool:
    return wallet.closed  # (a call: it changes while the session awaits)
