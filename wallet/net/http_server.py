"""The server side of ILP-over-HTTP (RFC 35): where the connector POSTs packets for us.

Owns an aiohttp web app bound to loopback by default, with two kinds of POST:

* a Prepare from the peer, on any path but the callback path. Sync mode (what ilp-connector and
  ilp-plugin-http speak, WIRE-NOTES §2): the answer is ``200`` with the raw Fulfill or Reject —
  "a Reject is a 200". Async mode (RFC 35 current text): with ``Request-Id`` and an allowed
  ``Callback-Url`` (and, from the 2021 text, ``Prefer: respond-async``), the answer is
  "``202 Accepted``" at once and the reply is POSTed to the callback URL later.
* an async-mode reply to one of *our* Prepares on the callback path, matched by ``Request-Id``
  (RFC 35: "If the request ID doesn't correspond to an in-flight ILP Prepare ... return ...
  ``400 Bad Request``").

Invariants: every request is authenticated with the incoming bearer token (compared in constant
time; like ilp-plugin-http, the token is also accepted without the ``Bearer`` prefix) before
its body is read; a wrong token is ``401``; bodies above the size limit are ``413``; no access
log (URLs and headers stay out of logs). Both ``application/octet-stream`` and
``application/ilp+octet-stream`` are accepted — the content type is not checked at all, as
ilp-plugin-http does not check it either.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Final

from aiohttp import web

from wallet.ilp import CodecError, Fulfill, Prepare, Reject, parse_prepare
from wallet.secrets import Secret

log = logging.getLogger(__name__)

OCTET_STREAM: Final = "application/octet-stream"
ILP_OCTET_STREAM: Final = "application/ilp+octet-stream"
# ilp-plugin-http refuses bodies over 32767 bytes; we take a little more, since a Prepare with
# the largest data RFC 27 allows is slightly longer than that.
DEFAULT_MAX_BODY: Final = 40_000
_BEARER: Final = "bearer "

PrepareHandler = Callable[[Prepare], Awaitable[Fulfill | Reject]]
AsyncReplySender = Callable[[str, str, Prepare, Fulfill | Reject], Coroutine[object, object, None]]


def bearer_matches(header: str, token: Secret) -> bool:
    """Whether an ``Authorization`` header carries ``token`` (with or without ``Bearer``)."""
    value = header[len(_BEARER) :] if header[: len(_BEARER)].lower() == _BEARER else header
    return hmac.compare_digest(value.strip().encode(), token.reveal().encode())


class IlpHttpServer:
    """Receives ILP packets over HTTP on ``host:port`` (``port`` 0: any free port).

    Args:
        token: the bearer token the peer must present.
        on_prepare: answers an incoming Prepare (never raises; see ``answer_incoming``).
        send_async_reply: delivers our reply to a peer that asked for async mode; ``None``
            disables async mode for incoming Prepares (they are answered synchronously).
        callback_allowed: whether a peer's ``Callback-Url`` may be called (we never POST to an
            arbitrary URL a request names).
    """

    def __init__(
        self,
        token: Secret,
        on_prepare: PrepareHandler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        callback_path: str = "/ilp/callback",
        max_body: int = DEFAULT_MAX_BODY,
        send_async_reply: AsyncReplySender | None = None,
        callback_allowed: Callable[[str], bool] = lambda _url: False,
    ) -> None:
        self._token = token
        self._on_prepare = on_prepare
        self._host = host
        self._port = port
        self.callback_path = callback_path
        self._max_body = max_body
        self._send_async_reply = send_async_reply
        self._callback_allowed = callback_allowed
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # Request-Id -> the future our own async-mode send waits on.
        self.awaiting: dict[str, asyncio.Future[bytes]] = {}
        self.port = 0

    def __repr__(self) -> str:
        return f"IlpHttpServer({self.base_url!r})"

    @property
    def base_url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        """Where the peer should POST Prepares for us."""
        return self.base_url + "/ilp"

    @property
    def callback_url(self) -> str:
        return self.base_url + self.callback_path

    async def start(self) -> None:
        app = web.Application(client_max_size=self._max_body)
        app.router.add_route("GET", "/{tail:.*}", self._health)
        app.router.add_route("POST", "/{tail:.*}", self._post)
        # Closing must not wait for handlers still busy (a held packet): they are cancelled.
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.1)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port, reuse_address=True)
        await site.start()
        self._runner = runner
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self._port

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for future in self.awaiting.values():
            if not future.done():
                # The send waiting on it resolves as a local Reject (never a cancellation).
                future.set_exception(ConnectionResetError("the uplink was closed"))
        self.awaiting.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _health(self, request: web.Request) -> web.Response:
        # ilp-plugin-http answers GET with "OK" (a health check).
        return web.Response(text="OK")

    def _unauthorized(self) -> web.Response:
        return web.Response(status=401, text="invalid authorization")

    async def _read_body(self, request: web.Request) -> bytes | web.Response:
        length = request.content_length
        if length is not None and length > self._max_body:
            return web.Response(status=413, text="packet too large")
        try:
            return await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, text="packet too large")

    async def _post(self, request: web.Request) -> web.StreamResponse:
        if not bearer_matches(request.headers.get("Authorization", ""), self._token):
            return self._unauthorized()
        body = await self._read_body(request)
        if isinstance(body, web.Response):
            return body
        if request.path == self.callback_path:
            return self._reply_arrived(request, body)
        try:
            prepare = parse_prepare(body)
        except CodecError as e:
            return web.Response(status=400, text=f"invalid ILP Prepare: {e}"[:300])
        request_id = request.headers.get("Request-Id")
        callback = request.headers.get("Callback-Url")
        if (
            request_id
            and callback
            and self._send_async_reply is not None
            and self._callback_allowed(callback)
        ):
            # RFC 35: "the recipient MUST respond immediately that the ILP Prepare is accepted
            # for processing, even if the packet will ultimately be rejected".
            self._spawn(self._answer_later(callback, request_id, prepare))
            return web.Response(status=202)
        reply = await self._on_prepare(prepare)
        return web.Response(body=reply.to_bytes(), content_type=OCTET_STREAM)

    def _reply_arrived(self, request: web.Request, body: bytes) -> web.Response:
        request_id = request.headers.get("Request-Id", "")
        future = self.awaiting.pop(request_id, None)
        if future is None or future.done():
            return web.Response(status=400, text="unknown or already answered Request-Id")
        future.set_result(body)
        return web.Response(status=200)

    async def _answer_later(self, callback: str, request_id: str, prepare: Prepare) -> None:
        reply = await self._on_prepare(prepare)
        assert self._send_async_reply is not None
        await self._send_async_reply(callback, request_id, prepare, reply)

    def _spawn(self, coro: Coroutine[object, object, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
