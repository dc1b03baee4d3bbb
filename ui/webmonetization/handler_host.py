"""The handler host: registered handlers run in iframes of a hidden, app-owned page.

The host is one hidden ``QWebEnginePage`` per profile (never shown, never a tab; no site's
content runs in it), with an opaque origin (see ``HOST_BASE_URL``).
``HandlerHost.link_for(uri)`` adds one iframe of the handler per connection (so incoming
Prepares have exactly one home) with
``referrerpolicy="no-referrer"`` and returns a ``HandlerLink`` — a ``wallet.net.link.Link``
the STREAM driver sends over.

Handler API (Web Monetization draft 4): outgoing Prepares go to the iframe as
``{id, request}`` with ``request`` the base64 of the ILP Prepare; the handler answers
``{id, response}`` (base64 Fulfill/Reject) or ``{id, error, errorName?}``. Incoming Prepares
come the other way as ``{id, request}`` and are answered with ``{id, response}``. IL-DCP
(``peer.config``) is just another Prepare on the same path. A handler should read a message's
``origin`` (it is ``"null"``: the host is opaque) before its ``data``: Chromium deliberately slows
the first read of a cross-origin message's data when its origin was not read first, by about
1.6 ms a message on a 2-core machine (benchmarks/browser_path_bench.py).

Invariants:

* Messages go out with the handler's exact origin as ``targetOrigin``; replies count only from
  that iframe's window and origin (checked in ``handler_host.js``), and only for an id this
  link issued: unguessable (``secrets``), single use, dropped once answered or expired.
* ``send`` resolves no later than the Prepare's expiry. Whatever may have reached the handler
  without a trustworthy answer raises ``OutcomeUnknownError`` (the payment layer charges it,
  never refunds it): no answer by expiry, an answer that is not a packet (bad base64, not an
  ILP reply), an ``{id, error}`` reply, the link closed with the Prepare out. A Fulfill goes
  to STREAM as it came, so STREAM itself finds a fulfillment that does not match the condition
  (and the payment layer stops the provider for that document). Only a Prepare that never left
  (expired before sending) gets a local R00.
* An iframe that fails to load (network error, refused, timeout) makes ``link_for`` raise
  ``HandlerUnavailableError`` — ``monetize()`` rejects with it.

Threads: the host (a QObject) lives on the GUI thread; ``HandlerLink`` methods are called on
the wallet loop; they meet through ``AsyncBridge``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources

from PySide6.QtCore import QObject, QTimer, QUrl, Signal, Slot
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile, QWebEngineScript

from ui.asyncbridge import AsyncBridge
from ui.webmonetization.errors import PageError
from ui.webmonetization.origins import is_potentially_trustworthy, origin_of
from ui.webmonetization.scripts import qwebchannel_js
from wallet.ilp import (
    CodecError,
    ErrorCode,
    Fulfill,
    Prepare,
    Reject,
    parse_prepare,
    parse_reply,
)
from wallet.net.link import IncomingHandler, OutcomeUnknownError

log = logging.getLogger(__name__)
js_log = logging.getLogger("trickle.js")

# An opaque origin (setHtml with a data: base). Not a trickle: URL: QtWebEngine 6.11 does not
# let a page of the (Local, Secure) trickle: scheme frame http(s) content (the iframe ends in
# chrome-error://). Opaque is stricter anyway: nothing can navigate to, frame or script it, and
# the handler sees only "null" as its parent's origin.
HOST_BASE_URL = QUrl("data:,trickle-handler-host")
HOST_OBJECT_NAME = "trickleHandlerHost"
LOAD_TIMEOUT_MS = 15000
MAX_MESSAGE_JSON = 200_000

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def host_html() -> str:
    """The host page: qwebchannel.js and handler_host.js inline, a strict CSP."""
    script = resources.files("resources.js").joinpath("handler_host.js")
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
        "script-src 'unsafe-inline'; frame-src https: http:\">"
        "<title>Trickle handler host</title></head><body><script>"
        + qwebchannel_js()
        + "\n"
        + script.read_text(encoding="utf-8")
        + "</script></body></html>"
    )


class _HostPage(QWebEnginePage):
    """The hidden page; its console (and its handlers' console) goes to ``trickle.js``."""

    def javaScriptConsoleMessage(  # Qt override
        self,
        level: QWebEnginePage.JavaScriptConsoleMessageLevel,
        message: str,
        line: int,
        source: str,
    ) -> None:
        levels = {
            QWebEnginePage.JavaScriptConsoleMessageLevel.InfoMessageLevel: logging.DEBUG,
            QWebEnginePage.JavaScriptConsoleMessageLevel.WarningMessageLevel: logging.INFO,
            QWebEnginePage.JavaScriptConsoleMessageLevel.ErrorMessageLevel: logging.WARNING,
        }
        js_log.log(
            levels.get(level, logging.INFO),
            "handler host: %s:%d: %s",
            source[:200],
            line,
            message[:1000],
        )


class HandlerUnavailable(PageError):
    js_name = "HandlerUnavailableError"

    def __init__(self, message: str) -> None:
        super().__init__("HandlerUnavailableError", message)


@dataclass
class _Frame:
    key: str
    url: str
    origin: str
    on_loaded: Callable[[bool], None]
    link: HandlerLink | None = None
    settled: bool = False
    timer: QTimer | None = field(default=None, repr=False)


class HandlerHost(QObject):
    """The hidden host page of one profile.

    Signals (to handler_host.js): openFrame(json), closeFrame(key), toHandler(json).
    """

    openFrame = Signal(str)  # JS-facing names (camelCase)
    closeFrame = Signal(str)
    toHandler = Signal(str)

    def __init__(
        self,
        profile: QWebEngineProfile,
        asyncs: AsyncBridge,
        clock: Clock = utc_now,
        load_timeout_ms: int = LOAD_TIMEOUT_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._asyncs = asyncs
        self._clock = clock
        self._load_timeout_ms = load_timeout_ms
        self._frames: dict[str, _Frame] = {}
        self._ready = False
        self._backlog: list[Callable[[], None]] = []
        self.page = _HostPage(profile, self)
        self._channel = QWebChannel(self)
        self._channel.registerObject(HOST_OBJECT_NAME, self)
        self.page.setWebChannel(self._channel, QWebEngineScript.ScriptWorldId.MainWorld)
        self.page.loadFinished.connect(self._on_host_loaded)
        self.page.setHtml(host_html(), HOST_BASE_URL)

    # ---- from handler_host.js ----------------------------------------------------------------

    @Slot()
    def ready(self) -> None:
        self._ready = True
        backlog, self._backlog = self._backlog, []
        for fn in backlog:
            fn()

    @Slot(str)
    def frameLoaded(self, key: str) -> None:  # JS-facing name
        frame = self._frames.get(key)
        if frame is None or frame.settled:
            return
        # An iframe fires "load" for error pages too: ask the frame itself where it is.
        child = self.page.findFrameByName(key)
        if child is None or not child.isValid():
            self._settle(frame, False)
            return
        child.runJavaScript(
            "location.origin",
            QWebEngineScript.ScriptWorldId.ApplicationWorld.value,
            lambda origin: self._settle(frame, origin == frame.origin),
        )

    @Slot(str)
    def fromHandler(self, text: str) -> None:  # JS-facing name
        if not isinstance(text, str) or len(text) > MAX_MESSAGE_JSON:
            return
        try:
            msg = json.loads(text)
        except ValueError:
            return
        if not isinstance(msg, dict) or not isinstance(msg.get("message"), dict):
            return
        frame = self._frames.get(msg.get("key"))  # type: ignore[arg-type]
        if frame is None or frame.link is None:
            return
        frame.link.from_handler(msg["message"])

    # ---- used by links (GUI thread) ----------------------------------------------------------

    def post_to_handler(self, key: str, message: dict[str, str]) -> None:
        if key in self._frames:
            self.toHandler.emit(json.dumps({"key": key, "message": message}))

    def remove_frame(self, key: str) -> None:
        frame = self._frames.pop(key, None)
        if frame is not None:
            if frame.timer is not None:
                frame.timer.stop()
            self.closeFrame.emit(key)

    # ---- used by the bridge (wallet loop) ----------------------------------------------------

    async def link_for(self, handler_uri: str) -> HandlerLink:
        """A new link to the handler at ``handler_uri`` (its own iframe).

        Raises:
            HandlerUnavailable: the URL is not allowed or the handler failed to load.
        """
        url = QUrl(handler_uri)
        if not url.isValid() or not is_potentially_trustworthy(url):
            raise HandlerUnavailable("the registered handler URL is not https")
        loop = asyncio.get_running_loop()
        key = "h" + secrets.token_hex(16)
        link = HandlerLink(self, key, loop, self._clock)

        def start(done: Callable[[bool], None]) -> None:
            frame = _Frame(key, url.toString(), origin_of(url), done, link)
            self._frames[key] = frame
            frame.timer = QTimer(self)
            frame.timer.setSingleShot(True)
            frame.timer.timeout.connect(lambda: self._settle(frame, False))
            frame.timer.start(self._load_timeout_ms)
            spec = json.dumps({"key": key, "url": frame.url, "origin": frame.origin})
            if self._ready:
                self.openFrame.emit(spec)
            else:
                self._backlog.append(lambda: self.openFrame.emit(spec))

        ok = await self._asyncs.in_gui_callback(start)
        if not ok:
            self._asyncs.post_to_gui(lambda: self.remove_frame(key))
            raise HandlerUnavailable("the Web Monetization handler could not be loaded")
        return link

    # ---- internals ----------------------------------------------------------------------------

    def _settle(self, frame: _Frame, ok: bool) -> None:
        if frame.settled:
            return
        frame.settled = True
        if frame.timer is not None:
            frame.timer.stop()
        frame.on_loaded(ok)

    def _on_host_loaded(self, ok: bool) -> None:
        if not ok:
            log.error("the handler host page failed to load")
            for frame in list(self._frames.values()):
                self._settle(frame, False)


def _local_reject(code: ErrorCode, message: str) -> Reject:
    return Reject(code.value, "", message[:200])


class HandlerLink:
    """A ``Link`` through one handler iframe (methods called on the wallet loop)."""

    def __init__(
        self, host: HandlerHost, key: str, loop: asyncio.AbstractEventLoop, clock: Clock
    ) -> None:
        self._host = host
        self._key = key
        self._loop = loop
        self._clock = clock
        self._pending: dict[str, tuple[asyncio.Future[Fulfill | Reject], Prepare]] = {}
        # answers to our Prepares arrive as a reply, or as the reason no reply can be trusted
        self._incoming: IncomingHandler | None = None
        self._closed = False

    # -- Link --

    async def send(self, prepare: Prepare) -> Fulfill | Reject:
        if self._closed:
            raise RuntimeError("send on a closed HandlerLink")
        remaining = (prepare.expires_at - self._clock()).total_seconds()
        if remaining <= 0:
            return _local_reject(ErrorCode.R00_TRANSFER_TIMED_OUT, "expired before sending")
        request_id = secrets.token_urlsafe(24)
        future: asyncio.Future[Fulfill | Reject] = self._loop.create_future()
        self._pending[request_id] = (future, prepare)
        message = {"id": request_id, "request": base64.b64encode(prepare.to_bytes()).decode()}
        self._host_call(lambda: self._host.post_to_handler(self._key, message))
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout=remaining)
        except TimeoutError as e:
            raise OutcomeUnknownError("the handler did not answer before expiry") from e
        finally:
            self._pending.pop(request_id, None)

    def set_incoming_handler(self, handler: IncomingHandler | None) -> None:
        self._incoming = handler

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        pending, self._pending = self._pending, {}
        for future, _prepare in pending.values():
            if not future.done():
                future.set_exception(
                    OutcomeUnknownError("the handler link closed with the Prepare out")
                )
        self._host_call(lambda: self._host.remove_frame(self._key))

    # -- from the host (GUI thread) --

    def from_handler(self, message: dict[str, object]) -> None:
        self._loop.call_soon_threadsafe(self._on_message, message)

    # -- internals (loop) --

    def _host_call(self, fn: Callable[[], None]) -> None:
        self._host._asyncs.post_to_gui(fn)

    def _on_message(self, message: dict[str, object]) -> None:
        request_id = message.get("id")
        if not isinstance(request_id, str):
            return
        if "request" in message:
            request = message.get("request")
            if isinstance(request, str) and not self._closed:
                self._loop.create_task(self._answer_incoming(request_id, request))
            return
        entry = self._pending.pop(request_id, None)
        if entry is None:
            return  # unknown, answered or expired: single use
        future, _prepare = entry
        if future.done():
            return
        try:
            future.set_result(self._reply_from(message))
        except OutcomeUnknownError as e:
            future.set_exception(e)

    @staticmethod
    def _reply_from(message: dict[str, object]) -> Fulfill | Reject:
        """The handler's reply as it came (STREAM verifies a Fulfill itself).

        Raises:
            OutcomeUnknownError: not a packet, or an error: the Prepare may have been paid.
        """
        response = message.get("response")
        if isinstance(response, str):
            try:
                return parse_reply(base64.b64decode(response, validate=True))
            except (binascii.Error, ValueError, CodecError) as e:
                raise OutcomeUnknownError("the handler sent a bad packet") from e
        error, name = message.get("error"), message.get("errorName")
        text = f"{name}: {error}" if isinstance(name, str) else str(error)
        raise OutcomeUnknownError(f"handler error: {text[:200]}")

    async def _answer_incoming(self, request_id: str, request: str) -> None:
        try:
            prepare = parse_prepare(base64.b64decode(request, validate=True))
        except (binascii.Error, ValueError, CodecError):
            reply: Fulfill | Reject = _local_reject(ErrorCode.F01_INVALID_PACKET, "bad Prepare")
        else:
            handler = self._incoming
            if handler is None:
                reply = _local_reject(ErrorCode.F02_UNREACHABLE, "no receiver")
            else:
                try:
                    reply = await handler(prepare)
                except Exception:  # Link rule: a failing handler is answered T00, never a hang
                    log.exception("incoming Prepare handler failed")
                    reply = _local_reject(ErrorCode.T00_INTERNAL_ERROR, "internal error")
        message = {"id": request_id, "response": base64.b64encode(reply.to_bytes()).decode()}
        self._host_call(lambda: self._host.post_to_handler(self._key, message))
