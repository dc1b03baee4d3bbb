"""The main window: navigation toolbar, tab strip, load progress, keyboard shortcuts.

The window creates every page (tabs and popups alike) in ``new_tab`` — the one place where
page hooks are attached, before the page loads anything. It owns no profile: the profile is
injected and must outlive the window.

Signals:
    current_tab_changed(object): the selected ``BrowserTab`` (the issue-8 indicator follows it).
    attending_changed(bool): whether the current tab is paid for now (focus and idle rules).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QEvent, QSize, Qt, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QGuiApplication,
    QKeySequence,
    QShowEvent,
    QWindow,
)
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QMainWindow,
    QProgressBar,
    QSizePolicy,
    QStyle,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ui.browser import urls
from ui.browser.addressbar import AddressBar
from ui.browser.attention import Attention
from ui.browser.findbar import FindBar
from ui.browser.hooks import PageHook, TabContext
from ui.browser.linkpreview import LinkPreview
from ui.browser.notice import Notice
from ui.browser.page import BrowserPage
from ui.browser.scheme import START_URL
from ui.browser.tabs import TabStrip
from ui.browser.webview import BrowserTab

log = logging.getLogger(__name__)

_BACKGROUND = QWebEnginePage.WebWindowType.WebBrowserBackgroundTab
MAX_CLOSED_TABS = 20


class BrowserWindow(QMainWindow):
    """A browser window.

    Attributes:
        address_bar: the address bar.
        tab_strip: the tabs.
        indicator_slot: an empty widget at the right end of the toolbar; the monetization
            indicator (issue 8) goes into its layout:
            ``window.indicator_slot.layout().addWidget(widget)``.
    """

    current_tab_changed = Signal(object)
    attending_changed = Signal(bool)

    def __init__(
        self,
        profile: QWebEngineProfile,
        page_hooks: Sequence[PageHook] = (),
        home: QUrl = START_URL,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._profile = profile
        self._hooks = tuple(page_hooks)
        self._home = QUrl(home)
        self._closed = False
        self._closed_urls: list[QUrl] = []  # for Ctrl+Shift+T, in this window, in memory only
        self.page_full_screen = False
        self._maximized_before = False
        self.setWindowTitle("Trickle")
        self.setAccessibleName("Trickle browser window")
        self.resize(1200, 800)
        self.setMinimumSize(QSize(480, 320))

        self.tab_strip = TabStrip(self)
        self.address_bar = AddressBar(self)
        self.indicator_slot = QWidget(self)
        self.indicator_slot.setObjectName("indicator_slot")
        self.indicator_slot.setAccessibleName("Monetization status")
        slot_layout = QHBoxLayout(self.indicator_slot)
        slot_layout.setContentsMargins(6, 0, 4, 0)
        slot_layout.setSpacing(4)
        self._progress = QProgressBar(self)
        self.find_bar = FindBar(self)
        self.find_bar.closed.connect(self._focus_page)
        self._build_actions()
        self._build_layout()

        self.tab_strip.current_tab_changed.connect(self._on_current_tab_changed)
        self.tab_strip.last_tab_closed.connect(self.close)
        self.tab_strip.tab_closed.connect(self._remember_closed)
        self.tab_strip.new_tab_clicked.connect(self._new_tab_from_user)
        self.address_bar.navigate_requested.connect(self._on_navigate_requested)
        self.address_bar.escaped.connect(self._focus_page)
        # Which of this window's tabs gets paid for: the user's focus and idle rules.
        self.attention = Attention(self)
        self.attention.changed.connect(self._update_focus)
        self._watching_input = False
        self._attending: bool | None = None
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication):
            app.focusWindowChanged.connect(self._on_focus_window_changed)

    # --- tabs -----------------------------------------------------------------------------

    def new_tab(self, url: QUrl | None = None, *, background: bool = False) -> BrowserTab:
        """Create a tab; every page hook is attached before anything loads in it."""
        context = TabContext()
        page = BrowserPage(self._profile, self._open_popup)
        for hook in self._hooks:
            hook.attach(page, context)
        tab = BrowserTab(page, context)
        page.linkHovered.connect(self._on_link_hovered)
        page.windowCloseRequested.connect(lambda: self.tab_strip.close_tab(tab))
        tab.urlChanged.connect(lambda u: self._on_tab_url_changed(tab, u))
        tab.display_changed.connect(lambda: self._on_tab_display_changed(tab))
        tab.loadProgress.connect(lambda _p: self._on_tab_progress(tab))
        self.tab_strip.add_tab(tab, background=background)
        if url is not None:
            tab.load(url)
        return tab

    def tabs(self) -> list[BrowserTab]:
        return self.tab_strip.tabs()

    def current_tab(self) -> BrowserTab | None:
        return self.tab_strip.current_tab()

    def open_urls(self, targets: Sequence[QUrl]) -> None:
        for url in targets or [self._home]:
            self.new_tab(url)

    def navigate(self, text: str) -> None:
        """Open what the user typed in the current tab (as Enter in the address bar does)."""
        target = urls.parse(text)
        if target is not None:
            self._on_navigate_requested(target)

    def _open_popup(self, kind: QWebEnginePage.WebWindowType) -> QWebEnginePage:
        # window.open, target=_blank and middle clicks: all open tabs in this window.
        return self.new_tab(background=kind == _BACKGROUND).browser_page()

    def _new_tab_from_user(self) -> None:
        self.new_tab(self._home)
        self.address_bar.focus_and_select()

    # --- actions and layout ---------------------------------------------------------------

    def _action(
        self,
        text: str,
        keys: Sequence[QKeySequence | str],
        slot: object,
        icon: QStyle.StandardPixmap | None = None,
    ) -> QAction:
        action = QAction(text, self)
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        sequences = [k if isinstance(k, QKeySequence) else QKeySequence(k) for k in keys]
        action.setShortcuts(sequences)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if sequences:
            action.setToolTip(
                f"{text} ({sequences[0].toString(QKeySequence.SequenceFormat.NativeText)})"
            )
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        sp = QStyle.StandardPixmap
        self.back_action = self._action(
            "Back",
            ["Alt+Left"],
            self._back,
            sp.SP_ArrowBack,
        )
        self.forward_action = self._action(
            "Forward",
            ["Alt+Right"],
            self._forward,
            sp.SP_ArrowForward,
        )
        self.reload_action = self._action(
            "Reload", ["F5", "Ctrl+R"], self._reload, sp.SP_BrowserReload
        )
        self.hard_reload_action = self._action(
            "Reload, ignoring the cache", ["Ctrl+F5", "Ctrl+Shift+R", "Shift+F5"], self._hard_reload
        )
        # Esc stops only while loading; otherwise it belongs to the page.
        self.stop_action = self._action("Stop", ["Esc"], self._stop, sp.SP_BrowserStop)
        self.new_tab_action = self._action("New tab", ["Ctrl+T"], self._new_tab_from_user)
        self.reopen_tab_action = self._action(
            "Reopen closed tab", ["Ctrl+Shift+T"], self._reopen_closed_tab
        )
        self.home_action = self._action("Start page", ["Alt+Home"], self._go_home)
        self.close_tab_action = self._action(
            "Close tab", ["Ctrl+W", "Ctrl+F4"], self._close_current
        )
        self.next_tab_action = self._action(
            "Next tab", ["Ctrl+Tab", "Ctrl+PgDown"], lambda: self.tab_strip.select_relative(1)
        )
        self.previous_tab_action = self._action(
            "Previous tab",
            ["Ctrl+Shift+Tab", "Ctrl+Shift+Backtab", "Ctrl+PgUp"],
            lambda: self.tab_strip.select_relative(-1),
        )
        self.focus_address_action = self._action(
            "Go to the address bar", ["Ctrl+L", "Alt+D", "F6"], self.address_bar.focus_and_select
        )
        self.quit_action = self._action("Quit Trickle", ["Ctrl+Q"], QApplication.closeAllWindows)
        for n in range(1, 10):  # Ctrl+1..8: that tab; Ctrl+9: the last one
            self._action(
                f"Tab {n}",
                [f"Ctrl+{n}", f"Alt+{n}"],
                lambda _checked=False, n=n: self._select_tab(n),
            )
        self.find_action = self._action("Find in page", ["Ctrl+F", "F3", "Ctrl+G"], self._find)
        self.zoom_in_action = self._action("Zoom in", ["Ctrl++", "Ctrl+="], lambda: self._zoom(1))
        self.zoom_out_action = self._action("Zoom out", ["Ctrl+-"], lambda: self._zoom(-1))
        self.zoom_reset_action = self._action("Actual size", ["Ctrl+0"], lambda: self._zoom(0))
        for action in (self.back_action, self.forward_action, self.stop_action):
            action.setEnabled(False)

    def _build_layout(self) -> None:
        toolbar = QToolBar("Navigation", self)
        toolbar.setObjectName("navigation_toolbar")
        toolbar.setAccessibleName("Navigation")
        toolbar.setMovable(False)
        toolbar.setFloatable(False)
        toolbar.setIconSize(QSize(18, 18))
        toolbar.toggleViewAction().setEnabled(False)
        toolbar.addAction(self.back_action)
        toolbar.addAction(self.forward_action)
        toolbar.addAction(self.reload_action)
        toolbar.addAction(self.stop_action)
        self.address_bar.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        toolbar.addWidget(self.address_bar)
        toolbar.addWidget(self.indicator_slot)
        self.addToolBar(toolbar)
        self._set_stop_visible(False)

        self._progress.setAccessibleName("Page load progress")
        self._progress.setRange(0, 100)
        self._progress.setTextVisible(False)
        self._progress.setFixedHeight(3)
        policy = self._progress.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self._progress.setSizePolicy(policy)
        self._progress.hide()

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._progress)
        layout.addWidget(self.tab_strip)
        layout.addWidget(self.find_bar)
        self.setCentralWidget(central)
        self._link_preview = LinkPreview(self.tab_strip)
        self.notice = Notice(self.tab_strip)

    # --- navigation -----------------------------------------------------------------------

    def _back(self) -> None:
        if tab := self.current_tab():
            tab.back()

    def _forward(self) -> None:
        if tab := self.current_tab():
            tab.forward()

    def _reload(self) -> None:
        if tab := self.current_tab():
            tab.reload()

    def _hard_reload(self) -> None:
        if tab := self.current_tab():
            tab.triggerPageAction(QWebEnginePage.WebAction.ReloadAndBypassCache)

    def _stop(self) -> None:
        tab = self.current_tab()
        if self.page_full_screen and tab is not None:  # Esc leaves a page's full screen first
            tab.page().triggerAction(QWebEnginePage.WebAction.ExitFullScreen)
        elif tab is not None:
            tab.stop()

    def set_page_full_screen(self, on: bool) -> None:
        """A page's full screen (allowed by the user): the window fills the screen and shows
        nothing but the page; Esc leaves it."""
        if on == self.page_full_screen:
            return
        self.page_full_screen = on
        for bar in self.findChildren(QToolBar):
            bar.setVisible(not on)
        self.tab_strip.tabBar().setVisible(not on)
        if on:
            self._maximized_before = self.isMaximized()
            self.stop_action.setEnabled(True)
            self.showFullScreen()
        else:
            self.stop_action.setEnabled(self.stop_action.isVisible())  # visible: loading
            self.showMaximized() if self._maximized_before else self.showNormal()

    def _find(self) -> None:
        if self.find_bar.isVisible() and not self.find_bar.field.hasFocus():
            self.find_bar.field.setFocus()
            self.find_bar.field.selectAll()
        elif self.find_bar.isVisible():
            self.find_bar.find_next()
        else:
            tab = self.current_tab()
            self.find_bar.open_for(tab.page() if tab else None)

    def _remember_closed(self, url: QUrl) -> None:
        if url.isValid() and not url.isEmpty():
            self._closed_urls.append(QUrl(url))
            del self._closed_urls[:-MAX_CLOSED_TABS]

    def _reopen_closed_tab(self) -> None:
        if self._closed_urls:
            self.new_tab(self._closed_urls.pop())

    def _go_home(self) -> None:
        if tab := self.current_tab():
            tab.load(self._home)

    def _select_tab(self, n: int) -> None:
        count = self.tab_strip.count()
        if count:
            self.tab_strip.setCurrentIndex(count - 1 if n == 9 else min(n, count) - 1)

    def _zoom(self, step: int) -> None:
        if tab := self.current_tab():
            tab.zoom(step)

    def _close_current(self) -> None:
        if tab := self.current_tab():
            self.tab_strip.close_tab(tab)

    def _focus_page(self) -> None:
        if tab := self.current_tab():
            tab.setFocus()

    def _on_navigate_requested(self, target: urls.Target) -> None:
        tab = self.current_tab() or self.new_tab()
        tab.load(target.url)
        tab.setFocus()

    # --- keeping the chrome in step with the current tab ----------------------------------

    def _on_current_tab_changed(self, tab: BrowserTab | None) -> None:
        if tab is not None:
            self.address_bar.show_url(tab.url())
            self._sync_chrome(tab)
        if self.find_bar.isVisible():
            self.find_bar.close_bar()
        self.current_tab_changed.emit(tab)

    def _on_tab_url_changed(self, tab: BrowserTab, url: QUrl) -> None:
        if tab is self.current_tab():
            self.address_bar.show_url(url)
            self._sync_chrome(tab)

    def _on_tab_display_changed(self, tab: BrowserTab) -> None:
        if tab is self.current_tab():
            self._sync_chrome(tab)

    def _on_tab_progress(self, tab: BrowserTab) -> None:
        if tab is self.current_tab():
            self._progress.setValue(tab.progress())

    def _sync_chrome(self, tab: BrowserTab) -> None:
        history = tab.history()
        self.back_action.setEnabled(history.canGoBack())
        self.forward_action.setEnabled(history.canGoForward())
        self._set_stop_visible(tab.is_loading())
        self._progress.setVisible(tab.is_loading())
        self._progress.setValue(tab.progress())
        self.setWindowTitle(f"{tab.display_title()} — Trickle")

    def _set_stop_visible(self, loading: bool) -> None:
        self.stop_action.setVisible(loading)
        self.stop_action.setEnabled(loading or self.page_full_screen)
        self.reload_action.setVisible(not loading)

    def on_download_finished(self, path: str, ok: bool, reason: str) -> None:
        name = Path(path).name
        if ok:
            self.notice.show_text(f"Downloaded {name} to {Path(path).parent}")
        else:
            self.notice.show_text(f"Download of {name} failed: {reason}")

    def _on_link_hovered(self, url: str) -> None:
        self._link_preview.show_link(url)

    # --- focus: "visible in the focused window" -------------------------------------------

    def is_focused(self) -> bool:
        """The window, or a dialog it owns, is the active window, and it is not minimised."""
        if not self.isVisible() or self.isMinimized():
            return False
        active: QWidget | None = QApplication.activeWindow()
        while active is not None:
            if active is self:
                return True
            active = active.parentWidget()
        return False

    def is_attending(self) -> bool:
        """Money accrues for the current tab: see :mod:`ui.browser.attention`."""
        shown = self.isVisible() and not self.isMinimized()
        return self.attention.attending(focused=self.is_focused(), shown=shown)

    def _update_focus(self) -> None:
        attending = self.is_attending()
        self.tab_strip.set_window_focused(attending)
        if attending != self._attending:
            self._attending = attending
            self.attending_changed.emit(attending)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        handle = self.windowHandle()
        if handle is not None and not self._watching_input:
            self._watching_input = True
            self.attention.watch(handle)
        self._update_focus()

    def _on_focus_window_changed(self, _window: QWindow | None) -> None:
        self._update_focus()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.WindowStateChange, QEvent.Type.ActivationChange):
            self._update_focus()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.tab_strip.set_window_focused(False)
        self.tab_strip.close_all()
        app = QGuiApplication.instance()
        if isinstance(app, QGuiApplication) and not self._closed:
            app.focusWindowChanged.disconnect(self._on_focus_window_changed)
        self._closed = True
        super().closeEvent(event)
