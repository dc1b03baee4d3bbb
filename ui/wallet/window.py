"""The wallet window: a page list on the left, the page on the right, notifications on top.

Keyboard: Ctrl+1 … Ctrl+6 (also Alt+1 … Alt+6) open the pages in order; the page list takes
Up/Down; Tab walks through the page's widgets; Ctrl+W or Esc closes the window. Pages refresh
when shown, on the wallet's events, and — for payments, which can arrive many times a second —
at most every ``payment_refresh_ms``.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, QTimer
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ui.wallet.banner import NotificationBanner, Notifier
from ui.wallet.context import WalletContext
from ui.wallet.pages.account import AccountPage
from ui.wallet.pages.base import Page
from ui.wallet.pages.history import HistoryPage
from ui.wallet.pages.overview import OverviewPage
from ui.wallet.pages.providers import ProvidersPage
from ui.wallet.pages.settings import SettingsPage
from ui.wallet.pages.sites import SitesPage

PAGE_NAMES = ("overview", "sites", "history", "providers", "account", "settings")


class WalletWindow(QMainWindow):
    """Overview, Sites & budgets, History, Providers, Account, Settings."""

    def __init__(
        self,
        ctx: WalletContext,
        notifier: Notifier,
        parent: QWidget | None = None,
        *,
        payment_refresh_ms: int = 1000,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("Trickle Wallet")
        self.setAccessibleName("Trickle wallet window")
        self.resize(1000, 700)
        self.setMinimumSize(QSize(760, 520))
        self.overview = OverviewPage(ctx)
        self.sites = SitesPage(ctx)
        self.history = HistoryPage(ctx, summary_deferred=True)
        self.providers = ProvidersPage(ctx)
        self.account = AccountPage(ctx)
        self.settings = SettingsPage(ctx)
        self.pages: dict[str, Page] = dict(
            zip(
                PAGE_NAMES,
                (
                    self.overview,
                    self.sites,
                    self.history,
                    self.providers,
                    self.account,
                    self.settings,
                ),
                strict=True,
            )
        )
        self.nav = QListWidget(self)
        self.nav.setAccessibleName("Wallet pages")
        self.nav.setFixedWidth(170)
        self.stack = QStackedWidget(self)
        self.stack.setAccessibleName("Wallet page")
        for i, page in enumerate(self.pages.values()):
            self.nav.addItem(f"{page.title}\tCtrl+{i + 1}")
            self.nav.item(i).setText(page.title)
            self.nav.item(i).setToolTip(f"{page.title} (Ctrl+{i + 1})")
            self.stack.addWidget(page)
        self.nav.currentRowChanged.connect(self._on_row)
        self.overview.site_activated.connect(self.show_history_for)
        self.banner = NotificationBanner(notifier, self)

        central = QWidget(self)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.banner)
        body = QHBoxLayout()
        body.setContentsMargins(8, 8, 8, 8)
        body.addWidget(self.nav)
        body.addWidget(self.stack, 1)
        outer.addLayout(body, 1)
        self.setCentralWidget(central)
        self.setTabOrder(self.nav, self.stack)

        for i, name in enumerate(PAGE_NAMES):
            act = QAction(f"Show {self.pages[name].title}", self)
            act.setShortcuts([QKeySequence(f"Ctrl+{i + 1}"), QKeySequence(f"Alt+{i + 1}")])
            act.triggered.connect(lambda _c=False, n=name: self.show_page(n))
            self.addAction(act)
        close = QAction("Close", self)
        close.setShortcuts([QKeySequence("Ctrl+W"), QKeySequence("Esc")])
        close.triggered.connect(self.close)
        self.addAction(close)

        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(payment_refresh_ms)
        self._pending.timeout.connect(self.refresh_current)
        ctx.events.payment_committed.connect(self._on_payment)
        # Bound methods, not lambdas: Qt drops them with this window (events outlive it).
        ctx.events.settings_changed.connect(self._on_wallet_event)
        ctx.events.account_changed.connect(self._on_wallet_event)
        self.nav.setCurrentRow(0)

    def _on_wallet_event(self, _event: object) -> None:
        self.refresh_current()

    def show_page(self, name: str) -> Page:
        """Show the page ``name`` (one of ``PAGE_NAMES``) and move the focus into it."""
        i = PAGE_NAMES.index(name)
        self.nav.setCurrentRow(i)
        page = self.pages[name]
        page.setFocus()
        page.focusNextChild()
        return page

    def show_budget(self) -> None:
        """Settings, with the monthly budget selected for typing."""
        self.show_page("settings")
        self.settings.monthly.setFocus()
        self.settings.monthly.selectAll()
        self.bring_to_front()

    def show_history_for(self, site: str) -> None:
        self.show_page("history")
        self.history.show_site(site)
        self.bring_to_front()

    def bring_to_front(self) -> None:
        self.show()
        if QGuiApplication.platformName() != "offscreen":  # it cannot raise (and warns)
            self.raise_()
        self.activateWindow()

    def current_page(self) -> Page:
        page = self.stack.currentWidget()
        assert isinstance(page, Page)
        return page

    def refresh_current(self) -> None:
        if self.isVisible():
            self.current_page().refresh()

    def _on_row(self, row: int) -> None:
        if 0 <= row < self.stack.count():
            self.stack.setCurrentIndex(row)
            self.current_page().refresh()

    def _on_payment(self, _ev: object) -> None:
        if not self._pending.isActive():
            self._pending.start()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.current_page().refresh()
