"""The seams between the page API and the rest of Trickle, as Protocols.

Implemented elsewhere: ``HandlerRegistry`` (a thin adapter over the wallet service) and
``PaymentSessions`` (``wallet.payments.Payments``, whose connections are the ``ConnectionProxy``
/ ``StreamProxy`` here). All methods run on the wallet's asyncio loop (``ui.asyncbridge``) unless
they say otherwise; nothing here touches Qt.

Amounts are ``int`` (UInt64), never float. Exceptions that a page should see by name carry a class
attribute ``js_name`` (e.g. ``"BudgetExceededError"``); see ``ui.webmonetization.errors``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from wallet.net.link import Link
    from wallet.payments import ConnectionListener as Draft4ConnectionListener
    from wallet.payments import Fields, StreamListener
else:  # the payment layer is imported when the wallet starts, after the browser's first paint
    Fields = dict[str, Any]

    class StreamListener(Protocol): ...

    class Draft4ConnectionListener(Protocol): ...


__all__ = [
    "ConnectionListener",
    "ConnectionProxy",
    "DocumentSession",
    "Fields",
    "HandlerRegistry",
    "LinkProvider",
    "PaymentSessions",
    "StreamListener",
    "StreamProxy",
]


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


# ---- the STREAM connection as the page sees it ----------------------------------------------

# Field snapshots (``Fields``) are plain JSON-able dicts with the spec's names and types:
#   connection: connectionTag (str), lastPacketExchangeRate (number),
#     minimumAcceptableExchangeRate (number), totalDelivered/totalSent/totalReceived (decimal
#     str), sourceAssetCode (str), sourceAssetScale (int), destinationAssetCode (str | None),
#     destinationAssetScale (str | None — the draft says String), closed (bool)
#   stream: id (decimal str), receiveMax, sendMax, totalReceived, totalSent (decimal str),
#     open (bool)
# ``StreamListener`` (events of one stream, called on the asyncio loop) is the payment layer's.


class StreamProxy(Protocol):
    def fields(self) -> Fields: ...

    def set_listener(self, listener: StreamListener) -> None: ...

    async def set_receive_max(self, amount: int) -> None: ...

    async def receive_total(self, amount: int, timeout: float | None) -> None: ...

    async def set_send_max(self, amount: int) -> None: ...

    async def send_total(self, amount: int, timeout: float | None) -> None: ...

    async def send(self, data: bytes) -> None: ...

    async def close(self) -> None: ...


class ConnectionListener(Draft4ConnectionListener, Protocol):
    """Events of one connection, called on the asyncio loop."""

    def on_stream(self, stream: StreamProxy) -> None: ...

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


class DocumentSession(Protocol):
    """A document's payment state in the wallet (``wallet.payments.DocumentHandle``); its
    methods may be called from the GUI thread."""

    def set_attending(self, attending: bool) -> None: ...

    def end(self) -> None: ...


class PaymentSessions(Protocol):
    """The payment layer (``wallet.payments.Payments``): ``document`` from any thread,
    ``monetize`` on the wallet loop.

    ``monetize`` raises page-visible errors (``js_name``): ``Error`` when the connection cannot
    be established (IL-DCP or the STREAM handshake failed), ``AbortError`` when the document
    ended meanwhile.
    """

    def document(self, site: str, *, attending: bool) -> Any: ...

    async def monetize(
        self,
        handle: Any,
        destination_account: str,
        shared_secret: bytes,
        link: Link,
        *,
        provider: str,
        account_id: int | None = None,
    ) -> Any: ...

    def pay_link(
        self,
        handle: Any,
        href: str,
        link: Link,
        listener: Any,
        *,
        provider: str,
        account_id: int | None = None,
    ) -> Any:
        """A ``<link rel="monetization">`` session (``wallet.payments.LinkSession``); wallet
        loop."""
        ...

    def pay_link_tag(
        self,
        handle: Any,
        href: str,
        link: Link | None,
        listener: Any,
        *,
        provider: str,
        account_id: int | None = None,
    ) -> Any:
        """A ``<link rel="monetization">`` session from the funding source: a
        ``pay_link`` session over ``link``, or one paid from the user's own Open Payments
        wallet (``link`` then unused); wallet loop."""
        ...


class LinkProvider(Protocol):
    """Opens the ILP link to a registered handler (``handler_host.HandlerHost``).

    Raises a page-visible error (``HandlerUnavailableError``) when the handler fails to load.
    """

    async def link_for(self, handler_uri: str) -> Link: ...
