"""The seams between the page API and the rest of Trickle, as Protocols.

Implemented elsewhere: ``HandlerRegistry`` (a thin adapter over the wallet service) and
``BudgetGate`` (``WalletService`` itself); ``ConnectionFactory`` (with ``ConnectionProxy`` /
``StreamProxy``) by ``stream_adapter.py`` over ``wallet.net.stream_*``. All methods run on the
wallet's asyncio loop (``ui.asyncbridge``); nothing here touches Qt.

Amounts are ``int`` (UInt64), never float. Exceptions that a page should see by name carry a class
attribute ``js_name`` (e.g. ``"BudgetExceededError"``); see ``ui.webmonetization.errors``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from wallet.budgets import Asset
from wallet.ledger import Refusal, Reservation
from wallet.net.link import Link
from wallet.stream import Outcome


@dataclass(frozen=True, slots=True)
class RegisteredHandler:
    """A provider the user accepted: the page origin that registered it and its handler URL."""

    origin: str
    name: str
    uri: str


class HandlerRegistry(Protocol):
    """Where accepted handlers are stored (the wallet service, SQLite)."""

    async def is_registered(self, origin: str, uri: str) -> bool: ...

    async def register(self, origin: str, name: str, uri: str) -> None:
        """Store the handler and make it the active one."""
        ...

    async def active_handler(self) -> RegisteredHandler | None: ...


class BudgetGate(Protocol):
    """The wallet's budget, per packet (``wallet.service.WalletService`` satisfies it as is).

    ``reserve`` is atomic against every other reservation (the service's lock + one SQLite
    transaction), so no race can overspend; each ``Reservation`` is settled exactly once with
    ``commit`` (verified Fulfill) or ``release`` (Reject, expiry, error). A ``Refusal`` says
    why not (``Reason``): ``NO_ACCRUAL``/``PAUSED`` mean "not now"; the caps, the global
    budget, the balance and ``BLOCKED``/``DISABLED`` mean "no more" (the page then sees
    ``BudgetExceededError``). ``set_site_active`` drives accrual: only while a tab of the site
    with a live connection is visible in the focused window. Called on the wallet loop.

    ``site_listeners`` are called (on any thread) with a site, or ``None`` for every site,
    when a site may be able to pay where it could not: a page refused "not now" waits for
    that (or for a ``Refusal.retry_after``) instead of asking again and again.
    """

    site_listeners: list[Callable[[str | None], None]]

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
    ) -> Reservation | Refusal: ...

    def commit(
        self, res: Reservation, *, delivered: int = 0, dest_asset: Asset | None = None
    ) -> None: ...

    def release(self, res: Reservation) -> None: ...

    def expire(self, res: Reservation) -> None: ...

    def set_site_active(self, site: str, active: bool) -> None: ...


class ConnectionGate(Protocol):
    """The budget gate of one connection: one site origin, one tab, one document.

    It is a ``wallet.stream.BudgetGate`` (sync ``reserve(packet_id, amount) -> approved``,
    ``commit``, ``release``) once ``bind_asset`` has told it the source asset (from IL-DCP):
    hand it to ``wallet.net.stream_client`` as ``budget``. ``reserve`` approves 0 while the tab
    is hidden/unfocused, after the document is gone (navigation, tab close — for good), or when
    the wallet refuses; a refusal that means "no more" also resolves ``capped``.
    """

    @property
    def origin(self) -> str: ...

    @property
    def capped(self) -> asyncio.Future[None]:
        """Resolves when a cap/limit stops this connection (wallet loop only)."""
        ...

    def may_send_now(self) -> bool: ...

    def bind_asset(self, asset: Asset, connection: str) -> None: ...

    def set_destination_asset(self, asset: Asset | None) -> None: ...

    def set_waker(self, wake: Callable[[], None]) -> None:
        """Called to make the connection ask ``reserve`` again after a "not now"."""
        ...

    def reserve(self, packet_id: int, amount: int) -> int: ...

    def settle(self, packet_id: int, amount: int, outcome: Outcome, delivered: int = 0) -> None: ...


# ---- the STREAM connection as the page sees it ----------------------------------------------

# Field snapshots are plain JSON-able dicts with the spec's names and types:
#   connection: connectionTag (str), lastPacketExchangeRate (number),
#     minimumAcceptableExchangeRate (number), totalDelivered/totalSent/totalReceived (decimal
#     str), sourceAssetCode (str), sourceAssetScale (int), destinationAssetCode (str | None),
#     destinationAssetScale (str | None — the draft says String), closed (bool)
#   stream: id (decimal str), receiveMax, sendMax, totalReceived, totalSent (decimal str),
#     open (bool)
Fields = dict[str, Any]


class StreamListener(Protocol):
    """Events of one stream, called on the asyncio loop."""

    def on_data(self, data: bytes) -> None: ...

    def on_money(self, amount: int) -> None: ...

    def on_outgoing_money(self, amount: int) -> None: ...

    def on_close(self) -> None: ...

    def on_error(self, error: BaseException) -> None: ...


class StreamProxy(Protocol):
    def fields(self) -> Fields: ...

    def set_listener(self, listener: StreamListener) -> None: ...

    async def set_receive_max(self, amount: int) -> None: ...

    async def receive_total(self, amount: int, timeout: float | None) -> None: ...

    async def set_send_max(self, amount: int) -> None: ...

    async def send_total(self, amount: int, timeout: float | None) -> None: ...

    async def send(self, data: bytes) -> None: ...

    async def close(self) -> None: ...


class ConnectionListener(Protocol):
    """Events of one connection, called on the asyncio loop."""

    def on_stream(self, stream: StreamProxy) -> None: ...

    def on_close(self) -> None: ...

    def on_error(self, error: BaseException) -> None: ...

    def on_fields_changed(self) -> None:
        """Any field of the connection or its streams changed (totals, rates...)."""
        ...


class ConnectionProxy(Protocol):
    def fields(self) -> Fields: ...

    def set_listener(self, listener: ConnectionListener) -> None: ...

    def create_stream(self) -> StreamProxy:
        """A new local stream (RFC 29: client-opened streams get odd ids); synchronous."""
        ...

    async def close(self) -> None: ...


class ConnectionFactory(Protocol):
    """Opens a STREAM client connection over ``link`` (the handler, gated by ``gate``).

    Raises (page-visible via ``js_name``): e.g. ``HandlerUnavailableError`` or an ``Error`` when
    the connection cannot be established (IL-DCP or the STREAM handshake failed).
    """

    async def open(
        self,
        destination_account: str,
        shared_secret: bytes,
        link: Link,
        gate: ConnectionGate,
    ) -> ConnectionProxy: ...


class LinkProvider(Protocol):
    """Opens the ILP link to a registered handler (``handler_host.HandlerHost``).

    Raises a page-visible error (``HandlerUnavailableError``) when the handler fails to load.
    """

    async def link_for(self, handler_uri: str) -> Link: ...
