"""Trickle's HTTP client: the one API for every outgoing HTTP request but the uplink's hot path.

SPSP (:mod:`wallet.net.spsp`) and Open Payments use it; the ILP-over-HTTP uplink uses the same
connection pool (:class:`~wallet.net.http_client.HttpClient`) directly, with request heads
built once. Responses are parsed by httptools (llhttp).

The API::

    tls_context(extra_ca=None) -> ssl.SSLContext
    async with HttpSession(ssl_context=None, timeout=10.0) as http:
        response = await http.request(method, url, headers, body)  # -> HttpResponse
        response.status, response.headers["content-type"], response.body, response.json()
        document = await http.get_json(url, headers)
        document = await http.request_json("POST", url, {"a": 1}, headers)
    response = await request(method, url, headers, body)  # one request, its own session

Policy:

* ``https`` is verified against the system's trust store, plus an extra CA file if the user
  gave one (:func:`tls_context`); plain ``http`` is taken as given (callers decide where it
  is allowed, e.g. SPSP only on loopback);
* every request has a timeout (the session's, or the call's): the whole exchange, connecting
  included, ends by then with :class:`~wallet.net.errors.RequestTimeoutError`;
* connections are kept alive per origin for ``keepalive_timeout`` seconds; a request is
  repeated only when it went out on a kept-alive connection the server had closed (see
  :mod:`wallet.net.http_client`);
* redirects are followed only when asked (``redirects=N``), only for ``GET``, and never from
  ``https`` to ``http``;
* every failure is a named :class:`~wallet.net.errors.TransportError`; no message, ``repr`` or
  log line carries a URL's query, a header or a body (they may hold credentials: an
  ``Authorization`` header, an access token in a JSON answer).
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urljoin

from wallet.net.errors import (
    HttpContentError,
    HttpRequestError,
    HttpStatusError,
    RequestTimeoutError,
)
from wallet.net.http_client import DEFAULT_MAX_BODY, HttpClient
from wallet.net.origin import Origin, parse_origin, tls_context

__all__ = [
    "JSON",
    "HttpResponse",
    "HttpSession",
    "encode_json",
    "request",
    "tls_context",
]

JSON: Final = "application/json"
DEFAULT_TIMEOUT: Final = 10.0
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_STATUS_TEXT: Final = 200  # characters of an error body kept in HttpStatusError.text


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A whole response. ``headers`` maps lower-cased names to values (repeated fields joined
    with ``", "``). Neither they nor the body show in the ``repr``."""

    status: int
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(repr=False)

    @property
    def content_type(self) -> str:
        """The media type of ``Content-Type``, lower-cased, without parameters ("" if none)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def ok(self) -> bool:
        """A ``2xx`` status."""
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The body as a JSON document (``None`` for an empty body).

        Raises:
            HttpContentError: the body is not JSON.
        """
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise HttpContentError("the response body is not JSON") from None

    def text(self, limit: int = 4096) -> str:
        """The start of the body as text (undecodable bytes replaced)."""
        return self.body[:limit].decode("utf-8", "replace")


