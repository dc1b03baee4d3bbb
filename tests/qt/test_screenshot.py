"""Renders the window offscreen to tests/artifacts/ so a person can look at it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLabel

from tests.qt.conftest import WAIT, load
from tests.qt.servers import Site
from ui.browser.scheme import START_URL
from ui.browser.window import BrowserWindow

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

ARTICLE = """<!doctype html><html><head><meta charset="utf-8"><title>A monetized blog</title>
<link rel="icon" href="/icon.png"><style>body{font:17px/1.6 sans-serif;max-width:40rem;
margin:3rem auto;padding:0 1rem}</style></head><body><h1>Writing on the open web</h1>
<p>This page stands in for a site you would read in Trickle.</p></body></html>"""


def test_screenshot_of_the_window(qtbot: Any, browser: BrowserWindow, http_site: Site) -> None:
    article = browser.new_tab()
    assert load(qtbot, article, http_site.add("/article", ARTICLE))
    qtbot.waitUntil(lambda: not article.icon().isNull(), timeout=WAIT)
    finished: list[bool] = []
    home = browser.new_tab()
    home.loadFinished.connect(finished.append)
    home.load(START_URL)  # the start page, as on first launch
    qtbot.waitUntil(lambda: finished == [True], timeout=WAIT)
    # What the issue-8 indicator will occupy, to check that the toolbar leaves it room.
    stand_in = QLabel("● 0.0042 USD")
    stand_in.setAccessibleName("Monetization indicator (stand-in)")
    slot_layout = browser.indicator_slot.layout()
    assert slot_layout is not None
    slot_layout.addWidget(stand_in)
    qtbot.waitUntil(stand_in.isVisible, timeout=WAIT)
    # Wait for the page's first paint: its heading (dark text) shows in the grab.
    qtbot.waitUntil(lambda: _has_dark_pixels(home.grab().toImage()), timeout=WAIT)
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "browser.png"
    assert browser.grab().save(str(path))
    assert path.stat().st_size > 10_000

    # The same window with a hovered link, a notice and the find bar open.
    browser.tab_strip.setCurrentWidget(article)
    qtbot.keyClick(browser, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(browser.find_bar.field, "web")
    qtbot.waitUntil(lambda: browser.find_bar.matches.text() == "1 of 1", timeout=WAIT)
    article.page().linkHovered.emit("https://example.com/a/link/being/hovered")
    browser.on_download_finished("/home/reader/Downloads/report.csv", True, "")
    path = ARTIFACTS / "browser-find.png"
    assert browser.grab().save(str(path))


def _has_dark_pixels(image: QImage) -> bool:
    step = 7
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            if image.pixelColor(x, y).lightness() < 100:
                return True
    return False
