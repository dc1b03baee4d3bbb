"""Sessions: the windows, their tabs in order and the selected tab, kept across restarts.

``SessionKeeper`` watches every window and saves the session to the browsing store a moment
after anything changes (``SAVE_DELAY_MS``, debounced), so a crash or ``kill -9`` loses at most
that moment. Closing one of several windows drops it from the session; closing the last
window, or quitting (which closes them all at once), keeps what was open for the next start.

Saved form (JSON): ``{"windows": [{"tabs": [{"url": str, "title": str}], "current": int,
"geometry": base64}]}``. Only addresses a tab can load again are saved (no ``about:blank``).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

import shiboken6
from PySide6.QtCore import QByteArray, QObject, QTimer, QUrl

from ui.browser import urls
from ui.browser.storage import BrowsingStore
from ui.browser.window import BrowserWindow
from ui.browser.windows import Windows

SAVE_DELAY_MS = 250
ON_START_SETTING = "on_start"
RESTORE = "restore"
START_PAGE = "start_page"


@dataclass(frozen=True)
class SavedWindow:
    urls: tuple[QUrl, ...]
    current: int
    geometry: QByteArray | None


def parse_session(data: object) -> list[SavedWindow]:
    """The windows of a saved session; anything malformed is left out."""
    if not isinstance(data, dict) or not isinstance(data.get("windows"), list):
        return []
    saved = []
    for entry in data["windows"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("tabs"), list):
            continue
        targets = []
        for tab in entry["tabs"]:
            url = tab.get("url") if isinstance(tab, dict) else None
            target = urls.parse(url) if isinstance(url, str) else None
            if target is not None and target.understood:
                targets.append(target.url)
        current = entry.get("current")
        geometry = None
        if isinstance(entry.get("geometry"), str):
            try:
                geometry = QByteArray(base64.b64decode(entry["geometry"], validate=True))
            except (binascii.Error, ValueError):
                geometry = None
        if targets:
            index = current if isinstance(current, int) and 0 <= current < len(targets) else 0
            saved.append(SavedWindow(tuple(targets), index, geometry))
    return saved


def describe_window(window: BrowserWindow) -> dict[str, object]:
    tabs = []
    for tab in window.tabs():
        url = tab.url()
        if url.isEmpty() or url.toString() == "about:blank":
            continue
        tabs.append({"url": url.toString(), "title": tab.title()})
    geometry = bytes(window.saveGeometry().data())
    return {
        "tabs": tabs,
        "current": max(0, window.tab_strip.currentIndex()),
        "geometry": base64.b64encode(geometry).decode(),
    }


class SessionKeeper(QObject):
    """Keeps the store's saved session in step with the open windows."""

    def __init__(self, store: BrowsingStore, windows: Windows) -> None:
        super().__init__(windows)
        self._store = store
        self._windows = windows
        self._frozen = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_DELAY_MS)
        self._timer.timeout.connect(self.save_now)
        windows.window_added.connect(self._watch)
        windows.window_closed.connect(self._on_window_closed)
        # Windows as they were before the first of a run of closes: quitting (Ctrl+Q,
        # SIGTERM) closes the windows one by one, within one turn of the event loop.
        self._before_closing: list[dict[str, object]] | None = None

    def restore(self, extra: Sequence[QUrl] = ()) -> list[BrowserWindow]:
        """Open the saved windows (``extra`` URLs as tabs of the last one); [] if none."""
        saved = parse_session(self._store.load_session())
        opened = []
        for n, entry in enumerate(saved):
            more = list(extra) if n == len(saved) - 1 else []
            window = self._windows.new_window(show=False)
            if entry.geometry is not None:
                window.restoreGeometry(entry.geometry)
            for url in entry.urls:
                window.new_tab(url)  # each after the last (tabs open after the current one)
            window.tab_strip.setCurrentIndex(entry.current)
            for url in more:
                window.new_tab(url)
            window.show()
            opened.append(window)
        return opened

    def schedule(self) -> None:
        if not self._frozen:
            self._timer.start()

    def save_now(self) -> None:
        self._timer.stop()
        if self._frozen:
            return
        self._before_closing = None
        described = [describe_window(w) for w in self._windows.windows() if shiboken6.isValid(w)]
        self._store.save_session({"windows": described})

    def _watch(self, window: BrowserWindow) -> None:
        strip = window.tab_strip
        strip.current_tab_changed.connect(lambda _tab: self.schedule())
        strip.tab_closed.connect(lambda _url: self.schedule())
        strip.tabBar().tabMoved.connect(lambda _a, _b: self.schedule())
        strip.tab_added.connect(self._watch_tab)
        for tab in window.tabs():
            self._watch_tab(tab)
        self.schedule()

    def _watch_tab(self, tab: QObject) -> None:
        tab.urlChanged.connect(lambda _url: self.schedule())  # type: ignore[attr-defined]
        tab.titleChanged.connect(lambda _title: self.schedule())  # type: ignore[attr-defined]
        self.schedule()

    def _on_window_closed(self, window: BrowserWindow) -> None:
        """``window`` is closing (still listed by ``Windows``)."""
        if self._frozen:
            return
        if self._before_closing is None:
            self._before_closing = [describe_window(w) for w in self._windows.windows()]
        if any(w is not window for w in self._windows.windows()):
            self.schedule()  # one of several: it leaves the session when the timer fires
        else:
            # The last one: all that was open before this run of closes is the session to
            # restore next time (the other windows closed in the same moment: quitting).
            self._timer.stop()
            self._store.save_session({"windows": self._before_closing})
            self._frozen = True
