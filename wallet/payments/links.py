"""A payment session per ``<link rel="monetization">`` of a document, over the user's ILP path.

WICG Web Monetization: "the user agent [...] SHOULD start a payment session" for each
monetization link of a document, and for each payment "fire an event named monetization at the
link element". A :class:`LinkSession`:

1. resolves the link's href (:class:`~wallet.payments.link_targets.LinkResolver`: wallet
   address → grant → incoming payment → STREAM credentials, or SPSP) and tells its listener
   ``on_load`` — or ``on_error`` with a named :class:`~wallet.payments.errors.LinkError`;
2. asks the user's ILP path (the ``Link`` the caller hands over, closed with the session) for
   our address and asset (IL-DCP), and streams to the credentials through a STREAM client
   connection whose budget gate is a :class:`~wallet.payments.gate.PacketGate` of the
   document: admission, caps, reservations, pacing and the outcome table apply as to every
   payment, nothing is paid while the document is not attended, and its end ends the session;
3. creates the next incoming payment shortly before the current one expires (a new STREAM
   connection to its credentials; the old one is closed);
4. reports each fulfilled packet (``on_payment``) with what the receiver says arrived, in its
   asset: the page's ``monetization`` event;
5. records who each connection pays (wallet address, ``publicName``, asset, incoming payment)
   for history (:mod:`wallet.store.payees`);
6. sends only whole multiples of the receiver's learnt minimum (:mod:`~wallet.payments.
   minimums`), never dust, and nothing before a whole minimum has accrued;
7. backs a receiver that cannot be reached off, bounded, telling the listener in words
   (``on_waiting``) when it tries again (:mod:`~wallet.payments.backoff`), instead of failing
   at once or retrying forever;
8. *holds* when the user's policy refuses (a cap, the budget, the balance, a pause, a block):
   its connection is closed, nothing is sent, the page is told nothing; it wakes when the
   refusal may have lifted, and then pays a new incoming payment (the lifecycle, shared with
   sessions paid from the user's Open Payments wallet: :mod:`~wallet.payments.lifecycle`).

A document's links take turns (:class:`Rotation`): one packet per ``pace / n`` seconds across
its ``n`` links, round robin, each taking what accrued since the previous packet, so the site's
rate is split evenly among them and never exceeded; nothing is sent before pay has accrued
(the gate reserves only what accrued), so a page with many links costs nothing on load.

Threads: everything here runs on the wallet loop; :meth:`LinkSession.stop` may be called from
any thread. Listener callbacks come on the wallet loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from wallet.amounts import decimal_string
from wallet.budgets import Asset
from wallet.errors import WalletError
from wallet.net.ildcp import fetch_account_config
from wallet.net.link import Link
from wallet.net.router import Router
from wallet.net.stream_api import IlpConnection
from wallet.payments.backoff import Backoffs, unreachable
from wallet.payments.documents import Document
from wallet.payments.draft4 import learn_destination_asset, start_gated_connection, stop_sending
from wallet.payments.errors import (
    BudgetExceededError,
    LinkError,
    PaymentError,
    ReceiverUnreachableError,
)
from wallet.payments.gate import Budget, PacketGate
from wallet.payments.lifecycle import LINK_NOT_NOW, Holds, SessionLifecycle, ends_session
from wallet.payments.link_targets import LinkResolver, LinkTarget, payee_of
from wallet.payments.minimums import MinimumSend
from wallet.payments.rotation import Rotation
from wallet.store.errors import StorageError
from wallet.store.payees import PayeeRecord
from wallet.stream import ConnectionConfig, Outcome

__all__ = ["LinkListener", "LinkPayment", "LinkSession", "PayeeBook", "TipPath"]

log = logging.getLogger(__name__)

U64_MAX = 2**64 - 1
# The most a packet asks the wallet for: the stream's send_max is unbounded, but a lease of
# 2^64 units does not fit SQLite's INTEGER (the wallet bounds what it grants anyway).
MAX_ASK = 2**53
CLOSE_TIMEOUT = 5.0
# An incoming payment is replaced this long before it expires (the receiver's clock may differ).
RENEWAL_LEAD = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class LinkPayment:
    """One fulfilled packet of a link's session: what the receiver says arrived, in its asset."""

    href: str
    incoming_payment: str | None
    amount: int
    asset: Asset

    @property
    def value(self) -> str:
        """The amount as a decimal string in the asset's major unit (``PaymentCurrencyAmount``)."""
        return decimal_string(self.amount, self.asset.scale)

    def event_fields(self) -> dict[str, object]:
        """The ``MonetizationEvent`` fields (WICG: ``amountSent``, ``paymentPointer``,
        ``incomingPayment``; the deprecated ``amount``, ``assetCode``, ``assetScale`` and
        ``receipt`` are null)."""
        return {
            "amountSent": {"currency": self.asset.code, "value": self.value},
            "paymentPointer": self.href,
            "incomingPayment": self.incoming_payment,
            "amount": None,
            "assetCode": None,
            "assetScale": None,
            "receipt": None,
        }


