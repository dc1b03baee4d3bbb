"""The address bar: shows the current tab's address, and turns what is typed into a target.

Signals:
    navigate_requested(object): a ``urls.Target`` the user asked for (Enter).
    escaped(): Esc pressed; the text was reset to the current address.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import QLineEdit, QWidget

from ui.browser import urls
from ui.browser.scheme import SCHEME, query_value
from ui.browser.search import SearchEngine
from ui.plain_text import visible_url


class AddressBar(QLineEdit):
    navigate_requested = Signal(object)
    escaped = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Address")
        self.setPlaceholderText("Search or type an address")
        # Where words that are not an address go (``ui.browser.search``); None: nowhere.
        self.search_engine: SearchEngine | None = None
        self.setClearButtonEnabled(True)
        self._url = QUrl()
        self.returnPressed.connect(self._on_return)

    def show_url(self, url: QUrl) -> None:
        """Show the page's address, unless the user is in the middle of typing."""
        self._url = QUrl(url)
        if not (self.hasFocus() and self.isModified()):
            self.setText(_display(url))
            self.setCursorPosition(0)

    def focus_and_select(self) -> None:
        self.setFocus()
        self.selectAll()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.setText(_display(self._url))
            self.setModified(False)
            self.escaped.emit()
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        # Select after the click that gave focus has placed the cursor (browsers do the same).
        QTimer.singleShot(0, self, self.selectAll)

    def _on_return(self) -> None:
        target = urls.parse(self.text())
        if target is not None:
            self.go(target)

    def go(self, target: urls.Target) -> None:
        """Navigate to ``target``, or search for the text when it is not an address."""
        if not target.understood and self.search_engine is not None:
            target = urls.Target(self.search_engine.url_for(self.text()), True)
        self.setModified(False)
        self.navigate_requested.emit(target)


def _display(url: QUrl) -> str:
    """What the bar shows for ``url``. On Trickle's error pages, the address that failed (or
    the text that was not one), as browsers do: Enter then simply tries again."""
    if url.isEmpty() or url.toString() == "about:blank":
        return ""
    if url.scheme() == SCHEME and url.host() == "start":
        return ""  # a new tab's page: an empty bar to type into, as browsers show it
    if url.scheme() == SCHEME and url.host() == "error":
        failed = query_value(url, "url") or query_value(url, "q")
        if failed:
            return visible_url(failed)
    return visible_url(url.toDisplayString())  # never a password; nothing hidden or reordered
