"""The high-level STREAM API: :class:`IlpConnection` and :class:`IlpStream`, as the spec names them.

These mirror Web Monetization draft 4's ``IlpConnection`` / ``IlpStream`` one to one (fields,
events, methods), so the browser proxies them to pages field for field. Amounts are ``int``
here; the page sees them as strings.

Events are delivered to listeners registered with ``on(name, callback)``:

* connection: ``stream`` (an :class:`IlpStream` the peer opened), ``close``, ``error``
  (a :class:`~wallet.stream.StreamError`)
* stream: ``data`` (bytes), ``money`` (amount received), ``outgoing_money`` (amount sent,
  fulfilled), ``close``, ``error``, and ``receipt`` (RFC 39 bytes, Trickle's addition)

``send_total(n)`` / ``receive_total(n)`` raise the stream's limit to ``n`` and resolve when the
total reaches it; they fail with the error that closed the stream or connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from wallet.errors import WalletError
from wallet.stream import (
    Connected,
    Connection,
    ConnectionClosed,
    ConnectionFailed,
    DataReceived,
    Event,
    MoneyReceived,
    MoneySent,
    ReceiptReceived,
    Stream,
    StreamClosed,
    StreamError,
    StreamOpened,
)

__all__ = ["CloseCause", "ConnectionClosedError", "IlpConnection", "IlpStream", "StreamClosedError"]

log = logging.getLogger(__name__)
Listener = Callable[..., None]


@dataclass(frozen=True, slots=True)
class CloseCause:
    """Why a stream or connection closed: the RFC 29 §5.4 code, the message, and whether the
    peer closed it (``remote``) or we did."""

    code: int
    message: str
    remote: bool


class StreamClosedError(WalletError):
    """The stream closed before the requested total was reached."""


class ConnectionClosedError(WalletError):
    """The connection closed (or failed) before the operation completed."""


class _Emitter:
    __slots__ = ("_listeners",)

    def __init__(self) -> None:
        self._listeners: dict[str, list[Listener]] = {}

    def on(self, event: str, callback: Listener) -> None:
        self._listeners.setdefault(event, []).append(callback)

    def off(self, event: str, callback: Listener) -> None:
        listeners = self._listeners.get(event, [])
        if callback in listeners:
            listeners.remove(callback)

    def emit(self, event: str, *args: Any) -> None:
        for callback in list(self._listeners.get(event, ())):
            try:
                callback(*args)
            except Exception:  # one listener's bug must not stop the others or the pump
                log.exception("listener for %r failed", event)


class IlpStream(_Emitter):
    """One stream of a connection: money and data both ways."""

    __slots__ = ("_closed_error", "_conn", "_core", "_waiters", "close_cause")

    def __init__(self, conn: IlpConnection, core: Stream) -> None:
        super().__init__()
        self._conn = conn
        self._core = core
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future[None]]] = []
        self._closed_error: WalletError | None = None
        self.close_cause: CloseCause | None = None  # set when the stream closes

    # fields
    @property
    def id(self) -> int:
        return self._core.id

    @property
    def receive_max(self) -> int:
        return self._core.receive_max

    @property
    def send_max(self) -> int:
        return self._core.send_max

    @property
    def total_received(self) -> int:
        return self._core.total_received

    @property
    def total_sent(self) -> int:
        return self._core.total_sent

    @property
    def receipt(self) -> bytes | None:
        return self._core.receipt

    @property
    def sending_data(self) -> bool:
        """Data of ours not yet acknowledged by the peer (queued or in flight)."""
        return self._core.data_pending or self._core.data_in_flight > 0

    @property
    def in_flight(self) -> int:
        """Our units reserved by packets in flight on this stream."""
        return self._core.in_flight

    @property
    def remote_receive_max(self) -> int | None:
        """The peer's receive limit for this stream (its units), once it told us."""
        return self._core.remote_receive_max if self._core.remote_limit_known else None

    @property
    def remote_total_received(self) -> int:
        """What the peer says it received on this stream (its units; StreamMaxMoney)."""
        return self._core.remote_total_received

    # methods
    def is_open(self) -> bool:
        return self._core.is_open

    def set_receive_max(self, amount: int) -> None:
        self._core.set_receive_max(amount)
        self._conn.wake()

    def set_send_max(self, amount: int) -> None:
        self._core.set_send_max(amount)
        self._conn.wake()

    def send(self, data: bytes) -> None:
        self._core.send(bytes(data))
        self._conn.wake()

    def close(self) -> None:
        self._core.close()
        self._conn.wake()

    async def send_total(self, amount: int) -> None:
        """Send until ``total_sent >= amount``.

        Raises:
            StreamClosedError, ConnectionClosedError: closed before that.
        """
        if amount > self._core.send_max:
            self.set_send_max(amount)
        await self._until(lambda: self._core.total_sent >= amount)

    async def receive_total(self, amount: int) -> None:
        """Accept money until ``total_received >= amount``.

        Raises:
            StreamClosedError, ConnectionClosedError: closed before that.
        """
        self.set_receive_max(amount)
        await self._until(lambda: self._core.total_received >= amount)

    async def _until(self, condition: Callable[[], bool]) -> None:
        if condition():
            return
        if self._closed_error is not None:
            raise self._closed_error
        future = asyncio.get_running_loop().create_future()
        self._waiters.append((condition, future))
        await future

    def _check_waiters(self) -> None:
        for item in list(self._waiters):
            condition, future = item
            if future.done():
                self._waiters.remove(item)
            elif condition():
                future.set_result(None)
                self._waiters.remove(item)

    def _fail_waiters(self, error: WalletError) -> None:
        self._closed_error = error
        for _, future in self._waiters:
            if not future.done():
                future.set_exception(error)
        self._waiters.clear()


