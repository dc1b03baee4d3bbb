"""Tabs: open, close, switch with the keyboard; title, favicon and progress shown."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from tests.qt.conftest import WAIT, load
from tests.qt.servers import Site
from ui.browser.window import BrowserWindow

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<link rel="icon" href="/icon.png"></head><body><h1>{title}</h1></body></html>"""

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def test_ctrl_t_opens_a_tab_with_the_address_bar_focused(
    qtbot: Any, browser: BrowserWindow
) -> None:
    browser.new_tab()
    qtbot.keyClick(browser, Qt.Key.Key_T, CTRL)
    assert len(browser.tabs()) == 2
    assert browser.current_tab() is browser.tabs()[1]
    qtbot.waitUntil(browser.address_bar.hasFocus, timeout=WAIT)


def test_ctrl_t_gives_an_empty_address_bar_to_type_into(qtbot: Any, browser: BrowserWindow) -> None:
    """Typing at once after Ctrl+T makes the address typed, not "trickle://start/" + text."""
    browser.new_tab()
    qtbot.keyClick(browser, Qt.Key.Key_T, CTRL)
    tab = browser.tabs()[1]
    qtbot.waitUntil(lambda: tab.url().toString() == "trickle://start/", timeout=WAIT)
    qtbot.waitUntil(lambda: not tab.is_loading(), timeout=WAIT)
    qtbot.waitUntil(browser.address_bar.hasFocus, timeout=WAIT)
    assert browser.address_bar.text() == ""
    qtbot.keyClicks(browser.address_bar, "example.com")
    assert browser.address_bar.text() == "example.com"


def test_ctrl_tab_cycles_and_ctrl_w_closes(qtbot: Any, browser: BrowserWindow) -> None:
    tabs = [browser.new_tab() for _ in range(3)]
    assert browser.current_tab() is tabs[2]
    qtbot.keyClick(browser, Qt.Key.Key_Tab, CTRL)
    assert browser.current_tab() is tabs[0]  # wraps around
    qtbot.keyClick(browser, Qt.Key.Key_Backtab, CTRL | SHIFT)
    assert browser.current_tab() is tabs[2]
    qtbot.keyClick(browser, Qt.Key.Key_Backtab, CTRL | SHIFT)
    assert browser.current_tab() is tabs[1]
    closing: list[bool] = []
    tabs[1].context.closing.connect(lambda: closing.append(True))
    qtbot.keyClick(browser, Qt.Key.Key_W, CTRL)
    assert closing == [True]
    assert len(browser.tabs()) == 2
    assert tabs[1] not in browser.tabs()


def test_closing_the_last_tab_closes_the_window(qtbot: Any, browser: BrowserWindow) -> None:
    browser.new_tab()
    qtbot.keyClick(browser, Qt.Key.Key_W, CTRL)
    qtbot.waitUntil(lambda: not browser.isVisible(), timeout=WAIT)


def test_close_button_and_new_tab_button(qtbot: Any, browser: BrowserWindow) -> None:
    first = browser.new_tab()
    browser.tab_strip.new_tab_clicked.emit()
    assert len(browser.tabs()) == 2
    browser.tab_strip.tabCloseRequested.emit(browser.tab_strip.indexOf(first))
    assert browser.tabs() and first not in browser.tabs()


def test_title_favicon_and_progress(qtbot: Any, browser: BrowserWindow, http_site: Site) -> None:
    url = http_site.add("/titled", PAGE.format(title="A page & its title"))
    tab = browser.new_tab()
    progress: list[int] = []
    icons: list[bool] = []
    tab.loadProgress.connect(progress.append)
    tab.iconChanged.connect(lambda icon: icons.append(not icon.isNull()))
    assert load(qtbot, tab, url)
    qtbot.waitUntil(lambda: True in icons, timeout=WAIT)
    index = browser.tab_strip.indexOf(tab)
    assert browser.tab_strip.tabText(index) == "A page && its title"  # && shows as one &
    # A tooltip that looks like HTML would be rendered: the page's title is escaped in one.
    assert browser.tab_strip.tabToolTip(index) == "<qt>A page &amp; its title</qt>"
    assert not browser.tab_strip.tabIcon(index).isNull()
    assert browser.windowTitle() == "A page & its title — Trickle"
    assert progress and progress[-1] == 100
    assert tab.progress() == 100 and not tab.is_loading()
    assert not browser.stop_action.isEnabled() and browser.reload_action.isVisible()


def test_long_titles_are_shortened_in_the_tab(
    qtbot: Any, browser: BrowserWindow, http_site: Site
) -> None:
    title = "A very long title " * 10
    url = http_site.add("/long-title", PAGE.format(title=title))
    tab = browser.new_tab()
    assert load(qtbot, tab, url)
    qtbot.waitUntil(lambda: tab.title() == title.strip(), timeout=WAIT)
    text = browser.tab_strip.tabText(browser.tab_strip.indexOf(tab))
    assert len(text) <= 32 and text.endswith("…")


