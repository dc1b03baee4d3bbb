"""A small HTTP/1.1 client for one origin: the hot send path of the ILP-over-HTTP uplink.

Owns a keep-alive pool of connections to one origin (``http`` or ``https``) and one kind of
request, a ``POST`` with a body, answered with the whole response in memory. It exists because
a general client (aiohttp) costs more per request than the rest of a packet's round trip; this
one is an :class:`asyncio.Protocol` per connection, a prebuilt request head and a sans-IO
response parser (:class:`ResponseParser`, in the manner of h11: bytes in, a response out, no
sockets, no clocks).

Invariants:

* one request at a time per connection, no pipelining (RFC 9112 §9.3.2 allows it, but a slow
  reply would hold up every later one on the connection);
* a connection is reused only after a complete response without ``Connection: close``
  (RFC 9112 §9.6: "A client that receives a "close" connection option MUST cease sending
  requests on that connection"), and only while it has been idle less than
  ``keepalive_timeout``, which must stay below the server's own (Node: 5 s);
* a request is sent again — once, on a fresh connection — only when it went out on a *reused*
  connection that then closed before a single byte of response came back: the server closed
  the idle connection as we wrote, so nothing was processed (RFC 9112 §9.3.1: "a client MUST
  NOT automatically retry a request with a non-idempotent method unless it has some means to
  know that the request semantics are actually idempotent"; a Prepare is — ILP senders and
  connectors treat a repeated Prepare as the same packet — and the retry is still kept to the
  one case where the request cannot have been acted on);
* the caller's deadline is the only timeout; a request cut off by it, cancelled, or answered
  in a way we cannot frame closes its connection, which is never reused;
* request heads carry credentials (``Authorization``): :class:`RequestHead` never shows its
  bytes, and no error text quotes a header or a URL.
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
from urllib.parse import urlsplit

from wallet.errors import WalletError

# RFC 9112 §2.3 HTTP-version, §4 status-line: HTTP-version SP 3DIGIT SP [ reason-phrase ].
_STATUS_LINE: Final = re.compile(rb"HTTP/1\.([0-9]) ([0-9]{3})(?: [^\r\n]*)?(?=\r\n|\Z)")
# RFC 9112 §5: field-line = field-name ":" OWS field-value OWS, one per line; "No whitespace
# is allowed between the field name and colon". Each match starts at the CRLF before its line.
_FIELD_LINE: Final = re.compile(
    rb"\r\n([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*((?:[^\r\n\x00]*[^\r\n\x00 \t])?)[ \t]*(?=\r\n|\Z)"
)
# RFC 9110 §5.1 field-name = token; RFC 9112 §5.1: "No whitespace is allowed between the field
# name and colon".
_FIELD_NAME: Final = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 9112 §7.1 chunk-size = 1*HEXDIG, then optional chunk-ext.
_CHUNK_SIZE: Final = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?")
_FORBIDDEN_IN_HEADERS: Final = re.compile(r"[\r\n\x00]")

DEFAULT_MAX_HEAD: Final = 64 * 1024
DEFAULT_MAX_BODY: Final = 1024 * 1024
_RECEIVE_BUFFER: Final = 64 * 1024
_CRLF: Final = b"\r\n"


class HttpClientError(WalletError):
    """Base of the client's errors; the uplink turns each into its named :class:`UplinkError`."""


class HttpConnectError(HttpClientError):
    """No connection could be opened (refused, DNS failure, network unreachable)."""


class HttpTlsError(HttpClientError):
    """The TLS handshake failed (untrusted certificate, wrong host name, protocol mismatch)."""


class HttpDisconnectedError(HttpClientError):
    """The connection closed or broke before the whole response arrived."""


class HttpProtocolError(HttpClientError):
    """The server's response is not valid HTTP/1.1 (or exceeds our size limits)."""


class _StaleConnectionError(HttpDisconnectedError):
    """A reused connection closed before any response byte: the request was not processed."""


@dataclass(frozen=True, slots=True)
class Response:
    """A complete response. ``headers`` maps lower-cased names to values (the last one wins)."""

    status: int
    headers: Mapping[bytes, bytes]
    body: bytes


class RequestHead:
    """The bytes of a request up to ``Content-Length:``'s value, built once and reused.

    Holds credentials, so its ``repr`` shows only the length.
    """

    __slots__ = ("prefix",)

    def __init__(self, prefix: bytes) -> None:
        self.prefix = prefix

    def __repr__(self) -> str:
        return f"RequestHead(<{len(self.prefix)} bytes>)"


# -- the response parser (sans-IO) -------------------------------------------------------

_HEAD, _LENGTH, _CHUNK_SIZE_LINE, _CHUNK_DATA, _CHUNK_END, _TRAILERS, _UNTIL_CLOSE, _DONE = range(8)


