"""The seams between the page API and the rest of Trickle, as Protocols.

Implemented elsewhere: ``HandlerRegistry`` and ``BudgetGate`` by the wallet service,
``ConnectionFactory`` (with ``ConnectionProxy``/``StreamProxy``) by the STREAM driver. All async
methods run on the wallet's asyncio loop (``ui.asyncbridge``); nothing here touches Qt, so
``wallet`` code can satisfy these Protocols structurally without importing ``ui``.

Amounts are ``int`` (UInt64), never float. Exceptions that a page should see by name carry a class
attribute ``js_name`` (e.g. ``"BudgetExceededError"``); see ``ui.webmonetization.errors``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from wallet.net.link import Link


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


class ConnectionGate(Protocol):
    """The budget gate bound to one connection (one site origin, one tab).

    The STREAM driver calls ``reserve`` before each Prepare with a non-zero amount leaves,
    then exactly one of ``commit`` (verified Fulfill) or ``release`` (Reject, expiry, error).
    ``reserve`` returns ``None`` for "not now" (tab hidden/unfocused, site paused): the driver
    sends nothing, keeps streams open and ``sendTotal`` pending, awaits
    ``wait_until_may_send()`` and retries. ``reserve`` *raises* an exception whose class has
    ``js_name = "BudgetExceededError"`` when a cap is reached: the driver stops sending on the
    connection and rejects pending/later ``sendTotal`` calls with that exception.
    """

    @property
    def origin(self) -> str: ...

    def may_send_now(self) -> bool: ...

    async def wait_until_may_send(self) -> None: ...

    async def reserve(self, amount: int) -> str | None: ...

    async def commit(self, reservation: str) -> None: ...

    async def release(self, reservation: str) -> None: ...


class BudgetGate(Protocol):
    """The wallet service's budget: per-site policy and the global budget, atomic per packet.

    ``reserve`` must be atomic with respect to every other reservation (one SQLite
    transaction or one lock), so no race can overspend. A reservation not committed or
    released is released when the service restarts.
    """

    def may_send_now(self, origin: str) -> bool:
        """False while the site is paused/blocked or its allowance is 0 right now."""
        ...

    async def reserve(self, origin: str, amount: int) -> str | None:
        """A reservation id, or ``None`` when ``amount`` does not fit the allowance (a cap)."""
        ...

    async def commit(self, reservation: str) -> None: ...

    async def release(self, reservation: str) -> None: ...


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
