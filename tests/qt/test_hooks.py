"""The extension points: page hooks on every page (popups too), tab visibility, closing."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile, QWebEngineScript
from PySide6.QtWidgets import QDialog

from tests.qt.conftest import WAIT, Browser, load, run_js
from tests.qt.servers import Site
from ui.browser.hooks import TabContext


class RecordingHook:
    def __init__(self) -> None:
        self.attached: list[tuple[QWebEnginePage, TabContext]] = []
        self.loaded_before_attach: list[bool] = []

    def attach(self, page: QWebEnginePage, tab: TabContext) -> None:
        self.loaded_before_attach.append(not page.url().isEmpty())
        self.attached.append((page, tab))


class ScriptInstaller:
    """Profile-wide: a main-world script, as the Web Monetization installer would add."""

    def install(self, profile: QWebEngineProfile) -> None:
        script = QWebEngineScript()
        script.setName("_trickle_test_marker")
        script.setSourceCode("window.__trickleInstalled = true;")
        script.setInjectionPoint(QWebEngineScript.InjectionPoint.DocumentCreation)
        script.setWorldId(QWebEngineScript.ScriptWorldId.MainWorld)
        profile.scripts().insert(script)


def test_installers_and_hooks_reach_every_page_including_popups(
    qtbot: Any, make_browser: Browser, http_site: Site
) -> None:
    hook = RecordingHook()
    window = make_browser(page_hooks=[hook], installers=[ScriptInstaller()])
    target = http_site.add("/hooked-popup", "<title>Popup</title>")
    url = http_site.add(
        "/hooked",
        "<title>Hooked</title><button style='position:fixed;inset:0' "
        f"onclick=\"window.open('{target.toString()}')\">open</button>",
    )
    tab = window.new_tab()
    assert load(qtbot, tab, url)
    assert run_js(qtbot, tab, "window.__trickleInstalled === true")
    target_widget = tab.focusProxy()
    assert target_widget is not None
    qtbot.mouseClick(
        target_widget,
        Qt.MouseButton.LeftButton,
        pos=QPoint(target_widget.width() // 2, target_widget.height() // 2),
    )
    qtbot.waitUntil(lambda: len(window.tabs()) == 2, timeout=WAIT)
    popup = window.tabs()[1]
    assert [page for page, _ in hook.attached] == [tab.page(), popup.page()]
    assert [ctx for _, ctx in hook.attached] == [tab.context, popup.context]
    assert hook.loaded_before_attach == [False, False]


def test_visibility_follows_tab_selection_and_window_focus(
    qtbot: Any, make_browser: Browser
) -> None:
    window = make_browser()
    first = window.new_tab()
    assert first.context.is_visible_in_focused_window()
    changes: list[bool] = []
    first.context.visibility_changed.connect(changes.append)

    second = window.new_tab()  # selected: the first tab goes to the background
    assert not first.context.is_visible_in_focused_window()
    assert second.context.is_visible_in_focused_window()
    background = window.new_tab(background=True)
    assert not background.context.is_visible_in_focused_window()

    window.tab_strip.setCurrentWidget(first)
    assert first.context.is_visible_in_focused_window()
    assert not second.context.is_visible_in_focused_window()
    assert changes == [False, True]

    # A dialog owned by the window keeps its tab visible (e.g. the consent dialog).
    dialog = QDialog(window)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=WAIT)
    assert first.context.is_visible_in_focused_window()
    dialog.close()
    dialog.deleteLater()

    # Another window in front: nothing in this one is visible.
    other = make_browser()
    qtbot.waitUntil(lambda: not first.context.is_visible_in_focused_window(), timeout=WAIT)
    other.close()
    window.activateWindow()
    qtbot.waitUntil(first.context.is_visible_in_focused_window, timeout=WAIT)

    window.showMinimized()
    qtbot.waitUntil(lambda: not first.context.is_visible_in_focused_window(), timeout=WAIT)
    assert changes[-1] is False


def test_closing_tabs_and_windows_emits_closing_once(qtbot: Any, make_browser: Browser) -> None:
    window = make_browser()
    tabs = [window.new_tab() for _ in range(3)]
    closed: list[int] = []
    for i, tab in enumerate(tabs):
        tab.context.closing.connect(lambda i=i: closed.append(i))
    window.tab_strip.close_tab(tabs[1])
    assert closed == [1]
    assert tabs[1].context.is_closed()
    make_browser.close(window)
    assert sorted(closed) == [0, 1, 2]


class StepClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_attention_rules_focused_only_and_idle(qtbot: Any, make_browser: Browser) -> None:
    window = make_browser()
    clock = StepClock()
    attention = window.attention
    attention._clock = clock  # the window's own Attention, on an injected clock
    attention.note_input()
    tab = window.new_tab()
    assert tab.context.is_visible_in_focused_window()

    # Idle: no input for the limit -> not paid; any input -> paid again at once.
    attention.configure(focused_only=True, idle_after=60.0)
    clock.now += 59
    attention.check_idle()
    assert tab.context.is_visible_in_focused_window()
    clock.now += 1
    attention.check_idle()
    assert attention.is_idle() and not tab.context.is_visible_in_focused_window()
    QTest.keyClick(window.windowHandle(), Qt.Key.Key_Shift)  # real input to the window
    assert not attention.is_idle() and tab.context.is_visible_in_focused_window()

    # Another window in front: with "focused only" the tab is not paid; without, it is.
    other = make_browser()
    qtbot.waitUntil(lambda: not tab.context.is_visible_in_focused_window(), timeout=WAIT)
    attention.configure(focused_only=False, idle_after=None)
    assert tab.context.is_visible_in_focused_window()
    window.showMinimized()
    qtbot.waitUntil(lambda: not tab.context.is_visible_in_focused_window(), timeout=WAIT)
    other.close()