class LinkListener(Protocol):
    """What a session tells ``ui`` (wallet loop)."""

    def on_load(self, target: LinkTarget) -> None:
        """The href was resolved: fire ``load`` at the link."""
        ...

    def on_error(self, error: LinkError) -> None:
        """The href cannot be paid: fire ``error`` at the link; ``str(error)`` is for the user."""
        ...

    def on_payment(self, payment: LinkPayment) -> None:
        """A packet was fulfilled: dispatch a ``monetization`` event at the link."""
        ...

    def on_stop(self, reason: PaymentError | None) -> None:
        """The session ended after loading; ``reason`` is ``None`` when asked to stop (or the
        document ended), else why (the receiver went away, the provider failing...). A limit
        does not end it: it holds (nothing is said) and resumes when the limit lifts."""
        ...

    def on_waiting(self, words: str | None) -> None:
        """The receiver cannot be reached: ``words`` say whose wallet and when Trickle tries
        again (for the user, not the page); ``None``: it is being paid again."""
        ...


class PayeeBook(Protocol):
    """Where a session records who each connection pays (``WalletService`` fits)."""

    def record_payee(self, payee: PayeeRecord) -> None: ...


class _LinkGate(PacketGate):
    """A document's packet gate that also takes its turn in the document's :class:`Rotation`,
    reports fulfilled packets and tells its session when it closes."""

    not_now = LINK_NOT_NOW  # a limit holds the session (wallet.payments.lifecycle)

    def __init__(
        self,
        budget: Budget,
        doc: Document,
        *,
        loop: asyncio.AbstractEventLoop,
        provider: str,
        account_id: int | None,
        pace: float,
        rotation: Rotation,
        on_fulfilled: Callable[[int], None],
        on_close: Callable[[], None],
    ) -> None:
        super().__init__(
            budget, doc, loop=loop, provider=provider, account_id=account_id, pace=pace
        )
        self._rotation = rotation
        self._on_fulfilled = on_fulfilled
        self._on_close = on_close

    def reserve(self, packet_id: int, amount: int) -> int:
        if self.closed or not self._rotation.may_reserve(self):
            return 0
        amount = min(amount, MAX_ASK)
        got = super().reserve(packet_id, amount)
        if got:
            self._rotation.reserved(self, limited=got < amount)
        return got

    def settle(self, packet_id: int, amount: int, outcome: Outcome, delivered: int = 0) -> None:
        super().settle(packet_id, amount, outcome, delivered)
        if outcome is Outcome.FULFILLED and delivered > 0:
            self._on_fulfilled(delivered)

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        self._rotation.leave(self)
        self._on_close()


@dataclass(frozen=True)
class TipPath:
    """See :meth:`LinkSession.tip_path` (used by :mod:`wallet.payments.tips`)."""

    href: str
    doc: Document
    link: Link
    router: Router
    address: str
    asset: Asset
    resolver: LinkResolver
    provider: str
    account_id: int | None
    template: ConnectionConfig | None
    minimum: MinimumSend
    payees: PayeeBook | None


@dataclass
class _Leg:
    """One STREAM connection of a session (to one incoming payment's credentials)."""

    target: LinkTarget
    api: IlpConnection
    gate: _LinkGate
    recorded: bool = False  # who it pays is in history (written after its first packet)


