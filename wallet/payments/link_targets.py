"""From a ``<link rel="monetization">`` href to STREAM credentials, with every failure named.

:class:`OpenPaymentsResolver` is the payment layer's door to :mod:`wallet.openpayments`: an
``https:`` href is fetched as an Open Payments wallet address (``Accept: application/json``),
a non-interactive ``incoming-payment`` grant is requested as a directed-identity client (a
fresh Ed25519 key per grant, in memory only), an incoming payment is created (about ten
minutes) and the grant cancelled; its ``ilp`` method gives the STREAM credentials. A link
session asks for the cancel later (``cancel_grant_later``) and calls
:meth:`~LinkResolver.release` after its first packet, so that the cancel's round trip is not on
the way to the first payment; whatever nobody releases is cancelled
:data:`GRANT_CANCEL_DEADLINE` seconds after it was made, or when the resolver closes. A payment
pointer (``$host/path``), or an https URL that answers SPSP instead of wallet JSON, is paid over
SPSP; then there is no incoming payment. (:func:`wallet.openpayments.receiver.
open_payment_target` does the protocol; this module maps its errors and hides its types.)

Every :class:`~wallet.openpayments.errors.OpenPaymentsError` becomes one
:class:`~wallet.payments.errors.LinkError` subclass (:func:`link_error`): the page gets
``error`` at the link, the user the message.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from wallet.budgets import Asset
from wallet.openpayments.client import INCOMING_PAYMENT_LIFETIME, OpenPaymentsClient
from wallet.openpayments.errors import (
    GrantRefusedError,
    IncomingPaymentExpiredError,
    InsecureUrlError,
    InvalidResponseError,
    NotFoundError,
    NotJsonError,
    OpenPaymentsError,
    RequestTimeoutError,
    SignatureError,
    UnreachableError,
)
from wallet.openpayments.receiver import (
    PaymentTarget,
    cancel_target_grant,
    open_payment_target,
    renew_payment_target,
)
from wallet.openpayments.transport import DEFAULT_TIMEOUT, HttpTransport, Transport
from wallet.payments.errors import (
    GrantDeniedError,
    IncomingPaymentClosedError,
    InsecureWalletAddressError,
    LinkError,
    NotAWalletAddressError,
    WalletAddressNotFoundError,
    WalletServerError,
    WalletTimeoutError,
    WalletUnreachableError,
)
from wallet.store.payees import PayeeKind, PayeeRecord

# At the latest, a grant left open for a caller is cancelled this long after it was made (a
# session that never paid, a target dropped when its session stopped).
GRANT_CANCEL_DEADLINE = 5.0
CLOSE_CANCELS_TIMEOUT = 2.0  # what closing the resolver waits for the cancels under way

__all__ = [
    "GRANT_CANCEL_DEADLINE",
    "DeferredResolver",
    "LinkResolver",
    "LinkTarget",
    "OpenPaymentsResolver",
    "link_error",
    "payee_of",
]


@dataclass(frozen=True)
class LinkTarget:
    """Where a link's money goes.

    ``incoming_payment``: the incoming payment's URL (``None`` over SPSP); ``wallet_address``,
    ``wallet_name`` and ``wallet_asset``: the wallet address's ``id``, ``publicName`` and asset
    (``None`` over SPSP);
    ``expires_at``: when the incoming payment stops taking money (``None``: never).
    """

    href: str
    destination_account: str
    shared_secret: bytes = field(repr=False)
    incoming_payment: str | None = None
    wallet_address: str | None = None
    wallet_name: str | None = None
    wallet_asset: Asset | None = None
    expires_at: dt.datetime | None = None
    opaque: object = field(default=None, repr=False, compare=False)
    """The resolver's own state for :meth:`LinkResolver.renew`."""


