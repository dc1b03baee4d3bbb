"""The ILP-over-HTTP uplink (RFC 35), client and server: a :class:`~wallet.net.link.Link`.

Sending: each Prepare is POSTed raw to the connector with ``Authorization: Bearer <token>`` and
``Content-Type: application/octet-stream``. Synchronous mode (the default; all ilp-connector and
ilp-plugin-http speak, WIRE-NOTES §2) takes the Fulfill or Reject from the ``200`` response —
"a Reject is a 200". Asynchronous mode (RFC 35's current text) adds ``Prefer: respond-async``,
``Request-Id: <uuid4>`` and ``Callback-Url``; a ``202`` means the reply will be POSTed to our
server, and a ``200`` with a body means the peer spoke sync mode after all (the 2021 text
allows it), so we take that body.

Receiving: :class:`~wallet.net.http_server.IlpHttpServer` on loopback takes the connector's
POSTs and hands Prepares to the incoming handler.

Invariants: connections are pooled and kept alive (shorter than Node's 5 s server keep-alive,
so a pooled connection is never reused just as the server closes it) by the HTTP/1.1 pool
of :mod:`wallet.net.http_client` (aiohttp's client costs more per request than the rest of a
packet's round trip, benchmarks/uplink_bench.py); the Prepare's expiry is the only timeout;
trouble on the path resolves as a local Reject, while a refused token (``401``/``403``) raises
:class:`UplinkAuthError` on this and every later ``send`` — no retry storm — until
:meth:`HttpUplink.set_token`; a TLS failure raises :class:`UplinkTlsError`. The token is in
the prebuilt request head and in no message, log line or ``repr``.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import uuid
from typing import Final
from urllib.parse import urlsplit

from wallet.ilp import CodecError, Fulfill, Prepare, Reject, parse_reply
from wallet.net.errors import (
    PacketTooLargeError,
    TransportError,
    UplinkAuthError,
    UplinkClosedError,
    UplinkConfigError,
    UplinkDisconnectedError,
    UplinkError,
    UplinkProtocolError,
    UplinkTimeoutError,
    UplinkTlsError,
)
from wallet.net.http_client import HttpClient, RequestHead, Response
from wallet.net.http_server import OCTET_STREAM, IlpHttpServer
from wallet.net.link import IncomingHandler
from wallet.net.origin import parse_origin
from wallet.net.uplink_base import (
    Clock,
    answer_incoming,
    check_no_credentials,
    checked_reply,
    display_url,
    expired_reject,
    local_reject,
    seconds_left,
    utc_now,
    wrap_client_error,
)
from wallet.secrets import Secret

log = logging.getLogger(__name__)

# Node's http server closes idle keep-alive connections after 5 s; stay below that.
DEFAULT_KEEPALIVE: Final = 3.0


class HttpUplink:
    """An ILP-over-HTTP link to a connector.

    Args:
        url: the connector's endpoint for this account (``http://`` or ``https://``), without
            credentials.
        token: the bearer token we present.
        incoming_token: the token the connector must present when it POSTs to us (defaults
            to ``token``).
        listen_port: run our server on ``listen_host:listen_port`` (0: any free port);
            ``None``: no server, so no incoming packets and no async mode.
        async_mode: ask for RFC 35 async replies (needs the server).
        public_url: our server's base URL as the peer reaches it (default: the bound address).
        peer_name: sent as ``ILP-Peer-Name``, as ilp-plugin-http does.
        max_connections: size of the connection pool (0: unlimited).
    """

    def __init__(
        self,
        url: str,
        token: Secret,
        *,
        incoming_token: Secret | None = None,
        listen_port: int | None = None,
        listen_host: str = "127.0.0.1",
        async_mode: bool = False,
        public_url: str | None = None,
        peer_name: str | None = None,
        clock: Clock = utc_now,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int = 0,
        keepalive_timeout: float = DEFAULT_KEEPALIVE,
    ) -> None:
        check_no_credentials(url)
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
            raise UplinkConfigError(display_url(url), "an HTTP uplink URL starts with https://")
        if async_mode and listen_port is None:
            raise UplinkConfigError(display_url(url), "async mode needs our own HTTP server")
        self._url = url
        self.display_url = display_url(url)
        self._token = token
        self._incoming_token = incoming_token or token
        self._clock = clock
        self._ssl = ssl_context
        self._max_connections = max_connections
        self._keepalive = keepalive_timeout
        self._async_mode = async_mode
        self._public_url = public_url
        self._peer_name = peer_name
        self._headers = self._build_headers()
        self._client: HttpClient | None = None
        self._head: RequestHead | None = None  # the sync-mode request head, built once
        self._server: IlpHttpServer | None = None
        if listen_port is not None:
            self._server = IlpHttpServer(
                self._incoming_token,
                self._on_prepare,
                host=listen_host,
                port=listen_port,
                send_async_reply=self._send_async_reply,
                callback_allowed=self._callback_allowed,
            )
        self._handler: IncomingHandler | None = None
        self._fatal: UplinkError | None = None
        self._closed = False
        self.last_error: UplinkError | None = None
        self.own_address = ""

    def __repr__(self) -> str:
        return f"HttpUplink({self.display_url!r}, async_mode={self._async_mode})"

    def _build_headers(self) -> dict[str, str]:
        headers = {
            "Authorization": "Bearer " + self._token.reveal(),
            "Content-Type": OCTET_STREAM,
            "Accept": OCTET_STREAM,
        }
        if self._peer_name:
            headers["ILP-Peer-Name"] = self._peer_name
        return headers

    def _request_head(
        self, client: HttpClient, headers: dict[str, str], path: str | None = None
    ) -> RequestHead:
        try:
            return client.head(headers, path)
        except ValueError:
            # A control character or non-Latin-1 text in the token (or peer name) would end
            # the header early; never send it. The message names no value.
            raise UplinkConfigError(
                self.display_url, "the token or peer name holds characters HTTP cannot carry"
            ) from None

    @property
    def incoming_url(self) -> str | None:
        """Where the connector should POST packets for us (``None`` without a server)."""
        return self._server.url if self._server is not None else None

    @property
    def callback_url(self) -> str | None:
        if self._server is None:
            return None
        if self._public_url:
            return self._public_url.rstrip("/") + self._server.callback_path
        return self._server.callback_url

    def set_incoming_handler(self, handler: IncomingHandler | None) -> None:
        self._handler = handler

    def set_token(self, token: Secret) -> None:
        """Use a new token (e.g. after the user fixed it); clears an earlier auth refusal."""
        self._token = token
        self._headers = self._build_headers()
        self._head = None
        self._fatal = None

    async def connect(self) -> None:
        """Open the connection pool and start our server (if any). No request is made.

        Raises:
            UplinkClosedError: the uplink was closed.
            OSError: our server's port is taken.
        """
        if self._closed:
            raise UplinkClosedError(self.display_url)
        if self._client is None:
            self._client = HttpClient(
                self._url,
                ssl_context=self._ssl,
                max_connections=self._max_connections,
                keepalive_timeout=self._keepalive,
            )
        if self._server is not None and self._server.port == 0:
            await self._server.start()

    async def close(self) -> None:
        """Stop: close the pool and the server; pending sends resolve as local Rejects."""
        if self._closed:
            return
        self._closed = True
        if self._server is not None:
            await self._server.close()
        if self._client is not None:
            await self._client.close()
            self._client = None

    # -- sending ---------------------------------------------------------------------------

    async def send(self, prepare: Prepare) -> Fulfill | Reject:
        """POST ``prepare`` and return its Fulfill or Reject, at most when it expires.

        Raises:
            UplinkAuthError: the connector answered 401 or 403 (now or earlier).
            UplinkTlsError: the TLS handshake failed.
            UplinkConfigError: the token cannot be sent in an HTTP header.
            UplinkClosedError: the uplink was closed, or never connected.
        """
        if self._fatal is not None:
            raise self._fatal
        client = self._client
        if client is None or self._closed:
            raise UplinkClosedError(self.display_url)
        own = self.own_address
        left = seconds_left(prepare, self._clock())
        if left <= 0:
            return expired_reject(own)
        deadline = asyncio.get_running_loop().time() + left
        try:
            if self._async_mode:
                body = await self._post_async(client, prepare.to_bytes(), deadline)
            else:
                head = self._head
                if head is None:
                    head = self._head = self._request_head(client, self._headers)
                response = await client.request(head, prepare.to_bytes(), deadline)
                if response.status != 200:
                    raise self._status_error(response)
                body = response.body
        except TimeoutError:
            return local_reject(UplinkTimeoutError(self.display_url, "no reply before expiry"), own)
        except UplinkError as e:
            self.last_error = e
            if isinstance(e, UplinkAuthError | UplinkTlsError | UplinkConfigError):
                if isinstance(e, UplinkAuthError):
                    self._fatal = e
                raise
            return local_reject(e, own)
        except (TransportError, OSError) as e:
            error = wrap_client_error(self._url, e)
            self.last_error = error
            if isinstance(error, UplinkTlsError):
                raise error from None
            return local_reject(error, own)
        try:
            reply = parse_reply(body)
        except CodecError as e:
            self.last_error = UplinkProtocolError(self.display_url, str(e)[:200])
            return local_reject(self.last_error, own)
        self.last_error = None
        return checked_reply(prepare, reply, own)

    async def _post_async(self, client: HttpClient, body: bytes, deadline: float) -> bytes:
        """RFC 35 async mode: the reply's bytes, from the ``200`` itself or the callback."""
        server = self._server
        assert server is not None  # async mode needs the server (checked in __init__)
        request_id = str(uuid.uuid4())
        headers = {
            **self._headers,
            "Prefer": "respond-async",
            "Request-Id": request_id,
            "Callback-Url": self.callback_url or "",
        }
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        server.awaiting[request_id] = future
        try:
            response = await client.request(self._request_head(client, headers), body, deadline)
            if response.status == 200:
                # A sync peer answering our async request (the 2021 text allows it).
                return response.body
            if response.status != 202:
                raise self._status_error(response)
            # RFC 35: "the recipient MUST respond immediately that the ILP Prepare is accepted
            # for processing" (202), and "The peer asynchronously returns ILP Fulfill or Reject
            # packets in the body of a separate HTTP request" — to our callback URL.
            async with asyncio.timeout_at(deadline):
                return await future
        finally:
            server.awaiting.pop(request_id, None)

    def _status_error(self, response: Response) -> UplinkError:
        status = response.status
        # Decode and mask before cutting short, so no part of the token can slip through.
        text = response.body[:4096].decode("utf-8", "replace")
        text = text.replace(self._token.reveal(), "***")[:200]
        detail = f"HTTP {status} {text}".strip()
        if status in (401, 403):
            return UplinkAuthError(self.display_url, detail)
        if status == 413:
            return PacketTooLargeError(self.display_url, detail)
        if status in (502, 503, 504):
            return UplinkDisconnectedError(self.display_url, detail)
        # RFC 35: "Server errors (status codes 500-599) SHOULD be translated into ILP Reject
        # packets with T00" — local_reject_code maps a protocol error to T00.
        return UplinkProtocolError(self.display_url, detail)

    # -- receiving -------------------------------------------------------------------------

    async def _on_prepare(self, prepare: Prepare) -> Fulfill | Reject:
        return await answer_incoming(self._handler, prepare, self._clock(), self.own_address)

    def _callback_allowed(self, callback: str) -> bool:
        """Only ever call back the connector itself (same scheme, host and port)."""
        try:
            return parse_origin(callback).key == parse_origin(self._url).key
        except ValueError:
            return False

    async def _send_async_reply(
        self, callback: str, request_id: str, prepare: Prepare, reply: Fulfill | Reject
    ) -> None:
        """RFC 35 "Retry Behavior": retry on 5xx or no response, stop on 2xx/4xx, give up at
        the Prepare's expiry."""
        client = self._client
        if client is None:
            return
        path = client.target(callback)
        if path is None:  # _callback_allowed keeps us on the connector's origin
            return
        headers = {
            "Authorization": "Bearer " + self._token.reveal(),
            "Content-Type": OCTET_STREAM,
            "Request-Id": request_id,
        }
        try:
            head = client.head(headers, path)
        except ValueError:
            log.warning("async reply to %s not sent: bad header value", display_url(callback))
            return
        loop = asyncio.get_running_loop()
        delay = 0.05
        body = reply.to_bytes()
        while (left := seconds_left(prepare, self._clock())) > 0:
            try:
                response = await client.request(head, body, loop.time() + left)
                if response.status < 500:
                    return
            except (TransportError, OSError, TimeoutError) as e:
                log.debug("async reply to %s failed: %s", display_url(callback), type(e).__name__)
            await asyncio.sleep(min(delay, max(left, 0)))
            delay *= 2
