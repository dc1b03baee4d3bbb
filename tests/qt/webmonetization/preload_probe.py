"""What QtWebEngine does with a page that asks to be prerendered and a page one goes back to
(a platform fact; see test_unseen_documents.py).

``observe(profile)`` loads, in a shown view, ``/a`` — which asks for ``/c`` to be prerendered
(``<script type="speculationrules">``) and ``/d`` (``<link rel="prerender">``, NoState
Prefetch) — then ``/b``, then goes back to ``/a``, then follows the link to ``/c``. It returns
what the pages and the server saw: every ``pageshow`` / ``pagehide`` and its ``persisted``,
``document.prerendering`` and ``activationStart`` of every document, and each request with its
``Sec-Purpose`` header. Run as a program (``python -m tests.qt.webmonetization.preload_probe``)
it prints that as JSON, under the Chromium flags of its command line and
``QTWEBENGINE_CHROMIUM_FLAGS``.

``channel_after_restore(profile)`` checks QWebChannel both ways in a document before it goes
into the back/forward cache and after it is restored from it.
"""

from __future__ import annotations

import http.server
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEventLoop, QFile, QIODevice, QObject, QTimer, QUrl, Signal, Slot
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import (
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineScript,
    QWebEngineSettings,
)
from PySide6.QtWebEngineWidgets import QWebEngineView

RECORD = """<script>
function note(what) { console.info("PROBE:" + JSON.stringify(what)); }
const path = location.pathname;
const nav = performance.getEntriesByType("navigation")[0];
note({doc: path, prerendering: document.prerendering === true,
      activationStart: nav ? nav.activationStart : null});
addEventListener("pageshow", (e) => note({event: "pageshow", doc: path, persisted: e.persisted}));
addEventListener("pagehide", (e) => note({event: "pagehide", doc: path, persisted: e.persisted}));
document.addEventListener("prerenderingchange", () => note({event: "activated", doc: path}));
</script>"""

PAGES = {
    "/a": RECORD
    + '<a id="c" href="/c">c</a>'
    + '<script type="speculationrules">{"prerender": [{"source": "list", "urls": ["/c"]}]}'
    + '</script><link rel="prerender" href="/d">',
    "/b": RECORD + "<p>b</p>",
    "/c": RECORD + "<p>c</p>",
    "/d": RECORD + "<p>d</p>",
}


