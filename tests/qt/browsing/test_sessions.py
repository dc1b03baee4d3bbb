"""Sessions in one process: windows, tabs, order and the selected tab come back; the setting
"start page" turns that off (issue 21, item 4). The restart after SIGKILL is in tests/e2e."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from tests.qt.browsing.conftest import BrowsingApp, offscreen_windows, open_browsing
from tests.qt.conftest import WAIT, load
from tests.qt.servers import Site
from ui.browser import session
from ui.browser.session import parse_session
from ui.browser.single_instance import InstanceServer, socket_name

pytestmark = offscreen_windows


def _saved(app: BrowsingApp) -> list[list[str]]:
    return [[u.toString() for u in w.urls] for w in parse_session(app.store.load_session())]


def test_windows_tabs_order_and_selection_are_restored(
    qtbot: Any, http_site: Site, tmp_path: Path
) -> None:
    pages = [http_site.add(f"/s/{n}", f"<title>{n}</title>") for n in ("a", "b", "c", "d")]
    first = open_browsing(qtbot, tmp_path)
    try:
        one = first.window()
        for page in pages[:3]:
            assert load(qtbot, one.new_tab(), page)
        one.tab_strip.tabBar().moveTab(0, 2)  # a b c -> b c a ... order as the user left it
        one.tab_strip.setCurrentIndex(1)
        two = first.window()
        assert load(qtbot, two.new_tab(), pages[3])
        urls = [p.toString() for p in pages]
        expected = [[urls[1], urls[2], urls[0]], [urls[3]]]
        qtbot.waitUntil(lambda: _saved(first) == expected, timeout=WAIT)  # saved on change
    finally:
        first.close()

    again = open_browsing(qtbot, tmp_path)
    try:
        window = again.browsing.start([], [])
        assert again.browsing.restored
        windows = again.windows.windows()
        assert len(windows) == 2
        qtbot.waitUntil(
            lambda: [[t.url().toString() for t in w.tabs()] for w in windows] == expected,
            timeout=WAIT,
        )
        assert windows[0].tab_strip.currentIndex() == 1
        assert window is windows[1]
    finally:
        again.close()


def test_closing_one_of_two_windows_drops_it_and_start_page_setting(
    qtbot: Any, http_site: Site, tmp_path: Path
) -> None:
    page = http_site.add("/s/kept", "<title>kept</title>")
    gone = http_site.add("/s/gone", "<title>gone</title>")
    app = open_browsing(qtbot, tmp_path)
    try:
        kept_window = app.window()
        assert load(qtbot, kept_window.new_tab(), page)
        gone_window = app.window()
        assert load(qtbot, gone_window.new_tab(), gone)
        gone_window.close()
        qtbot.waitUntil(lambda: _saved(app) == [[page.toString()]], timeout=WAIT)
        kept_window.close()  # the last window: what it showed stays for next time
        assert _saved(app) == [[page.toString()]]
        app.store.set_setting(session.ON_START_SETTING, session.START_PAGE)
    finally:
        app.close()
    again = open_browsing(qtbot, tmp_path)
    try:
        window = again.browsing.start([], [])
        assert not again.browsing.restored
        qtbot.waitUntil(
            lambda: [t.url().toString() for t in window.tabs()] == ["trickle://start/"],
            timeout=WAIT,
        )
    finally:
        again.close()


def test_a_malformed_session_is_ignored() -> None:
    assert parse_session(None) == []
    assert parse_session({"windows": [{"tabs": [{"url": "javascript:alert(1)"}, 3]}]}) == []
    restored = parse_session(
        {"windows": [{"tabs": [{"url": "https://a.example/"}], "current": 7, "geometry": "!!"}]}
    )
    assert len(restored) == 1 and restored[0].current == 0 and restored[0].geometry is None


def test_a_stale_socket_from_a_killed_instance_is_replaced(tmp_path: Path) -> None:
    name = socket_name(tmp_path / "profile")
    # What kill -9 leaves: a socket file nobody listens on.
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(name)
    stale.close()
    assert Path(name).exists()
    server = InstanceServer(name)
    try:
        assert server.listen()
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.connect(name)  # somebody answers now
        probe.close()
        assert Path(name).stat().st_mode & 0o077 == 0  # only this user may connect
    finally:
        server.close()
