"""Find in page: a bar under the tabs (Ctrl+F), Enter / Shift+Enter for next / previous.

Signals:
    closed(): the bar was closed (Esc or its close button); highlights are cleared.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWebEngineCore import QWebEngineFindTextResult, QWebEnginePage
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QToolButton, QWidget

_FORWARD = QWebEnginePage.FindFlag(0)
_BACKWARD = QWebEnginePage.FindFlag.FindBackward


class _FindField(QLineEdit):
    previous_requested = Signal()
    next_requested = Signal()
    escaped = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                self.previous_requested.emit()
            else:
                self.next_requested.emit()
            return
        if event.key() == Qt.Key.Key_Escape:
            self.escaped.emit()
            return
        super().keyPressEvent(event)


class FindBar(QWidget):
    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Find in page")
        self._page: QWebEnginePage | None = None
        self.field = _FindField(self)
        self.field.setAccessibleName("Text to find")
        self.field.setPlaceholderText("Find in page")
        self.field.setClearButtonEnabled(True)
        self.matches = QLabel(self)
        self.matches.setAccessibleName("Matches")
        self.matches.setMinimumWidth(90)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 3, 6, 3)
        self.field.setMaximumWidth(420)
        layout.addWidget(self.field, 1)
        layout.addWidget(self.matches)
        for text, name, slot in (
            ("↑", "Previous match (Shift+Enter)", self.find_previous),
            ("↓", "Next match (Enter)", self.find_next),
            ("✕", "Close the find bar (Esc)", self.close_bar),
        ):
            button = QToolButton(self)
            button.setText(text)
            button.setToolTip(name)
            button.setAccessibleName(name)
            button.setAutoRaise(True)
            button.clicked.connect(slot)
            layout.addWidget(button)
        layout.addStretch(1)
        self.field.textChanged.connect(lambda _t: self._find())
        self.field.next_requested.connect(self.find_next)
        self.field.previous_requested.connect(self.find_previous)
        self.field.escaped.connect(self.close_bar)
        self.hide()

    def open_for(self, page: QWebEnginePage | None) -> None:
        self.set_page(page)
        self.show()
        self.field.setFocus()
        self.field.selectAll()
        self._find()

    def set_page(self, page: QWebEnginePage | None) -> None:
        """Follow the current tab's page (highlights stay with the page they were made in)."""
        if self._page is not None:
            self._page.findTextFinished.disconnect(self._on_result)
        self._page = page
        self.matches.clear()
        if page is not None:
            page.findTextFinished.connect(self._on_result)

    def find_next(self) -> None:
        self._find()

    def find_previous(self) -> None:
        self._find(_BACKWARD)

    def close_bar(self) -> None:
        if self._page is not None:
            self._page.findText("")  # clears the highlights
        self.set_page(None)
        self.hide()
        self.closed.emit()

    def _find(self, flags: QWebEnginePage.FindFlag = _FORWARD) -> None:
        if self._page is not None and self.isVisible():
            self._page.findText(self.field.text(), flags)

    def _on_result(self, result: QWebEngineFindTextResult) -> None:
        if not self.field.text():
            self.matches.clear()
        elif result.numberOfMatches() == 0:
            self.matches.setText("No matches")
        else:
            self.matches.setText(f"{result.activeMatch()} of {result.numberOfMatches()}")