class ResponseParser:
    """Parses one response to a ``POST``; feed it bytes, it returns the response when whole.

    Framing is RFC 9112 §6.3: a ``Transfer-Encoding`` ending in ``chunked`` wins over
    ``Content-Length``; ``1xx`` (interim), ``204`` and ``304`` have no body; otherwise
    ``Content-Length``, and without either the body runs until the server closes.
    """

    __slots__ = (
        "_body",
        "_buffer",
        "_headers",
        "_max_body",
        "_max_head",
        "_remaining",
        "_size",
        "_state",
        "_status",
        "keep_alive",
        "started",
        "trailing",
    )

    def __init__(self, max_head: int = DEFAULT_MAX_HEAD, max_body: int = DEFAULT_MAX_BODY):
        self._max_head = max_head
        self._max_body = max_body
        self._state = _HEAD
        self._buffer = b""
        self._body: list[bytes] = []
        self._size = 0
        self._remaining = 0
        self._status = 0
        self._headers: dict[bytes, bytes] = {}
        #: Whether any byte of a response has arrived.
        self.started = False
        #: Whether the connection may carry another request after this response.
        self.keep_alive = True
        #: Bytes that came after the response (a server must not send any).
        self.trailing = b""

    def feed(self, data: bytes) -> Response | None:
        """Take the next bytes; the response once it is complete, else ``None``.

        Raises:
            HttpProtocolError: the bytes are not a valid response, or exceed the limits.
        """
        if data:
            self.started = True
        if self._buffer:
            data = self._buffer + data
            self._buffer = b""
        state = self._state
        while True:
            if state == _HEAD:
                end = data.find(b"\r\n\r\n")
                if end < 0:
                    if len(data) > self._max_head:
                        raise HttpProtocolError("the response head is too large")
                    self._buffer = data
                    return None
                if end > self._max_head:
                    raise HttpProtocolError("the response head is too large")
                state = self._read_head(data[:end])
                data = data[end + 4 :]
                if state == _LENGTH:
                    # The common case: the whole body is already here.
                    remaining = self._remaining
                    if len(data) >= remaining:
                        self._body.append(data[:remaining])
                        data = data[remaining:]
                        state = _DONE
            elif state == _LENGTH:
                remaining = self._remaining
                if len(data) < remaining:
                    self._body.append(data)
                    self._remaining = remaining - len(data)
                    self._state = state
                    return None
                self._body.append(data[:remaining])
                data = data[remaining:]
                state = _DONE
            elif state == _CHUNK_SIZE_LINE:
                end = data.find(_CRLF)
                if end < 0:
                    if len(data) > 1024:
                        raise HttpProtocolError("a chunk-size line is too long")
                    break
                match = _CHUNK_SIZE.fullmatch(data, 0, end)
                if match is None:
                    raise HttpProtocolError("invalid chunk size")
                size = int(match[1], 16)
                data = data[end + 2 :]
                if size == 0:
                    state = _TRAILERS
                else:
                    self._grow(size)
                    self._remaining = size
                    state = _CHUNK_DATA
            elif state == _CHUNK_DATA:
                remaining = self._remaining
                if len(data) < remaining:
                    if data:
                        self._body.append(data)
                    self._remaining = remaining - len(data)
                    data = b""
                    break
                self._body.append(data[:remaining])
                data = data[remaining:]
                state = _CHUNK_END
            elif state == _CHUNK_END:
                if len(data) < 2:
                    break
                if data[:2] != _CRLF:
                    raise HttpProtocolError("a chunk does not end in CRLF")
                data = data[2:]
                state = _CHUNK_SIZE_LINE
            elif state == _TRAILERS:
                # RFC 9112 §7.1.2: trailer fields, then the empty line; we keep none of them.
                end = data.find(_CRLF)
                if end < 0:
                    if len(data) > self._max_head:
                        raise HttpProtocolError("the trailer section is too large")
                    break
                data = data[end + 2 :]
                if end == 0:
                    state = _DONE
            elif state == _UNTIL_CLOSE:
                if data:
                    self._grow(len(data))
                    self._body.append(data)
                self._state = state
                return None
            else:  # _DONE
                self._state = _DONE
                self.trailing = data
                body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
                return Response(self._status, self._headers, body)
        self._state = state
        self._buffer = data
        return None

    def feed_eof(self) -> Response | None:
        """The server closed its side: the response, if its body ran until the close.

        Raises:
            HttpProtocolError: the response was cut short.
        """
        if self._state == _UNTIL_CLOSE:
            self._state = _DONE
            self.keep_alive = False
            return Response(self._status, self._headers, b"".join(self._body))
        if self.started:
            raise HttpProtocolError("the connection closed in the middle of the response")
        return None

    def _grow(self, size: int) -> None:
        self._size += size
        if self._size > self._max_body:
            raise HttpProtocolError("the response body is too large")

    def _read_head(self, head: bytes) -> int:
        """Parse the status line and header fields; the state the body starts in."""
        match = _STATUS_LINE.match(head)
        if match is None:
            raise HttpProtocolError("invalid status line")
        minor, status = match[1], int(match[2])
        fields = _FIELD_LINE.findall(head, match.end())
        if len(fields) != head.count(_CRLF):
            # A line that is not "name: value" (also obs-fold, RFC 9112 §5.2: a line that
            # starts with whitespace).
            raise HttpProtocolError("invalid header field")
        headers = {name.lower(): value for name, value in fields}
        length = headers.get(b"content-length")
        if len(headers) != len(fields):
            headers, length = _merge_fields(fields)
        if 100 <= status < 200:
            if status == 101:
                raise HttpProtocolError("unexpected protocol switch")
            # RFC 9110 §15.2: "A client MUST be able to parse one or more 1xx responses
            # received prior to a final response"; they carry no body.
            return _HEAD
        self._status = status
        self._headers = headers
        connection = headers.get(b"connection")
        if connection is None:
            # RFC 9112 §9.3: HTTP/1.1 defaults to persistent connections; HTTP/1.0 does not.
            self.keep_alive = minor != b"0"
        elif connection != b"keep-alive":
            tokens = {t.strip().lower() for t in connection.split(b",")}
            self.keep_alive = b"close" not in tokens and (minor != b"0" or b"keep-alive" in tokens)
        if status in (204, 304):
            return _DONE
        coding = headers.get(b"transfer-encoding")
        if coding is not None:
            if coding.rsplit(b",", 1)[-1].strip().lower() == b"chunked":
                return _CHUNK_SIZE_LINE
            # RFC 9112 §6.3: "If a Transfer-Encoding header field is present in a response
            # and the chunked transfer coding is not the final encoding, the message body
            # length is determined by reading the connection until it is closed".
            self.keep_alive = False
            return _UNTIL_CLOSE
        if length is not None:
            if not length.isdigit():
                # RFC 9110 §8.6: a list of identical values may be taken as one; RFC 9112
                # §6.3: differing or invalid values are an unrecoverable error.
                values = {v.strip(b" \t") for v in length.split(b",")}
                if len(values) != 1:
                    raise HttpProtocolError("conflicting Content-Length values")
                (length,) = values
                if not length.isdigit():
                    raise HttpProtocolError("invalid Content-Length")
            if len(length) > 16:
                raise HttpProtocolError("invalid Content-Length")
            self._remaining = int(length)
            self._grow(self._remaining)
            return _LENGTH
        self.keep_alive = False
        return _UNTIL_CLOSE