class LinkResolver(Protocol):
    """Resolves links' hrefs; what :class:`~wallet.payments.layer.Payments` is given."""

    def now(self) -> dt.datetime:
        """The clock ``expires_at`` is measured by."""
        ...

    async def resolve(self, href: str, *, cancel_grant_later: bool = False) -> LinkTarget:
        """``cancel_grant_later``: the incoming payment's grant stays open until
        :meth:`release` (or the resolver's deadline).

        Raises: LinkError (a subclass saying what failed)."""
        ...

    async def renew(self, target: LinkTarget, *, cancel_grant_later: bool = False) -> LinkTarget:
        """The next incoming payment on the same wallet address (SPSP: the same target).

        Raises: LinkError."""
        ...

    async def release(self, target: LinkTarget) -> None:
        """Cancel the grant left open for ``target`` (nothing if there is none, or it is done
        already); never raises."""
        ...

    async def close(self) -> None: ...


class OpenPaymentsResolver:
    """Open Payments (and SPSP) over https, trusting the system store plus ``extra_ca_file``
    (or ``$TRICKLE_EXTRA_CA_FILE``)."""

    def __init__(
        self,
        *,
        extra_ca_file: str | Path | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        lifetime: dt.timedelta = INCOMING_PAYMENT_LIFETIME,
        clock: Callable[[], dt.datetime] | None = None,
        transport: Transport | None = None,
        grant_cancel_deadline: float = GRANT_CANCEL_DEADLINE,
    ) -> None:
        self._own: HttpTransport | None = None
        if transport is None:
            transport = self._own = HttpTransport(extra_ca_file=extra_ca_file, timeout=timeout)
        self._transport = transport
        self._client = (
            OpenPaymentsClient(transport, clock=clock) if clock else OpenPaymentsClient(transport)
        )
        self._lifetime = lifetime
        self._deadline = grant_cancel_deadline
        # Grants left open for a caller, with the timer that cancels them at the latest.
        self._open: dict[int, tuple[PaymentTarget, asyncio.TimerHandle]] = {}
        self._cancelling: set[asyncio.Task[None]] = set()

    def now(self) -> dt.datetime:
        return self._client.now()

    async def resolve(self, href: str, *, cancel_grant_later: bool = False) -> LinkTarget:
        try:
            found = await open_payment_target(
                self._client,
                href,
                transport=self._transport,
                lifetime=self._lifetime,
                cancel_grant=not cancel_grant_later,
            )
        except OpenPaymentsError as e:
            if type(e) is OpenPaymentsError and href.strip().startswith("$"):
                raise NotAWalletAddressError(
                    f"This site is not being paid: its address is not a payment pointer. ({e})"
                ) from e
            raise link_error(e, href) from e
        return self._held(href, found)

    async def renew(self, target: LinkTarget, *, cancel_grant_later: bool = False) -> LinkTarget:
        if not isinstance(target.opaque, PaymentTarget):
            return target
        try:
            found = await renew_payment_target(
                self._client,
                target.opaque,
                lifetime=self._lifetime,
                cancel_grant=not cancel_grant_later,
            )
        except OpenPaymentsError as e:
            raise link_error(e, target.href) from e
        return self._held(target.href, found)

    def _held(self, href: str, found: PaymentTarget) -> LinkTarget:
        """``found`` as a link target; its open grant, if any, is cancelled by the deadline."""
        if found.grant is not None:
            timer = asyncio.get_running_loop().call_later(self._deadline, self._cancel, found)
            self._open[id(found)] = (found, timer)
        return _link_target(href, found)

    async def release(self, target: LinkTarget) -> None:
        found = target.opaque
        if isinstance(found, PaymentTarget):
            task = self._cancel(found)
            if task is not None:
                await asyncio.shield(task)

    def _cancel(self, found: PaymentTarget) -> asyncio.Task[None] | None:
        """Start cancelling ``found``'s open grant (once); the task, tracked until done."""
        held = self._open.pop(id(found), None)
        if held is None:
            return None
        held[1].cancel()
        task = asyncio.ensure_future(cancel_target_grant(self._client, found))
        self._cancelling.add(task)
        task.add_done_callback(self._cancelling.discard)
        return task

    async def close(self) -> None:
        """Cancels every grant still open (for at most :data:`CLOSE_CANCELS_TIMEOUT` seconds:
        a grant left behind expires by itself), then closes the connections."""
        for found, _ in list(self._open.values()):
            self._cancel(found)
        if self._cancelling:
            await asyncio.wait(self._cancelling, timeout=CLOSE_CANCELS_TIMEOUT)
        if self._own is not None:
            await self._own.close()


