"""What waits for the first paint (the wallet's start): it runs once the first page has loaded
and its view has then painted, not before (issue 21: start-up close to a bare QtWebEngine
window)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject

from tests.qt.conftest import WAIT, Browser
from tests.qt.servers import Site
from ui.app import after_first_paint
from ui.browser.window import BrowserWindow


class PaintsAfterLoad(QObject):
    """Writes "paint" into ``events`` for each paint of the watched widget after "loaded"."""

    def __init__(self, events: list[str]) -> None:
        super().__init__()
        self._events = events

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and "loaded" in self._events:
            self._events.append("paint")
        return False


def test_it_runs_once_after_the_page_loaded_and_painted(
    qtbot: Any, browser: BrowserWindow, http_site: Site
) -> None:
    url = http_site.add("/first-paint", "<title>First</title><h1>Hello</h1>")
    tab = browser.new_tab()
    events: list[str] = []
    tab.loadFinished.connect(lambda _ok: events.append("loaded"))  # before after_first_paint's
    after_first_paint(browser, lambda: events.append("start"))
    tab.load(url)
    view = tab.focusProxy()
    assert view is not None  # the widget the page is drawn into
    watch = PaintsAfterLoad(events)
    view.installEventFilter(watch)
    qtbot.waitUntil(lambda: "start" in events, timeout=WAIT)
    assert events[0] == "loaded"
    assert events.index("paint") < events.index("start")
    reloaded: list[bool] = []
    tab.loadFinished.connect(reloaded.append)
    tab.reload()
    qtbot.waitUntil(lambda: bool(reloaded), timeout=WAIT)
    qtbot.waitUntil(lambda: events.count("paint") >= 2, timeout=WAIT)
    assert events.count("start") == 1
    view.removeEventFilter(watch)


def test_without_a_page_it_runs_after_the_wait(qtbot: Any, make_browser: Browser) -> None:
    window = make_browser()  # no tab: nothing will load
    started: list[bool] = []
    after_first_paint(window, lambda: started.append(True))
    assert started == []
    qtbot.waitUntil(lambda: bool(started), timeout=WAIT)
    assert started == [True]
