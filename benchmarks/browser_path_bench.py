"""The browser path vs the same STREAM payment driven from Python: added latency, packets/s.

    .venv/bin/python benchmarks/browser_path_bench.py [--transport fetch|ws|both]
        [--rounds 3] [--latency-packets 300] [--throughput-packets 1500]

One receiver for every path, in a process of its own (as a real one is, so its CPU and GIL are
not the browser's): a Python STREAM receiver (``StreamServer``) on loopback behind two
endpoints, which answer IL-DCP too: ILP over HTTP at ``/ilp`` (aiohttp, sync mode, keep-alive)
and one WebSocket per client at ``/ws`` (tests/qt/webmonetization/ws_paying_handler.py's
framing: 4-byte big-endian request id + raw ILP packet, both ways; no permessage-deflate). Its
origin also serves the two handler pages, one per *transport*, each with its yardstick:

* ``fetch``: the handler test_payment.py uses (tests/qt/webmonetization/paying_handler.py)
  POSTs each ``{id, request}`` with ``fetch`` to ``/ilp``; yardstick: an ``HttpUplink`` to
  ``/ilp``.
* ``ws``: the handler keeps ONE WebSocket to ``/ws`` and sends each Prepare over it (what a
  provider that cares about speed would write); yardstick: ``WsLink`` below, the same framing
  over one aiohttp client WebSocket to ``/ws``.

So "added" always compares like with like: HTTP with HTTP, WebSocket with WebSocket.

* **direct** (the yardstick): Trickle's STREAM client on the wallet loop, through the
  transport's yardstick link.
* **browser**: a real QtWebEngine tab (offscreen, shown) calls ``WebMonetization.monetize()``,
  ``createStream()``, ``setSendMax`` and ``sendTotal``; the page bridge opens the same STREAM
  client over a ``HandlerLink``, whose Prepares go wallet loop → GUI thread → QWebChannel →
  hidden handler host → handler iframe → ``fetch`` or WebSocket → the receiver, and back; the
  page gets its ``outgoing_money`` events. The payment layer (``wallet.payments``) decides every
  packet as in the app, over an ``UnlimitedBudget`` with room for everything and no pacing (the
  wallet's SQLite budget is measured by ledger_bench.py, not here).

Each round sends, per transport and alternating direct and browser, the same packets
(``max_packet_amount`` 1,000 units):

* *latency*: one packet in flight (congestion window 1); the round trip of each fulfilled
  Prepare is timed on the wallet loop around ``Link.send``, the same place on every path.
  Added latency = browser minus direct. It is split with the handler's own time (in the iframe:
  request received to reply posted, its ``fetch`` or WebSocket round trip included,
  ``window.handlerMs``) into the path Trickle owns (wallet → handler iframe → wallet) and what
  the handler's transport costs over the yardstick's. One more browser pass (first transport
  only) uses a handler that reads ``data`` before ``origin``: the price Chromium puts on that
  (see handler_host.py). benchmarks/handler_path_profile.py splits Trickle's part hop by hop.
* *throughput*: the client's default congestion window (4, growing to 32); packets/s is the
  number of fulfilled Prepares over ``setSendMax`` + ``sendTotal`` as the page sees them
  (``performance.now()``), over ``send_total`` (``perf_counter``) for the yardstick.

Prints, per transport, the median and p90 round trip of each path, the added latency and its
split, packets/s of each path and their ratio — each the median over rounds with every round
in brackets — then PASS/MISS per transport against the targets: ≤ 2 ms median added latency
(end to end, and the browser path alone: what a handler's own transport costs in Chromium over
Python is the handler's choice, not a cost of the path),
≥ 300 packets/s through one tab.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime
import itertools
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Before Qt loads (as tests/conftest.py does; a benchmark, never the app).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
os.environ.setdefault("XDG_CACHE_HOME", tempfile.mkdtemp(prefix="trickle-bench-cache-"))

import aiohttp  # noqa: E402
import shiboken6  # noqa: E402
from aiohttp import web  # noqa: E402
from PySide6 import QtWebEngineWidgets  # noqa: E402, F401  (before QApplication)
from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QTimer, QUrl  # noqa: E402
from PySide6.QtWebEngineCore import QWebEngineProfile  # noqa: E402
from PySide6.QtWebEngineWidgets import QWebEngineView  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from tests.qt.webmonetization.conftest import (  # noqa: E402  (registers the scheme first)
    ConsolePage,
    FakeClock,
    ManualArm,
    MemoryRegistry,
    Site,
    page_html,
)
from tests.qt.webmonetization.paying_handler import (  # noqa: E402
    ASSET_CODE,
    ASSET_SCALE,
    HANDLER,
    NoReturnLink,
    ildcp_fulfill,
)
from tests.qt.webmonetization.ws_paying_handler import (  # noqa: E402
    WS_HANDLER,
    WS_PATH,
    frame,
    framed_messages,
    ws_endpoint,
)
from ui.asyncbridge import AsyncBridge, LoopThread  # noqa: E402
from ui.browser.hooks import TabContext  # noqa: E402
from ui.webmonetization.bridge import WebMonetizationHook, WebMonetizationServices  # noqa: E402
from ui.webmonetization.consent import ConsentPrompter  # noqa: E402
from ui.webmonetization.handler_host import HandlerHost  # noqa: E402
from ui.webmonetization.protocols import RegisteredHandler  # noqa: E402
from ui.webmonetization.register import DismissalTracker  # noqa: E402
from ui.webmonetization.scripts import WebMonetizationProfileInstaller  # noqa: E402
from wallet.budgets import Asset, Decision  # noqa: E402
from wallet.events import EventBus  # noqa: E402
from wallet.ilp import (  # noqa: E402
    CodecError,
    Fulfill,
    Prepare,
    Reject,
    is_ildcp_request,
    parse_prepare,
    parse_reply,
)
from wallet.ledger import Reservation  # noqa: E402
from wallet.net.http_uplink import HttpUplink  # noqa: E402
from wallet.net.ildcp import fetch_account_config  # noqa: E402
from wallet.net.link import IncomingHandler, Link  # noqa: E402
from wallet.net.router import Router  # noqa: E402
from wallet.net.stream_client import connect  # noqa: E402
from wallet.net.stream_server import StreamServer  # noqa: E402
from wallet.net.uplink_base import checked_reply, expired_reject, seconds_left, utc_now  # noqa: E402
from wallet.payments import Payments  # noqa: E402
from wallet.reports import PayeeRecord  # noqa: E402
from wallet.secrets import Secret  # noqa: E402
from wallet.stream import ConnectionConfig  # noqa: E402

MAX_PACKET = 1000
TARGET_ADDED_MS = 2.0
TARGET_PPS = 300.0
LATENCY_WINDOW = 1  # packets in flight while timing round trips
WAIT_S = 120.0
T = TypeVar("T")

_ORIGIN_CHECK = 'if (e.source !== parent || e.origin !== "null") return;'
if _ORIGIN_CHECK not in HANDLER or _ORIGIN_CHECK not in WS_HANDLER:
    raise RuntimeError("a paying handler changed: update the data-first variants")


def data_first(handler: str) -> str:
    """The same handler, but it reads `data` without having read `origin` (`source` only)."""
    return handler.replace(_ORIGIN_CHECK, "if (e.source !== parent) return;")


@dataclass(frozen=True)
class Transport:
    """How the handler reaches its provider, and the yardstick that goes the same way."""

    name: str
    title: str
    handler_path: str  # the handler page on the receiver's origin
    handler: str
    hop: str  # what the handler's own time adds on top of the yardstick's round trip


TRANSPORTS = {
    t.name: t
    for t in (
        Transport(
            "fetch",
            "ILP over HTTP: the handler fetch()es each packet; yardstick: HttpUplink",
            "/handler",
            HANDLER,
            "the handler's fetch over Python's HTTP client",
        ),
        Transport(
            "ws",
            "one WebSocket: the handler sends each packet over it; yardstick: the same "
            "framing from Python (aiohttp)",
            "/ws-handler",
            WS_HANDLER,
            "the handler's WebSocket over Python's",
        ),
    )
}


# ---- the receiver: STREAM behind ILP-over-HTTP, plus the handler pages, on one origin ---------


class ReceiverApp:
    """``GET /handler``, ``/ws-handler`` and their ``-data-first`` variants, ``POST /ilp``
    (IL-DCP, else STREAM), the same over WebSocket at ``/ws`` (ws_paying_handler's framing), and
    ``GET /credentials`` (fresh STREAM credentials, as SPSP would give them)."""

    def __init__(self) -> None:
        self.server = StreamServer(
            NoReturnLink(),
            base_address="test.receiver",
            asset_code=ASSET_CODE,
            asset_scale=ASSET_SCALE,
        )

    async def serve(self) -> None:
        """Print the port, then serve until stdin closes (the benchmark is done)."""
        app = web.Application()
        for transport in TRANSPORTS.values():
            path, handler = transport.handler_path, transport.handler
            app.router.add_get(path, self._page(handler))
            app.router.add_get(path + "-data-first", self._page(data_first(handler)))
        app.router.add_get("/credentials", self._credentials)
        app.router.add_post("/ilp", self._ilp)
        app.router.add_get(WS_PATH, ws_endpoint(self._answer))
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(site._server.sockets[0].getsockname()[1], flush=True)  # type: ignore[union-attr]
        await asyncio.to_thread(sys.stdin.read)
        await runner.cleanup()

    @staticmethod
    def _page(html: str) -> Callable[[web.Request], Any]:
        async def get(_request: web.Request) -> web.Response:
            return web.Response(text=html, content_type="text/html", charset="utf-8")

        return get

    async def _credentials(self, _request: web.Request) -> web.Response:
        issued = self.server.credentials()
        secret = base64.b64encode(issued.shared_secret).decode()
        return web.json_response([issued.destination_account, secret])

    async def _ilp(self, request: web.Request) -> web.Response:
        try:
            prepare = parse_prepare(await request.read())
        except CodecError:
            return web.Response(status=400)
        reply = await self._answer(prepare)
        return web.Response(body=reply.to_bytes(), content_type="application/octet-stream")

    async def _answer(self, prepare: Prepare) -> Fulfill | Reject:
        return ildcp_fulfill() if is_ildcp_request(prepare) else await self.server.handle(prepare)


class Receiver:
    """``ReceiverApp`` in a child process (this script with ``--receiver``)."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, __file__, "--receiver"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self._process.stdout is not None
        self.origin = f"http://127.0.0.1:{int(self._process.stdout.readline())}"

    def credentials(self) -> tuple[str, str]:
        """A destination account and a base64 shared secret for one connection."""
        with urllib.request.urlopen(self.origin + "/credentials", timeout=10) as response:
            destination, secret = json.loads(response.read())
        return destination, secret

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(10)


class WsLink:
    """The WebSocket yardstick: a ``Link`` over ws_paying_handler's framing (4-byte request id +
    ILP packet), on aiohttp's client, to the receiver's ``/ws`` — what the WebSocket handler
    does, from Python. Kept to the ``Link`` rules: ``send`` resolves by the Prepare's expiry,
    with a local Reject for trouble on the path (R00 expired, T01 socket gone, F05 a Fulfill
    that does not match)."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[bytes]] = {}
        self._next_id = 0

    async def connect(self) -> None:
        self._session = aiohttp.ClientSession()
        self._ws = await self._session.ws_connect(self._url, compress=0, max_msg_size=1 << 16)
        self._reader = asyncio.create_task(self._read(self._ws))

    async def send(self, prepare: Prepare) -> Fulfill | Reject:
        if self._ws is None:
            raise RuntimeError("send on a WsLink that is not connected")
        left = seconds_left(prepare, utc_now())
        if left <= 0:
            return expired_reject()
        self._next_id = self._next_id % 0xFFFFFFFF + 1
        request_id = self._next_id
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            await self._ws.send_bytes(frame(request_id, prepare.to_bytes()))
            async with asyncio.timeout(left):
                return checked_reply(prepare, parse_reply(await future))
        except TimeoutError:
            return expired_reject()
        except (ConnectionError, aiohttp.ClientError) as exc:
            return Reject("T01", "", f"the socket failed: {type(exc).__name__}")
        except CodecError:
            return Reject("T00", "", "the receiver sent a bad packet")
        finally:
            self._pending.pop(request_id, None)

    def set_incoming_handler(self, handler: IncomingHandler | None) -> None:
        pass  # the receiver never sends us Prepares

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await self._reader
        if self._session is not None:
            await self._session.close()

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for request_id, packet in framed_messages(ws):
            future = self._pending.get(request_id)
            if future is not None and not future.done():
                future.set_result(packet)
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(ConnectionError("the socket closed"))


# ---- timing -------------------------------------------------------------------------------------


class TimedLink:
    """A ``Link`` that times the round trip of every fulfilled money Prepare (not IL-DCP, the
    rate probes or closing frames): benchmark instrumentation, nothing else."""

    def __init__(self, link: Link, samples: list[float]) -> None:
        self._link = link
        self.samples = samples

    async def send(self, prepare: Prepare) -> Fulfill | Reject:
        started = time.perf_counter()
        reply = await self._link.send(prepare)
        if isinstance(reply, Fulfill) and prepare.amount > 0:
            self.samples.append((time.perf_counter() - started) * 1000)
        return reply

    def set_incoming_handler(self, handler: IncomingHandler | None) -> None:
        self._link.set_incoming_handler(handler)

    async def close(self) -> None:
        await self._link.close()


class TimedLinks:
    """The bridge's ``LinkProvider``: the handler host's links, timed into ``samples``."""

    def __init__(self, host: HandlerHost) -> None:
        self._host = host
        self.samples: list[float] = []

    async def link_for(self, handler_uri: str) -> Link:
        return TimedLink(await self._host.link_for(handler_uri), self.samples)


def stream_config(window: int | None) -> ConnectionConfig:
    """The connection template of both paths (secret and addresses are set per connection)."""
    extra = {} if window is None else {"initial_window": window, "max_window": window}
    return ConnectionConfig(
        shared_secret=bytes(32),
        asset_code=ASSET_CODE,
        asset_scale=ASSET_SCALE,
        max_packet_amount=MAX_PACKET,
        **extra,  # type: ignore[arg-type]
    )


@dataclass
class Run:
    seconds: float  # sending, as its caller sees it
    rtt_ms: list[float]  # one per fulfilled money packet
    handler_ms: list[float] = field(default_factory=list)  # browser: the handler's own time

    @property
    def pps(self) -> float:
        return len(self.rtt_ms) / self.seconds


def med(values: list[float]) -> float:
    return statistics.median(values)


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]


# ---- the two paths ------------------------------------------------------------------------------


async def pay_direct(
    receiver: Receiver, transport: Transport, packets: int, window: int | None
) -> Run:
    """The yardstick: the same STREAM client and packets, through an ``HttpUplink`` (fetch) or
    a ``WsLink`` (ws)."""
    uplink: HttpUplink | WsLink
    if transport.name == "fetch":
        uplink = HttpUplink(receiver.origin + "/ilp", Secret("bench"), listen_port=None)
    else:
        uplink = WsLink("ws" + receiver.origin.removeprefix("http") + WS_PATH)
    await uplink.connect()
    link = TimedLink(uplink, [])
    try:
        account = await fetch_account_config(link)
        destination, secret = await asyncio.to_thread(receiver.credentials)
        config = replace(
            stream_config(window),
            shared_secret=base64.b64decode(secret),
            source_account=account.client_address,
            destination_account=destination,
        )
        conn = await connect(link, config, router=Router(link, own_address=account.client_address))
        stream = conn.create_stream()
        started = time.perf_counter()
        await stream.send_total(packets * MAX_PACKET)
        seconds = time.perf_counter() - started
        conn.close()
        await asyncio.wait_for(conn.closed, 10)
        return Run(seconds, link.samples)
    finally:
        await uplink.close()


def wait_until(condition: Callable[[], bool], timeout: float = WAIT_S) -> None:
    """Run the Qt event loop until ``condition()`` (checked every 20 ms; the GUI thread idles)."""
    if condition():
        return
    loop = QEventLoop()
    deadline = time.monotonic() + timeout
    timer = QTimer()

    def check() -> None:
        if condition() or time.monotonic() > deadline:
            loop.quit()

    timer.timeout.connect(check)
    timer.start(20)
    loop.exec()
    timer.stop()
    if not condition():
        raise TimeoutError("gave up waiting")


def wait_future(future: Future[T]) -> T:
    wait_until(future.done)
    return future.result()


PAGE_SCRIPT = """
window.pay = async (destinationAccount, sharedSecret, amount) => {
  const conn = await WebMonetization.monetize({destinationAccount, sharedSecret});
  const stream = conn.createStream();
  let outgoing = 0n;
  stream.addEventListener("outgoing_money", (e) => { outgoing += BigInt(e.amount); });
  const started = performance.now();
  await stream.setSendMax(amount);
  await stream.sendTotal(amount, 600000);
  const ms = performance.now() - started;
  window.finish = () => {
    conn.addEventListener("close", () => report("closed", true));
    conn.close();
  };
  report("paid", {ms, sent: stream.totalSent, outgoing: String(outgoing)});
};
window.payOrReport = (d, s, a) => window.pay(d, s, a).catch((e) => reportError("paid", e));
"""


class UnlimitedBudget:
    """A ``wallet.payments.WalletBudget`` with room for everything: the browser path alone."""

    def __init__(self) -> None:
        self.site_listeners: list[Callable[[str | None], None]] = []
        self.events = EventBus()
        self._ids = itertools.count(1)

    def reserve(
        self,
        site: str,
        provider: str,
        asset: Asset,
        amount: int,
        *,
        min_amount: int | None = None,
        account_id: int | None = None,
        connection: str = "",
        quantum: int = 1,
    ) -> Reservation:
        return Reservation(next(self._ids), site, provider, asset, amount, connection, 0, "bench")

    def commit(
        self, res: Reservation, *, delivered: int = 0, dest_asset: Asset | None = None
    ) -> None:
        pass

    def commit_part(
        self,
        res: Reservation,
        *,
        spent: int,
        asset: Asset,
        delivered: int = 0,
        dest_asset: Asset | None = None,
    ) -> None:
        pass

    def release(self, res: Reservation) -> None:
        pass

    def expire(self, res: Reservation) -> None:
        pass

    def set_site_active(self, site: str, active: bool) -> None:
        pass

    # (tips, payees and holds: not on the path this benchmark measures)
    def now(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC)

    def refusal_lifts_at(self, site: str) -> datetime.datetime | None:
        return None

    def tip_room(self, site: str, asset: Asset, want: int) -> Decision:
        return Decision(want, None)

    def reserve_tip(
        self,
        site: str,
        provider: str,
        asset: Asset,
        amount: int,
        *,
        min_amount: int | None = None,
        account_id: int | None = None,
        connection: str = "",
        quantum: int = 1,
    ) -> Reservation:
        return self.reserve(site, provider, asset, amount, connection=connection)

    def record_payee(self, payee: PayeeRecord) -> None:
        pass


class BrowserSide:
    """One profile with the page scripts, the hidden handler host, one shown tab."""

    def __init__(self, asyncs: AsyncBridge, receiver: Receiver) -> None:
        self._receiver = receiver
        self.profile = QWebEngineProfile()  # off the record
        WebMonetizationProfileInstaller().install(self.profile)
        self.host = HandlerHost(self.profile, asyncs)
        wait_until(lambda: self.host._ready)
        self.links = TimedLinks(self.host)
        self.registry = MemoryRegistry()
        self._asyncs = asyncs
        self._budget = UnlimitedBudget()
        self.services = WebMonetizationServices(
            asyncs=asyncs,
            registry=self.registry,
            prompter=ConsentPrompter(arm=ManualArm()),
            tracker=DismissalTracker(FakeClock()),
            links=self.links,
        )
        self.site = Site()
        self.site.pages["/"] = page_html(script=PAGE_SCRIPT)
        self.page = ConsolePage(self.profile)
        self.view = QWebEngineView()
        self.view.setPage(self.page)
        self.view.resize(400, 300)
        self.tab = TabContext()
        self.tab.set_visible(True)
        WebMonetizationHook(self.services).attach(self.page, self.tab)
        self.view.show()
        loaded: list[bool] = []
        self.page.loadFinished.connect(loaded.append)
        self.page.load(QUrl(self.site.url("/")))
        wait_until(lambda: bool(loaded))
        if not loaded[-1]:
            raise RuntimeError("the site page did not load")

    def pay(self, packets: int, window: int | None, handler: str) -> Run:
        origin = self._receiver.origin
        self.registry.handlers = [RegisteredHandler(origin, "bench", origin + handler)]
        self.services.payments = Payments(
            self._budget, self._asyncs.loop, pace=0.0, template=stream_config(window)
        )
        destination, secret = self._receiver.credentials()
        self.links.samples = []
        self.page.reports.clear()
        amount = str(packets * MAX_PACKET)
        self._js(f"window.payOrReport({destination!r}, {secret!r}, {amount!r})")
        wait_until(lambda: self.page.has("paid"))
        result = self.page.report("paid")
        if "error" in result or (result["sent"], result["outgoing"]) != (amount, amount):
            raise RuntimeError(f"the page did not pay: {result}")
        handler_ms = self._handler_times()
        self._js("window.finish()")
        wait_until(lambda: self.page.has("closed"))
        if self.page.problems:
            raise RuntimeError(f"JS errors: {self.page.problems}")
        return Run(result["ms"] / 1000, self.links.samples, handler_ms)

    def _js(self, script: str) -> None:
        self.page.runJavaScript(script + "; 0", 0)

    def _handler_times(self) -> list[float]:
        """``window.handlerMs`` of the open connection's iframe (the host's newest frame)."""
        frames = [f for f in self.host.page.mainFrame().children() if f.isValid()]
        box: list[str] = []
        frames[-1].runJavaScript("JSON.stringify(window.handlerMs)", 0, box.append)
        wait_until(lambda: bool(box))
        return [float(ms) for ms in json.loads(box[0])]

    def close(self) -> None:
        """Pages first, then the profile (as QtWebEngine needs); after ``AsyncBridge.close``."""
        self.tab.close()
        self.view.setPage(None)  # type: ignore[arg-type]
        self.view.close()
        for obj in (self.view, self.page, self.host.page, self.host):
            obj.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        self.site.close()
        shiboken6.delete(self.profile)
        QCoreApplication.processEvents()


# ---- the run ------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, list[Run]]:
    """Every measure of every round, under ``"<transport> <path> <kind>"``."""
    app = QApplication([sys.argv[0]])
    wallet = LoopThread("bench-wallet")
    asyncs = AsyncBridge(wallet.loop)
    receiver = Receiver()
    results: dict[str, list[Run]] = {}
    transports = [TRANSPORTS[name] for name in selected(args.transport)]
    try:
        browser = BrowserSide(asyncs, receiver)
        try:

            def direct(transport: Transport, packets: int, window: int | None) -> Run:
                run = pay_direct(receiver, transport, packets, window)
                return wait_future(asyncs.submit(run))

            latency, throughput = args.latency_packets, args.throughput_packets
            measures: list[tuple[str, Callable[[], Run]]] = []
            for t in transports:
                # warm-up: connections, code caches, the handler iframe's first load
                direct(t, 100, None)
                browser.pay(100, None, t.handler_path)
                measures += [
                    (f"{t.name} direct latency", partial(direct, t, latency, LATENCY_WINDOW)),
                    (
                        f"{t.name} browser latency",
                        partial(browser.pay, latency, LATENCY_WINDOW, t.handler_path),
                    ),
                    (f"{t.name} direct throughput", partial(direct, t, throughput, None)),
                    (
                        f"{t.name} browser throughput",
                        partial(browser.pay, throughput, None, t.handler_path),
                    ),
                ]
            # the data-first price is the host's message path, whatever the handler does next:
            # measured once, with the first transport's handler
            first = transports[0]
            measures.append(
                (
                    f"{first.name} browser latency, data first",
                    partial(
                        browser.pay, latency, LATENCY_WINDOW, first.handler_path + "-data-first"
                    ),
                )
            )
            for _ in range(args.rounds):
                for name, measure in measures:
                    results.setdefault(name, []).append(measure())
        finally:
            asyncs.close()  # no more callbacks onto the GUI thread: its objects can go
            browser.close()
    finally:
        receiver.close()
        wallet.stop()
        del app
    return results


def selected(transport: str) -> list[str]:
    return list(TRANSPORTS) if transport == "both" else [transport]


def spread(values: list[float], fmt: str) -> str:
    return "[" + ", ".join(format(v, fmt) for v in sorted(values)) + "]"


def minus(a: list[float], b: list[float]) -> list[float]:
    return [x - y for x, y in zip(a, b, strict=True)]


def report(args: argparse.Namespace, results: dict[str, list[Run]]) -> None:
    names = selected(args.transport)
    print(
        f"{args.rounds} rounds, direct and browser alternating; per round, transport and path "
        f"{args.latency_packets} packets one at a time (round trips) and "
        f"{args.throughput_packets} with the default window (packets/s), {MAX_PACKET} units each"
    )
    print("medians over rounds [every round]")
    rtt50 = {k: [med(r.rtt_ms) for r in runs] for k, runs in results.items()}
    rtt90 = {k: [p90(r.rtt_ms) for r in runs] for k, runs in results.items()}

    def line(label: str, p50s: list[float], p90s: list[float]) -> None:
        print(
            f"  {label:17s} p50 {med(p50s):6.2f} ms {spread(p50s, '.2f'):26s}"
            f" p90 {med(p90s):6.2f} ms {spread(p90s, '.2f')}"
        )

    verdicts: list[str] = []
    verdict = {True: "PASS", False: "MISS"}
    for name in names:
        t = TRANSPORTS[name]
        print(f"{name}: {t.title}")
        direct50, direct90 = rtt50[f"{name} direct latency"], rtt90[f"{name} direct latency"]
        browser50, browser90 = rtt50[f"{name} browser latency"], rtt90[f"{name} browser latency"]
        added = minus(browser50, direct50)
        line("direct  round trip", direct50, direct90)
        line("browser round trip", browser50, browser90)
        line("added   round trip", added, minus(browser90, direct90))
        handler = [med(r.handler_ms) for r in results[f"{name} browser latency"]]
        trickle, hop = minus(browser50, handler), minus(handler, direct50)
        print(
            f"    p50 added = wallet -> handler iframe -> wallet {med(trickle):.2f} ms "
            f"{spread(trickle, '.2f')} + {t.hop} {med(hop):.2f} ms {spread(hop, '.2f')}"
        )
        careless = results.get(f"{name} browser latency, data first")
        if careless is not None:
            extra = minus([med(r.rtt_ms) for r in careless], browser50)
            print(
                f"    a handler that reads data before origin: {med(extra):+.2f} ms a packet "
                f"{spread(extra, '+.2f')}"
            )
        pps = {p: [r.pps for r in results[f"{name} {p} throughput"]] for p in ("direct", "browser")}
        for p in ("direct", "browser"):
            print(f"  {p:7s} throughput {med(pps[p]):7.0f} packets/s {spread(pps[p], '.0f')}")
        ratio = [b / d for b, d in zip(pps["browser"], pps["direct"], strict=True)]
        print(f"  browser/direct packets/s {med(ratio):.2f}x {spread(ratio, '.2f')}")
        verdicts.append(
            f"{verdict[med(added) <= TARGET_ADDED_MS]} {name}: added median round trip "
            f"{med(added):.2f} ms, end to end (target <= {TARGET_ADDED_MS:.0f} ms)"
        )
        verdicts.append(
            f"{verdict[med(trickle) <= TARGET_ADDED_MS]} {name}: of which the browser path "
            f"(page -> bridge -> handler iframe -> back) {med(trickle):.2f} ms, the rest is the "
            f"handler's own transport (target <= {TARGET_ADDED_MS:.0f} ms)"
        )
        verdicts.append(
            f"{verdict[med(pps['browser']) >= TARGET_PPS]} {name}: {med(pps['browser']):.0f} "
            f"packets/s through one tab (target >= {TARGET_PPS:.0f})"
        )
    print("\n".join(verdicts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-packets", type=int, default=300)
    parser.add_argument("--throughput-packets", type=int, default=1500)
    parser.add_argument("--transport", choices=("fetch", "ws", "both"), default="both")
    parser.add_argument("--receiver", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver:
        asyncio.run(ReceiverApp().serve())
        return
    logging.basicConfig(level=logging.WARNING)
    report(args, run(args))


if __name__ == "__main__":
    main()
