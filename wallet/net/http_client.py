"""The HTTP/1.1 connection pool for one origin, under every HTTP request Trickle makes.

Owns a keep-alive pool of connections to one origin (``http`` or ``https``); each request is
written whole and answered with the whole response in memory. Responses are parsed by
httptools (llhttp, the parser Node and aiohttp use) from the read callback of an
:class:`asyncio.BufferedProtocol` per connection: no reader task, no queue, one copy of each
read. The uplinks' hot path uses it directly (:class:`HttpClient`); everything else goes
through :mod:`wallet.net.http`.

Invariants:

* one request at a time per connection, no pipelining (RFC 9112 §9.3.2 allows it, but a slow
  reply would hold up every later one on the connection);
* a connection is reused only after a complete response that llhttp says keeps it alive
  (RFC 9112 §9.3: not after ``Connection: close`` or an HTTP/1.0 answer without keep-alive,
  nor after bytes that follow the response), and only while it has been idle less than
  ``keepalive_timeout``, which must stay below the server's own (Node: 5 s);
* a request is sent again — once, on a fresh connection — only when it went out on a *reused*
  connection that then closed before a single byte of response came back: the server closed
  the idle connection as we wrote, so nothing was processed. (RFC 9110 §9.2.2 allows a client
  to retry a non-idempotent request on its own only when it can tell it was never applied.)
* the caller's deadline is the only timeout; a request cut off by it, cancelled, or answered
  in a way we cannot frame closes its connection, which is never reused;
* request heads carry credentials (``Authorization``): :class:`RequestHead` never shows its
  bytes, and no error text quotes a header or a URL. Header names and values are checked once,
  when the head is built: CR, LF and NUL can never end a line early.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import re
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

import httptools

from wallet.net.errors import (
    DisconnectedError,
    HttpProtocolError,
    RequestTimeoutError,
    ResponseTooLargeError,
)
from wallet.net.origin import context_for, open_connection, parse_origin

__all__ = ["DEFAULT_MAX_BODY", "HttpClient", "RequestHead", "Response", "request_head"]

_RECEIVE_BUFFER: Final = 64 * 1024
DEFAULT_MAX_BODY: Final = 1024 * 1024
# RFC 9110 §5.1 field-name = token.
_TOKEN: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FORBIDDEN: Final = re.compile(r"[\r\n\x00]")
_METHODS: Final = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_WITH_BODY: Final = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True, slots=True)
class Response:
    """A complete response. ``headers`` maps lower-cased names to values (repeated fields
    joined with ``", "``, RFC 9110 §5.3)."""

    status: int
    headers: Mapping[str, str]
    body: bytes


class RequestHead:
    """A request's request line and header fields, checked and built once (CRLF-terminated;
    ``Content-Length`` and the blank line are added per request).

    Holds credentials, so its ``repr`` shows only the method and the length.
    """

    __slots__ = ("method", "prefix")

    def __init__(self, method: str, prefix: bytes) -> None:
        self.method = method
        self.prefix = prefix

    def __repr__(self) -> str:
        return f"RequestHead({self.method}, <{len(self.prefix)} bytes>)"


def request_head(
    method: str, authority: str, target: str, headers: Mapping[str, str]
) -> RequestHead:
    """The head of a ``method`` request to ``target`` on ``authority`` with ``headers``.

    ``Host`` is added (and ``Content-Length`` to each request with a body, or whose method
    expects one); values are sent as Latin-1.

    Raises:
        ValueError: a name or value holds CR, LF or NUL or is not Latin-1, the target is not
            a path, or the method is not one this client sends (``HEAD``'s answer has no body
            whatever its length says, which llhttp cannot be told).
    """
    if method not in _METHODS:
        raise ValueError(f"the method must be one of {sorted(_METHODS)}")
    if not target.startswith("/") or _FORBIDDEN.search(target) or " " in target:
        raise ValueError("the request target must be a path")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {authority}"]
    for name, value in headers.items():
        if _FORBIDDEN.search(value) or _TOKEN.fullmatch(name) is None:
            raise ValueError("a header field holds a forbidden character")
        lines.append(f"{name}: {value}")
    lines.append("")
    try:
        return RequestHead(method, "\r\n".join(lines).encode("latin-1"))
    except UnicodeEncodeError:
        raise ValueError("a header field is not Latin-1 text") from None


class _StaleConnectionError(DisconnectedError):
    """A reused connection closed before any response byte: the request was not processed."""


# -- connections and the pool ------------------------------------------------------------


class _Connection(asyncio.BufferedProtocol):
    """One connection to the origin, carrying one request at a time.

    A buffered protocol: the transport reads into the client's one receive buffer (shared by
    every connection, as each read is handed to the parser before the next starts). A plain
    :class:`asyncio.Protocol` gets each read as a fresh ``bytes`` that the transport allocates
    at its full read size (256 KiB) and shrinks again, ~10 µs per response.

    It is also the llhttp parser's callback object (``on_header``, ``on_body``, ...).
    """

    def __init__(self, client: HttpClient) -> None:
        self._client = client
        self._loop = client._loop
        self._buffer = client._buffer
        self.transport: asyncio.Transport | None = None
        self._parser: httptools.HttpResponseParser | None = None
        self._waiter: asyncio.Future[Response] | None = None
        self._deadline: float | None = None  # of the request in flight
        # One deadline timer per connection, moved lazily (see _check_deadline).
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        # The response being parsed.
        self._started = False  # any byte of it has come
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._size = 0
        self._framed = False  # it has a Content-Length or Transfer-Encoding
        self._headers_done = False
        self._response: Response | None = None  # complete, when it is
        self._keep_alive = False
        self._trailing = False  # bytes came after it
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
        parser = self._parser
        if parser is None:
            # Bytes while idle (e.g. a server's "408 Request Timeout" before it closes): the
            # connection is no longer in a state we know.
            self.abort()
            return
        self._started = True
        try:
            parser.feed_data(self._buffer[:nbytes])
        except httptools.HttpParserError as e:
            if self._response is None:
                self._fail(HttpProtocolError(f"invalid response ({type(e).__name__})"))
                return
            self._trailing = True  # garbage after a whole response
        if self._size > self._client.max_body:
            self._fail(ResponseTooLargeError("the response body is too large"))
            return
        response = self._response
        if response is not None:
            self._finish(response, self._keep_alive and not self._trailing)

    def eof_received(self) -> bool:
        if self._parser is not None and self._started:  # (else connection_lost says why)
            if self._headers_done and not self._framed:
                # RFC 9112 §6.3: without Content-Length or chunked coding, the body runs until
                # the server closes.
                self._finish(self._whole(), False)
            else:
                self._fail(DisconnectedError("the connection closed within the response"))
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._client._forget(self)
        if self._waiter is not None:
            if self.reused and not self._started:
                error: DisconnectedError = _StaleConnectionError("the idle connection closed")
            else:
                error = DisconnectedError("the connection closed before the response")
            error.__cause__ = exc
            self._fail(error)

    # llhttp callbacks

    def on_message_begin(self) -> None:
        if self._response is not None:
            # A second response to one request: the connection is spoiled; the first stands.
            self._trailing = True
            self._reset_response()

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        headers = self._headers
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
        if key in ("content-length", "transfer-encoding"):
            self._framed = True

    def on_headers_complete(self) -> None:
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        self._body.append(body)
        self._size += len(body)

    def on_message_complete(self) -> None:
        parser = self._parser
        assert parser is not None
        if self._response is not None:
            return
        status = parser.get_status_code()
        if 100 <= status < 200:
            # An interim response (RFC 9110 §15.2): the final one follows.
            self._reset_response()
            return
        # llhttp forgets this once the next message begins: ask now.
        self._keep_alive = parser.should_keep_alive()
        self._response = self._whole()

    def _whole(self) -> Response:
        assert self._parser is not None
        return Response(self._parser.get_status_code(), self._headers, b"".join(self._body))

    def _reset_response(self) -> None:
        self._headers = {}
        self._body = []
        self._size = 0
        self._framed = False
        self._headers_done = False

    # requests

    def send(self, data: bytes, deadline: float | None) -> asyncio.Future[Response]:
        """Write a whole request; the future of its response."""
        assert self.transport is not None
        waiter = self._loop.create_future()
        self._waiter = waiter
        self._parser = httptools.HttpResponseParser(self)
        self._started = False
        self._response = None
        self._keep_alive = False
        self._trailing = False
        self._reset_response()
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
            self._fail(RequestTimeoutError("no complete response by the deadline"))
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
    """Requests to one origin over a pool of keep-alive HTTP/1.1 connections.

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
        self._origin = parse_origin(url)
        self._loop = asyncio.get_running_loop()
        self._authority = self._origin.authority
        self.path = self._origin.target
        self._ssl = context_for(self._origin, ssl_context)
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

    def __repr__(self) -> str:
        return f"HttpClient({self._authority!r}, connections={len(self._connections)})"

    @property
    def connections(self) -> int:
        """Open connections (idle and busy)."""
        return len(self._connections)

    @property
    def idle_connections(self) -> int:
        return len(self._idle)

    def head(
        self, headers: Mapping[str, str], path: str | None = None, method: str = "POST"
    ) -> RequestHead:
        """The head of a ``method`` request to ``path`` (default: the URL's) with ``headers``.

        Raises:
            ValueError: see :func:`request_head`.
        """
        return request_head(method, self._authority, self.path if path is None else path, headers)

    def target(self, url: str) -> str | None:
        """The path to use for ``url`` when it is on this client's origin, else ``None``."""
        try:
            other = parse_origin(url)
        except ValueError:
            return None
        return other.target if other.key == self._origin.key else None

    async def request(
        self, head: RequestHead, body: bytes = b"", deadline: float | None = None
    ) -> Response:
        """Send ``head`` + ``body``; the response, by ``deadline`` (event-loop time).

        Raises:
            TimeoutError: no complete response by ``deadline`` (a
                :class:`~wallet.net.errors.RequestTimeoutError` once the request is sent).
            ConnectError: no connection could be opened.
            TlsError: the TLS handshake failed.
            DisconnectedError: the connection closed before the whole response (also when
                the client is closed meanwhile).
            HttpProtocolError: the response is not valid HTTP/1.1
                (:class:`~wallet.net.errors.ResponseTooLargeError`: its body is larger than
                ``max_body``).
        """
        if body or head.method in _WITH_BODY:
            data = b"".join((head.prefix, b"Content-Length: %d\r\n\r\n" % len(body), body))
        else:
            # RFC 9110 §8.6: "A user agent SHOULD NOT send a Content-Length header field when
            # the request message does not contain content and the method semantics do not
            # anticipate such data."
            data = head.prefix + b"\r\n"
        return await self._send(data, deadline)

    async def _send(self, data: bytes, deadline: float | None) -> Response:
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
        """Close every connection; requests in flight fail with :class:`DisconnectedError`."""
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
                waiter.set_exception(DisconnectedError("the client is closed"))
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
            raise DisconnectedError("the client is closed")
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
            raise DisconnectedError("the client is closed")
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
