"""The extension points of the browser: what other parts of Trickle plug into.

* A ``ProfileInstaller`` configures the QtWebEngine profile once, before any page exists
  (user scripts, URL scheme handlers, request interceptors).
* A ``PageHook`` is attached to every page the browser creates, popups included, before the
  page loads anything. It receives the page and the page's ``TabContext``.

Invariants: a ``TabContext`` belongs to exactly one page and tab; ``closing`` is emitted once,
before the page is deleted; ``visibility_changed`` is emitted only when the value changes.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QObject, Signal
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile


class TabContext(QObject):
    """What a hook may know about the tab hosting its page.

    "Visible" means: the tab is the selected tab of its window, and that window is attending
    (:mod:`ui.browser.attention`): by default it, or a dialog it owns, has the keyboard focus
    and the user is not idle. Money accrues only while visible.

    Signals:
        visibility_changed(bool): the value of ``is_visible_in_focused_window()`` changed.
        closing(): the tab is closing; the page is deleted right after the handlers return.
    """

    visibility_changed = Signal(bool)
    closing = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._visible = False
        self._closed = False

    def is_visible_in_focused_window(self) -> bool:
        return self._visible

    def is_closed(self) -> bool:
        return self._closed

    def set_visible(self, visible: bool) -> None:
        """Called by the window (and by tests standing in for one)."""
        if self._closed or visible == self._visible:
            return
        self._visible = visible
        self.visibility_changed.emit(visible)

    def close(self) -> None:
        """Called once by the window when the tab goes away."""
        if self._closed:
            return
        self.set_visible(False)
        self._closed = True
        self.closing.emit()


class PageHook(Protocol):
    """Attached to every page, popups included, before the page loads anything.

    The page is parented to its view and deleted right after ``tab.closing``; a hook keeps no
    strong reference past that. The return value is ignored (a hook may return what it made,
    for its own tests).
    """

    def attach(self, page: QWebEnginePage, tab: TabContext) -> object: ...


class ProfileInstaller(Protocol):
    """Configures the profile once, before the first page is created. The profile outlives
    every page and is deleted after the last window; the return value is ignored."""

    def install(self, profile: QWebEngineProfile) -> object: ...
