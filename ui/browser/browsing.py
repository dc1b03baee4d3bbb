"""Browsing features around the window: history, completion, bookmarks, sessions, the menu,
the Library, site permissions and the browser settings.

``Browsing`` is composed once per process (``ui/app.py``): its page hooks record visits and
route permission requests; ``bind(windows)`` makes it a window hook of ``Windows``, so every
window gets the menu, the star, completion and the permission bar; ``start`` opens the first
windows (the saved session, or the start page). It owns the browsing store.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, QRect, Qt, QUrl
from PySide6.QtGui import QAction, QColor, QFont, QIcon, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import (
    QBoxLayout,
    QLineEdit,
    QMenu,
    QToolButton,
)

from ui.browser import search, session
from ui.browser.clear_data import BrowsingData
from ui.browser.downloads import Downloads, dialog_start_dir
from ui.browser.fullscreen import FullScreenRequests
from ui.browser.history import HistoryRecorder, history_key
from ui.browser.hooks import PageHook, ProfileInstaller
from ui.browser.library_sections import BOOKMARKS, DOWNLOADS, HISTORY
from ui.browser.menu import ZoomRow, install_menu
from ui.browser.permissions import PromptQueue, Question, SitePermissions
from ui.browser.session import SessionKeeper
from ui.browser.storage import BrowsingStore
from ui.browser.window import BrowserWindow
from ui.browser.windows import Windows, bring_forward

if TYPE_CHECKING:  # the Library, the settings, completion, prompts: imported when first used
    from ui.browser.browser_settings import BrowserSettings
    from ui.browser.clear_data_view import ClearDataDialog
    from ui.browser.completion import AddressCompletion
    from ui.browser.library import LibraryWindow
    from ui.browser.permission_bar import PermissionBar


def glyph_icon(glyph: str, color: str = "#555") -> QIcon:
    """An icon drawn from one character (the address bar's star)."""
    pixmap = QPixmap(32, 32)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    font = QFont()
    font.setPixelSize(26)
    painter.setFont(font)
    painter.setPen(QColor(color))
    painter.drawText(QRect(0, 0, 32, 32), Qt.AlignmentFlag.AlignCenter, glyph)
    painter.end()
    return QIcon(pixmap)


class WindowParts:
    """What ``Browsing`` added to one window. The completion and the permission bar are made
    when first needed (typing in the address bar; a question for a site): the first window
    paints without them."""

    def __init__(
        self,
        window: BrowserWindow,
        menu_button: QToolButton,
        menu: QMenu,
        star: QAction,
        browsing: Browsing,
    ) -> None:
        self.window = window
        self.menu_button = menu_button
        self.menu = menu
        self.star = star
        self._browsing = browsing
        self._completion: AddressCompletion | None = None
        self._permission_bar: PermissionBar | None = None

    @property
    def completion(self) -> AddressCompletion:
        if self._completion is None:
            from ui.browser.completion import AddressCompletion

            self._completion = AddressCompletion(self.window.address_bar, self._browsing.store)
        return self._completion

    @property
    def permission_bar(self) -> PermissionBar:
        if self._permission_bar is None:
            from ui.browser.permission_bar import PermissionBar

            central = self.window.centralWidget()
            bar = PermissionBar(self._browsing.prompts, self.window, central)
            layout = central.layout() if central is not None else None
            if isinstance(layout, QBoxLayout):
                layout.insertWidget(1, bar)  # above the tabs, below the load progress
            self._permission_bar = bar
        return self._permission_bar

    def has_completion(self) -> bool:
        return self._completion is not None

    def has_permission_bar(self) -> bool:
        return self._permission_bar is not None


class Browsing(QObject):
    def __init__(
        self,
        store: BrowsingStore,
        downloads: Downloads | None = None,
        start_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.downloads = downloads
        self.start_dir = start_dir if start_dir is not None else dialog_start_dir()
        self.history = HistoryRecorder(store)
        self.prompts = PromptQueue(store, self)
        self.permissions = SitePermissions(store, self.prompts)
        self.data = BrowsingData(store, downloads)
        self.full_screen = FullScreenRequests(store, self.prompts)
        self.windows: Windows | None = None
        self.session: SessionKeeper | None = None
        self._library: LibraryWindow | None = None
        self._settings: BrowserSettings | None = None
        self._clear_dialog: ClearDataDialog | None = None
        self._parts: dict[BrowserWindow, WindowParts] = {}
        self.restored = False  # start() reopened the saved session

    @property
    def page_hooks(self) -> Sequence[PageHook]:
        return (self.history, self.permissions, self.full_screen)

    @property
    def installers(self) -> Sequence[ProfileInstaller]:
        return (self.permissions, self.data)

    def bind(self, windows: Windows) -> None:
        """Attach to every window ``windows`` makes from now on, and keep the session."""
        self.windows = windows
        self.session = SessionKeeper(self.store, windows)
        windows.add_window_hook(self.attach)

    def start(self, urls: Sequence[QUrl], fallback: Sequence[QUrl] = ()) -> BrowserWindow:
        """The first windows: the saved session (if the user wants it back) plus ``urls``;
        else a window with ``urls``, or ``fallback``, or the start page."""
        assert self.windows is not None and self.session is not None
        on_start = self.store.setting(session.ON_START_SETTING, session.RESTORE)
        restored = self.session.restore(urls) if on_start == session.RESTORE else []
        if restored:
            self.restored = True
            return restored[-1]
        return self.windows.new_window(list(urls) or list(fallback) or [self.windows.home])

    def save_session(self) -> None:
        """Save the open windows now (the event loop has stopped: no timer will)."""
        if self.session is not None:
            self.session.save_now()

    def close(self) -> None:
        for widget in (self._library, self._settings, self._clear_dialog):
            if widget is not None and shiboken6.isValid(widget):
                widget.close()
                shiboken6.delete(widget)
        self.store.close()

    # --- windows ---------------------------------------------------------------------------

    def attach(self, window: BrowserWindow) -> None:
        """Menu, star, completion, search engine and permission bar for one window."""
        act = window_action
        new_window = act(window, "New window", ["Ctrl+N"], self._new_window)
        history = act(window, "History", ["Ctrl+H"], lambda: self.library(HISTORY))
        bookmarks = act(window, "Bookmarks", ["Ctrl+Shift+O"], lambda: self.library(BOOKMARKS))
        bookmark = act(window, "Bookmark this page", ["Ctrl+D"], lambda: self.bookmark(window))
        downloads = act(window, "Downloads", ["Ctrl+J"], lambda: self.library(DOWNLOADS))
        clear = act(window, "Clear browsing data…", ["Ctrl+Shift+Del"], self.clear_data)
        print_pdf = act(window, "Print to PDF…", ["Ctrl+P"], lambda: self._print(window))
        settings = act(window, "Settings", ["Ctrl+,"], self.open_settings)
        wallet = getattr(window, "wallet_action", None)
        entries = [
            window.new_tab_action, new_window, None,
            history, bookmarks, bookmark, downloads, clear, None,
            ZoomRow(window), window.find_action, print_pdf, None,
            *([wallet] if isinstance(wallet, QAction) else []), settings, None,
            window.quit_action,
        ]  # fmt: skip
        button, menu = install_menu(window, entries)
        star = self._install_star(window)
        window.address_bar.search_engine = self.search_engine()
        parts = self._parts[window] = WindowParts(window, button, menu, star, self)
        self._complete_when_typed(parts)
        self._ask_when_asked(parts)
        window.destroyed.connect(lambda: self._parts.pop(window, None))

    def _complete_when_typed(self, parts: WindowParts) -> None:
        """The completion is made on the first edit of the address bar (and then follows every
        edit itself)."""
        bar = parts.window.address_bar

        def first_edit(text: str) -> None:
            bar.textEdited.disconnect(first_edit)
            if not parts.has_completion():
                parts.completion.refresh(text)

        bar.textEdited.connect(first_edit)

    def _ask_when_asked(self, parts: WindowParts) -> None:
        """The permission bar is made when the prompt queue first has a question (it then
        follows the queue itself)."""

        def first_question(question: Question | None) -> None:
            if question is None:
                return
            self.prompts.current_changed.disconnect(first_question)
            if shiboken6.isValid(parts.window) and not parts.has_permission_bar():
                parts.permission_bar  # noqa: B018 — made now: it shows the question

        self.prompts.current_changed.connect(first_question)

    def parts(self, window: BrowserWindow) -> WindowParts:
        """What this component added to ``window``."""
        return self._parts[window]

    def search_engine(self) -> search.SearchEngine | None:
        return search.engine_by_key(self.store.setting(search.SETTING, search.DEFAULT))

    def _new_window(self) -> None:
        if self.windows is not None:
            self.windows.new_window_from_user()

    def open_in_tab(self, url: QUrl) -> None:
        if self.windows is not None:
            self.windows.open_urls([url])

    # --- bookmarks -------------------------------------------------------------------------

    def _install_star(self, window: BrowserWindow) -> QAction:
        star = QAction(glyph_icon("☆"), "Bookmark this page", window)
        star.triggered.connect(lambda: self.toggle_bookmark(window))
        window.address_bar.addAction(star, QLineEdit.ActionPosition.TrailingPosition)

        def follow(*_args: object) -> None:
            if shiboken6.isValid(star):
                self._update_star(window, star)

        window.current_tab_changed.connect(follow)
        window.tab_strip.tab_added.connect(lambda tab: tab.urlChanged.connect(follow))
        return star

    def _update_star(self, window: BrowserWindow, star: QAction) -> None:
        tab = window.current_tab()
        key = history_key(tab.url()) if tab is not None else None
        marked = key is not None and self.store.bookmark_for(key) is not None
        star.setIcon(glyph_icon("★", "#d4a000") if marked else glyph_icon("☆"))
        star.setText("Remove the bookmark" if marked else "Bookmark this page (Ctrl+D)")
        star.setToolTip(star.text())
        star.setEnabled(key is not None)

    def bookmark(self, window: BrowserWindow) -> None:
        """Ctrl+D: bookmark the current page (once)."""
        tab = window.current_tab()
        key = history_key(tab.url()) if tab is not None else None
        if tab is None or key is None:
            window.notice.show_text("Only web pages can be bookmarked.")
            return
        if self.store.bookmark_for(key) is None:
            self.store.add_bookmark(key, tab.title().strip())
            window.notice.show_text(f"Bookmarked: {tab.display_title()}")
        else:
            window.notice.show_text("This page is already in your bookmarks (Ctrl+Shift+O).")
        self._update_star(window, self._parts[window].star)
        self._refresh_library()

    def toggle_bookmark(self, window: BrowserWindow) -> None:
        tab = window.current_tab()
        key = history_key(tab.url()) if tab is not None else None
        existing = self.store.bookmark_for(key) if key is not None else None
        if existing is None:
            self.bookmark(window)
            return
        self.store.delete_bookmark(existing.id)
        window.notice.show_text("Bookmark removed.")
        self._update_star(window, self._parts[window].star)
        self._refresh_library()

    # --- library, settings, printing -------------------------------------------------------

    def library(self, section: int) -> LibraryWindow:
        if self._library is None or not shiboken6.isValid(self._library):
            from ui.browser.library import LibraryWindow

            self._library = LibraryWindow(self.store, self.downloads, self.start_dir)
            self._library.open_requested.connect(self.open_in_tab)
        self._library.show_section(section)
        return self._library

    def _refresh_library(self) -> None:
        if self._library is not None and shiboken6.isValid(self._library):
            self._library.bookmarks.refresh()

    def open_settings(self) -> BrowserSettings:
        if self._settings is None or not shiboken6.isValid(self._settings):
            from ui.browser.browser_settings import BrowserSettings

            self._settings = BrowserSettings(self.store)
            self._settings.changed.connect(self._apply_settings)
        self._settings.refresh_permissions()
        bring_forward(self._settings)
        return self._settings

    def clear_data(self) -> ClearDataDialog:
        """The "Clear browsing data" dialog (one per process)."""
        if self._clear_dialog is None or not shiboken6.isValid(self._clear_dialog):
            from ui.browser.clear_data_view import ClearDataDialog

            def clear_and_refresh(*args: Any) -> Any:
                done = self.data.clear(*args)
                if self._library is not None and shiboken6.isValid(self._library):
                    self._library.history.refresh()
                self.prompts_changed()
                return done

            self._clear_dialog = ClearDataDialog(clear_and_refresh)
        bring_forward(self._clear_dialog)
        return self._clear_dialog

    def prompts_changed(self) -> None:
        if self._settings is not None and shiboken6.isValid(self._settings):
            self._settings.refresh_permissions()

    def _apply_settings(self) -> None:
        engine = self.search_engine()
        for window in self.windows.windows() if self.windows is not None else []:
            window.address_bar.search_engine = engine

    def _print(self, window: BrowserWindow) -> None:
        tab = window.current_tab()
        if tab is None:
            return
        name = "".join(c for c in tab.display_title() if c not in '/\\:*?"<>|')[:80] or "page"
        from PySide6.QtWidgets import QFileDialog

        path, _filter = QFileDialog.getSaveFileName(
            window, "Print to PDF", str(self.start_dir / f"{name}.pdf"), "PDF (*.pdf)"
        )
        if path:
            print_to_pdf(window, Path(path))


def print_to_pdf(window: BrowserWindow, path: Path) -> None:
    """Save the current tab as a PDF at ``path``; the window says when it is done."""
    tab = window.current_tab()
    if tab is None:
        return
    page = tab.page()

    def done(file_path: str, ok: bool) -> None:
        page.pdfPrintingFinished.disconnect(done)
        name = Path(file_path).name
        window.notice.show_text(f"Saved {name}" if ok else f"Could not save {name}")

    page.pdfPrintingFinished.connect(done)
    page.printToPdf(str(path))


def window_action(window: BrowserWindow, text: str, keys: Sequence[str], slot: object) -> QAction:
    action = QAction(text, window)
    action.setShortcuts([QKeySequence(k) for k in keys])
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.triggered.connect(slot)
    window.addAction(action)
    return action