class IlpConnection(_Emitter):
    """A live STREAM connection (either role), pumped by a driver."""

    def __init__(self, core: Connection, wake: Callable[[], None]) -> None:
        super().__init__()
        self._core = core
        self.wake = wake
        self._streams: dict[int, IlpStream] = {}
        self.connected: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.error: StreamError | None = None
        self.close_cause: CloseCause | None = None  # set when the connection closes

    # fields (the spec's names, snake_case)
    @property
    def connection_tag(self) -> str | None:
        return self._core.connection_tag

    @property
    def last_packet_exchange_rate(self) -> Fraction | None:
        return self._core.last_packet_exchange_rate

    @property
    def minimum_acceptable_exchange_rate(self) -> Fraction | None:
        return self._core.minimum_acceptable_exchange_rate

    @property
    def total_delivered(self) -> int:
        return self._core.total_delivered

    @property
    def total_sent(self) -> int:
        return self._core.total_sent

    @property
    def total_received(self) -> int:
        return self._core.total_received

    @property
    def source_account(self) -> str | None:
        return self._core.source_account

    @property
    def destination_account(self) -> str | None:
        return self._core.destination_account

    @property
    def source_asset_code(self) -> str:
        return self._core.source_asset_code

    @property
    def source_asset_scale(self) -> int:
        return self._core.source_asset_scale

    @property
    def destination_asset_code(self) -> str | None:
        return self._core.destination_asset_code

    @property
    def destination_asset_scale(self) -> int | None:
        return self._core.destination_asset_scale

    @property
    def is_open(self) -> bool:
        return self._core.is_open

    @property
    def core(self) -> Connection:
        """The sans-IO connection (packets in flight, window, ...), read-only by convention."""
        return self._core

    @property
    def streams(self) -> dict[int, IlpStream]:
        return dict(self._streams)

    # methods
    def create_stream(self) -> IlpStream:
        stream = self._wrap(self._core.create_stream())
        self.wake()
        return stream

    def close(self) -> None:
        """Graceful close; await :attr:`closed` to wait for it."""
        self._core.close()
        self.wake()

    def destroy(self) -> None:
        self._core.destroy()
        self.wake()

    def _wrap(self, core: Stream) -> IlpStream:
        stream = self._streams.get(core.id)
        if stream is None:
            stream = self._streams[core.id] = IlpStream(self, core)
        return stream

    def _stream_for(self, stream_id: int) -> IlpStream | None:
        stream = self._streams.get(stream_id)
        if stream is None:
            core = self._core.stream(stream_id)
            if core is not None:
                stream = self._wrap(core)
        return stream

    def dispatch(self, events: list[Event]) -> None:
        """Turn the sans-IO events into listener calls and resolved futures."""
        touched: set[IlpStream] = set()
        for event in events:
            if isinstance(event, MoneySent):
                stream = self._stream_for(event.stream_id)
                if stream is not None:
                    stream.emit("outgoing_money", event.amount)
                    touched.add(stream)
            elif isinstance(event, MoneyReceived):
                stream = self._stream_for(event.stream_id)
                if stream is not None:
                    stream.emit("money", event.amount)
                    touched.add(stream)
            elif isinstance(event, DataReceived):
                stream = self._stream_for(event.stream_id)
                if stream is not None:
                    stream.emit("data", event.data)
            elif isinstance(event, StreamOpened):
                core = self._core.stream(event.stream_id)
                if core is not None:
                    self.emit("stream", self._wrap(core))
            elif isinstance(event, ReceiptReceived):
                stream = self._stream_for(event.stream_id)
                if stream is not None:
                    stream.emit("receipt", event.receipt)
            elif isinstance(event, StreamClosed):
                self._on_stream_closed(event)
            elif isinstance(event, Connected):
                if not self.connected.done():
                    self.connected.set_result(None)
            elif isinstance(event, ConnectionFailed):
                self.error = event.error
                self.emit("error", event.error)
            elif isinstance(event, ConnectionClosed):
                self._on_closed(event)
        for stream in touched:
            stream._check_waiters()

    def _on_stream_closed(self, event: StreamClosed) -> None:
        stream = self._streams.get(event.stream_id)
        if stream is None:
            return
        stream.close_cause = CloseCause(event.error_code, event.message, event.remote)
        stream._check_waiters()
        if event.error_code not in (0, 1):
            stream.emit("error", StreamClosedError(event.message or f"code {event.error_code}"))
        stream._fail_waiters(StreamClosedError(f"stream {event.stream_id} closed"))
        stream.emit("close")

    def _on_closed(self, event: ConnectionClosed) -> None:
        self.close_cause = CloseCause(event.error_code, event.message, event.remote)
        error: WalletError = self.error or ConnectionClosedError(
            event.message or "connection closed"
        )
        for stream in self._streams.values():
            stream._check_waiters()
            stream._fail_waiters(error)
        if not self.connected.done():
            self.connected.set_exception(error)
            self.connected.exception()  # mark retrieved: connect() reports it
        if not self.closed.done():
            self.closed.set_result(None)
        self.emit("close")
