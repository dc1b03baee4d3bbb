"""One tab's view: the page, its ``TabContext``, and what the tab bar shows about it.

Signals:
    display_changed(): title, icon or loading state changed (the tab bar re-reads them).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QIcon
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QWidget

from ui.browser.hooks import TabContext
from ui.browser.page import BrowserPage
from ui.plain_text import TITLE_CHARS, page_text, visible_url

MAX_TAB_TITLE = 32
# Chromium's zoom steps, as other browsers offer them.
ZOOM_LEVELS = (
    0.25,
    0.33,
    0.5,
    0.67,
    0.75,
    0.8,
    0.9,
    1.0,
    1.1,
    1.25,
    1.5,
    1.75,
    2.0,
    2.5,
    3.0,
    4.0,
    5.0,
)


class BrowserTab(QWebEngineView):
    """A QWebEngineView that owns its page and its TabContext."""

    display_changed = Signal()

    def __init__(
        self, page: BrowserPage, context: TabContext, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        page.setParent(self)
        context.setParent(self)
        self.context = context
        self.setPage(page)
        self.setAccessibleName("Web page")
        self._loading = False
        self._progress = 0
        self.titleChanged.connect(self._changed)
        self.iconChanged.connect(self._changed)
        self.loadStarted.connect(self._on_load_started)
        self.loadProgress.connect(self._on_load_progress)
        self.loadFinished.connect(self._on_load_finished)

    def browser_page(self) -> BrowserPage:
        page = self.page()
        assert isinstance(page, BrowserPage)
        return page

    def is_loading(self) -> bool:
        return self._loading

    def progress(self) -> int:
        return self._progress

    def display_title(self) -> str:
        """Title for the window, the tab and its tooltip: the page's title, else its address —
        as plain, visible text of at most ``TITLE_CHARS`` (the page chose it: no bidi override,
        no invisible characters)."""
        title = self.title().strip()
        url = self.url()
        if title and title not in (url.toString(), url.toDisplayString()):
            return page_text(title, TITLE_CHARS) or visible_url(url.toDisplayString())
        if self._loading and url.isEmpty():
            return "Loading…"
        return page_text(visible_url(url.toDisplayString()), TITLE_CHARS) or "New tab"

    def short_title(self) -> str:
        title = self.display_title()
        return title if len(title) <= MAX_TAB_TITLE else title[: MAX_TAB_TITLE - 1] + "…"

    def zoom(self, step: int) -> None:
        """One zoom step in (+1) or out (-1); 0 resets to 100%."""
        if step == 0:
            self.setZoomFactor(1.0)
            return
        current = self.zoomFactor()
        if step > 0:
            bigger = [z for z in ZOOM_LEVELS if z > current + 0.001]
            self.setZoomFactor(bigger[0] if bigger else ZOOM_LEVELS[-1])
        else:
            smaller = [z for z in ZOOM_LEVELS if z < current - 0.001]
            self.setZoomFactor(smaller[-1] if smaller else ZOOM_LEVELS[0])

    def tab_icon(self) -> QIcon:
        return self.icon()

    def _changed(self) -> None:
        self.display_changed.emit()

    def _on_load_started(self) -> None:
        self._loading = True
        self._progress = 0
        self.display_changed.emit()

    def _on_load_progress(self, progress: int) -> None:
        self._progress = progress

    def _on_load_finished(self, _ok: bool) -> None:
        self._loading = False
        self._progress = 100
        self.display_changed.emit()
