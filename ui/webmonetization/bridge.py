"""One bridge per page: the Python end of ``window.WebMonetization``.

``PageBridge`` is the QObject registered as ``trickleBridge`` on the page's QWebChannel in
ApplicationWorld (never the main world). The isolated-world ``bridge.js`` calls ``hello`` once
per document and ``call`` per façade call; Python answers through the ``toPage`` signal.

Wire format (JSON strings):

* JS → Python ``call``: ``{doc, url, origin, id, method, args, activation}`` (``origin`` is
  ``self.origin`` of the document, read in the isolated world).
* Python → JS ``toPage``: ``{doc, payload}`` where payload is one of
  ``{t:"result", id, ok:true, value}`` · ``{t:"result", id, ok:false, error:{name, message}}`` ·
  ``{t:"event", conn, stream?, type, fields?, connFields?, data?(base64), amount?, error?}``
  (``type`` ∈ stream, data, money, outgoing_money, close, error, fields).

Invariants:

* Every call is bound to the document that made it: its random ``doc`` id (from ``hello``)
  must be the page's current document and its ``url`` must have the page's current origin.
  A navigation (``loadStarted``) or tab close ends the document: pending prompts answer
  ``false``, pending ``monetize`` calls are dropped (a connection that opens later is closed at
  once), open connections are closed and their budget gates revoked — so no payment is ever
  attributed to the next page.
* Everything from JS is checked here again (types, sizes, handles); at most
  ``MAX_PENDING`` calls per document are in flight.
* Wallet work runs on the asyncio loop (``ui.asyncbridge``); Qt is touched on the GUI thread.
"""

from __future__ import annotations

import base64
import binascii
import concurrent.futures
import itertools
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from PySide6.QtCore import QObject, QUrl, Signal, Slot
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import QWebEngineLoadingInfo, QWebEnginePage, QWebEngineScript

from ui.asyncbridge import AsyncBridge, Outcome
from ui.browser.hooks import TabContext
from ui.webmonetization.consent import ConsentPrompter
from ui.webmonetization.errors import PageError, page_error
from ui.webmonetization.link_tags import PageLinks, valid_href, valid_link_id, valid_pointer
from ui.webmonetization.origins import origin_of
from ui.webmonetization.protocols import (
    ConnectionProxy,
    DocumentSession,
    Fields,
    HandlerRegistry,
    LinkProvider,
    PaymentSessions,
    StreamProxy,
)
from ui.webmonetization.register import (
    Answer,
    DismissalTracker,
    RegisterRequest,
    run_register,
    validate_register,
)
from ui.webmonetization.response_policy import DocumentResponse
from ui.webmonetization.wake import WakeWatch
from wallet.payments import PaymentError, document_origin

# Imported by the first call that needs them, not with the bridge (every page has one, the
# browser's first paint included): the link policies (.link_policy, with CSP and Permissions
# Policy), monetize()'s argument rules (.monetize) and the events of a connection (.events).

log = logging.getLogger(__name__)

BRIDGE_OBJECT_NAME = "trickleBridge"
MAX_CALL_JSON = 65536
MAX_PENDING = 64
MAX_CONNECTIONS = 8  # open (or opening) per document: each has its own handler iframe
MAX_SEND_BYTES = 32768
_DOC_ID = re.compile(r"[0-9a-f-]{36}")
_LOCAL_HANDLE = re.compile(r"j[0-9]{1,9}")
_CONN_HANDLE = re.compile(r"c[0-9]{1,9}")
_STREAM_HANDLE = re.compile(r"[jp][0-9]{1,9}")


@dataclass
class WebMonetizationServices:
    """What the page API needs from the rest of Trickle (constructor-injected, no globals)."""

    asyncs: AsyncBridge
    registry: HandlerRegistry
    prompter: ConsentPrompter
    tracker: DismissalTracker
    payments: PaymentSessions | None = None
    links: LinkProvider | None = None
    # Told (GUI thread) when a page in a tab calls monetize(): the toolbar indicator's feed.
    on_monetize: Callable[[TabContext], None] | None = None
    # The machine slept: every page's link sessions start afresh (ui.webmonetization.wake).
    wake: WakeWatch | None = None


