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
so a pooled connection is never reused just as the server closes it); the Prepare's expiry is
the only timeout; trouble on the path resolves as a local Reject, while a refused token
(``401``) raises :class:`UplinkAuthError` on this and every later ``send`` — no retry storm —
until :meth:`HttpUplink.set_token`; a TLS failure raises :class:`UplinkTlsError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import uuid
from typing import Final
from urllib.parse import urlsplit

import aiohttp
import yarl

from wallet.ilp import CodecError, Fulfill, Prepare, Reject, parse_reply
from wallet.net.errors import (
    PacketTooLargeError,
    UplinkAuthError,
    UplinkClosedError,
    UplinkConfigError,
    UplinkDisconnectedError,
    UplinkError,
    UplinkProtocolError,
    UplinkTimeoutError,
    UplinkTlsError,
)
from wallet.net.http_server import OCTET_STREAM, IlpHttpServer
from wallet.net.link import IncomingHandler
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


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


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
        self._yurl = yarl.URL(url)  # parsed once, not per packet
        self.display_url = display_url(url)
        self._token = token
        self._incoming_token = incoming_token or token
        self._clock = clock
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        self._max_connections = max_connections
        self._keepalive = keepalive_timeout
        self._async_mode = async_mode
        self._public_url = public_url
        self._peer_name = peer_name
        self._headers = self._build_headers()
        self._session: aiohttp.ClientSession | None = None
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
        self._fatal = None

    async def connect(self) -> None:
        """Open the connection pool and start our server (if any). No request is made.

        Raises:
            UplinkClosedError: the uplink was closed.
            OSError: our server's port is taken.
        """
        if self._closed:
            raise UplinkClosedError(self.display_url)
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections,
                keepalive_timeout=self._keepalive,
                ssl=self._ssl,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,
                skip_auto_headers=("User-Agent",),
                # The Prepare's expiry is the only timeout (asyncio.timeout in send).
                timeout=aiohttp.ClientTimeout(total=None),
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
        if self._session is not None:
            await self._session.close()
            self._session = None

    # -- sending ---------------------------------------------------------------------------

    async def send(self, prepare: Prepare) -> Fulfill | Reject:
        """POST ``prepare`` and return its Fulfill or Reject, at most when it expires.

        Raises:
            UplinkAuthError: the connector answered 401 (now or earlier).
            UplinkTlsError: the TLS handshake failed.
            UplinkClosedError: the uplink was closed, or never connected.
        """
        if self._fatal is not None:
            raise self._fatal
        session = self._session
        if session is None or self._closed:
            raise UplinkClosedError(self.display_url)
        own = self.own_address
        left = seconds_left(prepare, self._clock())
        if left <= 0:
            return expired_reject(own)
        server = self._server
        request_id = ""
        headers = self._headers
        if self._async_mode and server is not None:
            request_id = str(uuid.uuid4())
            headers = {
                **headers,
                "Prefer": "respond-async",
                "Request-Id": request_id,
                "Callback-Url": self.callback_url or "",
            }
            server.awaiting[request_id] = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(left):
                body = await self._post(session, prepare.to_bytes(), headers, request_id)
        except TimeoutError:
            return local_reject(UplinkTimeoutError(self.display_url, "no reply before expiry"), own)
        except UplinkError as e:
            if isinstance(e, UplinkAuthError | UplinkTlsError):
                self.last_error = e
                if isinstance(e, UplinkAuthError):
                    self._fatal = e
                raise
            self.last_error = e
            return local_reject(e, own)
        except (aiohttp.ClientError, OSError) as e:
            error = wrap_client_error(self._url, e)
            self.last_error = error
            if isinstance(error, UplinkTlsError):
                raise error from None
            return local_reject(error, own)
        finally:
            if request_id and server is not None:
                server.awaiting.pop(request_id, None)
        try:
            reply = parse_reply(body)
        except CodecError as e:
            self.last_error = UplinkProtocolError(self.display_url, str(e)[:200])
            return local_reject(self.last_error, own)
        self.last_error = None
        return checked_reply(prepare, reply, own)

    async def _post(
        self, session: aiohttp.ClientSession, body: bytes, headers: dict[str, str], request_id: str
    ) -> bytes:
        """The reply's bytes, or the named error for the response status."""
        async with session.post(self._yurl, data=body, headers=headers) as response:
            status = response.status
            if status == 200:
                # Sync mode, or a sync peer answering our async request.
                return await response.read()
            if status == 202 and request_id and self._server is not None:
                future = self._server.awaiting.get(request_id)
                if future is None:
                    raise UplinkProtocolError(self.display_url, "202 for an unknown request")
            else:
                raise self._status_error(status, await self._error_text(response))
        return await future

    async def _error_text(self, response: aiohttp.ClientResponse) -> str:
        with contextlib.suppress(aiohttp.ClientError, UnicodeDecodeError):
            return (await response.text())[:200].replace(self._token.reveal(), "***")
        return ""

    def _status_error(self, status: int, text: str) -> UplinkError:
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
        return _origin(callback) == _origin(self._url)

    async def _send_async_reply(
        self, callback: str, request_id: str, prepare: Prepare, reply: Fulfill | Reject
    ) -> None:
        """RFC 35 "Retry Behavior": retry on 5xx or no response, stop on 2xx/4xx, give up at
        the Prepare's expiry."""
        session = self._session
        if session is None:
            return
        headers = {
            "Authorization": "Bearer " + self._token.reveal(),
            "Content-Type": OCTET_STREAM,
            "Request-Id": request_id,
        }
        delay = 0.05
        body = reply.to_bytes()
        while (left := seconds_left(prepare, self._clock())) > 0:
            try:
                async with (
                    asyncio.timeout(left),
                    session.post(callback, data=body, headers=headers) as response,
                ):
                    if response.status < 500:
                        return
            except (aiohttp.ClientError, OSError, TimeoutError) as e:
                log.debug("async reply to %s failed: %s", display_url(callback), type(e).__name__)
            await asyncio.sleep(min(delay, max(left, 0)))
            delay *= 2
