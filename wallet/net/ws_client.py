"""A WebSocket client connection for binary sub-protocols (BTP): an asyncio protocol.

Owns one TCP (or TLS) connection from the opening handshake to the closing one, driving the
sans-IO :mod:`wallet.net.ws_codec`: binary messages out and in, pings answered, a heartbeat,
the close handshake. It exists because a general client (aiohttp) hands each message through a
queue to a reader task, one more loop turn per packet than a callback, and reads into a fresh
256 KiB buffer every time; at one packet in flight that is a tenth of the uplink's CPU.

Invariants:

* binary messages go to the listener (:meth:`WebSocket.listen`) in the order they arrive,
  from the read callback itself; until there is one they wait, in order, for
  :meth:`WebSocket.receive` or the listener;
* text messages are dropped: BTP is binary (RFC 23: "BTP packets are sent as binary
  WebSocket messages");
* a ping is answered with a pong carrying its payload [RFC 6455 5.5.2]; with a ``heartbeat``,
  a connection silent that long is pinged, and one still silent half as long again is dropped;
* a protocol error from the server fails the connection: a Close with the error's code, then
  the socket is closed [7.1.7];
* once :meth:`WebSocket.wait_closed` returns, the socket is gone and :meth:`WebSocket.send`
  raises; the errors are the HTTP client's (:mod:`wallet.net.http_client`), which the uplinks
  already name for users, and quote no URL.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import ssl
from collections.abc import Callable
from typing import Final

from wallet.net import ws_codec
from wallet.net.http_client import HttpDisconnectedError, open_connection, tls_context
from wallet.net.http_codec import HttpProtocolError, parse_origin, parse_response_head
from wallet.net.ws_codec import (
    BINARY,
    CLOSE,
    NORMAL_CLOSURE,
    PING,
    PONG,
    FrameReader,
    WebSocketProtocolError,
    client_frame,
    close_payload,
    parse_close,
)

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_MAX_MESSAGE", "READ_SIZE", "WebSocket", "connect"]

READ_SIZE: Final = 64 * 1024  # the receive buffer each socket read fills
DEFAULT_MAX_MESSAGE: Final = 1024 * 1024
_MAX_HEAD: Final = 16 * 1024


class WebSocket(asyncio.BufferedProtocol):
    """One client WebSocket connection; made by :func:`connect`."""

    def __init__(self, key: bytes, max_message: int, heartbeat: float | None) -> None:
        self._loop = asyncio.get_running_loop()
        self._key = key
        self._buffer = bytearray(READ_SIZE)
        self._view = memoryview(self._buffer)
        self._head = b""  # of the handshake answer, until it is whole
        self._reader: FrameReader | None = None  # once the handshake is done
        self._max_message = max_message
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = self._loop.create_future()
        self._closed: asyncio.Future[None] = self._loop.create_future()
        self._close_sent = False
        self.close_code: int | None = None  # the server's, if it sent a Close
        self.close_reason = ""
        self._listener: Callable[[bytes], None] | None = None
        self._inbox: collections.deque[bytes] = collections.deque()
        self._inbox_waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._paused = False
        self._heartbeat = heartbeat
        self._heard_at = self._loop.time()  # when the server last sent anything
        self._pinged_at: float | None = None
        self._timer: asyncio.TimerHandle | None = None

    def __repr__(self) -> str:
        return f"WebSocket(open={self.open})"

    @property
    def open(self) -> bool:
        return self._reader is not None and not self._close_sent and not self._closed.done()

    # -- asyncio.BufferedProtocol --------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._view

    def buffer_updated(self, nbytes: int) -> None:
        self._heard_at = self._loop.time()
        data = bytes(self._view[:nbytes])
        reader = self._reader
        if reader is None:
            data = self._read_handshake(data)
            reader = self._reader
            if reader is None or not data:
                return
        for opcode, payload in reader.feed(data):
            if opcode == BINARY:
                self._deliver(payload)
            elif opcode == PING:
                self._write(client_frame(PONG, payload))
            elif opcode == CLOSE:
                self._on_close(payload)
                return
        if reader.error is not None:
            log.debug("failing the WebSocket connection: %s", reader.error)
            self._fail(reader.error.code)

    def eof_received(self) -> bool:
        return False  # close the transport: the server is gone

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if not self.opened.done():
            self.opened.set_exception(
                HttpDisconnectedError("the connection closed during the WebSocket handshake")
            )
        if not self._closed.done():
            self._closed.set_result(None)
        for waiter in (self._inbox_waiter, self._drain_waiter):
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        waiter, self._drain_waiter = self._drain_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- the API ---------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Send ``data`` as one binary message.

        Raises:
            HttpDisconnectedError: the connection is closing or closed.
        """
        if not self.open:
            raise HttpDisconnectedError("the WebSocket is closed")
        self._write(client_frame(BINARY, data))

    @property
    def writing_paused(self) -> bool:
        """Whether the socket's send buffer is full: :meth:`drain` before sending more."""
        return self._paused

    async def drain(self) -> None:
        if self._paused and not self._closed.done():
            if self._drain_waiter is None:
                self._drain_waiter = self._loop.create_future()
            await asyncio.shield(self._drain_waiter)

    def listen(self, listener: Callable[[bytes], None]) -> None:
        """Hand every binary message to ``listener`` from now on, first those waiting."""
        self._listener = listener
        while self._inbox:
            listener(self._inbox.popleft())

    async def receive(self) -> bytes:
        """The next binary message, while there is no listener.

        Raises:
            HttpDisconnectedError: the connection closed first.
        """
        while not self._inbox:
            if self._closed.done() or self._close_sent:
                raise HttpDisconnectedError("the WebSocket closed")
            self._inbox_waiter = self._loop.create_future()
            await self._inbox_waiter
        return self._inbox.popleft()

    async def wait_closed(self) -> None:
        """Return once the connection is closed."""
        await asyncio.shield(self._closed)

    async def close(self, code: int = NORMAL_CLOSURE, timeout: float = 1.0) -> None:
        """[7.1.2] Start the closing handshake; wait up to ``timeout`` seconds for the server
        to finish it, then close the socket."""
        if self._closed.done():
            return
        self._send_close(code)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await asyncio.shield(self._closed)
        self.abort()

    def abort(self) -> None:
        """Drop the connection at once."""
        if self.transport is not None:
            self.transport.abort()

    # -- internals -------------------------------------------------------------------------

    def _read_handshake(self, data: bytes) -> bytes:
        """Take the server's answer to the handshake; the bytes after it (frames already)."""
        data = self._head + data
        end = data.find(b"\r\n\r\n")
        if end < 0:
            if len(data) > _MAX_HEAD:
                self._fail_handshake(HttpProtocolError("the handshake answer is too large"))
            self._head = data
            return b""
        self._head = b""
        try:
            status, headers = parse_response_head(data[:end])
            ws_codec.check_handshake(status, headers, self._key)
        except HttpProtocolError as e:
            self._fail_handshake(e)
            return b""
        self._reader = FrameReader(self._max_message)
        self.opened.set_result(None)
        self._arm_heartbeat(self._heard_at)
        return data[end + 4 :]

    def _fail_handshake(self, error: HttpProtocolError) -> None:
        if not self.opened.done():
            self.opened.set_exception(error)
        self.abort()

    def _deliver(self, payload: bytes) -> None:
        listener = self._listener
        if listener is not None:
            listener(payload)
            return
        self._inbox.append(payload)
        waiter = self._inbox_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _write(self, frame: bytes) -> None:
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(frame)

    def _send_close(self, code: int) -> None:
        if not self._close_sent:
            self._close_sent = True
            self._write(client_frame(CLOSE, close_payload(code)))
            waiter = self._inbox_waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    def _on_close(self, payload: bytes) -> None:
        """[5.5.1] "If an endpoint receives a Close frame and did not previously send a Close
        frame, the endpoint MUST send a Close frame in response" (echoing its status code);
        then the client may close the connection."""
        try:
            self.close_code, self.close_reason = parse_close(payload)
        except WebSocketProtocolError as e:
            self._fail(e.code)
            return
        self._send_close(self.close_code or NORMAL_CLOSURE)
        if self.transport is not None:
            self.transport.close()

    def _fail(self, code: int) -> None:
        """[7.1.7] _Fail the WebSocket Connection_: a Close with ``code``, then close."""
        self._send_close(code)
        if self.transport is not None:
            self.transport.close()

    def _arm_heartbeat(self, since: float) -> None:
        if self._heartbeat is not None:
            self._timer = self._loop.call_at(since + self._heartbeat, self._beat)

    def _beat(self) -> None:
        """Ping a connection silent for ``heartbeat``; drop one still silent after the ping.

        One timer per connection, moved only when it fires: a busy connection costs nothing.
        """
        assert self._heartbeat is not None
        now = self._loop.time()
        pinged = self._pinged_at
        if pinged is not None and self._heard_at < pinged:
            log.debug("no pong within %.1f s: dropping the WebSocket", now - pinged)
            self.abort()
            return
        self._pinged_at = None
        if now < self._heard_at + self._heartbeat:
            self._arm_heartbeat(self._heard_at)
            return
        self._pinged_at = now
        self._write(client_frame(PING, b""))
        self._timer = self._loop.call_at(now + self._heartbeat / 2, self._beat)


async def connect(
    url: str,
    *,
    ssl_context: ssl.SSLContext | None = None,
    heartbeat: float | None = None,
    max_message: int = DEFAULT_MAX_MESSAGE,
) -> WebSocket:
    """Open a WebSocket to ``url`` (``ws://`` or ``wss://``, no credentials in it).

    Bound it with a timeout: the handshake has none of its own.

    Raises:
        HttpConnectError: no connection (refused, unknown host, unreachable).
        HttpTlsError: the TLS handshake failed.
        ws_codec.HandshakeRefusedError: the server answered with another status than 101;
            its ``status`` says which (401 and 403: we are not let in).
        HttpProtocolError: the server's answer is not a WebSocket upgrade.
        HttpDisconnectedError: the server closed the connection during the handshake.
    """
    origin = parse_origin(url, ("ws", "wss"))
    key = ws_codec.new_key()
    request = ws_codec.handshake_request(origin.authority, origin.target, key)
    websocket = await open_connection(
        lambda: WebSocket(key, max_message, heartbeat),
        origin,
        tls_context(origin, ssl_context),
    )
    try:
        assert websocket.transport is not None
        websocket.transport.write(request)
        await websocket.opened
    except BaseException:
        websocket.abort()
        raise
    return websocket