class WebMonetizationHook:
    """A ``ui.browser.hooks.PageHook``: gives every page its bridge."""

    def __init__(self, services: WebMonetizationServices) -> None:
        self._services = services

    def attach(self, page: QWebEnginePage, tab: TabContext) -> PageBridge:
        return PageBridge(page, tab, self._services)


@dataclass
class _Connection:
    proxy: ConnectionProxy
    # a future per stream handle: a call may arrive while createStream is still on the loop
    streams: dict[str, concurrent.futures.Future[StreamProxy]] = field(default_factory=dict)
    handles: dict[int, str] = field(default_factory=dict)  # id(StreamProxy) -> handle


class PageBridge(QObject):
    """The page's ``trickleBridge``.

    Signals:
        toPage(str): a JSON push to the isolated-world script.
    """

    toPage = Signal(str)  # JS-facing name, hence camelCase

    def __init__(
        self,
        page: QWebEnginePage,
        tab: TabContext,
        services: WebMonetizationServices,
    ) -> None:
        super().__init__(page)
        self._page = page
        self._tab = tab
        self._s = services
        self._doc: str | None = None
        self._ended_doc: str | None = None  # the document a navigation started from
        self._pending: set[int] = set()
        self._conns: dict[str, _Connection] = {}
        self._payer: DocumentSession | None = None  # the current document's, once it pays
        self._reported_origin: str | None = None
        self._counter = itertools.count(1)
        self._closed = False
        # The top-level document's response policy (Permissions-Policy, CSP), from its response
        # headers (the HTTP cache's copy, then Qt's at load end); link starts wait there while
        # they are not known, and are decided again if Qt's differ.
        self._response = DocumentResponse()
        self._lifecycle_active = True
        self._links = PageLinks(
            self,
            services.asyncs,
            services.registry,
            lambda: services.links,
            lambda: services.payments,
        )
        self.channel = QWebChannel(self)
        self.channel.registerObject(BRIDGE_OBJECT_NAME, self)
        page.setWebChannel(self.channel, QWebEngineScript.ScriptWorldId.ApplicationWorld)
        page.loadStarted.connect(self._end_document)
        page.loadStarted.connect(self._response.navigating)
        page.loadingChanged.connect(self._on_loading_changed)
        page.lifecycleStateChanged.connect(self._on_lifecycle)
        tab.closing.connect(self._on_tab_closing)
        tab.visibility_changed.connect(self._on_visibility)
        if services.wake is not None:
            services.wake.woke.connect(self._on_wake)

    @property
    def page(self) -> QWebEnginePage:
        return self._page

    # ---- slots called from bridge.js ---------------------------------------------------------

    @Slot(str)
    def hello(self, text: str) -> None:
        msg = _loads(text, 4096)
        if not isinstance(msg, dict) or self._closed:
            return
        doc = msg.get("doc")
        if not isinstance(doc, str) or not _DOC_ID.fullmatch(doc):
            return
        if doc != self._doc:
            self._end_document()
            self._response.new_document()
            self._doc = doc
            self._ended_doc = None

    @Slot(str)
    def call(self, text: str) -> None:
        msg = _loads(text, MAX_CALL_JSON)
        if not isinstance(msg, dict) or self._closed:
            return
        doc, call_id = msg.get("doc"), msg.get("id")
        if self._doc is None and doc is not None and doc == self._ended_doc:
            # the navigation that ended it did not replace it (204, download, stop):
            # it is still the page's document, with nothing pending
            self._doc, self._ended_doc = doc, None
        if doc != self._doc or doc is None:
            return  # not the current document: it is gone, nobody to answer
        if not isinstance(call_id, int) or isinstance(call_id, bool) or call_id < 1:
            return
        url = msg.get("url")
        page_url = self._page.url()
        if not isinstance(url, str) or origin_of(QUrl(url)) != origin_of(page_url):
            self._reply_error(doc, call_id, PageError("NotAllowedError", "document mismatch"))
            return
        if len(self._pending) >= MAX_PENDING:
            self._reply_error(doc, call_id, PageError("RangeError", "too many pending calls"))
            return
        method, args = msg.get("method"), msg.get("args")
        origin = msg.get("origin")
        # self.origin as the document has it, read by bridge.js in the isolated world
        self._reported_origin = origin if isinstance(origin, str) and len(origin) < 300 else None
        handler = self._METHODS.get(method) if isinstance(method, str) else None
        if handler is None or not isinstance(args, dict):
            self._reply_error(doc, call_id, PageError("TypeError", "unknown method"))
            return
        try:
            handler(self, doc, call_id, args, page_url, msg.get("activation") is True)
        except Exception as e:  # noqa: BLE001 — a page call must get an answer, never a traceback
            self._reply_error(doc, call_id, e)

    # ---- methods ------------------------------------------------------------------------------

    def _register(
        self, doc: str, call_id: int, args: dict[str, Any], page_url: QUrl, activation: bool
    ) -> None:
        request = validate_register(args, page_url, activation)
        s = self._s
        key = self  # the page's questions are aborted together

        def ask(req: RegisterRequest) -> Awaitable[Answer]:
            return s.asyncs.in_gui_callback(lambda done: s.prompter.ask(key, req, done))

        self._run(doc, call_id, run_register(request, s.registry, s.tracker, ask))

    def _monetize(
        self, doc: str, call_id: int, args: dict[str, Any], page_url: QUrl, _activation: bool
    ) -> None:
        from ui.webmonetization.events import ConnectionEvents, snapshot
        from ui.webmonetization.monetize import validate_monetize

        request = validate_monetize(args)
        if len(self._conns) + len(self._pending) >= MAX_CONNECTIONS:
            raise PageError("NotAllowedError", f"at most {MAX_CONNECTIONS} connections per page")
        s = self._s
        payments = s.payments
        # HTML's origin rules (blob: and about: documents are their creator's; opaque origins
        # are refused), from the URL and the origin the document itself reports.
        site = document_origin(page_url.toString(), self._reported_origin)
        if self._payer is None and payments is None:
            raise PageError("NoHandlerRegisteredError", "Web Monetization is not enabled")
        payer = self._document_payer(site)
        if s.on_monetize is not None:
            s.on_monetize(self._tab)

        async def open_connection() -> tuple[ConnectionProxy, Fields]:
            handler = await s.registry.active_handler()
            if handler is None:
                raise PageError("NoHandlerRegisteredError", "no Web Monetization handler is set")
            if payments is None or s.links is None:
                raise PageError("NoHandlerRegisteredError", "Web Monetization is not enabled")
            link = await s.links.link_for(handler.uri)
            proxy: ConnectionProxy = await payments.monetize(
                payer,
                request.destination_account,
                request.shared_secret,
                link,
                provider=handler.uri,
                # The built-in provider's link names the local account whose balance pays.
                account_id=getattr(link, "account_id", None),
            )
            return proxy, snapshot(proxy.fields())

        handle = f"c{next(self._counter)}"

        def opened(outcome: Outcome[tuple[ConnectionProxy, Fields]]) -> None:
            self._pending.discard(call_id)
            if outcome.error is not None or outcome.value is None:
                self._reply_error(doc, call_id, outcome.error or PageError("Error", "failed"))
                return
            proxy, fields = outcome.value
            if doc != self._doc or self._closed:
                s.asyncs.submit(proxy.close())  # the page navigated meanwhile
                return
            self._conns[handle] = _Connection(proxy)
            listener = ConnectionEvents(self, doc, handle, proxy)
            s.asyncs.submit(_call_sync(lambda: proxy.set_listener(listener)))
            self._reply(doc, call_id, {"conn": handle, "fields": fields})

        self._pending.add(call_id)
        s.asyncs.submit(open_connection(), opened)

    def _document_payer(self, site: str) -> DocumentSession:
        """The current document's payment state in the wallet (made on first use)."""
        if self._payer is None:
            payments = self._s.payments
            assert payments is not None
            self._payer = payments.document(
                site,
                attending=self._tab.is_visible_in_focused_window() and self._lifecycle_active,
            )
        return self._payer

    # ---- <link rel="monetization"> (from bridge.js's link observer; see link_tags.py) -------

    @Slot(str)
    def linkStart(self, text: str) -> None:
        msg = _loads(text, MAX_CALL_JSON)
        if not isinstance(msg, dict) or self._closed or msg.get("doc") != self._doc:
            return
        if self._response.hold(valid_link_id(msg.get("link")), text):
            return  # the document's headers are not known yet
        from ui.webmonetization.link_policy import meta_policies, parse_frame, refusal

        response = self._response.policy
        assert response is not None
        doc, link = self._doc, valid_link_id(msg.get("link"))
        url, href = msg.get("url"), msg.get("href")
        # a link's href is an https: URL; the Coil-era <meta>'s ("m<n>") a payment pointer,
        # paid as such (SPSP) and checked against CSP as the https: URL it stands for
        fetched = valid_pointer(href) if link and link[0] == "m" else valid_href(href)
        page_url = self._page.url()
        if doc is None or link is None:
            return
        if not isinstance(url, str) or origin_of(QUrl(url)) != origin_of(page_url):
            return
        frame = parse_frame(msg["frame"]) if "frame" in msg else None
        if fetched is None or self._s.payments is None or ("frame" in msg and frame is None):
            self.push(doc, {"t": "link", "link": link, "kind": "error"})
            return
        origin = msg.get("origin")
        reported = origin if isinstance(origin, str) and len(origin) < 300 else None
        try:
            site = document_origin(page_url.toString(), reported)
        except PaymentError:
            self.push(doc, {"t": "link", "link": link, "kind": "error"})  # an opaque origin
            return
        refused = refusal(response, site, fetched, meta_policies(msg.get("csp")), frame)
        if refused is not None:
            self._links.set_reason(link, refused.words)
            if refused.error:  # CSP: the fetch is a network error
                self.push(doc, {"t": "link", "link": link, "kind": "error"})
            return  # Permissions Policy: "related events won't be dispatched"
        if self._s.on_monetize is not None:
            self._s.on_monetize(self._tab)  # the toolbar indicator: this page asks to be paid
        # an iframe's links are paid out of the top-level document's site, budget and rate
        assert isinstance(href, str)
        if link[0] == "m":  # the Coil-era <meta>: its session is starting (monetizationpending)
            self.push(doc, {"t": "link", "link": link, "kind": "pending"})
        self._links.start(doc, link, href, self._document_payer(site))

    @Slot(str)
    def documentHeaders(self, text: str) -> None:
        """bridge.js found the document's response in the HTTP cache: ``{doc, url, headers}``
        (its policy headers; see response_policy.py)."""
        msg = _loads(text, MAX_CALL_JSON)
        if not isinstance(msg, dict) or self._closed or msg.get("doc") != self._doc:
            return
        url = msg.get("url")
        if not isinstance(url, str) or origin_of(QUrl(url)) != origin_of(self._page.url()):
            return
        from ui.webmonetization.link_policy import parse_headers

        headers = parse_headers(msg.get("headers"))
        if headers is not None:
            self._decide_again(self._response.cached(headers, url))

    def _decide_again(self, starts: list[str]) -> None:
        """Decide these link starts under the document's (new) policy: a session that runs
        stops first, so one the policy now refuses is over."""
        for start in starts:
            msg = _loads(start, MAX_CALL_JSON)
            link = valid_link_id(msg.get("link")) if isinstance(msg, dict) else None
            if link is not None:
                self._links.stop(link)
                self.linkStart(start)

    @Slot(str)
    def linkStop(self, text: str) -> None:
        msg = _loads(text, 4096)
        if not isinstance(msg, dict) or msg.get("doc") != self._doc:
            return
        link = valid_link_id(msg.get("link"))
        if link is not None:
            self._response.drop(link)  # (a start still waiting for the headers: never run)
            self._links.stop(link)

    @property
    def link_sessions(self) -> int:
        """How many link sessions the current document has (started or starting)."""
        return len(self._links)

    @property
    def link_reasons(self) -> dict[str, str]:
        """Why the current document's links are not being paid, in words (by link id)."""
        return dict(self._links.reasons)

    def _conn(self, args: dict[str, Any]) -> _Connection:
        handle = args.get("conn")
        if not isinstance(handle, str) or not _CONN_HANDLE.fullmatch(handle):
            raise PageError("TypeError", "bad connection")
        conn = self._conns.get(handle)
        if conn is None:
            raise PageError("InvalidStateError", "the connection is closed")
        return conn

    def _stream(self, args: dict[str, Any]) -> concurrent.futures.Future[StreamProxy]:
        conn = self._conn(args)
        handle = args.get("stream")
        if not isinstance(handle, str) or not _STREAM_HANDLE.fullmatch(handle):
            raise PageError("TypeError", "bad stream")
        stream = conn.streams.get(handle)
        if stream is None:
            raise PageError("InvalidStateError", "the stream is closed")
        return stream

    def _create_stream(
        self, doc: str, call_id: int, args: dict[str, Any], _url: QUrl, _act: bool
    ) -> None:
        conn = self._conn(args)
        handle = args.get("stream")
        if not isinstance(handle, str) or not _LOCAL_HANDLE.fullmatch(handle):
            raise PageError("TypeError", "bad stream handle")
        if handle in conn.streams:
            raise PageError("InvalidStateError", "stream handle in use")
        from ui.webmonetization.events import StreamEvents, snapshot

        conn_handle = str(args["conn"])
        proxy = conn.proxy
        events = StreamEvents(self, doc, conn_handle, handle, proxy)

        async def create() -> StreamProxy:
            stream = proxy.create_stream()
            events.stream = stream
            stream.set_listener(events)
            return stream

        async def fields() -> Fields:
            import asyncio  # on the loop (not at start-up: ui/asyncbridge.py)

            return snapshot((await asyncio.wrap_future(future)).fields())

        future = self._s.asyncs.submit(create())
        conn.streams[handle] = future
        self._run(doc, call_id, fields())

    def _close_connection(
        self, doc: str, call_id: int, args: dict[str, Any], _url: QUrl, _act: bool
    ) -> None:
        from ui.webmonetization.events import snapshot

        proxy = self._conn(args).proxy

        async def close() -> Fields:
            await proxy.close()
            return {"connFields": snapshot(proxy.fields())}

        self._run(doc, call_id, close())

    def _stream_method(name: str) -> Callable[..., None]:  # type: ignore[misc]  # decorator-time
        def method(
            self: PageBridge, doc: str, call_id: int, args: dict[str, Any], _u: QUrl, _a: bool
        ) -> None:
            from ui.webmonetization.events import snapshot
            from ui.webmonetization.monetize import parse_amount, parse_timeout

            future = self._stream(args)
            op: Callable[[StreamProxy], Awaitable[None]]
            if name in ("setReceiveMax", "setSendMax", "receiveTotal", "sendTotal"):
                amount = parse_amount(args.get("amount"))
                timeout = parse_timeout(args.get("timeout"))
                op = {
                    "setReceiveMax": lambda s: s.set_receive_max(amount),
                    "setSendMax": lambda s: s.set_send_max(amount),
                    "receiveTotal": lambda s: s.receive_total(amount, timeout),
                    "sendTotal": lambda s: s.send_total(amount, timeout),
                }[name]
            elif name == "send":
                data = _send_data(args)
                op = lambda s: s.send(data)  # noqa: E731
            else:
                op = lambda s: s.close()  # noqa: E731

            proxy = self._conn(args).proxy

            async def call() -> Fields:
                import asyncio  # on the loop (not at start-up: ui/asyncbridge.py)

                stream = await asyncio.wrap_future(future)
                await op(stream)
                return {"fields": snapshot(stream.fields()), "connFields": snapshot(proxy.fields())}

            self._run(doc, call_id, call())

        return method

    _METHODS: ClassVar[dict[str, Callable[..., None]]] = {
        "register": _register,
        "monetize": _monetize,
        "connection.createStream": _create_stream,
        "connection.close": _close_connection,
        "stream.setReceiveMax": _stream_method("setReceiveMax"),
        "stream.receiveTotal": _stream_method("receiveTotal"),
        "stream.setSendMax": _stream_method("setSendMax"),
        "stream.sendTotal": _stream_method("sendTotal"),
        "stream.send": _stream_method("send"),
        "stream.close": _stream_method("close"),
    }

    # ---- plumbing -----------------------------------------------------------------------------

    def _run(self, doc: str, call_id: int, coro: Awaitable[Any]) -> None:
        """Run ``coro`` on the wallet loop; answer call ``call_id`` of ``doc`` with its result."""

        def done(outcome: Outcome[Any]) -> None:
            self._pending.discard(call_id)
            if outcome.error is not None:
                self._reply_error(doc, call_id, outcome.error)
            else:
                self._reply(doc, call_id, outcome.value)

        self._pending.add(call_id)
        self._s.asyncs.submit(_awaited(coro), done)

    def _reply(self, doc: str, call_id: int, value: Any) -> None:
        self.push(doc, {"t": "result", "id": call_id, "ok": True, "value": value})

    def _reply_error(self, doc: str, call_id: int, error: BaseException) -> None:
        if not isinstance(error, PageError) and not hasattr(type(error), "js_name"):
            log.error("page call failed", exc_info=error)
        err = page_error(error)
        self.push(doc, {"t": "result", "id": call_id, "ok": False, "error": err.to_json()})

    def post_to_gui(self, fn: Callable[[], None]) -> None:
        self._s.asyncs.post_to_gui(fn)

    def push(self, doc: str, payload: dict[str, Any]) -> None:
        """Send ``payload`` to document ``doc``: the current one, or the one a navigation just
        started from (answers to its cancelled calls; bridge.js drops other documents' pushes,
        so a new page never sees them)."""
        if self._closed or doc not in (self._doc, self._ended_doc):
            return
        self.toPage.emit(json.dumps({"doc": doc, "payload": payload}))

    def forget_connection(self, handle: str) -> None:
        self._conns.pop(handle, None)  # its session ended with it (wallet.payments)

    def new_handle(self, prefix: str) -> str:
        return f"{prefix}{next(self._counter)}"

    def add_remote_stream(self, conn_handle: str, handle: str, stream: StreamProxy) -> bool:
        conn = self._conns.get(conn_handle)
        if conn is None:
            return False
        done: concurrent.futures.Future[StreamProxy] = concurrent.futures.Future()
        done.set_result(stream)
        conn.streams[handle] = done
        return True

    def _end_document(self) -> None:
        """The current document is going away: cancel and close everything it started."""
        self._s.prompter.abort_page(self)
        if self._doc is not None:
            self._ended_doc = self._doc
        self._doc = None
        self._pending.clear()
        self._links.stop_all()
        conns, self._conns = self._conns, {}
        payer, self._payer = self._payer, None
        if payer is not None:
            payer.end()  # for good: nothing more is paid for this document
        for conn in conns.values():
            self._s.asyncs.submit(conn.proxy.close())

    def _on_loading_changed(self, info: QWebEngineLoadingInfo) -> None:
        self._decide_again(self._response.loaded(info))

    def _on_visibility(self, visible: bool) -> None:
        self._attending_now(visible and self._lifecycle_active)

    def _on_lifecycle(self, state: QWebEnginePage.LifecycleState) -> None:
        # A frozen or discarded page runs nothing and nobody sees it: nothing is paid for it.
        # A discarded one has no document any more (made active, the page loads anew).
        self._lifecycle_active = state == QWebEnginePage.LifecycleState.Active
        if state == QWebEnginePage.LifecycleState.Discarded:
            self._end_document()
        self._attending_now(self._tab.is_visible_in_focused_window() and self._lifecycle_active)

    def _attending_now(self, attending: bool) -> None:
        if self._payer is not None:
            self._payer.set_attending(attending)
        if self._doc is not None:
            self._links.attention(attending)  # the Coil-era meta's stop and pending

    def _on_wake(self, _asleep: float) -> None:
        if not self._closed:
            self._links.restart_all()

    def _on_tab_closing(self) -> None:
        self._end_document()
        self._ended_doc = None
        self._closed = True


def _send_data(args: dict[str, Any]) -> bytes:
    text, b64 = args.get("text"), args.get("bytes")
    if isinstance(text, str):
        data = text.encode("utf-8")
    elif isinstance(b64, str):
        try:
            data = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError) as e:
            raise PageError("TypeError", "send() takes a Uint8Array or a String") from e
    else:
        raise PageError("TypeError", "send() takes a Uint8Array or a String")
    if len(data) > MAX_SEND_BYTES:
        raise PageError("RangeError", f"send() takes at most {MAX_SEND_BYTES} bytes per call")
    return data


def _loads(text: str, limit: int) -> Any:
    if not isinstance(text, str) or len(text) > limit:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


async def _awaited(aw: Awaitable[Any]) -> Any:
    return await aw


async def _call_sync(fn: Callable[[], None]) -> None:
    fn()
