"""A draft-4 ``IlpConnection`` over the user's ILP path, as a page sees it.

:func:`open_connection`: IL-DCP (``peer.config``) through the provider's link for our address
and asset, then a STREAM client connection over the same link whose budget gate is the
session's :class:`~wallet.payments.gate.PacketGate`, receiving at ``<our address>.<random>``
through a ``Router`` on the link. :class:`Draft4Connection` / :class:`Draft4Stream` wrap
``wallet.net.stream_api``'s ``IlpConnection`` / ``IlpStream`` as field snapshots with the spec's
names and listener callbacks, which ``ui`` relays to the page.

Errors a page sees (``js_name``): a failed IL-DCP or handshake → ``Error``; ``sendTotal`` /
``receiveTotal`` past their timeout → ``TimeoutError``; ``sendTotal`` when a limit stops the
connection for good → ``BudgetExceededError``; a call on a closed stream → ``InvalidStateError``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import replace
from fractions import Fraction
from typing import Any, Protocol

from wallet.budgets import Asset
from wallet.errors import WalletError
from wallet.net.ildcp import fetch_account_config
from wallet.net.link import Link
from wallet.net.router import Router
from wallet.net.stream_api import IlpConnection, IlpStream
from wallet.net.stream_client import open_connection as open_stream_connection
from wallet.net.stream_driver import StreamDriver
from wallet.payments.errors import (
    AmountRangeError,
    BudgetExceededError,
    ConnectFailedError,
    PaymentError,
    PaymentStateError,
    PaymentTimeoutError,
)
from wallet.payments.gate import Evidence, PacketGate
from wallet.stream import ConnectionConfig

__all__ = [
    "PAGE_CONNECTION_TEMPLATE",
    "ConnectionListener",
    "Draft4Connection",
    "Draft4Stream",
    "Fields",
    "StreamListener",
    "close_sending_nothing_more",
    "open_connection",
    "stop_sending",
]

CLOSE_TIMEOUT = 5.0
# A page's connection pauses while its tab is not attended (no accrual, no packets); receivers
# close connections idle for 60 s (ilp-protocol-stream's default, and ours), so a paused
# connection pings this often and the site is paid again as soon as the tab is back.
KEEPALIVE_SECONDS = 20.0
# Defaults for every page's connection; the secret and the assets are filled in per connection.
PAGE_CONNECTION_TEMPLATE = ConnectionConfig(bytes(32), "XXX", 0, keepalive=KEEPALIVE_SECONDS)
# Field snapshots: plain JSON-able dicts with the spec's names and types (amounts as decimal
# strings; destinationAssetScale a string, as draft 4 says).
Fields = dict[str, Any]


class StreamListener(Protocol):
    """Events of one stream, called on the asyncio loop."""

    def on_data(self, data: bytes) -> None: ...

    def on_money(self, amount: int) -> None: ...

    def on_outgoing_money(self, amount: int) -> None: ...

    def on_close(self) -> None: ...

    def on_error(self, error: BaseException) -> None: ...


class ConnectionListener(Protocol):
    """Events of one connection, called on the asyncio loop."""

    def on_stream(self, stream: Draft4Stream) -> None: ...

    def on_close(self) -> None: ...

    def on_error(self, error: BaseException) -> None: ...


def _rate(value: Fraction | None) -> float | None:
    return None if value is None else float(value)


class Draft4Stream:
    """One stream of a page's connection."""

    def __init__(self, stream: IlpStream, gate: PacketGate) -> None:
        self._s = stream
        self._gate = gate

    def fields(self) -> Fields:
        s = self._s
        return {
            "id": str(s.id),
            "receiveMax": str(s.receive_max),
            "sendMax": str(s.send_max),
            "totalReceived": str(s.total_received),
            "totalSent": str(s.total_sent),
            "open": s.is_open(),
        }

    def set_listener(self, listener: StreamListener) -> None:
        self._s.on("data", listener.on_data)
        self._s.on("money", listener.on_money)
        self._s.on("outgoing_money", listener.on_outgoing_money)
        self._s.on("close", listener.on_close)
        self._s.on("error", listener.on_error)

    async def set_receive_max(self, amount: int) -> None:
        _call(self._s.set_receive_max, amount)

    async def receive_total(self, amount: int, timeout: float | None) -> None:
        await _bounded(self._s.receive_total(amount), timeout, None)

    async def set_send_max(self, amount: int) -> None:
        _call(self._s.set_send_max, amount)

    async def send_total(self, amount: int, timeout: float | None) -> None:
        await _bounded(self._s.send_total(amount), timeout, self._gate.capped)

    async def send(self, data: bytes) -> None:
        _call(self._s.send, data)

    async def close(self) -> None:
        self._s.close()


