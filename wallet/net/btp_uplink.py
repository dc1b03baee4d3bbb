"""The BTP 2.0 uplink (RFC 23) over WebSocket, client side: a :class:`~wallet.net.link.Link`.

Owns one WebSocket to the connector at a time, the auth sub-protocol, request ids and their
pending replies, incoming Prepares, keep-alive and reconnection.

Invariants:

* RFC 23: "Before anything else, when a client connects to a server, it sends a special
  ``Message`` request" (auth); nothing else is sent before its ``Response``.
* Request ids are random UInt32s never shared by two requests in flight (RFC 23: "no two
  in-flight requests are sent out with the same requestId"); replies may arrive in any order.
* "If an unexpected BTP packet is received, no response should be sent" and unreadable ones are
  ignored: only Messages and Transfers are ever answered.
* Every ``send`` resolves by the Prepare's expiry; a dropped connection resolves every pending
  ``send`` at once with a local T01 Reject.
* After a dropped connection the uplink reconnects with exponential backoff and jitter; after an
  auth refusal it stops (:class:`UplinkAuthError`, no retry storm).
* The token leaves its :class:`~wallet.secrets.Secret` only inside the auth frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import ssl
from collections.abc import Coroutine
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from wallet.ilp import CodecError, Fulfill, Prepare, Reject, parse_prepare, parse_reply
from wallet.net.btp_codec import (
    ILP,
    BtpError,
    Frame,
    Message,
    Response,
    Transfer,
    auth_message,
    fast_ilp_response,
    format_triggered_at,
    ilp_message,
    ilp_response,
    parse_frame,
)
from wallet.net.errors import (
    TransportError,
    UplinkAuthError,
    UplinkClosedError,
    UplinkConfigError,
    UplinkDisconnectedError,
    UplinkError,
    UplinkProtocolError,
    UplinkTimeoutError,
)
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
from wallet.net.websocket import WebSocket
from wallet.net.websocket import connect as connect_websocket
from wallet.secrets import Secret

log = logging.getLogger(__name__)

# What a pending request resolves with: the ILP reply bytes (fast path), a reply frame, or the
# error that ended the connection.
_Result = bytes | Frame | UplinkError
_SCHEMES: Final = {"btp+ws": "ws", "btp+wss": "wss", "ws": "ws", "wss": "wss"}
_U32: Final = 1 << 32


def websocket_url(url: str) -> str:
    """``btp+ws://host/path`` -> ``ws://host/path`` (and ``btp+wss`` -> ``wss``).

    Raises:
        UplinkConfigError: another scheme, or credentials in the URL.
    """
    check_no_credentials(url)
    parts = urlsplit(url)
    scheme = _SCHEMES.get(parts.scheme.lower())
    if scheme is None or not parts.hostname:
        raise UplinkConfigError(
            display_url(url), "a BTP uplink URL starts with btp+ws:// or wss://"
        )
    return urlunsplit((scheme, parts.netloc, parts.path or "/", parts.query, ""))


class BtpUplink:
    """A BTP client link to a connector.

    Args:
        url: ``btp+ws://``, ``btp+wss://``, ``ws://`` or ``wss://`` URL, without credentials.
        token: sent as ``auth_token``.
        username: sent as ``auth_username`` (mini-accounts use it as the account name).
        heartbeat: seconds between WebSocket pings; a missing pong drops the connection.
        backoff_base, backoff_cap: reconnect delays grow from ``base`` doubling up to ``cap``
            seconds, each scaled by a random factor in [0.5, 1).
    """

    def __init__(
        self,
        url: str,
        token: Secret,
        *,
        username: str = "",
        clock: Clock = utc_now,
        heartbeat: float = 15.0,
        connect_timeout: float = 10.0,
        auth_timeout: float = 10.0,
        backoff_base: float = 0.1,
        backoff_cap: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._url = websocket_url(url)
        self.display_url = display_url(self._url)
        self._token = token
        self._username = username
        self._clock = clock
        self._heartbeat = heartbeat
        self._connect_timeout = connect_timeout
        self._auth_timeout = auth_timeout
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._ssl = ssl_context
        self._ws: WebSocket | None = None
        self._pending: dict[int, asyncio.Future[_Result]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handler: IncomingHandler | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._connected = asyncio.Event()
        self._stopped = asyncio.Event()
        self._closed = False
        self._fatal: UplinkError | None = None
        self.last_error: UplinkError | None = None
        self.own_address = ""
        self.connections = 0
        self.reconnect_attempts = 0

    def __repr__(self) -> str:
        return f"BtpUplink({self.display_url!r}, connected={self.connected})"

    @property
    def connected(self) -> bool:
        return self._ws is not None

    def set_incoming_handler(self, handler: IncomingHandler | None) -> None:
        self._handler = handler

    # -- connection lifecycle -------------------------------------------------------------

    async def connect(self) -> None:
        """Open the WebSocket and authenticate; then keep it up in the background.

        Raises:
            UplinkAuthError: the connector refused the token (no retry follows).
            UplinkUnreachableError, UplinkTlsError, UplinkDisconnectedError,
            UplinkProtocolError, UplinkTimeoutError: the first attempt failed (no retry
                follows either; call ``connect`` again or use :meth:`start`).
        """
        if self._closed:
            raise UplinkClosedError(self.display_url)
        if self._supervisor is not None:
            await self.wait_connected(self._connect_timeout + self._auth_timeout)
            return
        ws = await self._open()
        self._adopt(ws)
        self._supervisor = asyncio.create_task(self._run(ws))

    def start(self) -> None:
        """Connect in the background, retrying with backoff until connected (or auth fails)."""
        if self._closed:
            raise UplinkClosedError(self.display_url)
        if self._supervisor is None:
            self._supervisor = asyncio.create_task(self._run(None))

    async def wait_connected(self, timeout: float) -> None:
        """Wait until the link is up.

        Raises:
            UplinkAuthError: the connector refused the token.
            UplinkClosedError: the uplink was closed.
            UplinkError: not connected within ``timeout`` seconds (the last failure seen).
        """
        if not self._connected.is_set():
            waiters = [
                asyncio.ensure_future(self._connected.wait()),
                asyncio.ensure_future(self._stopped.wait()),
            ]
            try:
                await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waiters:
                    w.cancel()
        if self._fatal is not None:
            raise self._fatal
        if self._closed:
            raise UplinkClosedError(self.display_url)
        if not self._connected.is_set():
            raise self.last_error or UplinkDisconnectedError(self.display_url, "not connected")

    async def close(self) -> None:
        """Stop: close the socket, stop reconnecting; pending sends resolve as local Rejects."""
        if self._closed:
            return
        self._closed = True
        self._stopped.set()
        supervisor, self._supervisor = self._supervisor, None
        if supervisor is not None:
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor
        if self._ws is not None:
            await self._ws.close()
            self._ws = None
        self._fail_pending(UplinkDisconnectedError(self.display_url, "the uplink was closed"))
        for task in list(self._tasks):
            task.cancel()

    async def _open(self) -> WebSocket:
        """One connection attempt: WebSocket handshake, then the auth sub-protocol."""
        try:
            async with asyncio.timeout(self._connect_timeout):
                ws = await connect_websocket(
                    self._url, ssl_context=self._ssl, heartbeat=self._heartbeat
                )
        except (TransportError, TimeoutError) as e:
            raise wrap_client_error(self._url, e) from None
        try:
            await self._authenticate(ws)
        except BaseException:
            await ws.close()
            raise
        return ws

    async def _authenticate(self, ws: WebSocket) -> None:
        request_id = random.getrandbits(32)
        frame = auth_message(request_id, self._username, self._token.reveal())
        try:
            async with asyncio.timeout(self._auth_timeout):
                await ws.send(frame.to_bytes())
                data = await ws.receive()
        except TimeoutError:
            raise UplinkTimeoutError(self.display_url, "no answer to authentication") from None
        except TransportError:
            closed = UplinkDisconnectedError(self.display_url, "closed during authentication")
            raise closed from None
        try:
            reply = parse_frame(data)
        except CodecError:
            raise UplinkProtocolError(self.display_url, "unreadable auth reply") from None
        if reply.request_id == request_id and isinstance(reply, BtpError):
            # RFC 23: "If the server sent an Error, it subsequently closes the connection."
            reason = reply.data.decode("utf-8", "replace").replace(self._token.reveal(), "***")
            raise UplinkAuthError(self.display_url, f"{reply.name}: {reason[:200]}")
        if reply.request_id != request_id or not isinstance(reply, Response):
            raise UplinkProtocolError(self.display_url, "unexpected reply to authentication")

    async def _run(self, ws: WebSocket | None) -> None:
        """Keep a connection up until closed or refused."""
        attempt = 0
        while not self._closed:
            if ws is None:
                try:
                    ws = await self._open()
                except UplinkAuthError as e:
                    self._fatal = self.last_error = e
                    log.warning("%s", e)
                    self._stopped.set()
                    return
                except UplinkError as e:
                    self.last_error = e
                    delay = min(self._backoff_cap, self._backoff_base * 2**attempt)
                    attempt += 1
                    self.reconnect_attempts += 1
                    await asyncio.sleep(delay * (0.5 + random.random() / 2))
                    continue
                self._adopt(ws)
            attempt = 0
            try:
                await ws.wait_closed()
            finally:
                self._connected.clear()
                self._ws = None
                dropped = UplinkDisconnectedError(self.display_url, "connection lost")
                if not self._closed:
                    self.last_error = dropped
                self._fail_pending(dropped)
                await ws.close()
            ws = None

    def _adopt(self, ws: WebSocket) -> None:
        self._loop = asyncio.get_running_loop()
        # Frames go to _on_frame from the WebSocket's reader from now on (RFC 23 allows no
        # other message before the auth Response, which _authenticate took).
        self._ws = ws
        ws.listen(functools.partial(self._on_frame, ws))
        self.last_error = None
        self.connections += 1
        self._connected.set()

    def _fail_pending(self, error: UplinkError) -> None:
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_result(error)

    def _on_frame(self, ws: WebSocket, data: bytes) -> None:
        fast = fast_ilp_response(data)
        if fast is not None:
            waiter = self._pending.pop(fast[0], None)
            if waiter is not None and not waiter.done():
                waiter.set_result(fast[1])
            return
        try:
            frame = parse_frame(data)
        except CodecError as e:
            # RFC 23: "If an unreadable BTP packet is received, no response should be sent."
            log.debug("ignoring unreadable BTP packet: %s", e)
            return
        if isinstance(frame, Response | BtpError):
            future = self._pending.pop(frame.request_id, None)
            if future is not None and not future.done():
                future.set_result(frame)
            return
        primary = frame.protocol_data[0] if frame.protocol_data else None
        if isinstance(frame, Message) and primary is not None and primary.name == ILP:
            self._spawn(self._serve(ws, frame.request_id, primary.data))
            return
        # A Transfer (settlement) or another sub-protocol: Trickle does not take them.
        kind = "settlement" if isinstance(frame, Transfer) else "this sub-protocol"
        error = BtpError(
            frame.request_id,
            "F00",
            "NotAcceptedError",
            format_triggered_at(self._clock()),
            f"{kind} is not supported".encode(),
        )
        self._spawn(self._write(ws, error.to_bytes()))

    def _spawn(self, coro: Coroutine[object, object, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _write(ws: WebSocket, data: bytes) -> None:
        """Send ``data`` unless the connection has closed (an answer to a dead connection is
        not owed: the connector has already failed that request)."""
        with contextlib.suppress(TransportError):
            await ws.send(data)

    async def _serve(self, ws: WebSocket, request_id: int, raw: bytes) -> None:
        """Answer a Prepare the connector sent us (RFC 23: "The responder should always send
        back a response to a request with the same requestId")."""
        reply: Fulfill | Reject
        try:
            prepare = parse_prepare(raw)
        except CodecError as e:
            reply = Reject("F01", self.own_address, f"invalid ILP Prepare: {e}"[:200])
        else:
            reply = await answer_incoming(self._handler, prepare, self._clock(), self.own_address)
        await self._write(ws, ilp_response(request_id, reply.to_bytes()))

    # -- sending ---------------------------------------------------------------------------

    async def send(self, prepare: Prepare) -> Fulfill | Reject:
        """Send ``prepare`` and wait for its Fulfill or Reject, at most until it expires.

        Raises:
            UplinkAuthError: the connector refused our token; nothing is sent.
            UplinkClosedError: :meth:`close` was called.
        """
        if self._closed:
            raise UplinkClosedError(self.display_url)
        if self._fatal is not None:
            raise self._fatal
        ws = self._ws
        if ws is None:
            error = self.last_error or UplinkDisconnectedError(self.display_url, "not connected")
            return local_reject(error, self.own_address)
        left = seconds_left(prepare, self._clock())
        if left <= 0:
            return expired_reject(self.own_address)
        pending = self._pending
        request_id = random.getrandbits(32)
        while request_id in pending:
            request_id = random.getrandbits(32)
        # What ``asyncio.timeout(left)`` does (cancel this task at expiry), for a third of its
        # cost: on Python 3.11 every ``get_running_loop()`` (it makes four) is a getpid()
        # system call, and this is the path of every packet.
        loop = self._loop
        task = asyncio.current_task(loop)
        assert loop is not None and task is not None  # connected, so adopted on this loop
        future: asyncio.Future[_Result] = loop.create_future()
        pending[request_id] = future
        expired = False

        def expire() -> None:
            nonlocal expired
            expired = True
            task.cancel()

        timer = loop.call_at(loop.time() + left, expire)
        try:
            await ws.send(ilp_message(request_id, prepare.to_bytes()))
            result = await future
        except asyncio.CancelledError:
            if not expired or task.uncancel() > 0:
                raise
            if not future.done() or future.cancelled():  # (cancelling the task cancels it)
                return local_reject(
                    UplinkTimeoutError(self.display_url, "no reply before expiry"),
                    self.own_address,
                )
            # The reply came in the same turn as the expiry: it counts (a Fulfill is money).
            result = future.result()
        except TransportError as e:
            return local_reject(wrap_client_error(self._url, e), self.own_address)
        finally:
            timer.cancel()
            pending.pop(request_id, None)
        return self._reply(prepare, result)

    def _reply(self, prepare: Prepare, result: _Result) -> Fulfill | Reject:
        own = self.own_address
        data: bytes | None
        if isinstance(result, bytes):
            data = result
        elif isinstance(result, UplinkError):
            return local_reject(result, own)
        elif isinstance(result, BtpError):
            # A BTP-level failure, not an ILP one; RFC 23: "T" codes are temporary.
            code = "T00" if result.code.startswith("T") else "F00"
            text = result.data.decode("utf-8", "replace")[:200]
            return Reject(code, own, f"the connector refused the packet: {result.name} {text}")
        else:
            data = result.get(ILP)
        if data is None:
            err = UplinkProtocolError(self.display_url, "reply without an ILP packet")
            return local_reject(err, own)
        try:
            reply = parse_reply(data)
        except CodecError as e:
            return local_reject(UplinkProtocolError(self.display_url, str(e)[:200]), own)
        return checked_reply(prepare, reply, own)
