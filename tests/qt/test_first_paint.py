"""What waits for the first paint (the wallet's start): it runs once the first page has loaded
and shown its first frame, not before (issue 21: start-up close to a bare QtWebEngine
window)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from PySide6.QtCore import QUrl

from tests.qt.conftest import WAIT, Browser
from tests.qt.servers import Site
from ui.app import after_first_paint
from ui.browser.webview import BrowserTab
from ui.browser.window import BrowserWindow

NEVER = 600_000  # ms: no fallback within a test
PAGE = b"<title>Slow picture</title><h1>Text first</h1><img src='/picture'>"


class GatedSite:
    """A page that paints at once and whose picture is sent only when ``gate`` is set: the
    page shows its first frame long before it has loaded."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        gate = self.gate

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/picture":
                    gate.wait(60)
                body = PAGE if self.path == "/" else b""
                self.send_response(200 if self.path == "/" else 404)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = QUrl(f"http://127.0.0.1:{self.server.server_address[1]}/")

    def close(self) -> None:
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gated_site() -> Iterator[GatedSite]:
    site = GatedSite()
    yield site
    site.close()


def open_and_watch(
    browser: BrowserWindow, url: QUrl, settle_ms: int = 0
) -> tuple[BrowserTab, list[str]]:
    """A tab loading ``url``, and the order of what happened: its frame and load (the test's
    own record, connected before ``after_first_paint``'s: written first), and the start."""
    events: list[str] = []
    tab = browser.new_tab()
    tab.page().contentsSizeChanged.connect(lambda _size: events.append("framed"))
    tab.loadFinished.connect(lambda _ok: events.append("loaded"))
    after_first_paint(browser, lambda: events.append("start"), NEVER, settle_ms)
    tab.load(url)
    return tab, events


def test_it_runs_once_the_page_has_loaded_and_shown_a_frame(
    qtbot: Any, browser: BrowserWindow, http_site: Site
) -> None:
    url = http_site.add("/first-paint", "<title>First</title><h1>Hello</h1>")
    tab, events = open_and_watch(browser, url)
    qtbot.waitUntil(lambda: "start" in events, timeout=WAIT)
    assert events.index("framed") < events.index("start")
    assert events.index("loaded") < events.index("start")
    again = len(events)
    tab.reload()
    qtbot.waitUntil(lambda: "loaded" in events[again:], timeout=WAIT)
    assert events.count("start") == 1


def test_it_leaves_the_page_its_next_frames_first(
    qtbot: Any, browser: BrowserWindow, http_site: Site
) -> None:
    url = http_site.add("/settle", "<title>Settle</title><h1>Hello</h1>")
    _tab, events = open_and_watch(browser, url, settle_ms=1_000)
    qtbot.waitUntil(lambda: {"loaded", "framed"} <= set(events), timeout=WAIT)
    qtbot.wait(300)  # well inside the page's time to settle
    assert "start" not in events
    qtbot.waitUntil(lambda: "start" in events, timeout=WAIT)
    assert events.count("start") == 1


def test_a_page_that_shows_before_it_loads_waits_for_the_load(
    qtbot: Any, browser: BrowserWindow, gated_site: GatedSite
) -> None:
    _tab, events = open_and_watch(browser, gated_site.url)
    qtbot.waitUntil(lambda: "framed" in events, timeout=WAIT)
    assert "loaded" not in events and "start" not in events  # the picture is not sent yet
    gated_site.gate.set()
    qtbot.waitUntil(lambda: "start" in events, timeout=WAIT)
    assert events.index("loaded") < events.index("start")


def test_a_page_loaded_in_a_hidden_window_waits_until_it_is_shown(
    qtbot: Any, browser: BrowserWindow, http_site: Site
) -> None:
    url = http_site.add("/hidden", "<title>Hidden</title><h1>Hello</h1>")
    browser.hide()  # nothing is drawn: no frame
    _tab, events = open_and_watch(browser, url)
    qtbot.waitUntil(lambda: "loaded" in events, timeout=WAIT)
    qtbot.wait(200)  # the turns after the load: nothing may start on them
    assert events == ["loaded"]
    browser.show()
    qtbot.waitUntil(lambda: "start" in events, timeout=WAIT)
    assert events.index("framed") < events.index("start")
    assert events.count("start") == 1


def test_without_a_page_it_runs_after_the_wait(qtbot: Any, make_browser: Browser) -> None:
    window = make_browser()  # no tab: nothing will load
    started: list[bool] = []
    after_first_paint(window, lambda: started.append(True), 100)
    assert started == []
    qtbot.waitUntil(lambda: bool(started), timeout=WAIT)
    assert started == [True]
