"""Every browser window of the process, made in one place so that each gets the same hooks.

``Windows`` creates windows on the one profile with the page hooks and window hooks given at
start; "New window" (Ctrl+N), a second launch and session restore all go through
``new_window``. The most recently active window is where URLs from elsewhere open.

Signals:
    window_added(object): a ``BrowserWindow`` was created and its hooks have run.
    window_closed(object): a ``BrowserWindow`` is closing; ``windows()`` still lists it while
        the handlers run, and it is deleted later.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QUrl, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWebEngineCore import QWebEngineProfile
from PySide6.QtWidgets import QWidget

from ui.browser.hooks import PageHook
from ui.browser.scheme import START_URL
from ui.browser.window import BrowserWindow

WindowHook = Callable[[BrowserWindow], object]


def bring_forward(widget: QWidget) -> None:
    """Show ``widget`` in front and focused (the offscreen platform cannot raise windows)."""
    widget.show()
    if QGuiApplication.platformName() != "offscreen":
        widget.raise_()
    widget.activateWindow()


class Windows(QObject):
    window_added = Signal(object)
    window_closed = Signal(object)

    def __init__(
        self,
        profile: QWebEngineProfile,
        page_hooks: Sequence[PageHook] = (),
        window_hooks: Sequence[WindowHook] = (),
        home: QUrl = START_URL,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._profile = profile
        self._page_hooks = tuple(page_hooks)
        self._window_hooks = list(window_hooks)
        self.home = QUrl(home)
        self._windows: list[BrowserWindow] = []  # in the order they were opened
        self._recency: dict[int, int] = {}  # id(window) -> tick of its last activation
        self._ticks = 0

    def add_window_hook(self, hook: WindowHook) -> None:
        self._window_hooks.append(hook)

    def new_window(self, urls: Sequence[QUrl] = (), *, show: bool = True) -> BrowserWindow:
        """A window with the tabs ``urls`` (none: no tabs yet, the caller adds them)."""
        window = BrowserWindow(self._profile, self._page_hooks, self.home)
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)  # its pages go with it
        self._windows.append(window)
        window.installEventFilter(self)
        for hook in self._window_hooks:
            hook(window)
        for url in urls:
            window.new_tab(url)
        if show:
            window.show()
        self.window_added.emit(window)
        return window

    def new_window_from_user(self) -> BrowserWindow:
        window = self.new_window([self.home])
        window.activateWindow()
        window.address_bar.focus_and_select()
        return window

    def windows(self) -> list[BrowserWindow]:
        """Open windows, in the order they were opened."""
        return [w for w in self._windows if shiboken6.isValid(w)]

    def active(self) -> BrowserWindow | None:
        """The window the user used last (where URLs from elsewhere open)."""
        live = [w for w in self._windows if shiboken6.isValid(w) and w.isVisible()]
        return max(live, key=lambda w: self._recency.get(id(w), 0), default=None)

    def open_urls(self, urls: Sequence[QUrl]) -> BrowserWindow:
        """Open ``urls`` as tabs of the active window (a new window if there is none)."""
        window = self.active()
        if window is None or not urls:
            window = self.new_window(list(urls) or [self.home])
        else:
            for url in urls:
                window.new_tab(url)
        bring_forward(window)
        return window

    def on_download_finished(self, path: str, ok: bool, reason: str) -> None:
        """Said in the window the user used last."""
        if (window := self.active()) is not None:
            window.on_download_finished(path, ok, reason)

    def delete_all(self) -> None:
        """Delete every window (and so every page): the profile can go after this."""
        for window in self._windows:
            if shiboken6.isValid(window):
                shiboken6.delete(window)
        self._windows.clear()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if isinstance(watched, BrowserWindow):
            kind = event.type()
            if kind in (QEvent.Type.WindowActivate, QEvent.Type.Show):
                self._ticks += 1
                self._recency[id(watched)] = self._ticks
            elif kind == QEvent.Type.Close and event.isAccepted():
                self._forget(watched)
        return False

    def _forget(self, window: BrowserWindow) -> None:
        if window in self._windows:
            self.window_closed.emit(window)  # still listed while the handlers run
            self._windows.remove(window)
            self._recency.pop(id(window), None)