def encode_json(document: object) -> bytes:
    """``document`` as the JSON bytes :meth:`HttpSession.request_json` sends (compact, UTF-8):
    for callers that must sign or digest the exact body."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


class HttpSession:
    """HTTP requests to any origin, over kept-alive connection pools (one per origin).

    Args:
        ssl_context: for ``https`` (default: :func:`tls_context`, the system's trust store).
        timeout: seconds each request may take, unless the call says otherwise.
        max_connections: per origin (0: no limit).
        keepalive_timeout: seconds an idle connection is kept.
        max_body: the largest response body taken (larger: ``HttpProtocolError``).
    """

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_connections: int = 8,
        keepalive_timeout: float = 3.0,
        max_body: int = DEFAULT_MAX_BODY,
    ) -> None:
        self._ssl = ssl_context
        self.timeout = timeout
        self._max_connections = max_connections
        self._keepalive = keepalive_timeout
        self._max_body = max_body
        self._pools: dict[tuple[bool, str, int], HttpClient] = {}
        self._closed = False

    def __repr__(self) -> str:
        return f"HttpSession(origins={len(self._pools)}, closed={self._closed})"

    async def __aenter__(self) -> HttpSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close every connection; later requests fail with ``DisconnectedError``."""
        self._closed = True
        pools, self._pools = self._pools, {}
        for pool in pools.values():
            await pool.close()

    async def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        *,
        timeout: float | None = None,
        redirects: int = 0,
    ) -> HttpResponse:
        """Send one request; its response, whatever its status.

        ``Host`` and ``Content-Length`` are added (a ``Content-Length`` in ``headers``, e.g. a
        signed one, must match ``body`` and is sent once). ``redirects``: how many ``3xx``
        answers with a ``Location`` a ``GET`` follows (never from ``https`` to ``http``).

        Raises:
            HttpRequestError: ``url`` is not ``http(s)://`` with a host, a header name or
                value cannot be sent (CR, LF, NUL, not Latin-1), ``headers`` set
                ``Transfer-Encoding`` or a ``Content-Length`` that is not the body's, or the
                method is not one of GET, POST, PUT, PATCH, DELETE, OPTIONS.
            RequestTimeoutError: no whole response within the timeout.
            ConnectError, TlsError, DisconnectedError, HttpProtocolError: see
                :mod:`wallet.net.errors`.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.timeout if timeout is None else timeout)
        fields = _fields(headers or {}, body)
        while True:
            origin = _origin(url)
            pool = self._pool(origin)
            try:
                head = pool.head(fields, origin.target, method)
            except ValueError as e:
                raise HttpRequestError(str(e)) from None
            try:
                answer = await pool.request(head, body, deadline)
            except TimeoutError:
                raise RequestTimeoutError("no complete response in time") from None
            response = HttpResponse(answer.status, answer.headers, answer.body)
            location = response.headers.get("location")
            if not (redirects and method == "GET" and response.status in _REDIRECTS and location):
                return response
            target = urljoin(url, location)
            if origin.tls and not target.lower().startswith("https:"):
                return response  # no downgrade from https
            url, redirects = target, redirects - 1

    async def request_json(
        self,
        method: str,
        url: str,
        document: object = None,
        headers: Mapping[str, str] | None = None,
        *,
        timeout: float | None = None,
    ) -> Any:
        """Send ``document`` (if not ``None``) as JSON and return the JSON answer (``None``
        for an empty body). ``Accept`` and ``Content-Type`` default to ``application/json``.

        Raises:
            HttpStatusError: the status is not ``2xx`` (``status`` and ``text`` say what).
            HttpContentError: the answer is not JSON.
            and what :meth:`request` raises.
        """
        sent = dict(headers or {})
        given = {name.lower() for name in sent}
        if "accept" not in given:
            sent["Accept"] = JSON
        body = b""
        if document is not None:
            if "content-type" not in given:
                sent["Content-Type"] = JSON
            body = encode_json(document)
        response = await self.request(method, url, sent, body, timeout=timeout)
        if not response.ok:
            raise HttpStatusError(response.status, response.text(_STATUS_TEXT))
        return response.json()

    async def get_json(
        self,
        url: str,
        headers: Mapping[str, str] | None = None,
        *,
        timeout: float | None = None,
    ) -> Any:
        """``GET`` a JSON document (see :meth:`request_json`)."""
        return await self.request_json("GET", url, None, headers, timeout=timeout)

    def _pool(self, origin: Origin) -> HttpClient:
        if self._closed:
            raise HttpRequestError("the HTTP session is closed")
        pool = self._pools.get(origin.key)
        if pool is None:
            scheme = "https" if origin.tls else "http"
            pool = self._pools[origin.key] = HttpClient(
                f"{scheme}://{origin.authority}/",
                ssl_context=self._ssl,
                max_connections=self._max_connections,
                keepalive_timeout=self._keepalive,
                max_body=self._max_body,
            )
        return pool


def _fields(headers: Mapping[str, str], body: bytes) -> dict[str, str]:
    """``headers`` without the ones the client writes itself (``Host``, ``Content-Length``).

    Raises:
        HttpRequestError: a ``Content-Length`` that is not the body's, or ``Transfer-Encoding``
            (bodies are sent whole).
    """
    fields = {}
    for name, value in headers.items():
        key = name.lower()
        if key == "content-length":
            if value.strip() != str(len(body)):
                raise HttpRequestError("the Content-Length header is not the body's length")
        elif key == "transfer-encoding":
            raise HttpRequestError("bodies are sent whole: no Transfer-Encoding")
        elif key != "host":
            fields[name] = value
    return fields


def _origin(url: str) -> Origin:
    try:
        return parse_origin(url)
    except ValueError as e:
        raise HttpRequestError(str(e)) from None


async def request(
    method: str,
    url: str,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    *,
    timeout: float = DEFAULT_TIMEOUT,
    ssl_context: ssl.SSLContext | None = None,
    redirects: int = 0,
) -> HttpResponse:
    """One request on a session of its own (see :meth:`HttpSession.request`)."""
    async with HttpSession(ssl_context=ssl_context, timeout=timeout) as session:
        return await session.request(method, url, headers, body, redirects=redirects)