class Draft4Connection:
    """A page's ``IlpConnection``; owns its link and its gate."""

    def __init__(
        self, api: IlpConnection, link: Link, gate: PacketGate, on_closed: Callable[[], None]
    ) -> None:
        self._api = api
        self._link = link
        self._gate = gate
        self._streams: dict[int, Draft4Stream] = {}
        self._closer: asyncio.Future[None] | None = None
        self._on_closed = on_closed
        api.on("close", self._closed)

    @property
    def gate(self) -> PacketGate:
        return self._gate

    def _wrap(self, stream: IlpStream) -> Draft4Stream:
        adapter = self._streams.get(stream.id)
        if adapter is None:
            adapter = self._streams[stream.id] = Draft4Stream(stream, self._gate)
        return adapter

    def fields(self) -> Fields:
        a = self._api
        dest_scale = a.destination_asset_scale
        return {
            "connectionTag": a.connection_tag or "",
            "lastPacketExchangeRate": _rate(a.last_packet_exchange_rate),
            "minimumAcceptableExchangeRate": _rate(a.minimum_acceptable_exchange_rate),
            "totalDelivered": str(a.total_delivered),
            "totalSent": str(a.total_sent),
            "totalReceived": str(a.total_received),
            "sourceAssetCode": a.source_asset_code,
            "sourceAssetScale": a.source_asset_scale,
            "destinationAssetCode": a.destination_asset_code,
            "destinationAssetScale": None if dest_scale is None else str(dest_scale),
            "closed": not a.is_open,
        }

    def set_listener(self, listener: ConnectionListener) -> None:
        self._api.on("stream", lambda stream: listener.on_stream(self._wrap(stream)))
        self._api.on("close", listener.on_close)
        self._api.on("error", listener.on_error)

    def _closed(self) -> None:
        self._on_closed()
        self._closer = asyncio.ensure_future(self._link.close())

    def create_stream(self) -> Draft4Stream:
        return self._wrap(self._api.create_stream())

    async def close(self) -> None:
        """The page closed it, or its tab closed or navigated: its gate reserves nothing more
        at once, and money the page's streams still want is simply not sent (what is in
        flight settles as it comes; the gate charges what stays uncertain)."""
        self._on_closed()  # removes the gate from the document, which closes it
        await close_sending_nothing_more(self._api)
        await self._link.close()


def stop_sending(api: IlpConnection) -> None:
    """Want no more money on ``api``'s streams than is sent or in flight, so that a graceful
    close does not wait (until its timeout) to send money a closed gate will never reserve."""
    for stream in list(api.streams.values()):
        with contextlib.suppress(WalletError):  # closed already
            stream.set_send_max(stream.total_sent + stream.in_flight)


async def close_sending_nothing_more(api: IlpConnection, timeout: float = CLOSE_TIMEOUT) -> None:
    """Close ``api`` gracefully without sending more money (:func:`stop_sending`): wait for the
    receiver's close at most ``timeout`` (packets in flight settle meanwhile), then drop it."""
    stop_sending(api)
    api.close()
    try:
        await asyncio.wait_for(asyncio.shield(api.closed), timeout)
    except TimeoutError:
        api.destroy()


