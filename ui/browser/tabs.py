"""The tab strip: closable, movable tabs showing title, favicon and loading state.

The widget only arranges tabs; creating pages (and running the page hooks) is the window's
job. Invariant: every ``BrowserTab`` in the widget has an open ``TabContext``; removing a tab
closes its context before the view is scheduled for deletion.

Signals:
    current_tab_changed(object): the selected ``BrowserTab`` (or None when the last one went).
    tab_added(object): a ``BrowserTab`` was added.
    tab_closed(QUrl): a tab was closed by the user or its page; its last address.
    last_tab_closed(): the strip became empty.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QUrl, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QStyle, QTabWidget, QToolButton, QWidget

from ui.browser.webview import BrowserTab
from ui.plain_text import tooltip_text


class TabStrip(QTabWidget):
    current_tab_changed = Signal(object)
    tab_added = Signal(object)
    tab_closed = Signal(QUrl)
    last_tab_closed = Signal()
    new_tab_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Tabs")
        self.setDocumentMode(True)
        self.setTabsClosable(True)
        self.setMovable(True)
        self.setElideMode(Qt.TextElideMode.ElideRight)
        self.setUsesScrollButtons(True)
        bar = self.tabBar()
        bar.setExpanding(False)
        bar.setSelectionBehaviorOnRemove(bar.SelectionBehavior.SelectPreviousTab)
        bar.setAccessibleName("Tab bar")
        bar.installEventFilter(self)  # middle click closes a tab, as in every browser
        new_tab = QToolButton(self)
        new_tab.setText("+")
        new_tab.setToolTip("New tab (Ctrl+T)")
        new_tab.setAccessibleName("New tab")
        new_tab.setAutoRaise(True)
        new_tab.clicked.connect(self.new_tab_clicked)
        self.setCornerWidget(new_tab, Qt.Corner.TopRightCorner)
        self.tabCloseRequested.connect(self._on_close_requested)
        self.currentChanged.connect(self._on_current_changed)
        self._window_focused = False

    def tabs(self) -> list[BrowserTab]:
        return [w for i in range(self.count()) if isinstance(w := self.widget(i), BrowserTab)]

    def current_tab(self) -> BrowserTab | None:
        widget = self.currentWidget()
        return widget if isinstance(widget, BrowserTab) else None

    def add_tab(self, tab: BrowserTab, *, background: bool = False) -> None:
        current = self.currentIndex()
        index = self.insertTab(current + 1 if current >= 0 else 0, tab, "")
        tab.display_changed.connect(lambda: self._refresh(tab))
        self._refresh(tab)
        if not background or self.count() == 1:
            self.setCurrentIndex(index)
        self._update_visibility()
        self.tab_added.emit(tab)

    def close_tab(self, tab: BrowserTab) -> None:
        index = self.indexOf(tab)
        if index < 0:
            return
        url = tab.url()
        tab.context.close()
        self.removeTab(index)
        tab.deleteLater()
        self.tab_closed.emit(url)
        if self.count() == 0:
            self.last_tab_closed.emit()

    def close_all(self) -> None:
        for tab in self.tabs():
            tab.context.close()

    def select_relative(self, step: int) -> None:
        if self.count():
            self.setCurrentIndex((self.currentIndex() + step) % self.count())

    def set_window_focused(self, focused: bool) -> None:
        self._window_focused = focused
        self._update_visibility()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.tabBar()
            and event.type() == QEvent.Type.MouseButtonRelease
            and isinstance(event, QMouseEvent)
            and event.button() == Qt.MouseButton.MiddleButton
        ):
            index = self.tabBar().tabAt(event.position().toPoint())
            if index >= 0:
                self._on_close_requested(index)
                return True
        return super().eventFilter(watched, event)

    def _on_close_requested(self, index: int) -> None:
        widget = self.widget(index)
        if isinstance(widget, BrowserTab):
            self.close_tab(widget)

    def _on_current_changed(self, _index: int) -> None:
        self._update_visibility()
        self.current_tab_changed.emit(self.current_tab())

    def _update_visibility(self) -> None:
        current = self.current_tab()
        for tab in self.tabs():
            tab.context.set_visible(self._window_focused and tab is current)

    def _refresh(self, tab: BrowserTab) -> None:
        index = self.indexOf(tab)
        if index < 0:
            return
        self.setTabText(index, tab.short_title().replace("&", "&&"))  # no mnemonics
        self.setTabToolTip(index, tooltip_text(tab.display_title()))  # never rendered as HTML
        # While loading, the tab shows the reload symbol in place of the site's icon.
        loading = self.style().standardIcon(QStyle.StandardPixmap.SP_BrowserReload)
        self.setTabIcon(index, loading if tab.is_loading() else tab.tab_icon())