class LinkSession(SessionLifecycle):
    """Pays one link of one document until :meth:`stop`, the document's end or a failure,
    holding while a limit refuses (see the module docstring). Started by
    :meth:`wallet.payments.layer.Payments.pay_link`; owns its link and its connections."""

    def __init__(
        self,
        *,
        doc: Document,
        href: str,
        link: Link,
        listener: LinkListener,
        resolver: LinkResolver,
        rotation: Rotation,
        budget: Budget,
        loop: asyncio.AbstractEventLoop,
        provider: str,
        account_id: int | None,
        pace: float,
        template: ConnectionConfig | None,
        holds: Holds,
        minimum: MinimumSend | None = None,
        backoffs: Backoffs | None = None,
        payees: PayeeBook | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        super().__init__(doc=doc, href=href, loop=loop, holds=holds)
        self._link = link
        self._listener = listener
        self._resolver = resolver
        self._rotation = rotation
        self._budget = budget
        self._provider = provider
        self._account_id = account_id
        self._pace = pace
        self._template = template
        self._sleep = sleep
        self._minimum = minimum or MinimumSend()
        self._backoffs = backoffs or Backoffs(loop.time)
        self._payees = payees
        self._waiting = False
        self._writes: set[asyncio.Future[None]] = set()
        self._leg_closed: asyncio.Event = asyncio.Event()
        self._leg: _Leg | None = None
        self._router: Router | None = None
        self._account: tuple[str, Asset] | None = None
        self._account_fetch: asyncio.Task[None] | None = None
        self._start()

    @property
    def target(self) -> LinkTarget | None:
        """Where the money goes now (after ``on_load``)."""
        return self._leg.target if self._leg else None

    @property
    def minimum(self) -> MinimumSend:
        """The receiver's learnt minimum (shared with every session to it)."""
        return self._minimum

    async def tip_path(self) -> TipPath:
        """What a one-time payment to this link's receiver goes through: the session's ILP
        path (our address and asset on it) and its resolver, for a connection of its own."""
        router, address, asset = await self._our_account()
        return TipPath(
            href=self.href,
            doc=self._doc,
            link=self._link,
            router=router,
            address=address,
            asset=asset,
            resolver=self._resolver,
            provider=self._provider,
            account_id=self._account_id,
            template=self._template,
            minimum=self._minimum,
            payees=self._payees,
        )

    # -- the session --

    async def _run(self) -> None:
        loaded = errored = False
        reason: PaymentError | None = None
        try:
            delay = self._backoffs.wait_left(self.href)  # a reload continues the back-off
            while True:
                if delay > 0 and not await self._wait(delay):
                    return
                try:
                    self._fetch_account_soon()  # beside the href: it does not depend on it
                    target = await self._until_stopped(
                        self._resolver.resolve(self.href, cancel_grant_later=True)
                    )
                    if target is None:
                        return
                    self._backoffs.named(self.href, target.wallet_name)
                    if not loaded:
                        loaded = True
                        self._listener.on_load(target)
                    reason = await self._pay(target)
                    if reason is None or not unreachable(reason):
                        return
                    failure: WalletError = reason
                except WalletError as e:
                    if not unreachable(e):
                        raise
                    failure = e
                # No leg while backing off: a dead connection's gate must not keep the site
                # counted as paying (pay would accrue for a receiver nobody can reach).
                await self._close_leg()
                wait = self._backoffs.failed(self.href)
                words = self._backoffs.words(self.href, wait)
                log.info("link receiver unreachable: %s", words)
                if wait is None:  # not to be tried again by this session
                    reason = ReceiverUnreachableError(words)
                    if not loaded and not errored:
                        self._listener.on_error(reason)
                    elif not loaded:
                        self._listener.on_waiting(words)
                    return
                if not loaded and not errored:
                    errored = True  # the page learns at once; the link may still load later
                    self._listener.on_error(_link_error(failure))
                delay = wait
        except WalletError as e:
            error = _link_error(e)
            if loaded:
                reason = error
            else:
                self._listener.on_error(error)
        finally:
            if self._account_fetch is not None:
                self._account_fetch.cancel()
            await self._close_leg()
            await self._link.close()
            if self._writes:  # history knows who was paid before the session says it ended
                # (and the grants are cancelled)
                await asyncio.wait(self._writes, timeout=CLOSE_TIMEOUT)
            if loaded:
                self.ended_by = reason
                self._listener.on_stop(reason)

    async def _wait(self, delay: float) -> bool:
        """Back off ``delay`` seconds, saying so; ``False`` if the session stopped meanwhile."""
        self._waiting = True
        self._listener.on_waiting(self._backoffs.words(self.href, delay))
        await self._until_stopped(self._sleep(delay))
        return not self._ended

    async def _pay(self, target: LinkTarget) -> PaymentError | None:
        """Stream to ``target`` and its renewals; the reason it stopped (``None``: asked)."""
        renewed_after_close = False
        while True:
            leg = await self._open_leg(target)
            if leg is None:
                return None
            renew: asyncio.Future[None] = (
                asyncio.ensure_future(self._sleep(self._seconds_to_renewal(target)))
                if target.incoming_payment is not None and target.expires_at is not None
                else self._loop.create_future()  # SPSP, or a payment that never expires
            )
            closed = asyncio.ensure_future(self._leg_closed.wait())
            capped = leg.gate.capped
            waits: set[asyncio.Future[Any]] = {self._stopping, capped, renew, closed}
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                renew.cancel()
                closed.cancel()
            if self._ended:
                return None
            if capped.done():
                if ends_session(leg.gate.refusal):
                    return BudgetExceededError(str(leg.gate.refusal or ""))
                resumed = await self._hold_leg(target)
                if resumed is None:
                    return None
                target, renewed_after_close = resumed, False
                continue
            if not renew.cancelled() and renew.done() and target.incoming_payment is not None:
                renewed = await self._renew(target)
                if renewed is None:
                    return None
                target = renewed
                continue
            # The receiver closed the connection (an incoming payment that expired early,
            # a receiver that restarted): one new incoming payment, then back off.
            if target.incoming_payment is None or renewed_after_close:
                return ReceiverUnreachableError(
                    "This site is not being paid: its wallet closed the connection."
                )
            renewed_after_close = True
            renewed = await self._renew(target)
            if renewed is None:
                return None
            target = renewed

    async def _hold_leg(self, target: LinkTarget) -> LinkTarget | None:
        """A limit refused: close the connection and hold until it lifts; then where to pay
        (a new incoming payment: the current one may expire meanwhile; SPSP: new credentials),
        or ``None`` if the session ended meanwhile."""
        hold = self._begin_hold()
        try:
            await self._close_leg()
            _, _, asset = await self._our_account()
        except BaseException:
            self._end_hold(hold)
            raise
        if not await self._hold(hold, asset, self._minimum.minimum):
            return None
        if target.incoming_payment is not None:
            return await self._renew(target)
        return await self._until_stopped(self._resolver.resolve(self.href))

    async def _renew(self, target: LinkTarget) -> LinkTarget | None:
        return await self._until_stopped(self._resolver.renew(target, cancel_grant_later=True))

    def _seconds_to_renewal(self, target: LinkTarget) -> float:
        assert target.expires_at is not None
        due = target.expires_at - RENEWAL_LEAD
        return max(0.0, (due - self._resolver.now()).total_seconds())

    # -- connections --

    async def _our_account(self) -> tuple[Router, str, Asset]:
        if self._router is None or self._account is None:
            fetch, self._account_fetch = self._account_fetch, None
            await (fetch or self._fetch_account())
        assert self._router is not None and self._account is not None
        return self._router, *self._account

    def _fetch_account_soon(self) -> None:
        """Ask the payment path for our address and asset (IL-DCP, a round trip to the
        connector) now, if nobody has; :meth:`_our_account` takes the answer or the failure."""
        if self._account is None and self._account_fetch is None:
            fetch = self._account_fetch = asyncio.ensure_future(self._fetch_account())
            # (a failure is raised where the answer is awaited; one nobody awaits is dropped)
            fetch.add_done_callback(lambda f: f.cancelled() or f.exception())

    async def _fetch_account(self) -> None:
        try:
            account = await fetch_account_config(self._link, uplink="the payment path")
        except WalletError as e:
            raise ReceiverUnreachableError(
                f"This site is not being paid: the payment path does not answer ({e})."
            ) from e
        self._account = (account.client_address, Asset(account.asset_code, account.asset_scale))
        self._router = Router(self._link, own_address=account.client_address)

    async def _open_leg(self, target: LinkTarget) -> _Leg | None:
        """A STREAM connection to ``target`` gated by a new gate of the document, replacing
        the current one (``None`` if the session stopped meanwhile)."""
        router, address, asset = await self._our_account()
        doc = self._doc
        gate = _LinkGate(
            self._budget,
            doc,
            loop=self._loop,
            provider=self._provider,
            account_id=self._account_id,
            pace=self._pace,
            rotation=self._rotation,
            on_fulfilled=lambda amount: self._fulfilled(leg, amount),
            on_close=lambda: self._gate_closed(gate),
        )
        api, driver = start_gated_connection(
            self._link,
            router,
            gate,
            address=address,
            asset=asset,
            destination_account=target.destination_account,
            shared_secret=target.shared_secret,
            template=self._template,
        )
        leg = _Leg(target, api, gate)
        self._rotation.join(gate)
        # Counted for the site's accrual from now, so pay accrues during the handshake and the
        # first packet need not wait for it; closed with the document.
        doc.add_gate(gate)
        await asyncio.wait({api.connected, self._stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not api.connected.done() or api.connected.exception() is not None or not doc.alive:
            error = api.connected.exception() if api.connected.done() else None
            doc.remove_gate(gate)
            api.destroy()
            self._in_background(self._resolver.release(target))  # its grant
            if error is None or not doc.alive:
                return None  # stopped while connecting
            raise ReceiverUnreachableError(
                f"This site is not being paid: its receiver cannot be reached ({error})."
            )
        learn_destination_asset(api, gate)
        gate.minimum = self._minimum
        self._reached(target)
        previous, self._leg = self._leg, leg
        self._leg_closed.clear()
        api.on("close", lambda: self._connection_closed(leg))
        # its pump ends with the connection, or if it fails: either way this leg pays no more
        driver.done.add_done_callback(lambda _: self._connection_closed(leg))
        if previous is not None:
            await self._close(previous)
        if gate.closed:
            return None  # the document ended while the previous leg closed
        api.create_stream().set_send_max(U64_MAX)
        return leg

    def _reached(self, target: LinkTarget) -> None:
        """A connection to ``target`` is up: the back-off ends."""
        self._backoffs.succeeded(self.href, target.wallet_name)
        if self._waiting:
            self._waiting = False
            self._listener.on_waiting(None)

    def _record(self, leg: _Leg) -> None:
        """History learns who ``leg`` pays, and the grant its incoming payment was made with
        is cancelled: after its first packet (nothing delays that one), or when it closes."""
        if leg.recorded:
            return
        leg.recorded = True
        payee = payee_of(leg.target, self._doc.site, leg.api.source_account or "")
        self._in_background(record_in_background(self._payees, payee))
        self._in_background(self._resolver.release(leg.target))

    def _in_background(self, work: Awaitable[None]) -> None:
        """Run ``work`` beside the session; its end waits for it."""
        task = asyncio.ensure_future(work)
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    def _fulfilled(self, leg: _Leg, amount: int) -> None:
        # The receiver's asset: as its STREAM handshake said, else as its wallet address says
        # (Rafiki's receiver sends no ConnectionAssetDetails; the incoming payment is in the
        # wallet address's asset). Unknown (SPSP without asset details): nothing to report.
        api = leg.api
        code, scale = api.destination_asset_code, api.destination_asset_scale
        if code is not None and scale is not None:
            asset: Asset | None = Asset(code, scale)
        else:
            asset = leg.target.wallet_asset
        if asset is not None:
            self._listener.on_payment(
                LinkPayment(self.href, leg.target.incoming_payment, amount, asset)
            )
        if not leg.recorded:
            # Once the page's event is on its way: handing the write to a worker thread
            # takes the GIL away from whoever delivers it.
            self._loop.call_soon(self._record, leg)

    def _connection_closed(self, leg: _Leg) -> None:
        if leg is self._leg:
            self._leg_closed.set()

    async def _close_leg(self) -> None:
        leg, self._leg = self._leg, None
        if leg is not None:
            await self._close(leg)

    async def _close(self, leg: _Leg) -> None:
        self._doc.remove_gate(leg.gate)  # closes the gate: it reserves nothing more
        stop_sending(leg.api)
        leg.api.close()
        self._record(leg)
        try:
            await asyncio.wait_for(asyncio.shield(leg.api.closed), CLOSE_TIMEOUT)
        except TimeoutError:
            leg.api.destroy()


def _link_error(error: WalletError) -> LinkError:
    if isinstance(error, LinkError):
        return error
    return LinkError(f"This site is not being paid: {error}")


def record_in_background(payees: PayeeBook | None, payee: PayeeRecord) -> asyncio.Future[None]:
    """Write ``payee`` on a worker thread (a SQLite write never holds up the first packet);
    a failure is logged: history without a name is better than no payment."""

    def write() -> None:
        if payees is None:
            return
        try:
            payees.record_payee(payee)
        except StorageError as e:
            log.warning("could not record the payee of %s: %s", payee.site, e)

    return asyncio.ensure_future(asyncio.to_thread(write))
