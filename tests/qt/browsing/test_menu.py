"""The main menu on one toolbar button, its shortcuts, zoom with the level, print to PDF
(issue 21, item 6)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.qt.browsing.conftest import BrowsingApp, offscreen_windows
from tests.qt.conftest import WAIT, load
from tests.qt.servers import Site
from ui.browser.browsing import print_to_pdf
from ui.browser.library import LibraryWindow
from ui.browser.library_sections import BOOKMARKS, DOWNLOADS, HISTORY
from ui.browser.menu import ZoomRow

pytestmark = offscreen_windows

EXPECTED = {
    "New tab": "Ctrl+T",
    "New window": "Ctrl+N",
    "History": "Ctrl+H",
    "Bookmarks": "Ctrl+Shift+O",
    "Bookmark this page": "Ctrl+D",
    "Downloads": "Ctrl+J",
    "Find in page": "Ctrl+F",
    "Print to PDF…": "Ctrl+P",
    "Settings": "Ctrl+,",
    "Quit Trickle": "Ctrl+Q",
}


def _library() -> LibraryWindow:
    found = [w for w in QApplication.topLevelWidgets() if isinstance(w, LibraryWindow)]
    assert len(found) == 1
    return found[0]


def test_the_menu_offers_everything_with_its_shortcut(
    qtbot: Any, browsing_app: BrowsingApp
) -> None:
    window = browsing_app.window()
    parts = browsing_app.browsing.parts(window)
    assert parts.menu_button.isVisible()
    actions = {a.text(): a for a in parts.menu.actions() if a.text()}
    for text, keys in EXPECTED.items():
        assert text in actions, text
        assert actions[text].shortcut().toString() == keys, text
    assert any(isinstance(a, ZoomRow) for a in parts.menu.actions())


def test_shortcuts_open_the_library_sections(qtbot: Any, browsing_app: BrowsingApp) -> None:
    window = browsing_app.window()
    ctrl, shift = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
    for key, modifiers, section in (
        (Qt.Key.Key_H, ctrl, HISTORY),
        (Qt.Key.Key_O, ctrl | shift, BOOKMARKS),
        (Qt.Key.Key_J, ctrl, DOWNLOADS),
    ):
        window.activateWindow()
        qtbot.waitUntil(window.is_focused, timeout=WAIT)
        qtbot.keyClick(window, key, modifiers)
        qtbot.waitUntil(lambda: _library().isVisible(), timeout=WAIT)
        assert _library().sections.currentIndex() == section


def test_new_window_from_the_menu(qtbot: Any, browsing_app: BrowsingApp) -> None:
    window = browsing_app.window()
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(browsing_app.windows.windows()) == 2, timeout=WAIT)
    second = browsing_app.windows.windows()[1]
    qtbot.waitUntil(
        lambda: [t.url().toString() for t in second.tabs()] == ["trickle://start/"], timeout=WAIT
    )


def test_zoom_row_shows_and_changes_the_level(
    qtbot: Any, browsing_app: BrowsingApp, http_site: Site
) -> None:
    window = browsing_app.window()
    tab = window.new_tab()
    assert load(qtbot, tab, http_site.add("/m/zoom", "<title>Zoom</title><p>text"))
    row = next(
        a for a in browsing_app.browsing.parts(window).menu.actions() if isinstance(a, ZoomRow)
    )
    row.refresh()
    assert row.level.text() == "100 %"
    row.in_button.click()
    assert row.level.text() == "110 %"
    assert abs(tab.zoomFactor() - 1.1) < 0.001
    qtbot.keyClick(window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    row.refresh()
    assert row.level.text() == "90 %"
    row.level.click()
    assert row.level.text() == "100 %"


def test_print_to_pdf(
    qtbot: Any, browsing_app: BrowsingApp, http_site: Site, tmp_path: Path
) -> None:
    window = browsing_app.window()
    tab = window.new_tab()
    assert load(qtbot, tab, http_site.add("/m/print", "<title>Print me</title><h1>Hello</h1>"))
    target = tmp_path / "page.pdf"
    print_to_pdf(window, target)
    qtbot.waitUntil(lambda: "Saved page.pdf" in window.notice.label.text(), timeout=WAIT)
    assert target.read_bytes().startswith(b"%PDF")


def test_quit_keeps_every_window_in_the_session(
    qtbot: Any, browsing_app: BrowsingApp, http_site: Site
) -> None:
    one = browsing_app.window()
    assert load(qtbot, one.new_tab(), http_site.add("/m/one", "<title>One</title>"))
    two = browsing_app.window()
    assert load(qtbot, two.new_tab(), http_site.add("/m/two", "<title>Two</title>"))
    two.quit_action.trigger()
    qtbot.waitUntil(lambda: not browsing_app.windows.windows(), timeout=WAIT)
    session = browsing_app.store.load_session()
    assert isinstance(session, dict)
    saved = [[t["url"] for t in w["tabs"]] for w in session["windows"]]
    assert saved == [[http_site.url("/m/one").toString()], [http_site.url("/m/two").toString()]]
