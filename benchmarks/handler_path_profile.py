"""Where one packet's time goes on the browser path, hop by hop (a profile, not a benchmark).

    .venv/bin/python benchmarks/handler_path_profile.py [--handler echo|fetch|ws] [--packets 300]

Timestamps every packet (one in flight) at each hop of Trickle's own path and prints the median
and mean of each hop:

* wallet loop: ``HandlerLink.send`` called / resumed with the reply;
* GUI thread: ``HandlerHost.post_to_handler`` entered and its signal emitted, ``fromHandler``
  entered;
* host page JS (handler_host.js, instrumented in memory here): ``toHandler`` received and
  ``postMessage`` to the iframe done; the iframe's reply event received, ``fromHandler`` called
  and returned.

``--handler echo`` (default): a handler that answers every request at once with a Fulfill (a
fixed preimage; the Prepares are made here), driven straight from the wallet loop over
``HandlerLink`` — no page, no STREAM, no network: the floor of the path Trickle owns. The echo
iframe stamps the message's arrival and its reply too.
``--handler fetch|ws``: the real path of benchmarks/browser_path_bench.py (its receiver process,
page, bridge, STREAM client), with that transport's handler; the handler's own time
(``window.handlerMs``) is printed beside the iframe hop.

Python stamps are ``time.time()``, JS ones ``performance.timeOrigin + performance.now()``:
the same wall clock, but Chromium coarsens JS time to 0.1 ms (no cross-origin isolation), so a
hop inside one process reads as 0 or 0.1 ms and hops that cross from one clock to the other
carry that error.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import browser_path_bench as bench
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, Slot
from PySide6.QtWebEngineCore import QWebEngineFrame, QWebEnginePage, QWebEngineProfile
from PySide6.QtWidgets import QApplication

import ui.webmonetization.handler_host as hh
from tests.qt.webmonetization.conftest import Site, page_html
from ui.asyncbridge import AsyncBridge, LoopThread
from ui.webmonetization.scripts import WebMonetizationProfileInstaller
from wallet.ilp import Fulfill, Prepare, Reject

NOW = "(performance.timeOrigin + performance.now())"
PREIMAGE = bytes(range(32))
CONDITION = hashlib.sha256(PREIMAGE).digest()
ECHO = page_html(
    script=f"""
