"""Clear browsing data, with real pages from local servers: cookies (all of them, or those
first seen in the range), the HTTP cache, site data at the next start, permissions and history
by range; the dialog from the menu."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QUrl

from tests.qt.browsing.conftest import T0, BrowsingApp, offscreen_windows, open_browsing
from tests.qt.conftest import WAIT, load, run_js
from tests.qt.servers import Site
from ui.browser.clear_data import RANGES, Kind, site_data_cleared_on_start
from ui.browser.clear_data_view import ClearDataDialog
from ui.browser.profile import storage_dir
from ui.browser.storage import BrowsingStore

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
LAST_HOUR = 0
ALL_TIME = len(RANGES) - 1


class CachingServer:
    """``/page`` (never cached) loads ``/cached.js`` (cacheable for an hour); counts how often
    the script is fetched."""

    def __init__(self) -> None:
        self.hits = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/cached.js":
                    owner.hits += 1
                    body, kind, cache = b"window.loaded = 1;", "text/javascript", "max-age=3600"
                else:
                    body = b"<title>p</title><script src=/cached.js></script>"
                    kind, cache = "text/html", "no-store"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Cache-Control", cache)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = QUrl(f"http://127.0.0.1:{self.server.server_address[1]}/page")


@pytest.fixture
def caching_server() -> Iterator[CachingServer]:
    server = CachingServer()
    yield server
    server.server.shutdown()
    server.server.server_close()


def _cookies(qtbot: Any, app: BrowsingApp, tab: Any, url: QUrl) -> str:
    assert load(qtbot, tab, url)
    return str(run_js(qtbot, tab, "document.cookie"))


def _setter(site: Site, name: str) -> QUrl:
    """A page whose response sets the cookie ``name=1``."""
    cookie = ("Set-Cookie", f"{name}=1; Max-Age=99")
    return site.add(f"/{name}", "<title>c</title>", headers=(cookie,))


def test_cookies_set_by_a_server_are_gone_after_clearing(
    qtbot: Any, browsing_app: BrowsingApp, http_site: Site
) -> None:
    app = browsing_app
    setter = _setter(http_site, "seen")
    reader = http_site.add("/read", "<title>read</title>")
    tab = app.window().new_tab()
    assert load(qtbot, tab, setter)
    qtbot.waitUntil(lambda: app.browsing.data.cookie_count() == 1, timeout=WAIT)
    assert _cookies(qtbot, app, tab, reader) == "seen=1"
    done = app.browsing.data.clear([Kind.COOKIES], ALL_TIME)
    assert done.cookies == 1 and done.site_data_on_restart
    qtbot.waitUntil(lambda: app.browsing.data.cookie_count() == 0, timeout=WAIT)
    assert _cookies(qtbot, app, tab, reader) == ""


def test_a_time_range_clears_only_the_cookies_first_seen_in_it(
    qtbot: Any, browsing_app: BrowsingApp, http_site: Site
) -> None:
    app = browsing_app
    old, new = _setter(http_site, "old"), _setter(http_site, "new")
    tab = app.window().new_tab()
    app.clock.now = T0 - 7200  # two hours ago
    assert load(qtbot, tab, old)
    qtbot.waitUntil(lambda: app.browsing.data.cookie_count() == 1, timeout=WAIT)
    app.clock.now = T0
    assert load(qtbot, tab, new)
    qtbot.waitUntil(lambda: app.browsing.data.cookie_count() == 2, timeout=WAIT)
    assert app.browsing.data.clear([Kind.COOKIES], LAST_HOUR).cookies == 1
    qtbot.waitUntil(lambda: app.browsing.data.cookie_count() == 1, timeout=WAIT)
    assert _cookies(qtbot, app, tab, http_site.add("/r", "<title>r</title>")) == "old=1"


def test_the_cache_is_emptied(
    qtbot: Any, browsing_app: BrowsingApp, caching_server: CachingServer
) -> None:
    app = browsing_app
    window = app.window()
    assert load(qtbot, window.new_tab(), caching_server.url)
    second = window.new_tab()
    assert load(qtbot, second, caching_server.url)
    assert caching_server.hits == 1  # the second came from the cache
    done: list[bool] = []
    app.profile.clearHttpCacheCompleted.connect(lambda: done.append(True))
    assert app.browsing.data.clear([Kind.CACHE], LAST_HOUR).cache  # the cache goes whole
    qtbot.waitUntil(lambda: bool(done), timeout=WAIT)
    third = window.new_tab()
    assert load(qtbot, third, caching_server.url)
    assert caching_server.hits == 2


def test_site_data_is_removed_at_the_next_start(
    qtbot: Any, http_site: Site, tmp_path: Path
) -> None:
    page = http_site.add("/store", "<title>s</title>")
    first = open_browsing(qtbot, tmp_path)
    try:
        tab = first.window().new_tab()
        assert load(qtbot, tab, page)
        run_js(qtbot, tab, "localStorage.setItem('kept', 'yes'), 1")
        assert run_js(qtbot, tab, "localStorage.getItem('kept')") == "yes"
        first.browsing.data.clear([Kind.COOKIES], ALL_TIME)
    finally:
        first.close()
    storage = storage_dir(tmp_path / "profile")
    assert (storage / "Local Storage").is_dir()
    store = BrowsingStore.open(tmp_path / "profile")
    try:
        assert site_data_cleared_on_start(store, storage)
        assert not site_data_cleared_on_start(store, storage)  # once
    finally:
        store.close()
    assert not (storage / "Local Storage").exists()
    third = open_browsing(qtbot, tmp_path)
    try:
        tab = third.window().new_tab()
        assert load(qtbot, tab, page)
        assert run_js(qtbot, tab, "localStorage.getItem('kept') === null") is True
    finally:
        third.close()


def test_permissions_and_history_by_range(qtbot: Any, browsing_app: BrowsingApp) -> None:
    app = browsing_app
    store = app.store
    app.clock.now = T0 - 7200
    store.set_permission("https://old.example", "camera", True)
    store.record_visit("https://old.example/", "Old")
    app.clock.now = T0
    store.set_permission("https://new.example", "location", False)
    store.record_visit("https://new.example/", "New")
    done = app.browsing.data.clear([Kind.PERMISSIONS, Kind.HISTORY], LAST_HOUR)
    assert (done.permissions, done.pages) == (1, 1)
    assert store.permissions() == [("https://old.example", "camera", True)]
    assert [v.url for v in store.history()] == ["https://old.example/"]
    assert app.browsing.data.clear([Kind.PERMISSIONS], ALL_TIME).permissions == 1
    assert store.permissions() == []


@offscreen_windows
def test_the_dialog_from_the_menu_clears_what_is_ticked(
    qtbot: Any, browsing_app: BrowsingApp
) -> None:
    app = browsing_app
    window = app.window()
    app.store.record_visit("https://a.example/", "A")
    app.store.set_permission("https://a.example", "camera", True)
    actions = {a.text(): a for a in app.browsing.parts(window).menu.actions()}
    clear = actions["Clear browsing data…"]
    assert clear.shortcut().toString() == "Ctrl+Shift+Del"
    clear.trigger()
    dialog = app.browsing.clear_data()
    assert isinstance(dialog, ClearDataDialog) and dialog.isVisible()
    assert [k for k, box in dialog.kinds.items() if box.isChecked()] == [
        Kind.HISTORY,
        Kind.COOKIES,
        Kind.CACHE,
    ]
    dialog.range.setCurrentIndex(ALL_TIME)
    qtbot.mouseClick(dialog.clear_button, Qt.MouseButton.LeftButton)
    assert app.store.history() == []
    assert app.store.permissions() == [("https://a.example", "camera", True)]  # not ticked
    assert "1 page from history" in dialog.status.text()
    assert "next starts" in dialog.status.text()
    ARTIFACTS.mkdir(exist_ok=True)
    assert dialog.grab().save(str(ARTIFACTS / "clear-browsing-data.png"))
    dialog.close()
