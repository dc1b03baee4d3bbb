"""Fixtures for the page API: loopback origins, a profile with the scripts, pages with bridges.

Every test here fails on a Qt warning (tests/qt/conftest.py) and on any JS console error or
warning (``ConsolePage``).
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import shiboken6

from ui.browser.scheme import register_scheme

register_scheme()  # before the QApplication exists

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QPoint, Qt  # noqa: E402
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile  # noqa: E402
from PySide6.QtWebEngineWidgets import QWebEngineView  # noqa: E402

from ui.asyncbridge import AsyncBridge, LoopThread  # noqa: E402
from ui.browser.hooks import TabContext  # noqa: E402
from ui.webmonetization.bridge import (  # noqa: E402
    PageBridge,
    WebMonetizationHook,
    WebMonetizationServices,
)
from ui.webmonetization.consent import ConsentPrompter  # noqa: E402
from ui.webmonetization.protocols import RegisteredHandler  # noqa: E402
from ui.webmonetization.register import DismissalTracker  # noqa: E402
from ui.webmonetization.scripts import WebMonetizationProfileInstaller  # noqa: E402

# tests/qt/conftest.py fails every test on Qt warnings (bar GL/Vulkan/sandbox start-up lines)
# and JS console errors; consent dialogs are top-level windows, for which the offscreen
# platform plugin always says this:
OFFSCREEN_DIALOG_NOTE = r"This plugin does not support propagateSizeHints\(\)"

_HERE = __file__.rsplit("/", 1)[0]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if str(item.fspath).startswith(_HERE):
            item.add_marker(pytest.mark.allow_qt_messages(OFFSCREEN_DIALOG_NOTE))


# ---- loopback origins --------------------------------------------------------------------------


class Site:
    """An HTTP server on 127.0.0.1 with its own port, i.e. its own origin."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.headers: dict[str, list[tuple[str, str]]] = {}  # extra response headers, by path
        self.delays: dict[str, float] = {}  # seconds before answering, by path
        self.posts: dict[str, Callable[[bytes], bytes]] = {}
        # Cache-Control by path (default no-store: nothing of the page is in the HTTP cache)
        self.cache: dict[str, str] = {}
        # paths answered (headers sent) but whose body never ends until the event is set
        self.hangs: dict[str, threading.Event] = {}
        self.served: list[str] = []  # the path of every GET that reached the server
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                site.served.append(path)
                time.sleep(site.delays.get(path, 0.0))
                hang = site.hangs.get(path)
                if hang is not None:
                    self.send_response(200)
                    self.send_header("Content-Type", "image/png")
                    self.end_headers()
                    self.wfile.flush()
                    hang.wait(60)
                    return
                body = site.pages.get(path)
                if body is None:
                    self.send_error(404)
                    return
                if body == "":  # "204 No Content": a navigation that leaves the page as is
                    self.send_response(204)
                    self.end_headers()
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", site.cache.get(path, "no-store"))
                for name, value in site.headers.get(path, []):
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                handler = site.posts.get(self.path)
                if handler is None:
                    self.send_error(404)
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                data = handler(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str) -> str:
        return self.origin + path

    def close(self) -> None:
        for hang in self.hangs.values():
            hang.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def sites() -> Iterator[Callable[[], Site]]:
    made: list[Site] = []

    def make() -> Site:
        s = Site()
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def page_html(body: str = "", script: str = "") -> str:
    """A page with a full-viewport button whose click calls ``window.onTestClick()``."""
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>t</title></head>
<body style="margin:0"><button id="b" style="position:fixed;inset:0;width:100%;height:100%"
onclick="report('click', 1); window.onTestClick && window.onTestClick()">go</button>{body}
<script>
function report(tag, value) {{
  console.info("TEST:" + JSON.stringify({{tag: tag, value: value}}));
}}
function reportError(tag, e) {{ report(tag, {{error: e && e.name, message: e && e.message}}); }}
{script}
</script></body></html>"""


# ---- the wallet side, faked ---------------------------------------------------------------------


@dataclass
class MemoryRegistry:
    """An in-memory ``HandlerRegistry`` (tests only; the wallet service is the real one)."""

    handlers: list[RegisteredHandler] = field(default_factory=list)

    async def is_registered(self, origin: str, uri: str) -> bool:
        return any(h.origin == origin and h.uri == uri for h in self.handlers)

    async def register(self, origin: str, name: str, uri: str) -> None:
        self.handlers = [h for h in self.handlers if not (h.origin == origin and h.uri == uri)]
        self.handlers.append(RegisteredHandler(origin, name, uri))

    async def active_handler(self) -> RegisteredHandler | None:
        return self.handlers[-1] if self.handlers else None


class ManualArm:
    """Stands in for the 500 ms inert timer: tests fire it when they mean time has passed."""

    def __init__(self) -> None:
        self.callbacks: list[tuple[QObject, Callable[[], None]]] = []

    def __call__(self, owner: QObject, callback: Callable[[], None]) -> None:
        self.callbacks.append((owner, callback))

    def fire(self) -> None:
        """Like QTimer.singleShot(ms, owner, fn): owners deleted meanwhile get nothing."""
        callbacks, self.callbacks = self.callbacks, []
        for owner, cb in callbacks:
            if shiboken6.isValid(owner):
                cb()


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


@pytest.fixture
def loop_thread() -> Iterator[LoopThread]:
    lt = LoopThread()
    yield lt
    lt.stop()


@dataclass
class Env:
    services: WebMonetizationServices
    registry: MemoryRegistry
    prompter: ConsentPrompter
    arm: ManualArm
    clock: FakeClock
    profile: QWebEngineProfile

    @property
    def asyncs(self) -> AsyncBridge:
        return self.services.asyncs


@pytest.fixture
def env(qapp: Any, loop_thread: LoopThread) -> Iterator[Env]:
    asyncs = AsyncBridge(loop_thread.loop)
    arm = ManualArm()
    clock = FakeClock()
    registry = MemoryRegistry()
    prompter = ConsentPrompter(arm=arm)
    services = WebMonetizationServices(
        asyncs=asyncs,
        registry=registry,
        prompter=prompter,
        tracker=DismissalTracker(clock),
    )
    profile = QWebEngineProfile()  # off the record
    WebMonetizationProfileInstaller().install(profile)
    yield Env(services, registry, prompter, arm, clock, profile)
    asyncs.close()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    shiboken6.delete(profile)  # after its pages, as QtWebEngine needs
    QCoreApplication.processEvents()


# ---- pages --------------------------------------------------------------------------------------


class ConsolePage(QWebEnginePage):
    """Collects ``TEST:`` reports; any console error (or unexpected warning) is recorded."""

    def __init__(self, profile: QWebEngineProfile) -> None:
        super().__init__(profile)
        self.reports: list[tuple[str, Any]] = []
        self.problems: list[str] = []

    def javaScriptConsoleMessage(
        self,
        level: QWebEnginePage.JavaScriptConsoleMessageLevel,
        message: str,
        line: int,
        source: str,
    ) -> None:
        if message.startswith("TEST:"):
            data = json.loads(message[5:])
            self.reports.append((data["tag"], data.get("value")))
        elif level != QWebEnginePage.JavaScriptConsoleMessageLevel.InfoMessageLevel:
            self.problems.append(f"{source}:{line}: {message}")

    def report(self, tag: str) -> Any:
        for t, v in self.reports:
            if t == tag:
                return v
        raise KeyError(tag)

    def has(self, tag: str) -> bool:
        return any(t == tag for t, _ in self.reports)


@dataclass
class Tab:
    page: ConsolePage
    view: QWebEngineView
    tab: TabContext
    bridge: PageBridge
    qtbot: Any

    def load(self, url: str, ready_tag: str = "ready") -> None:
        from PySide6.QtCore import QUrl

        loaded: list[bool] = []
        self.page.loadFinished.connect(loaded.append)
        self.page.load(QUrl(url))
        self.qtbot.waitUntil(lambda: bool(loaded), timeout=10000)
        assert loaded[-1], f"failed to load {url}"

    def js(self, expression: str) -> Any:
        """The JSON value of ``expression`` evaluated in the page's main world."""
        box: list[Any] = []
        self.page.runJavaScript(f"JSON.stringify(({expression}))", 0, box.append)
        self.qtbot.waitUntil(lambda: bool(box), timeout=5000)
        return None if box[0] in ("", None) else json.loads(box[0])

    def wait_report(self, tag: str, timeout: int = 10000) -> Any:
        self.qtbot.waitUntil(lambda: self.page.has(tag), timeout=timeout)
        return self.page.report(tag)

    def click(self) -> None:
        """A real mouse click in the middle of the page (a user activation).

        Chromium drops input that arrives before the renderer's first frame is ready, so the
        click is repeated (at most a few times) until the page reports it.
        """
        target = self.view.focusProxy()
        assert target is not None
        center = QPoint(target.width() // 2, target.height() // 2)
        before = sum(1 for tag, _ in self.page.reports if tag == "click")
        for _attempt in range(20):
            self.qtbot.mouseClick(target, Qt.MouseButton.LeftButton, pos=center)
            try:
                self.qtbot.waitUntil(
                    lambda: sum(1 for tag, _ in self.page.reports if tag == "click") > before,
                    timeout=500,
                )
                return
            except Exception:  # not delivered yet: click again
                continue
        raise AssertionError("the page never received the click")

    def check_clean(self) -> None:
        assert self.page.problems == []


@pytest.fixture
def make_tab(env: Env, qtbot: Any) -> Iterator[Callable[[], Tab]]:
    tabs: list[Tab] = []
    hook = WebMonetizationHook(env.services)

    def make() -> Tab:
        page = ConsolePage(env.profile)
        view = QWebEngineView()
        view.setPage(page)
        view.resize(400, 300)
        tab = TabContext()
        tab.set_visible(True)
        bridge = hook.attach(page, tab)
        view.show()
        qtbot.waitExposed(view)
        t = Tab(page, view, tab, bridge, qtbot)
        tabs.append(t)
        return t

    yield make
    for t in tabs:
        problems = list(t.page.problems)
        t.tab.close()
        t.view.setPage(None)  # type: ignore[arg-type]
        t.view.close()
        t.view.deleteLater()
        t.page.deleteLater()
        assert problems == [], problems
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


# The sandbox Open Payments world of the link-tag tests (a fixture; it uses the ones above).
from tests.qt.webmonetization.link_support import world_factory  # noqa: E402, F401