class _Server:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(
                    {"path": self.path, "purpose": self.headers.get("Sec-Purpose")}
                )
                body = PAGES.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-cache")  # stored, asked again each time
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self._http.server_address[1]}"
        threading.Thread(target=self._http.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()


class _ProbePage(QWebEnginePage):
    def __init__(self, profile: QWebEngineProfile) -> None:
        super().__init__(profile)
        self.notes: list[dict[str, Any]] = []

    def javaScriptConsoleMessage(
        self, level: QWebEnginePage.JavaScriptConsoleMessageLevel, message: str, line: int, src: str
    ) -> None:
        if message.startswith("PROBE:"):
            self.notes.append(json.loads(message[6:]))


def _wait(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    loop = QEventLoop()
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the probe's pages did not get there")
        QTimer.singleShot(20, loop.quit)
        loop.exec()


def observe(
    profile: QWebEngineProfile, settle: float = 1.0, *, back_forward_cache: bool | None = None
) -> dict[str, Any]:
    """The sequence above; ``settle``: seconds given to Chromium to prerender after ``/a``;
    ``back_forward_cache``: the page's setting (``None``: the profile's)."""
    server = _Server()
    page = _ProbePage(profile)
    if back_forward_cache is not None:
        page.settings().setAttribute(
            QWebEngineSettings.WebAttribute.BackForwardCacheEnabled, back_forward_cache
        )
    view = QWebEngineView()
    view.setPage(page)
    view.resize(400, 300)
    view.show()
    try:

        def shown(doc: str, times: int = 1) -> Callable[[], bool]:
            return lambda: (
                sum(1 for n in page.notes if n.get("event") == "pageshow" and n["doc"] == doc)
                >= times
            )

        page.load(QUrl(server.origin + "/a"))
        _wait(shown("/a"))
        deadline = time.monotonic() + settle
        _wait(lambda: time.monotonic() >= deadline)  # (a prerender would be fetched by now)
        before_leaving = list(server.requests)
        page.load(QUrl(server.origin + "/b"))
        _wait(shown("/b"))
        page.triggerAction(QWebEnginePage.WebAction.Back)
        _wait(shown("/a", 2))
        page.runJavaScript('document.getElementById("c").click()')
        _wait(shown("/c"))
        return {
            "notes": page.notes,
            "requests_before_leaving_a": before_leaving,
            "requests": server.requests,
        }
    finally:
        view.setPage(None)  # type: ignore[arg-type]
        view.close()
        view.deleteLater()
        page.deleteLater()
        server.close()


class _Echo(QObject):
    """Answers each ``ping`` with a ``pong`` (the page's channel object)."""

    pong = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.pings: list[str] = []

    @Slot(str)
    def ping(self, text: str) -> None:
        self.pings.append(text)
        self.pong.emit(text)


CHANNEL_SCRIPT = """
new QWebChannel(qt.webChannelTransport, function (channel) {
  const echo = channel.objects.echo;
  const doc = location.pathname;
  echo.pong.connect(function (text) { console.info("PROBE:" + JSON.stringify({pong: text})); });
  echo.ping(doc + " created");
  addEventListener("pageshow", function (e) { if (e.persisted) echo.ping(doc + " restored"); });
});
"""


def channel_after_restore(profile: QWebEngineProfile) -> dict[str, list[str]]:
    """``/a`` (with a QWebChannel in an isolated world, as Trickle's), ``/b``, back to ``/a``
    from the back/forward cache, each document pinging Python when created and restored, Python
    answering each ping. Returns the pings Python got and the answers the pages got."""
    source = QFile(":/qtwebchannel/qwebchannel.js")
    if not source.open(QIODevice.OpenModeFlag.ReadOnly):
        raise RuntimeError("no qwebchannel.js")
    script = QWebEngineScript()
    script.setName("_probe_channel")
    script.setWorldId(QWebEngineScript.ScriptWorldId.ApplicationWorld)
    script.setInjectionPoint(QWebEngineScript.InjectionPoint.DocumentCreation)
    script.setSourceCode(bytes(source.readAll().data()).decode() + CHANNEL_SCRIPT)
    server = _Server()
    page = _ProbePage(profile)
    page.settings().setAttribute(QWebEngineSettings.WebAttribute.BackForwardCacheEnabled, True)
    page.scripts().insert(script)
    echo = _Echo()
    channel = QWebChannel(page)
    channel.registerObject("echo", echo)
    page.setWebChannel(channel, QWebEngineScript.ScriptWorldId.ApplicationWorld)
    view = QWebEngineView()
    view.setPage(page)
    view.show()
    try:
        page.load(QUrl(server.origin + "/a"))
        _wait(lambda: "/a created" in echo.pings)
        page.load(QUrl(server.origin + "/b"))
        _wait(lambda: "/b created" in echo.pings)
        page.triggerAction(QWebEnginePage.WebAction.Back)
        _wait(lambda: "/a restored" in echo.pings or echo.pings.count("/a created") == 2)
        deadline = time.monotonic() + 1.0
        _wait(lambda: time.monotonic() >= deadline)  # (an answer would have arrived by now)
        return {
            "pings": list(echo.pings),
            "pongs": [n["pong"] for n in page.notes if "pong" in n],
        }
    finally:
        view.setPage(None)  # type: ignore[arg-type]
        view.close()
        view.deleteLater()
        page.deleteLater()
        server.close()


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv)
    profile = QWebEngineProfile()
    result = observe(profile)
    print(json.dumps(result), flush=True)
    app.processEvents()
    os._exit(0)  # (the probe's answer is out; Qt's teardown order is not its concern)


if __name__ == "__main__":
    main()
