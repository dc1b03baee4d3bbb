"""Address bar completion: bookmarks and visited pages matching what is typed, by frecency.

A ``QCompleter`` in unfiltered-popup mode over a model refilled on each edit from
``BrowsingStore.suggest`` (the store ranks; the completer only shows). Rows show the page's
title and address as plain text; choosing one puts its address in the bar and goes there.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QCompleter

from ui.browser import urls
from ui.browser.addressbar import AddressBar
from ui.browser.storage import BrowsingStore, Suggestion

URL_ROLE = Qt.ItemDataRole.UserRole + 1
MAX_SUGGESTIONS = 8


def row_text(suggestion: Suggestion) -> str:
    star = "★ " if suggestion.bookmarked else ""
    title = " ".join(suggestion.title.split())  # one line, whatever the page put in it
    return f"{star}{title} — {suggestion.url}" if title else f"{star}{suggestion.url}"


class AddressCompletion(QCompleter):
    """Completion for one address bar."""

    def __init__(self, bar: AddressBar, store: BrowsingStore) -> None:
        super().__init__(bar)
        self._bar = bar
        self._store = store
        self.model_ = QStandardItemModel(self)
        self.setModel(self.model_)
        self.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.setCompletionRole(URL_ROLE)
        self.setMaxVisibleItems(MAX_SUGGESTIONS)
        bar.setCompleter(self)
        popup = self.popup()
        assert popup is not None
        popup.setAccessibleName("Suggestions")
        popup.setTextElideMode(Qt.TextElideMode.ElideRight)
        bar.textEdited.connect(self.refresh)
        # Keys: highlighting a row puts its address in the bar, and Enter goes there as for
        # anything typed. A click does not press Enter: it goes from here.
        popup.clicked.connect(self._chosen)

    def suggestions(self) -> list[str]:
        """The addresses offered now (for tests)."""
        return [str(self.model_.item(i).data(URL_ROLE)) for i in range(self.model_.rowCount())]

    def refresh(self, text: str) -> None:
        self.model_.clear()
        for suggestion in self._store.suggest(text, MAX_SUGGESTIONS):
            item = QStandardItem(row_text(suggestion))
            item.setData(suggestion.url, URL_ROLE)
            item.setToolTip(suggestion.url)
            item.setEditable(False)
            self.model_.appendRow(item)
        if self.model_.rowCount():
            self.complete()
        elif (popup := self.popup()) is not None:
            popup.hide()

    def _chosen(self, index: QModelIndex | QPersistentModelIndex) -> None:
        target = urls.parse(str(index.data(URL_ROLE)))
        if target is not None:
            self._bar.setText(target.url.toDisplayString())
            self._bar.go(target)
