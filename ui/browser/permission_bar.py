"""The permission prompt: a bar above the page, in the window of the page that asks.

Shows the ``PromptQueue``'s current question (site names are plain text) with Allow and
Block; the answer is remembered for the site unless "Only this time" is ticked.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QCheckBox, QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from ui.browser.permissions import PromptQueue, Question


class PermissionBar(QFrame):
    def __init__(self, queue: PromptQueue, window: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self._queue = queue
        self._window = window
        self.setObjectName("permission_bar")
        self.setAccessibleName("Permission request")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.label = QLabel(self)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.once = QCheckBox("Only this time", self)
        self.allow = QPushButton("Allow", self)
        self.block = QPushButton("Block", self)
        self.allow.clicked.connect(lambda: self._answer(True))
        self.block.clicked.connect(lambda: self._answer(False))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 6, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.once)
        layout.addWidget(self.block)
        layout.addWidget(self.allow)
        queue.current_changed.connect(self._show)
        self._show(queue.current)

    def _answer(self, allow: bool) -> None:
        self._queue.answer(allow, remember=not self.once.isChecked())

    def _show(self, question: Question | None) -> None:
        if question is None or not shiboken6.isValid(question.page):
            self.hide()
            return
        view = QWebEngineView.forPage(question.page)
        if view is None or view.window() is not self._window:
            self.hide()
            return
        self.label.setText(question.text)
        self.once.setChecked(False)
        self.show()