def evidence_of(api: IlpConnection) -> Callable[[], Evidence | None]:
    def evidence() -> Evidence | None:
        core = api.core
        streams = core.streams
        if not streams:
            return None
        reported = sum(stream.remote_total_received for stream in streams.values())
        return Evidence(reported, core.total_delivered, core.packets_in_flight > 0)

    return evidence


def start_gated_connection(
    link: Link,
    router: Router,
    gate: PacketGate,
    *,
    address: str,
    asset: Asset,
    destination_account: str,
    shared_secret: bytes,
    template: ConnectionConfig | None = None,
) -> tuple[IlpConnection, StreamDriver]:
    """A STREAM client connection from ``address`` (our IL-DCP address, in ``asset``) to the
    receiver, over ``link``, receiving through ``router``, every money packet through ``gate``
    (bound, woken and given the receiver's evidence here). Its pump is running; await
    ``api.connected``, then :func:`learn_destination_asset`."""
    base = template or ConnectionConfig(shared_secret, asset.code, 0)
    config = replace(
        base,
        shared_secret=shared_secret,
        asset_code=asset.code,
        asset_scale=asset.scale,
        source_account=address,
        destination_account=destination_account,
    )
    api, driver = open_stream_connection(link, config, router=router, budget=gate)
    gate.bind(asset, api.source_account or "")
    gate.set_waker(api.wake)
    gate.set_evidence(evidence_of(api))
    return api, driver


def learn_destination_asset(api: IlpConnection, gate: PacketGate) -> None:
    """After the handshake: the receiver's asset, so history records what it says arrived."""
    if api.destination_asset_code and api.destination_asset_scale is not None:
        gate.set_destination_asset(Asset(api.destination_asset_code, api.destination_asset_scale))


async def open_connection(
    destination_account: str,
    shared_secret: bytes,
    link: Link,
    gate: PacketGate,
    *,
    template: ConnectionConfig | None = None,
    on_closed: Callable[[], None],
) -> Draft4Connection:
    """IL-DCP, then a STREAM connection to the page's receiver, gated by ``gate``.

    Raises:
        ConnectFailedError: IL-DCP or the STREAM handshake failed (the link is closed).
    """
    try:
        account = await fetch_account_config(link, uplink="the Web Monetization handler")
        router = Router(link, own_address=account.client_address)
        api, _driver = start_gated_connection(
            link,
            router,
            gate,
            address=account.client_address,
            asset=Asset(account.asset_code, account.asset_scale),
            destination_account=destination_account,
            shared_secret=shared_secret,
            template=template,
        )
        await api.connected
        learn_destination_asset(api, gate)
    except WalletError as e:
        gate.close()
        await link.close()
        raise ConnectFailedError(f"could not connect: {e}") from e
    except BaseException:
        gate.close()
        await link.close()
        raise
    return Draft4Connection(api, link, gate, on_closed)


def _call(method: Callable[..., None], *args: Any) -> None:
    try:
        method(*args)
    except WalletError as e:
        raise PaymentStateError(str(e)) from e
    except ValueError as e:
        raise AmountRangeError(str(e)) from e


async def _bounded(
    waiter: Awaitable[None], timeout: float | None, capped: asyncio.Future[None] | None
) -> None:
    """Await ``waiter``, failing on ``timeout`` or when ``capped`` resolves."""
    task = asyncio.ensure_future(waiter)
    watch: set[asyncio.Future[Any]] = {task}
    if capped is not None:
        watch.add(capped)
    done, _ = await asyncio.wait(watch, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        error = task.exception()
        if isinstance(error, WalletError) and not hasattr(type(error), "js_name"):
            raise PaymentError(str(error)) from error
        task.result()
        return
    task.cancel()
    if capped is not None and capped in done:
        raise BudgetExceededError()
    raise PaymentTimeoutError("the amount was not reached in time")
