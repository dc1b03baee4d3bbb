"""A small HTTP/1.1 client for one origin: the hot send path of the ILP-over-HTTP uplink.

Owns a keep-alive pool of connections to one origin (``http`` or ``https``) and one kind of
request, a ``POST`` with a body, answered with the whole response in memory. It exists because
a general client (aiohttp) costs more per request than the rest of a packet's round trip; this
one is an :class:`asyncio.BufferedProtocol` per connection driving the sans-IO request heads
and response parser of :mod:`wallet.net.http_codec`.

Invariants:

* one request at a time per connection, no pipelining (RFC 9112 §9.3.2 allows it, but a slow
  reply would hold up every later one on the connection);
* a connection is reused only after a complete response without ``Connection: close``
  (RFC 9112 §9.6: "A client that receives a "close" connection option MUST cease sending
  requests on that connection"), and only while it has been idle less than
  ``keepalive_timeout``, which must stay below the server's own (Node: 5 s);
* a request is sent again — once, on a fresh connection — only when it went out on a *reused*
  connection that then closed before a single byte of response came back: the server closed
  the idle connection as we wrote, so nothing was processed. (RFC 9110 §9.2.2 allows a client
  to retry a ``POST`` on its own only when it knows the request is idempotent, or can tell it
  was never applied; a repeated Prepare is the same packet to ILP — ilp-connector even merges
  duplicates — and the retry is still kept to the one case where nothing was answered on a
  connection the server may have closed before reading.)
* the caller's deadline is the only timeout; a request cut off by it, cancelled, or answered
  in a way we cannot frame closes its connection, which is never reused;
* request heads carry credentials (``Authorization``): :class:`RequestHead` never shows its
  bytes, and no error text quotes a header or a URL.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ssl
from collections.abc import Callable, Mapping
from typing import Final, TypeVar

from wallet.net.http_codec import (
    DEFAULT_MAX_BODY,
    HttpClientError,
    HttpProtocolError,
    Origin,
    RequestHead,
    Response,
    ResponseParser,
    parse_origin,
    request_head,
)
from wallet.net.linger import LoadMeter

__all__ = [
    "HttpClient",
    "HttpClientError",
    "HttpConnectError",
    "HttpDisconnectedError",
    "HttpProtocolError",
    "HttpTlsError",
    "RequestHead",
    "Response",
]

_RECEIVE_BUFFER: Final = 64 * 1024


class HttpConnectError(HttpClientError):
    """No connection could be opened (refused, DNS failure, network unreachable)."""


class HttpTlsError(HttpClientError):
    """The TLS handshake failed (untrusted certificate, wrong host name, protocol mismatch)."""


class HttpDisconnectedError(HttpClientError):
    """The connection closed or broke before the whole response arrived."""


class _StaleConnectionError(HttpDisconnectedError):
    """A reused connection closed before any response byte: the request was not processed."""


def tls_context(origin: Origin, context: ssl.SSLContext | None) -> ssl.SSLContext | None:
    """The TLS context to connect to ``origin`` with: ``context``, or the system's trust store;
    ``None`` for a plain connection."""
    if not origin.tls:
        return None
    return context or ssl.create_default_context()


_P = TypeVar("_P", bound=asyncio.BaseProtocol)


async def open_connection(
    factory: Callable[[], _P], origin: Origin, context: ssl.SSLContext | None
) -> _P:
    """A connection to ``origin`` (TLS with ``context`` if it is not ``None``), its protocol
    made by ``factory``.

    Raises:
        HttpTlsError: the TLS handshake failed.
        HttpConnectError: no connection (refused, unknown host, unreachable).
    """
    try:
        _, protocol = await asyncio.get_running_loop().create_connection(
            factory,
            origin.host,
            origin.port,
            ssl=context,
            server_hostname=origin.host if context is not None else None,
        )
    except ssl.SSLError as e:
        raise HttpTlsError(type(e).__name__) from e
    except OSError as e:
        raise HttpConnectError(type(e).__name__) from e
    return protocol


# -- connections and the pool ------------------------------------------------------------


class _Connection(asyncio.BufferedProtocol):
    """One connection to the origin, carrying one request at a time.

    A buffered protocol: the transport reads into the client's one receive buffer (shared by
    every connection, as each read is handed over and copied out before the next starts).
    A plain :class:`asyncio.Protocol` gets each read as a fresh ``bytes`` that the transport
    allocates at its full read size (256 KiB) and shrinks again, ~10 µs per response.
    """

    def __init__(self, client: HttpClient) -> None:
        self._client = client
        self._loop = client._loop
        self._buffer = client._buffer
        self.transport: asyncio.Transport | None = None
        self._parser: ResponseParser | None = None
        self._waiter: asyncio.Future[Response] | None = None
        self._deadline: float | None = None  # of the request in flight
        # One deadline timer per connection, moved lazily (see _check_deadline).
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self.reused = False
        self.idle_since = 0.0
        self.lost = False

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.data_received(bytes(self._buffer[:nbytes]))

    def data_received(self, data: bytes) -> None:
        parser = self._parser
        if parser is None:
            # Bytes while idle (e.g. a server's "408 Request Timeout" before it closes): the
            # connection is no longer in a state we know.
            self.abort()
            return
        try:
            response = parser.feed(data)
        except HttpProtocolError as e:
            self._fail(e)
            return
        if response is not None:
            self._finish(response, parser.keep_alive and not parser.trailing)

    def eof_received(self) -> bool:
        parser = self._parser
        if parser is not None:
            try:
                response = parser.feed_eof()
            except HttpProtocolError as e:
                self._fail(HttpDisconnectedError(str(e)))
                return False
            if response is not None:
                self._finish(response, False)
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._client._forget(self)
        if self._waiter is not None:
            parser = self._parser
            if self.reused and parser is not None and not parser.started:
                error: HttpDisconnectedError = _StaleConnectionError("the idle connection closed")
            else:
                error = HttpDisconnectedError("the connection closed before the response")
            error.__cause__ = exc
            self._fail(error)

    # requests

    def send(self, data: bytes, deadline: float | None) -> asyncio.Future[Response]:
        """Write a whole request; the future of its response."""
        assert self.transport is not None
        waiter = self._loop.create_future()
        self._waiter = waiter
        self._parser = ResponseParser(max_body=self._client.max_body)
        self._deadline = deadline
        if deadline is not None:
            timer = self._timer
            if timer is None or self._timer_at > deadline:
                if timer is not None:
                    timer.cancel()
                self._timer_at = deadline
                self._timer = self._loop.call_at(deadline, self._check_deadline)
        self.transport.write(data)
        return waiter

    def usable(self) -> bool:
        return not self.lost and self.transport is not None and not self.transport.is_closing()

    def cancel(self) -> None:
        """The request was abandoned: drop its response and the connection."""
        self._clear()
        self.abort()

    def abort(self) -> None:
        self.lost = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.transport is not None:
            self.transport.abort()

    def _check_deadline(self) -> None:
        """The timer fired: time out the request in flight if its deadline has come.

        The timer is left running when a response arrives and is moved only when a request
        has an earlier deadline than it; so it may fire for an earlier request, and is then
        set again for the current one. That is one timer per connection and expiry period
        instead of one per request (with ILP expiries of ~30 s, most requests set none).
        """
        self._timer = None
        deadline = self._deadline
        if self._waiter is None or deadline is None:
            return
        if deadline <= self._timer_at:
            self._fail(TimeoutError())
        else:
            self._timer_at = deadline
            self._timer = self._loop.call_at(deadline, self._check_deadline)

    def _clear(self) -> asyncio.Future[Response] | None:
        waiter, self._waiter = self._waiter, None
        self._parser = None
        self._deadline = None
        return waiter

    def _finish(self, response: Response, keep_alive: bool) -> None:
        waiter = self._clear()
        if keep_alive:
            self.reused = True
            self._client._release(self)
        else:
            self.abort()
        if waiter is not None and not waiter.done():
            waiter.set_result(response)

    def _fail(self, error: BaseException) -> None:
        waiter = self._clear()
        self.abort()
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)


class HttpClient:
    """``POST`` requests to one origin over a pool of keep-alive HTTP/1.1 connections.

    Args:
        url: the origin (scheme, host and port are used; the path is the default target).
        ssl_context: for ``https`` (default: the system's trusted certificates).
        max_connections: at most this many connections at once (0: no limit); requests wait
            for a free one.
        keepalive_timeout: seconds an idle connection is kept for reuse.
        max_body: the largest response body taken.
        monotonic: the clock idle time is measured with (default: the event loop's).
    """

    def __init__(
        self,
        url: str,
        *,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int = 0,
        keepalive_timeout: float = 3.0,
        max_body: int = DEFAULT_MAX_BODY,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self._origin = parse_origin(url, ("http", "https"))
        self._loop = asyncio.get_running_loop()
        self._authority = self._origin.authority
        self.path = self._origin.target
        self._ssl = tls_context(self._origin, ssl_context)
        self.max_connections = max_connections
        self.keepalive_timeout = keepalive_timeout
        self.max_body = max_body
        self._monotonic = monotonic or self._loop.time
        self._buffer = memoryview(bytearray(_RECEIVE_BUFFER))
        self._idle: list[_Connection] = []  # most recently used last
        self._connections: set[_Connection] = set()
        self._opening = 0
        self._waiters: collections.deque[asyncio.Future[_Connection | None]] = collections.deque()
        self._sweeper: asyncio.TimerHandle | None = None
        self._closed = False
        self._load = LoadMeter(self._loop)

    def __repr__(self) -> str:
        return f"HttpClient({self._authority!r}, connections={len(self._connections)})"

    @property
    def connections(self) -> int:
        """Open connections (idle and busy)."""
        return len(self._connections)

    @property
    def idle_connections(self) -> int:
        return len(self._idle)

    def head(self, headers: Mapping[str, str], path: str | None = None) -> RequestHead:
        """The head of a ``POST`` to ``path`` (default: the URL's) with ``headers``.

        Raises:
            ValueError: a name or value holds CR, LF or NUL, or the path is not a path.
        """
        return request_head(self._authority, self.path if path is None else path, headers)

    def target(self, url: str) -> str | None:
        """The path to use for ``url`` when it is on this client's origin, else ``None``."""
        try:
            other = parse_origin(url, ("http", "https"))
        except ValueError:
            return None
        ours = self._origin
        if (other.tls, other.host.lower(), other.port) != (ours.tls, ours.host.lower(), ours.port):
            return None
        return other.target

    async def post(self, head: RequestHead, body: bytes, deadline: float | None = None) -> Response:
        """Send ``head`` + ``body``; the response, by ``deadline`` (event-loop time).

        Raises:
            TimeoutError: no complete response by ``deadline``.
            HttpConnectError: no connection could be opened.
            HttpTlsError: the TLS handshake failed.
            HttpDisconnectedError: the connection closed before the whole response (also
                when the client is closed meanwhile).
            HttpProtocolError: the response is not valid HTTP/1.1.
        """
        data = b"".join((head.prefix, str(len(body)).encode(), b"\r\n\r\n", body))
        self._load.started()
        try:
            return await self._post(data, deadline)
        finally:
            self._load.finished()

    async def _post(self, data: bytes, deadline: float | None) -> Response:
        connection = self._reuse()
        if connection is None:
            connection = await self._acquire(deadline, fresh=False)
        waiter = connection.send(data, deadline)
        try:
            return await waiter
        except _StaleConnectionError:
            pass
        except asyncio.CancelledError:
            # The response may still come; this connection can carry nothing else.
            connection.cancel()
            raise
        # Nothing of the request was processed (see the module's invariants): once more, on a
        # new connection.
        connection = await self._acquire(deadline, fresh=True)
        return await self._exchange(connection, data, deadline)

    async def close(self) -> None:
        """Close every connection; requests in flight fail with :class:`HttpDisconnectedError`."""
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for connection in list(self._connections):
            connection.abort()
        self._idle.clear()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(HttpDisconnectedError("the client is closed"))
        # Let the transports run their connection_lost callbacks.
        await asyncio.sleep(0)

    # -- the pool ----------------------------------------------------------------------------

    async def _exchange(
        self, connection: _Connection, data: bytes, deadline: float | None
    ) -> Response:
        waiter = connection.send(data, deadline)
        try:
            return await waiter
        except asyncio.CancelledError:
            # The response may still come; this connection can carry nothing else.
            connection.cancel()
            raise

    def _reuse(self) -> _Connection | None:
        """An idle connection still fit for a request, or ``None``."""
        idle = self._idle
        while idle:
            connection = idle.pop()
            if connection.usable():
                if self._monotonic() - connection.idle_since < self.keepalive_timeout:
                    return connection
                connection.abort()
        return None

    async def _acquire(self, deadline: float | None, *, fresh: bool) -> _Connection:
        if self._closed:
            raise HttpDisconnectedError("the client is closed")
        async with asyncio.timeout_at(deadline):
            while True:
                if not fresh:
                    connection = self._reuse()
                    if connection is not None:
                        return connection
                fresh = False
                busy = len(self._connections) + self._opening
                if not self.max_connections or busy < self.max_connections:
                    return await self._open()
                handed = await self._wait_for_connection()
                if handed is not None:
                    return handed

    async def _wait_for_connection(self) -> _Connection | None:
        """Queue for a connection: one handed over, or ``None`` when one may be opened."""
        waiter: asyncio.Future[_Connection | None] = self._loop.create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                # Handed over just as we gave up: pass it on.
                handed = waiter.result()
                if handed is not None:
                    self._release(handed)
                else:
                    self._wake()
            else:
                waiter.cancel()
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise

    async def _open(self) -> _Connection:
        self._opening += 1
        opened = False
        try:
            connection = await open_connection(lambda: _Connection(self), self._origin, self._ssl)
            opened = True
        finally:
            self._opening -= 1
            if not opened:
                self._wake()  # the slot is free again
        if self._closed:
            connection.abort()
            raise HttpDisconnectedError("the client is closed")
        self._connections.add(connection)
        return connection

    def _release(self, connection: _Connection) -> None:
        """A connection finished its response and may carry another request."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        connection.idle_since = self._monotonic()
        self._idle.append(connection)
        if self._sweeper is None:
            self._sweeper = self._loop.call_later(self.keepalive_timeout, self._sweep)

    def _forget(self, connection: _Connection) -> None:
        """A connection closed (or failed to open): a waiting request may open another."""
        self._connections.discard(connection)
        with contextlib.suppress(ValueError):
            self._idle.remove(connection)
        self._wake()

    def _wake(self) -> None:
        """Let the first request waiting for a connection open one."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _sweep(self) -> None:
        """Close connections idle for ``keepalive_timeout``, so the server never has to."""
        self._sweeper = None
        now = self._monotonic()
        keep = []
        for connection in self._idle:
            if now - connection.idle_since >= self.keepalive_timeout:
                connection.abort()
            else:
                keep.append(connection)
        self._idle = keep
        if keep:
            next_due = min(c.idle_since for c in keep) + self.keepalive_timeout - now
            self._sweeper = self._loop.call_later(max(next_due, 0.0), self._sweep)
