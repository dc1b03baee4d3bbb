"""HTTP/1.1 for the ILP-over-HTTP client, sans-IO: request heads out, responses in.

Owns the wire format of the one exchange :mod:`wallet.net.http_client` makes — a ``POST``
with a body, answered with a whole response — in the manner of h11: bytes in, a
:class:`Response` out, no sockets, no clocks (the connections and the pool are
:mod:`wallet.net.http_client`'s).

Invariants: a request head is built once and reused; its header values can never end a line
early (CR, LF and NUL are refused), and its ``repr`` never shows it (it carries the bearer
token). Parsing is strict where framing depends on it (RFC 9112 §6.3: conflicting
``Content-Length``, ``Transfer-Encoding``, whitespace before a colon, obs-fold), and bounded
(head and body sizes), so a hostile response can neither smuggle a second one nor exhaust
memory; every failure is an :class:`HttpProtocolError`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
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
_CRLF: Final = b"\r\n"


class HttpClientError(WalletError):
    """Base of the client's errors; the uplink turns each into its named :class:`UplinkError`."""


class HttpProtocolError(HttpClientError):
    """The server's response is not valid HTTP/1.1 (or exceeds our size limits)."""


@dataclass(frozen=True, slots=True)
class Response:
    """A complete response. ``headers`` maps lower-cased names to values (the last one wins)."""

    status: int
    headers: Mapping[bytes, bytes]
    body: bytes


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a URL's requests go: host and port to connect to, the ``Host`` header's value,
    the request target (path and query) and whether the connection is TLS."""

    host: str
    port: int
    authority: str
    target: str
    tls: bool


# Scheme -> (default port, TLS).
_SCHEMES: Final = {
    "http": (80, False),
    "https": (443, True),
    "ws": (80, False),
    "wss": (443, True),
}


def parse_origin(url: str, schemes: tuple[str, ...]) -> Origin:
    """The :class:`Origin` of ``url``, whose scheme must be one of ``schemes``.

    Raises:
        ValueError: another scheme, or no host.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in schemes or scheme not in _SCHEMES or not parts.hostname:
        raise ValueError(f"a {' or '.join(s + '://' for s in schemes)} URL with a host is needed")
    default_port, tls = _SCHEMES[scheme]
    host = parts.hostname
    port = parts.port or default_port
    shown = f"[{host}]" if ":" in host else host
    return Origin(
        host=host,
        port=port,
        authority=shown if port == default_port else f"{shown}:{port}",
        target=(parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
        tls=tls,
    )


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
        minor, status, headers, length = _parse_head(head)
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


def parse_response_head(head: bytes) -> tuple[int, dict[bytes, bytes]]:
    """The status and header fields (lower-cased names) of a response head: the bytes before
    its blank line. For a response that ends the HTTP exchange, such as a WebSocket upgrade.

    Raises:
        HttpProtocolError: not a valid status line and header fields.
    """
    _, status, headers, _ = _parse_head(head)
    return status, headers


def _parse_head(head: bytes) -> tuple[bytes, int, dict[bytes, bytes], bytes | None]:
    """The HTTP minor version, status, header fields and every ``Content-Length`` value."""
    match = _STATUS_LINE.match(head)
    if match is None:
        raise HttpProtocolError("invalid status line")
    minor, status = match[1], int(match[2])
    fields = _FIELD_LINE.findall(head, match.end())
    if len(fields) != head.count(_CRLF):
        # A line that is not "name: value" (also obs-fold, RFC 9112 §5.2: a line that starts
        # with whitespace).
        raise HttpProtocolError("invalid header field")
    headers = {name.lower(): value for name, value in fields}
    length = headers.get(b"content-length")
    if len(headers) != len(fields):
        headers, length = _merge_fields(fields)
    return minor, status, headers, length


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


def request_head(authority: str, target: str, headers: Mapping[str, str]) -> RequestHead:
    """The head of a ``POST`` to ``target`` on ``authority`` with ``headers``.

    ``Host`` and ``Content-Length`` are added; header values are sent as Latin-1.

    Raises:
        ValueError: a name or value holds CR, LF or NUL, or the target is not a path.
    """
    if not target.startswith("/") or _FORBIDDEN_IN_HEADERS.search(target) or " " in target:
        raise ValueError("the request target must be a path")
    lines = [f"POST {target} HTTP/1.1", f"Host: {authority}"]
    for name, value in headers.items():
        if (
            _FORBIDDEN_IN_HEADERS.search(name + value)
            or _FIELD_NAME.fullmatch(name.encode("latin-1")) is None
        ):
            raise ValueError("a header field holds a forbidden character")
        lines.append(f"{name}: {value}")
    lines.append("Content-Length: ")
    return RequestHead("\r\n".join(lines).encode("latin-1"))
