"""Browser settings (not the wallet's): on start, the search engine, site permissions.

Saved at once in the browsing store (no Save button). Site names are plain text.

Signals:
    changed(): a setting changed (the browser applies the search engine to its windows).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.browser import search, session
from ui.browser.storage import BrowsingStore

ON_START_CHOICES = (
    (session.RESTORE, "Open the windows and tabs from last time"),
    (session.START_PAGE, "Open the start page"),
)


class BrowserSettings(QWidget):
    changed = Signal()

    def __init__(self, store: BrowsingStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self.setWindowTitle("Browser settings — Trickle")
        self.resize(640, 480)
        self.on_start = QComboBox(self)
        self.on_start.setAccessibleName("When Trickle starts")
        for key, label in ON_START_CHOICES:
            self.on_start.addItem(label, key)
        self.engine = QComboBox(self)
        self.engine.setAccessibleName("Search engine")
        for engine in search.ENGINES:
            self.engine.addItem(engine.name, engine.key)
        self.engine.addItem("None (words that are not an address are not searched)", search.NONE)
        self.permissions = QTreeWidget(self)
        self.permissions.setAccessibleName("Site permissions")
        self.permissions.setHeaderLabels(["Site", "Permission", "Decision"])
        self.permissions.setRootIsDecorated(False)
        self.permissions.setColumnWidth(0, 280)
        buttons = QHBoxLayout()
        for text, value in (("Allow", True), ("Block", False), ("Forget", None)):
            button = QPushButton(text, self)
            button.clicked.connect(lambda _c=False, v=value: self.set_selected(v))
            buttons.addWidget(button)
        buttons.addStretch(1)

        self._load()
        self.on_start.currentIndexChanged.connect(self._save)
        self.engine.currentIndexChanged.connect(self._save)
        form = QFormLayout()
        form.addRow("When Trickle starts", self.on_start)
        form.addRow("Search with", self.engine)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        title = QLabel("Site permissions (what sites asked for, and your answer)", self)
        title.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(title)
        layout.addWidget(self.permissions, 1)
        layout.addLayout(buttons)

    def _load(self) -> None:
        start = self._store.setting(session.ON_START_SETTING, session.RESTORE)
        self.on_start.setCurrentIndex(max(0, self.on_start.findData(start)))
        engine = self._store.setting(search.SETTING, search.DEFAULT)
        self.engine.setCurrentIndex(max(0, self.engine.findData(engine)))
        self.refresh_permissions()

    def refresh_permissions(self) -> None:
        self.permissions.clear()
        for origin, feature, allowed in self._store.permissions():
            item = QTreeWidgetItem([origin, feature, "allowed" if allowed else "blocked"])
            self.permissions.addTopLevelItem(item)

    def set_selected(self, allowed: bool | None) -> None:
        for item in self.permissions.selectedItems():
            self._store.set_permission(item.text(0), item.text(1), allowed)
        self.refresh_permissions()

    def _save(self) -> None:
        self._store.set_setting(session.ON_START_SETTING, str(self.on_start.currentData()))
        self._store.set_setting(search.SETTING, str(self.engine.currentData()))
        self.changed.emit()
