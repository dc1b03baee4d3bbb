"""The Bookmarks section of the Library: folders, edit in place, delete, import.

Rows are grouped under their folder (a folder is a ``/``-separated path, stored with each
bookmark). Title, address and folder are edited in place (double click or F2); moving a
bookmark to another folder is editing its folder. Titles are plain text.

Signals:
    open_requested(QUrl): the user opened a bookmark.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.browser import urls
from ui.browser.bookmarks_import import BookmarksFileError, read_bookmarks_file
from ui.browser.storage import BrowsingStore

ID_ROLE = Qt.ItemDataRole.UserRole + 1
NO_FOLDER = "(no folder)"


class BookmarksView(QWidget):
    open_requested = Signal(QUrl)

    def __init__(
        self, store: BrowsingStore, start_dir: Path, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._store = store
        self._start_dir = start_dir
        self._filling = False
        self.tree = QTreeWidget(self)
        self.tree.setAccessibleName("Bookmarks")
        self.tree.setHeaderLabels(["Title", "Address", "Folder"])
        self.tree.setColumnWidth(0, 300)
        self.tree.setColumnWidth(1, 340)
        self.tree.setEditTriggers(
            QTreeWidget.EditTrigger.DoubleClicked
            | QTreeWidget.EditTrigger.EditKeyPressed
            | QTreeWidget.EditTrigger.SelectedClicked
        )
        self.tree.itemChanged.connect(self._edited)
        self.tree.itemActivated.connect(self._open)
        self.delete_button = QPushButton("&Delete", self)
        self.delete_button.setAccessibleName("Delete the selected bookmarks")
        self.delete_button.clicked.connect(self.delete_selected)
        QShortcut(QKeySequence.StandardKey.Delete, self.tree, self.delete_selected)
        self.open_button = QPushButton("&Open", self)
        self.open_button.clicked.connect(self._open_selected)
        self.import_button = QPushButton("&Import from a file…", self)
        self.import_button.setToolTip(
            "Bookmarks exported as HTML by Firefox, Chromium and most browsers"
        )
        self.import_button.clicked.connect(self._choose_import)
        self.status = QLabel(self)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        bar = QHBoxLayout()
        bar.addWidget(self.open_button)
        bar.addWidget(self.delete_button)
        bar.addStretch(1)
        bar.addWidget(self.import_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.status)
        self.refresh()

    def refresh(self) -> None:
        self._filling = True
        self.tree.clear()
        folders: dict[str, QTreeWidgetItem] = {}
        for mark in self._store.bookmarks():
            parent = folders.get(mark.folder)
            if parent is None:
                parent = QTreeWidgetItem([mark.folder or NO_FOLDER])
                parent.setFlags(Qt.ItemFlag.ItemIsEnabled)
                self.tree.addTopLevelItem(parent)
                folders[mark.folder] = parent
            item = QTreeWidgetItem([mark.title, mark.url, mark.folder])
            item.setData(0, ID_ROLE, mark.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            parent.addChild(item)
        self.tree.expandAll()
        self._filling = False

    def import_file(self, path: Path) -> int:
        """Add the bookmarks of a Netscape HTML file; returns how many."""
        try:
            found = read_bookmarks_file(path)
        except (OSError, BookmarksFileError) as e:
            self.status.setText(f"Could not import {path.name}: {e}")
            return 0
        for mark in found:
            self._store.add_bookmark(mark.url, mark.title, mark.folder)
        self.status.setText(f"Imported {len(found)} bookmarks from {path.name}.")
        self.refresh()
        return len(found)

    def delete_selected(self) -> None:
        for item in self.tree.selectedItems():
            bookmark_id = item.data(0, ID_ROLE)
            if bookmark_id is not None:
                self._store.delete_bookmark(int(bookmark_id))
        self.refresh()

    def _edited(self, item: QTreeWidgetItem, _column: int) -> None:
        bookmark_id = item.data(0, ID_ROLE)
        if self._filling or bookmark_id is None:
            return
        target = urls.parse(item.text(1))
        if target is None or not target.understood:
            self.status.setText(f"Not a web address: {item.text(1)}")
            QTimer.singleShot(0, self.refresh)
            return
        folder = "/".join(p.strip() for p in item.text(2).split("/") if p.strip())
        self._store.update_bookmark(
            int(bookmark_id), title=item.text(0), url=target.url.toString(), folder=folder
        )
        self.status.setText("Saved.")
        parent = item.parent()
        if (
            parent is not None
            and folder != parent.text(0)
            and (folder or parent.text(0)) != NO_FOLDER
        ):
            QTimer.singleShot(0, self.refresh)  # moved to another folder (not inside the signal)

    def _open(self, item: QTreeWidgetItem, _column: int) -> None:
        if item.data(0, ID_ROLE) is not None:
            self.open_requested.emit(QUrl(item.text(1)))

    def _open_selected(self) -> None:
        for item in self.tree.selectedItems():
            self._open(item, 0)

    def _choose_import(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, "Import bookmarks", str(self._start_dir), "Bookmarks (*.html *.htm)"
        )
        if path:
            self.import_file(Path(path))