def test_middle_click_closes_a_tab(qtbot: Any, browser: BrowserWindow) -> None:
    first, second = browser.new_tab(), browser.new_tab()
    bar = browser.tab_strip.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.MiddleButton, pos=bar.tabRect(0).center())
    assert browser.tabs() == [second]
    assert first.context.is_closed()


def test_zoom_keys(qtbot: Any, browser: BrowserWindow) -> None:
    tab = browser.new_tab()
    qtbot.keyClick(browser, Qt.Key.Key_Plus, CTRL)
    assert tab.zoomFactor() == 1.1
    qtbot.keyClick(browser, Qt.Key.Key_Minus, CTRL)
    qtbot.keyClick(browser, Qt.Key.Key_Minus, CTRL)
    assert tab.zoomFactor() == 0.9
    qtbot.keyClick(browser, Qt.Key.Key_0, CTRL)
    assert tab.zoomFactor() == 1.0


def test_ctrl_q_closes_the_window(qtbot: Any, browser: BrowserWindow) -> None:
    tab = browser.new_tab()
    closing: list[bool] = []
    tab.context.closing.connect(lambda: closing.append(True))
    qtbot.keyClick(browser, Qt.Key.Key_Q, CTRL)
    qtbot.waitUntil(lambda: not browser.isVisible(), timeout=WAIT)
    assert closing == [True]


def test_a_crashed_page_says_so(qtbot: Any, browser: BrowserWindow, http_site: Site) -> None:
    import os
    import signal

    url = http_site.add("/doomed", PAGE.format(title="Doomed"))
    tab = browser.new_tab()
    assert load(qtbot, tab, url)
    pid = tab.page().renderProcessPid()
    assert pid > 0
    os.kill(pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: tab.title() == "This page stopped working", timeout=WAIT)
    assert tab.url().path() == "/crashed"


def test_ctrl_number_selects_a_tab(qtbot: Any, browser: BrowserWindow) -> None:
    tabs = [browser.new_tab() for _ in range(4)]
    qtbot.keyClick(browser, Qt.Key.Key_1, CTRL)
    assert browser.current_tab() is tabs[0]
    qtbot.keyClick(browser, Qt.Key.Key_3, CTRL)
    assert browser.current_tab() is tabs[2]
    qtbot.keyClick(browser, Qt.Key.Key_9, CTRL)
    assert browser.current_tab() is tabs[3]


def test_find_in_page(qtbot: Any, browser: BrowserWindow, http_site: Site) -> None:
    url = http_site.add(
        "/find", "<title>Find</title><p>coin one</p><p>coin two</p><p>coin three</p>"
    )
    tab = browser.new_tab()
    assert load(qtbot, tab, url)
    qtbot.keyClick(browser, Qt.Key.Key_F, CTRL)
    bar = browser.find_bar
    qtbot.waitUntil(bar.field.hasFocus, timeout=WAIT)
    qtbot.keyClicks(bar.field, "coin")
    qtbot.waitUntil(lambda: bar.matches.text() == "1 of 3", timeout=WAIT)
    qtbot.keyClick(bar.field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bar.matches.text() == "2 of 3", timeout=WAIT)
    qtbot.keyClick(bar.field, Qt.Key.Key_Return, SHIFT)
    qtbot.waitUntil(lambda: bar.matches.text() == "1 of 3", timeout=WAIT)
    qtbot.keyClicks(bar.field, "age")
    qtbot.waitUntil(lambda: bar.matches.text() == "No matches", timeout=WAIT)
    qtbot.keyClick(bar.field, Qt.Key.Key_Escape)
    assert not bar.isVisible()


def test_ctrl_shift_t_reopens_the_last_closed_tab(
    qtbot: Any, browser: BrowserWindow, http_site: Site
) -> None:
    keep = browser.new_tab()
    closed = browser.new_tab()
    assert load(qtbot, closed, http_site.add("/reopen", PAGE.format(title="Reopen me")))
    qtbot.keyClick(browser, Qt.Key.Key_W, CTRL)
    assert browser.tabs() == [keep]
    qtbot.keyClick(browser, Qt.Key.Key_T, CTRL | SHIFT)
    assert len(browser.tabs()) == 2
    reopened = browser.current_tab()
    assert reopened is not None
    qtbot.waitUntil(lambda: reopened.title() == "Reopen me", timeout=WAIT)


def test_the_no_sandbox_warning_bar_sits_above_the_tabs(qtbot: Any, browser: BrowserWindow) -> None:
    from ui.browser.sandbox_bar import show_sandbox_warning
    from ui.launch_checks import NO_SANDBOX_WARNING

    bar = show_sandbox_warning(browser)
    assert bar is not None
    qtbot.waitUntil(bar.isVisible, timeout=WAIT)
    assert bar.label.text() == NO_SANDBOX_WARNING
    assert bar.label.textFormat() == Qt.TextFormat.PlainText
    assert bar.geometry().bottom() <= browser.tab_strip.geometry().top()
