"""Renders the issue-21 parts offscreen to tests/artifacts/ so that a person can look at them:
the menu, History, Bookmarks, Downloads, the completion popup and a permission prompt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QWidget

from tests.qt.browsing.conftest import BrowsingApp, offscreen_windows
from tests.qt.conftest import WAIT, load, run_js
from tests.qt.servers import Site
from ui.browser.library_sections import BOOKMARKS, DOWNLOADS, HISTORY

pytestmark = offscreen_windows
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"

ARTICLE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font:17px/1.6 sans-serif;max-width:40rem;margin:3rem auto}}</style></head>
<body><h1>{title}</h1><p>A page that stands in for a site.</p></body></html>"""


def _save(widget: QWidget, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    assert widget.grab().save(str(path))
    assert path.stat().st_size > 2_000
    return path


def test_screenshots(qtbot: Any, browsing_app: BrowsingApp, http_site: Site) -> None:
    window = browsing_app.window()
    tab = window.new_tab()
    for n, title in enumerate(
        ["Weather in Lisbon", "Interledger: sending money", "<script> in a title", "Recipes"]
    ):
        assert load(qtbot, tab, http_site.add(f"/shot/{n}", ARTICLE.format(title=title)))
    browsing_app.store.add_bookmark(http_site.url("/shot/1").toString(), "Interledger", "Reading")
    browsing_app.store.add_bookmark("https://example.org/", "Example", "")

    # The menu, open under its button.
    parts = browsing_app.browsing.parts(window)
    menu = parts.menu
    menu.popup(parts.menu_button.mapToGlobal(QPoint(0, parts.menu_button.height())))
    qtbot.waitUntil(menu.isVisible, timeout=WAIT)
    _save(menu, "menu.png")
    menu.hide()

    # History, Bookmarks, Downloads (one finished download).
    url = http_site.add(
        "/shot/report.csv",
        "a,b\n1,2\n",
        content_type="text/csv",
        headers=(("Content-Disposition", 'attachment; filename="report.csv"'),),
    )
    library = browsing_app.browsing.library(HISTORY)
    downloads = library.downloads
    assert downloads is not None
    window.new_tab(url, background=True)
    qtbot.waitUntil(lambda: bool(downloads.rows), timeout=WAIT)
    qtbot.waitUntil(lambda: downloads.rows[0].state.text().startswith("Done"), timeout=WAIT)
    library.show_section(HISTORY)
    _save(library, "history.png")
    library.show_section(BOOKMARKS)
    _save(library, "bookmarks.png")
    library.show_section(DOWNLOADS)
    _save(library, "downloads.png")
    library.close()

    # The completion popup, over the window.
    window.activateWindow()
    qtbot.waitUntil(window.is_focused, timeout=WAIT)
    bar = window.address_bar
    bar.setFocus()
    qtbot.waitUntil(lambda: bar.hasFocus() and bar.selectedText() == bar.text(), timeout=WAIT)
    qtbot.keyClicks(bar, "in")
    popup = parts.completion.popup()
    assert popup is not None
    qtbot.waitUntil(popup.isVisible, timeout=WAIT)
    _save(popup, "completion.png")
    popup.hide()

    # A permission prompt.
    run_js(qtbot, tab, "Notification.requestPermission()")
    qtbot.waitUntil(parts.permission_bar.isVisible, timeout=WAIT)
    qtbot.waitUntil(lambda: not tab.is_loading(), timeout=WAIT)
    _save(window, "permission.png")
    browsing_app.browsing.prompts.answer(False, remember=False)
