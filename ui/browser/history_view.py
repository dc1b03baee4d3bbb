"""The History section of the Library: search, open, delete, and clear by time range.

Titles come from web pages: they are shown as plain text (item text, never rich text).

Signals:
    open_requested(QUrl): the user opened an entry (double click or Enter).
"""

from __future__ import annotations

import datetime

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.browser.clear_data import RANGES
from ui.browser.storage import BrowsingStore

CLEAR_RANGES = RANGES  # "Clear history of ...": how far back, in seconds (None: everything)
URL_ROLE = Qt.ItemDataRole.UserRole + 1


class HistoryView(QWidget):
    open_requested = Signal(QUrl)

    def __init__(self, store: BrowsingStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search history")
        self.search.setAccessibleName("Search history")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.refresh)
        self.list = QTreeWidget(self)
        self.list.setAccessibleName("Visited pages")
        self.list.setHeaderLabels(["Title", "Address", "Last visited", "Visits"])
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setColumnWidth(0, 320)
        self.list.setColumnWidth(1, 320)
        self.list.setSelectionMode(QTreeWidget.SelectionMode.ExtendedSelection)
        self.list.itemActivated.connect(self._open)
        self.delete_button = QPushButton("&Delete", self)
        self.delete_button.setAccessibleName("Delete the selected pages from history")
        self.delete_button.clicked.connect(self.delete_selected)
        QShortcut(QKeySequence.StandardKey.Delete, self.list, self.delete_selected)
        self.range = QComboBox(self)
        self.range.setAccessibleName("Time range to clear")
        for label, _seconds in CLEAR_RANGES:
            self.range.addItem(label)
        self.clear_button = QPushButton("&Clear history of", self)
        self.clear_button.clicked.connect(lambda: self.clear(self.range.currentIndex()))
        self.status = QLabel(self)
        self.status.setTextFormat(Qt.TextFormat.PlainText)

        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.delete_button)
        bar.addSpacing(12)
        bar.addWidget(self.clear_button)
        bar.addWidget(self.range)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.status)
        self.refresh()

    def refresh(self) -> None:
        self.list.clear()
        for visited in self._store.history(self.search.text()):
            when = datetime.datetime.fromtimestamp(visited.last_visit).strftime("%Y-%m-%d %H:%M")
            item = QTreeWidgetItem(
                [visited.title or visited.url, visited.url, when, str(visited.visits)]
            )
            item.setData(0, URL_ROLE, visited.url)
            item.setToolTip(0, visited.title)
            self.list.addTopLevelItem(item)

    def shown_urls(self) -> list[str]:
        items = (self.list.topLevelItem(i) for i in range(self.list.topLevelItemCount()))
        return [str(item.data(0, URL_ROLE)) for item in items if item is not None]

    def delete_selected(self) -> None:
        for item in self.list.selectedItems():
            self._store.delete_page(str(item.data(0, URL_ROLE)))
        self.refresh()

    def clear(self, range_index: int) -> None:
        label, seconds = CLEAR_RANGES[range_index]
        since = None if seconds is None else self._store.now() - seconds
        forgotten = self._store.clear_history(since)
        self.status.setText(f"History of {label} cleared ({forgotten} pages forgotten).")
        self.refresh()

    def _open(self, item: QTreeWidgetItem, _column: int) -> None:
        self.open_requested.emit(QUrl(str(item.data(0, URL_ROLE))))