def _merge_fields(fields: list[tuple[bytes, bytes]]) -> tuple[dict[bytes, bytes], bytes | None]:
    """Header fields with repeated names: lists joined (RFC 9110 §5.3), the last one kept
    otherwise; and every ``Content-Length`` value, joined."""
    headers: dict[bytes, bytes] = {}
    lengths: list[bytes] = []
    for raw_name, value in fields:
        name = raw_name.lower()
        if name == b"content-length":
            lengths.append(value)
        if name in headers and name in (b"transfer-encoding", b"connection"):
            headers[name] += b", " + value
        else:
            headers[name] = value
    return headers, b", ".join(lengths) if lengths else None


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
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("an http:// or https:// URL with a host is needed")
        self._loop = asyncio.get_running_loop()
        self._host = parts.hostname
        default_port = 443 if parts.scheme == "https" else 80
        self._port = parts.port or default_port
        host = f"[{self._host}]" if ":" in self._host else self._host
        self._authority = host if self._port == default_port else f"{host}:{self._port}"
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._ssl: ssl.SSLContext | None = None
        if parts.scheme == "https":
            self._ssl = ssl_context or ssl.create_default_context()
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

    def head(self, headers: Mapping[str, str], path: str | None = None) -> RequestHead:
        """The head of a ``POST`` to ``path`` (default: the URL's) with ``headers``.

        ``Host`` and ``Content-Length`` are added; header values are sent as Latin-1.

        Raises:
            ValueError: a name or value holds CR, LF or NUL, or a target is not a path.
        """
        target = self.path if path is None else path
        if not target.startswith("/") or _FORBIDDEN_IN_HEADERS.search(target) or " " in target:
            raise ValueError("the request target must be a path")
        lines = [f"POST {target} HTTP/1.1", f"Host: {self._authority}"]
        for name, value in headers.items():
            if (
                _FORBIDDEN_IN_HEADERS.search(name + value)
                or _FIELD_NAME.fullmatch(name.encode("latin-1")) is None
            ):
                raise ValueError("a header field holds a forbidden character")
            lines.append(f"{name}: {value}")
        lines.append("Content-Length: ")
        return RequestHead("\r\n".join(lines).encode("latin-1"))

    def target(self, url: str) -> str | None:
        """The path to use for ``url`` when it is on this client's origin, else ``None``."""
        parts = urlsplit(url)
        scheme = "https" if self._ssl is not None else "http"
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
        if (parts.scheme, (parts.hostname or "").lower(), port) != (
            scheme,
            self._host.lower(),
            self._port,
        ):
            return None
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

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
            _, connection = await self._loop.create_connection(
                lambda: _Connection(self),
                self._host,
                self._port,
                ssl=self._ssl,
                server_hostname=self._host if self._ssl is not None else None,
            )
            opened = True
        except ssl.SSLError as e:
            raise HttpTlsError(type(e).__name__) from e
        except OSError as e:
            raise HttpConnectError(type(e).__name__) from e
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
