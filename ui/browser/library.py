"""The Library: one window with the History, Bookmarks and Downloads sections.

Native widgets (not web pages): what sites wrote (titles, file names) is item text, which Qt
never renders as markup. One Library per process; opening an entry opens a tab in the window
the user used last.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from ui.browser.bookmarks_view import BookmarksView
from ui.browser.downloads import Downloads
from ui.browser.downloads_view import DownloadsView
from ui.browser.history_view import HistoryView
from ui.browser.library_sections import BOOKMARKS, HISTORY
from ui.browser.storage import BrowsingStore
from ui.browser.windows import bring_forward


class LibraryWindow(QWidget):
    """Signals: open_requested(QUrl): open this address in a tab."""

    open_requested = Signal(QUrl)

    def __init__(
        self,
        store: BrowsingStore,
        downloads: Downloads | None,
        start_dir: Path,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Library — Trickle")
        self.resize(900, 560)
        self.sections = QTabWidget(self)
        self.sections.setAccessibleName("Library sections")
        self.history = HistoryView(store, self)
        self.bookmarks = BookmarksView(store, start_dir, self)
        self.downloads = DownloadsView(downloads, self) if downloads is not None else None
        self.sections.addTab(self.history, "History")
        self.sections.addTab(self.bookmarks, "Bookmarks")
        if self.downloads is not None:
            self.sections.addTab(self.downloads, "Downloads")
        for view in (self.history, self.bookmarks):
            view.open_requested.connect(self.open_requested)
        QShortcut(QKeySequence("Ctrl+W"), self, self.close)
        QShortcut(QKeySequence("Esc"), self, self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.sections)

    def show_section(self, index: int) -> None:
        if index == HISTORY:
            self.history.refresh()
        elif index == BOOKMARKS:
            self.bookmarks.refresh()
        self.sections.setCurrentIndex(min(index, self.sections.count() - 1))
        bring_forward(self)
