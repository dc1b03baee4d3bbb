"""A WebSocket client connection for binary sub-protocols (BTP), on aiohttp's client.

aiohttp owns RFC 6455 (handshake, framing and masking in C, pings answered, the close
handshake, a heartbeat, backpressure on send); this module keeps Trickle's policy: one
connection per :class:`WebSocket` with its own TLS context, binary messages handed to one
listener in arrival order, text dropped (RFC 23: "BTP packets are sent as binary WebSocket
messages"), and every failure named in the :class:`~wallet.net.errors.TransportError` tree
(WebSocket's own under :class:`~wallet.net.errors.WebSocketError`) with no URL in its text.

Invariants:

* one reader task per connection takes every message as it arrives (so pings are answered and
  a Close is seen whether or not anyone listens); binary messages go to the listener
  (:meth:`WebSocket.listen`) in the order they arrive, and until there is one they wait, in
  order, for :meth:`WebSocket.receive` or the listener;
* with a ``heartbeat``, a connection silent that long is pinged, and one whose pong has not
  come half as long again is dropped (aiohttp's heartbeat);
* once :meth:`WebSocket.wait_closed` returns, the connection is gone and :meth:`WebSocket.send`
  raises :class:`~wallet.net.errors.DisconnectedError`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import ssl
from collections.abc import Callable
from typing import Final

import aiohttp

from wallet.net.errors import (
    ConnectError,
    DisconnectedError,
    TlsError,
    TransportError,
    WebSocketHandshakeError,
    WebSocketProtocolError,
)
from wallet.net.origin import context_for, parse_origin

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_MAX_MESSAGE", "WebSocket", "connect"]

DEFAULT_MAX_MESSAGE: Final = 1024 * 1024
CLOSE_TIMEOUT: Final = 1.0  # seconds to wait for the server's Close after ours
_ENDS: Final = frozenset(
    {aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED}
)


class WebSocket:
    """One open WebSocket connection. Made by :func:`connect`."""

    def __init__(self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse):
        self._session = session
        self._ws = ws
        self._listener: Callable[[bytes], None] | None = None
        self._inbox: collections.deque[bytes] = collections.deque()
        self._arrived = asyncio.Event()
        self._closed = asyncio.get_running_loop().create_future()
        self._reader: asyncio.Task[None] | None = asyncio.create_task(self._read())

    def __repr__(self) -> str:
        return f"WebSocket(open={self.open})"

    @property
    def open(self) -> bool:
        return not self._ws.closed and not self._closed.done()

    @property
    def close_code(self) -> int | None:
        """The code the connection closed with (the server's, if it sent a Close)."""
        return self._ws.close_code

    async def send(self, data: bytes) -> None:
        """Send ``data`` as one binary message; waits while the socket's buffer is full.

        Raises:
            DisconnectedError: the connection is closing or closed.
        """
        if not self.open:
            raise DisconnectedError("the WebSocket is closed")
        try:
            await self._ws.send_bytes(data)
        except (ConnectionError, aiohttp.ClientError) as e:
            raise DisconnectedError(type(e).__name__) from e

    async def receive(self) -> bytes:
        """The next binary message, while there is no listener.

        Raises:
            DisconnectedError: the connection closed first.
        """
        while not self._inbox:
            if self._closed.done():
                raise DisconnectedError("the WebSocket closed")
            self._arrived.clear()
            await self._arrived.wait()
        return self._inbox.popleft()

    def listen(self, listener: Callable[[bytes], None]) -> None:
        """Hand every binary message to ``listener`` from now on, first those waiting."""
        self._listener = listener
        while self._inbox:
            listener(self._inbox.popleft())

    async def wait_closed(self) -> None:
        """Return once the connection is closed."""
        await asyncio.shield(self._closed)

    async def close(self) -> None:
        """The closing handshake [RFC 6455 7.1.2]: our Close, the server's within
        ``CLOSE_TIMEOUT`` seconds, then the socket and the session go."""
        try:
            with contextlib.suppress(TransportError, aiohttp.ClientError, ConnectionError):
                await self._ws.close()
        finally:
            reader, self._reader = self._reader, None
            if reader is not None and reader is not asyncio.current_task():
                reader.cancel()
            await self._session.close()
            if not self._closed.done():
                self._closed.set_result(None)

    async def _read(self) -> None:
        ws = self._ws
        binary = aiohttp.WSMsgType.BINARY
        try:
            while True:
                message = await ws.receive()
                if message.type is binary:
                    listener = self._listener
                    if listener is not None:
                        listener(message.data)
                    else:
                        self._inbox.append(message.data)
                        self._arrived.set()
                elif message.type in _ENDS or message.type is aiohttp.WSMsgType.ERROR:
                    if message.type is aiohttp.WSMsgType.ERROR:
                        log.debug("the WebSocket failed: %s", type(message.data).__name__)
                    return
                # Text is dropped (BTP is binary); aiohttp answers pings itself.
        finally:
            if not self._closed.done():
                self._closed.set_result(None)
            self._arrived.set()


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
        ValueError: not a ``ws://`` or ``wss://`` URL with a host.
        ConnectError: no connection (refused, unknown host, unreachable).
        TlsError: the TLS handshake failed.
        WebSocketHandshakeError: the server did not upgrade the connection; its ``status``
            says what it answered (401 and 403: we are not let in).
        WebSocketProtocolError: the server's answer is not valid HTTP.
        DisconnectedError: the server closed the connection during the handshake.
    """
    origin = parse_origin(url, ("ws", "wss"))
    context = context_for(origin, ssl_context)
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=context if context is not None else False),
        cookie_jar=aiohttp.DummyCookieJar(),
    )
    try:
        ws = await session.ws_connect(
            url,
            heartbeat=heartbeat,
            max_msg_size=max_message,
            autoping=True,
            timeout=aiohttp.ClientWSTimeout(ws_close=CLOSE_TIMEOUT),
        )
    except (aiohttp.ClientError, OSError) as e:
        await session.close()
        raise _named(e) from e
    except BaseException:
        await session.close()
        raise
    return WebSocket(session, ws)


def _named(error: BaseException) -> BaseException:
    """The :class:`TransportError` for an aiohttp failure to connect (its type name only: its
    text may quote the URL)."""
    if isinstance(error, aiohttp.WSServerHandshakeError):
        return WebSocketHandshakeError(error.status)
    if isinstance(error, aiohttp.ClientResponseError):
        return WebSocketProtocolError("the handshake answer is not valid HTTP")
    if isinstance(error, aiohttp.ClientSSLError | ssl.SSLError):
        return TlsError(type(error).__name__)
    if isinstance(error, aiohttp.ClientConnectorError):
        return ConnectError(type(error).__name__)
    return DisconnectedError(type(error).__name__)
