"""Address bar, back/forward/reload/stop, popups and target=_blank."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QPoint, Qt
from pytestqt.exceptions import TimeoutError as WaitTimeout

from tests.qt.conftest import WAIT, load, run_js
from tests.qt.servers import Site
from ui.browser.scheme import query_value
from ui.browser.window import BrowserWindow

ALT = Qt.KeyboardModifier.AltModifier
CTRL = Qt.KeyboardModifier.ControlModifier

# A page whose whole viewport is one link/button, so a click anywhere is a user gesture on it.
FULL = "position:fixed;inset:0;display:block;font-size:40px"


def page(title: str, body: str = "") -> str:
    return f"<!doctype html><html><head><title>{title}</title></head><body>{body}</body></html>"


def click_page(qtbot: Any, tab: Any) -> None:
    """A real mouse click in the middle of the page (a user gesture for the page)."""
    target = tab.focusProxy()
    center = QPoint(target.width() // 2, target.height() // 2)
    qtbot.mouseClick(target, Qt.MouseButton.LeftButton, pos=center)


def click_page_until(qtbot: Any, tab: Any, done: Callable[[], bool]) -> None:
    """Click until ``done()``: Chromium drops input that arrives before the renderer's first
    frame is ready (under load that can be after loadFinished), so one click may be lost."""
    for _attempt in range(10):
        click_page(qtbot, tab)
        try:
            qtbot.waitUntil(done, timeout=2000)
            return
        except WaitTimeout:
            continue
    raise AssertionError("the page never acted on the click")


def type_address(qtbot: Any, window: BrowserWindow, text: str) -> None:
    qtbot.keyClick(window, Qt.Key.Key_L, CTRL)
    qtbot.waitUntil(window.address_bar.hasFocus, timeout=WAIT)
    window.address_bar.selectAll()
    qtbot.keyClicks(window.address_bar, text)
    qtbot.keyClick(window.address_bar, Qt.Key.Key_Return)


def test_typed_loopback_address_loads_over_http(
    qtbot: Any, browser: BrowserWindow, http_site: Site
) -> None:
    http_site.add("/typed", page("Typed"))
    tab = browser.new_tab()
    finished: list[bool] = []
    tab.loadFinished.connect(finished.append)
    type_address(qtbot, browser, f"127.0.0.1:{http_site.port}/typed")
    qtbot.waitUntil(lambda: finished == [True], timeout=WAIT)
    assert tab.title() == "Typed"
    assert tab.url().toString() == f"http://127.0.0.1:{http_site.port}/typed"
    assert browser.address_bar.text() == tab.url().toString()


def test_typed_host_without_scheme_goes_to_https(
    qtbot: Any, browser: BrowserWindow, https_site: Site
) -> None:
    # *.test resolves to 127.0.0.1 (conftest); the HTTPS server there has a self-signed
    # certificate, so arriving at the certificate error page proves https was used.
    https_site.add("/private", page("Private", "SECRET CONTENT"))
    tab = browser.new_tab()
    type_address(qtbot, browser, f"shop.test:{https_site.port}/private")
    qtbot.waitUntil(lambda: tab.url().host() == "error", timeout=WAIT)
    assert tab.url().path() == "/certificate"
    assert query_value(tab.url(), "url") == f"https://shop.test:{https_site.port}/private"
    assert https_site.hits("/private") == 0


def test_text_that_is_not_an_address_shows_a_clear_page(
    qtbot: Any, browser: BrowserWindow, js: Any
) -> None:
    tab = browser.new_tab()
    type_address(qtbot, browser, "how to <b>pay</b> sites")
    qtbot.waitUntil(lambda: tab.title() == "Not a web address", timeout=WAIT)
    text = js(tab, "document.body.innerText")
    assert "how to <b>pay</b> sites" in text  # escaped: shown as text, not markup
    assert js(tab, "document.querySelectorAll('b').length") == 0
    assert browser.address_bar.text() == "how to <b>pay</b> sites"


def test_escape_in_the_address_bar_reverts_the_text(
    qtbot: Any, browser: BrowserWindow, http_site: Site
) -> None:
    url = http_site.add("/esc", page("Esc"))
    tab = browser.new_tab()
    assert load(qtbot, tab, url)
    qtbot.keyClick(browser, Qt.Key.Key_L, CTRL)
    qtbot.keyClicks(browser.address_bar, "half-typed")
    qtbot.keyClick(browser.address_bar, Qt.Key.Key_Escape)
    assert browser.address_bar.text() == url.toString()


def test_back_forward_reload(qtbot: Any, browser: BrowserWindow, http_site: Site) -> None:
    first = http_site.add("/one", page("One"))
    second = http_site.add("/two", page("Two"))
    tab = browser.new_tab()
    assert load(qtbot, tab, first)
    assert load(qtbot, tab, second)
    assert browser.back_action.isEnabled() and not browser.forward_action.isEnabled()

    def press(key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
        finished: list[bool] = []
        tab.loadFinished.connect(finished.append)  # before the key: no missed signal
        qtbot.keyClick(browser, key, modifier)
        qtbot.waitUntil(lambda: finished == [True], timeout=WAIT)
        tab.loadFinished.disconnect(finished.append)

    press(Qt.Key.Key_Left, ALT)
    assert tab.title() == "One" and tab.url() == first
    assert browser.forward_action.isEnabled()
    press(Qt.Key.Key_Right, ALT)
    assert tab.title() == "Two" and tab.url() == second

    hits = http_site.hits("/two")
    press(Qt.Key.Key_F5)
    press(Qt.Key.Key_R, CTRL)
    assert http_site.hits("/two") == hits + 2


def test_escape_stops_a_slow_load(qtbot: Any, browser: BrowserWindow, http_site: Site) -> None:
    # The page never finishes: an image that the server keeps waiting on is not possible
    # with http.server's single response, so stop right after the load starts instead.
    url = http_site.add("/stop", page("Stop"))
    tab = browser.new_tab()
    started: list[bool] = []
    finished: list[bool] = []
    tab.loadStarted.connect(lambda: started.append(True))
    tab.loadFinished.connect(finished.append)
    tab.load(url)
    qtbot.waitUntil(lambda: bool(started), timeout=WAIT)
    assert browser.stop_action.isEnabled() and browser.stop_action.isVisible()
    qtbot.keyClick(browser, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: bool(finished), timeout=WAIT)
    assert not browser.stop_action.isEnabled() and browser.reload_action.isVisible()


def test_window_open_with_a_click_opens_a_tab(
    qtbot: Any, browser: BrowserWindow, http_site: Site
) -> None:
    target = http_site.add("/opened", page("Opened"))
    url = http_site.add(
        "/opener",
        page(
            "Opener",
            f"<button style='{FULL}' onclick=\"window.open('{target.toString()}')\">open</button>",
        ),
    )
    tab = browser.new_tab()
    assert load(qtbot, tab, url)
    click_page_until(qtbot, tab, lambda: len(browser.tabs()) == 2)
    popup = browser.tabs()[1]
    qtbot.waitUntil(lambda: popup.title() == "Opened", timeout=WAIT)
    assert browser.current_tab() is popup


def test_target_blank_link_opens_a_tab(qtbot: Any, browser: BrowserWindow, http_site: Site) -> None:
    target = http_site.add("/blank-target", page("Blank target"))
    url = http_site.add(
        "/blank-link",
        page("Links", f"<a style='{FULL}' target='_blank' href='{target.toString()}'>go</a>"),
    )
    tab = browser.new_tab()
    assert load(qtbot, tab, url)
    click_page_until(qtbot, tab, lambda: len(browser.tabs()) == 2)
    qtbot.waitUntil(lambda: browser.tabs()[1].title() == "Blank target", timeout=WAIT)


def test_window_open_without_a_gesture_is_blocked(
    qtbot: Any, browser: BrowserWindow, http_site: Site
) -> None:
    target = http_site.add("/unwanted", page("Unwanted"))
    url = http_site.add("/spammer", page("Spammer"))
    tab = browser.new_tab()
    assert load(qtbot, tab, url)
    opened = run_js(qtbot, tab, f"window.open('{target.toString()}') !== null")
    assert opened is False
    assert len(browser.tabs()) == 1
    assert http_site.hits("/unwanted") == 0


def test_window_close_from_the_page_closes_its_tab(
    qtbot: Any, browser: BrowserWindow, http_site: Site
) -> None:
    target = http_site.add("/closer", page("Closer"))
    opener = http_site.add(
        "/closer-opener",
        page(
            "Opener",
            f"<button style='{FULL}' onclick=\"window.open('{target.toString()}')\">o</button>",
        ),
    )
    tab = browser.new_tab()
    assert load(qtbot, tab, opener)
    click_page_until(qtbot, tab, lambda: len(browser.tabs()) == 2)
    popup = browser.tabs()[1]
    qtbot.waitUntil(lambda: popup.title() == "Closer", timeout=WAIT)
    run_js(qtbot, popup, "window.close(); true")
    qtbot.waitUntil(lambda: len(browser.tabs()) == 1, timeout=WAIT)
