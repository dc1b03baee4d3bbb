"""``ConnectionFactory`` over Trickle's STREAM client (``wallet.net.stream_client``).

``StreamConnectionFactory.open``: IL-DCP (``peer.config``) through the handler link for our
address and asset, then a STREAM client connection over the same link, with the tab's
``ConnectionGate`` as its per-packet budget, receiving at ``<our address>.<random>`` through a
``Router`` on the link. ``IlpConnection``/``IlpStream`` of ``wallet.net.stream_api`` are
wrapped as ``ConnectionProxy``/``StreamProxy`` (field snapshots + listener callbacks).

Errors a page sees: a failed IL-DCP or handshake → ``Error`` with the wallet's message;
``sendTotal``/``receiveTotal`` past their timeout → ``TimeoutError``; ``sendTotal`` when the
wallet refuses for good → ``BudgetExceededError`` (see ``monetize.py``).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from ui.webmonetization.errors import PageError
from ui.webmonetization.monetize import BudgetExceeded
from ui.webmonetization.protocols import (
    ConnectionGate,
    ConnectionListener,
    Fields,
    StreamListener,
    StreamProxy,
)
from wallet.budgets import Asset
from wallet.errors import WalletError
from wallet.net.ildcp import fetch_account_config
from wallet.net.link import Link
from wallet.net.router import Router
from wallet.net.stream_api import IlpConnection, IlpStream
from wallet.net.stream_client import open_connection
from wallet.stream import ConnectionConfig

CLOSE_TIMEOUT = 5.0


def _rate(value: Any) -> float | None:
    return None if value is None else float(value)


class StreamAdapter:
    """A ``StreamProxy`` over ``wallet.net.stream_api.IlpStream``."""

    def __init__(self, stream: IlpStream, gate: ConnectionGate) -> None:
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


class ConnectionAdapter:
    """A ``ConnectionProxy`` over ``wallet.net.stream_api.IlpConnection``; owns the link."""

    def __init__(self, api: IlpConnection, link: Link, gate: ConnectionGate) -> None:
        self._api = api
        self._link = link
        self._gate = gate
        self._streams: dict[int, StreamAdapter] = {}
        self._closer: asyncio.Future[None] | None = None

    def _wrap(self, stream: IlpStream) -> StreamAdapter:
        adapter = self._streams.get(stream.id)
        if adapter is None:
            adapter = self._streams[stream.id] = StreamAdapter(stream, self._gate)
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
        self._api.on("close", self._close_link_soon)

    def _close_link_soon(self) -> None:
        self._closer = asyncio.ensure_future(self._link.close())

    def create_stream(self) -> StreamProxy:
        return self._wrap(self._api.create_stream())

    async def close(self) -> None:
        self._api.close()
        try:
            await asyncio.wait_for(asyncio.shield(self._api.closed), CLOSE_TIMEOUT)
        except TimeoutError:
            self._api.destroy()
        await self._link.close()


class StreamConnectionFactory:
    """The real ``ConnectionFactory``."""

    def __init__(self, config: ConnectionConfig | None = None) -> None:
        # defaults for every connection (window, expiry, slippage...); secret and assets
        # are filled in per connection
        self._template = config

    async def open(
        self,
        destination_account: str,
        shared_secret: bytes,
        link: Link,
        gate: ConnectionGate,
    ) -> ConnectionAdapter:
        try:
            account = await fetch_account_config(link, uplink="the Web Monetization handler")
            base = self._template or ConnectionConfig(shared_secret, account.asset_code, 0)
            config = replace(
                base,
                shared_secret=shared_secret,
                asset_code=account.asset_code,
                asset_scale=account.asset_scale,
                source_account=account.client_address,
                destination_account=destination_account,
            )
            router = Router(link, own_address=account.client_address)
            api, _driver = open_connection(link, config, router=router, budget=gate)
            gate.bind_asset(
                Asset(account.asset_code, account.asset_scale), api.source_account or ""
            )
            gate.set_waker(api.wake)
            await api.connected
            if api.destination_asset_code and api.destination_asset_scale is not None:
                gate.set_destination_asset(
                    Asset(api.destination_asset_code, api.destination_asset_scale)
                )
        except WalletError as e:
            await link.close()
            raise PageError("Error", f"could not connect: {e}") from e
        except BaseException:
            await link.close()
            raise
        return ConnectionAdapter(api, link, gate)


def _call(method: Any, *args: Any) -> None:
    try:
        method(*args)
    except WalletError as e:
        raise PageError("InvalidStateError", str(e)) from e
    except ValueError as e:
        raise PageError("RangeError", str(e)) from e


async def _bounded(waiter: Any, timeout: float | None, capped: asyncio.Future[None] | None) -> None:
    """Await ``waiter`` (a coroutine), failing on ``timeout`` or when ``capped`` resolves."""
    task = asyncio.ensure_future(waiter)
    watch: set[asyncio.Future[Any]] = {task}
    if capped is not None:
        watch.add(capped)
    done, _ = await asyncio.wait(watch, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        error = task.exception()
        if isinstance(error, WalletError):
            raise PageError("Error", str(error)) from error
        task.result()
        return
    task.cancel()
    if capped is not None and capped in done:
        raise BudgetExceeded()
    raise PageError("TimeoutError", "the amount was not reached in time")