window.stamps = [];
window.addEventListener("message", (e) => {{
  if (e.source !== parent || e.origin !== "null") return;
  if (!e.data || typeof e.data.request !== "string") return;
  const arrived = {NOW};
  const response = "{base64.b64encode(Fulfill(PREIMAGE).to_bytes()).decode()}";
  parent.postMessage({{id: e.data.id, response}}, "*");
  window.stamps.push([e.data.id, arrived, {NOW}]);
}});
"""
)

# ---- instrumentation (in memory, this process only) ---------------------------------------------

_EDITS = (
    (
        "host.toHandler.connect(function (json) {",
        "window.down = []; window.up = [];\n"
        f"    host.toHandler.connect(function (json) {{ const t0 = {NOW};",
    ),
    (
        "frame.iframe.contentWindow.postMessage(msg.message, frame.origin);",
        "frame.iframe.contentWindow.postMessage(msg.message, frame.origin);\n"
        f"      window.down.push([msg.message.id, t0, {NOW}]);",
    ),
    (
        'window.addEventListener("message", function (event) {',
        f'window.addEventListener("message", function (event) {{ const t0 = {NOW};',
    ),
    (
        "if (message !== null) host.fromHandler(JSON.stringify({ key: key, message: message }));",
        f"if (message !== null) {{ const t1 = {NOW};\n"
        "            host.fromHandler(JSON.stringify({ key: key, message: message }));\n"
        f"            window.up.push([message.id, t0, t1, {NOW}]); }}",
    ),
)

py: dict[str, dict[str, float]] = {}  # request id -> Python stamps
sends: list[tuple[str, float, float]] = []  # (request id, send called, send resumed)
_ids: list[str] = []


def ms() -> float:
    return time.time() * 1000


def instrument() -> None:
    html = hh.host_html()
    for old, new in _EDITS:
        if html.count(old) != 1:
            raise RuntimeError(f"handler_host.js changed; update this profile: {old!r}")
        html = html.replace(old, new)
    hh.host_html = lambda: html

    def token_urlsafe(n: int | None = None) -> str:  # the link's request ids, in order
        _ids.append(secrets.token_urlsafe(n))
        return _ids[-1]

    hh.secrets = SimpleNamespace(  # type: ignore[attr-defined,assignment]
        token_urlsafe=token_urlsafe, token_hex=secrets.token_hex
    )
    post, from_handler, send = (
        hh.HandlerHost.post_to_handler,
        hh.HandlerHost.fromHandler,
        hh.HandlerLink.send,
    )

    def post_to_handler(self: hh.HandlerHost, key: str, message: dict[str, str]) -> None:
        entered = ms()
        post(self, key, message)
        py.setdefault(message["id"], {}).update(post=entered, emitted=ms())

    @Slot(str)
    def from_handler_stamped(self: hh.HandlerHost, text: str) -> None:
        entered = ms()
        from_handler(self, text)
        py.setdefault(json.loads(text)["message"]["id"], {})["from"] = entered

    async def send_stamped(self: hh.HandlerLink, prepare: Prepare) -> Fulfill | Reject:
        called = ms()
        reply = await send(self, prepare)
        if isinstance(reply, Fulfill) and prepare.amount > 0:
            sends.append((_ids[-1], called, ms()))  # one packet in flight: the newest id
        return reply

    hh.HandlerHost.post_to_handler = post_to_handler  # type: ignore[method-assign]
    hh.HandlerHost.fromHandler = from_handler_stamped  # type: ignore[method-assign]
    hh.HandlerLink.send = send_stamped  # type: ignore[method-assign]


def js(frame: QWebEngineFrame | QWebEnginePage, expression: str) -> Any:
    box: list[str] = []
    frame.runJavaScript(f"JSON.stringify({expression})", 0, box.append)
    bench.wait_until(lambda: bool(box))
    return json.loads(box[0])


def by_id(rows: list[list[Any]]) -> dict[str, list[float]]:
    return {row[0]: row[1:] for row in rows}


def report(host: hh.HandlerHost, iframe: dict[str, list[float]], handler_ms: list[float]) -> None:
    down, up = by_id(js(host.page, "window.down")), by_id(js(host.page, "window.up"))
    hops: dict[str, list[float]] = {}
    names = ["wallet loop -> GUI thread (post_to_gui)", "GUI: json + emit toHandler"]
    names += ["QWebChannel: GUI -> host JS", "host JS: parse + postMessage"]
    if iframe:
        names += ["postMessage host -> iframe", "echo handler", "postMessage iframe -> host"]
    else:
        names += ["host -> iframe -> handler -> host"]
    names += ["host JS: checks, calls fromHandler", "QWebChannel: host JS -> GUI slot"]
    names += ["GUI slot -> wallet loop resumed"]
    for request_id, called, resumed in sends:
        p, (d0, d1), (u0, u1, u2) = py[request_id], down[request_id], up[request_id]
        middle = iframe.get(request_id, [])
        stamps = [called, p["post"], p["emitted"], d0, d1, *middle, u0, u1, p["from"], resumed]
        for name, a, b in zip(names, stamps[:-1], stamps[1:], strict=True):
            hops.setdefault(name, []).append(b - a)
        hops.setdefault("total (HandlerLink.send)", []).append(resumed - called)
        # The renderer often does not run again until the threads its message woke have run
        # (2 cores): the call "returns" late, off the critical path.
        hops.setdefault("  (off the path: host JS fromHandler returns)", []).append(u2 - u1)
    if handler_ms:
        hops["  of which the handler's own time"] = handler_ms
    for name, values in hops.items():
        print(
            f"  {name:46s} p50 {statistics.median(values):6.3f} ms"
            f"  mean {statistics.fmean(values):6.3f} ms"
        )


def profile_echo(asyncs: AsyncBridge, packets: int) -> None:
    profile = QWebEngineProfile()
    WebMonetizationProfileInstaller().install(profile)
    host = hh.HandlerHost(profile, asyncs)
    bench.wait_until(lambda: host._ready)
    site = Site()
    site.pages["/echo"] = ECHO
    links: list[hh.HandlerLink] = []

    async def pay() -> None:
        link = await host.link_for(site.url("/echo"))
        links.append(link)
        for i in range(packets + 50):
            if i == 50:  # warm
                sends.clear()
            expiry = datetime.now(UTC) + timedelta(seconds=30)
            reply = await link.send(Prepare(1, expiry, CONDITION, "test.echo"))
            if not isinstance(reply, Fulfill):
                raise RuntimeError(f"the echo handler did not fulfill: {reply}")

    bench.wait_future(asyncs.submit(pay()))
    [frame] = [f for f in host.page.mainFrame().children() if f.isValid()]
    print(f"echo handler, {packets} packets one at a time, straight over HandlerLink")
    report(host, by_id(js(frame, "window.stamps")), [])
    bench.wait_future(asyncs.submit(links[0].close()))
    asyncs.close()
    for obj in (host.page, host):
        obj.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    shiboken6.delete(profile)  # after its pages, as QtWebEngine needs
    site.close()


def profile_real(asyncs: AsyncBridge, transport: str, packets: int) -> None:
    receiver = bench.Receiver()
    browser = bench.BrowserSide(asyncs, receiver)
    path = bench.TRANSPORTS[transport].handler_path
    try:
        browser.pay(100, None, path)  # warm
        for _ in range(2):
            sends.clear()
            run = browser.pay(packets, bench.LATENCY_WINDOW, path)
            print(f"{transport} handler, {packets} packets one at a time, page -> bridge -> STREAM")
            report(browser.host, {}, run.handler_ms)
    finally:
        asyncs.close()
        browser.close()
        receiver.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--handler", choices=("echo", "fetch", "ws"), default="echo")
    parser.add_argument("--packets", type=int, default=300)
    args = parser.parse_args()
    instrument()
    app = QApplication([sys.argv[0]])
    wallet = LoopThread("profile-wallet")
    asyncs = AsyncBridge(wallet.loop)
    run: Callable[[], None] = (
        (lambda: profile_echo(asyncs, args.packets))
        if args.handler == "echo"
        else (lambda: profile_real(asyncs, args.handler, args.packets))
    )
    try:
        run()
    finally:
        wallet.stop()
        del app


if __name__ == "__main__":
    main()