class DeferredResolver:
    """A resolver made when first needed, by ``make`` (awaited once): for an app whose network
    (and so the CA its Open Payments client trusts) starts after the payment layer is built."""

    def __init__(self, make: Callable[[], Awaitable[LinkResolver]]) -> None:
        self._make = make
        self._made: asyncio.Future[LinkResolver] | None = None

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    async def _resolver(self) -> LinkResolver:
        if self._made is None:
            self._made = asyncio.ensure_future(self._make())
        return await asyncio.shield(self._made)

    async def resolve(self, href: str, *, cancel_grant_later: bool = False) -> LinkTarget:
        resolver = await self._resolver()
        return await resolver.resolve(href, cancel_grant_later=cancel_grant_later)

    async def renew(self, target: LinkTarget, *, cancel_grant_later: bool = False) -> LinkTarget:
        resolver = await self._resolver()
        return await resolver.renew(target, cancel_grant_later=cancel_grant_later)

    async def release(self, target: LinkTarget) -> None:
        if self._made is not None and self._made.done() and self._made.exception() is None:
            await self._made.result().release(target)

    async def close(self) -> None:
        if self._made is not None and self._made.done() and self._made.exception() is None:
            await self._made.result().close()


def _link_target(href: str, found: PaymentTarget) -> LinkTarget:
    wallet, payment = found.wallet, found.incoming_payment
    return LinkTarget(
        href=href,
        destination_account=found.destination_account,
        shared_secret=found.shared_secret,
        incoming_payment=payment.id if payment else None,
        wallet_address=wallet.id if wallet else None,
        wallet_name=wallet.public_name if wallet else None,
        wallet_asset=Asset(wallet.asset_code, wallet.asset_scale) if wallet else None,
        expires_at=payment.expires_at if payment else None,
        opaque=found,
    )


# (Open Payments error, payment-layer error, what the user reads), most specific first.
_MAPPING: tuple[tuple[type[OpenPaymentsError], type[LinkError], str], ...] = (
    (InsecureUrlError, InsecureWalletAddressError, "its address is not a secure https: URL"),
    (NotFoundError, WalletAddressNotFoundError, "its wallet address does not exist (HTTP 404)"),
    (NotJsonError, NotAWalletAddressError, "its address is not a wallet address"),
    (
        InvalidResponseError,
        NotAWalletAddressError,
        "its wallet answered in a form Trickle does not understand",
    ),
    (RequestTimeoutError, WalletTimeoutError, "its wallet did not answer in time"),
    (UnreachableError, WalletUnreachableError, "its wallet cannot be reached"),
    (GrantRefusedError, GrantDeniedError, "its wallet refused to let Trickle pay it"),
    (SignatureError, GrantDeniedError, "its wallet did not accept Trickle's signature"),
    (IncomingPaymentExpiredError, IncomingPaymentClosedError, "its wallet stopped taking payments"),
)


def link_error(error: OpenPaymentsError, href: str) -> LinkError:
    """The named payment-layer error for an Open Payments failure on the link ``href``."""
    for source, target, words in _MAPPING:
        if isinstance(error, source):
            return target(f"This site is not being paid: {words}. ({error})")
    status = f" (HTTP {error.status})" if error.status else ""
    return WalletServerError(
        f"This site is not being paid: its wallet refused the payment{status}. ({error})"
    )


def payee_of(
    target: LinkTarget, site: str, connection: str, kind: PayeeKind = PayeeKind.STREAM
) -> PayeeRecord:
    """Who a connection to ``target`` pays, for history."""
    return PayeeRecord(
        site=site,
        connection=connection,
        href=target.href,
        kind=kind,
        wallet_address=target.wallet_address,
        public_name=target.wallet_name,
        asset=target.wallet_asset,
        incoming_payment=target.incoming_payment,
    )
