"""The wallet UI as one part the composition root plugs in (``ui/app.py``).

:class:`WalletUi` builds the :class:`WalletContext` from a ``WalletService`` and the profile
directory, and for each browser window: the toolbar indicator (in ``indicator_slot``), a
"Wallet" button and action (Ctrl+Shift+E), the site popover (Alt+M), and the notification
banner above the tabs. The wallet window is created on first use, owned by the browser window
(it closes with it and never keeps the app alive on its own).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QBoxLayout, QMainWindow, QToolButton

from ui.browser.attention import Attention
from ui.wallet.attention_rules import AttentionRules
from ui.wallet.banner import NotificationBanner, Notifier
from ui.wallet.context import WalletContext
from ui.wallet.indicator import MonetizationIndicator, follow_window, reload_site
from ui.wallet.indicator_state import IndicatorState
from ui.wallet.network import NetworkMode, NetworkStatus
from ui.wallet.qtevents import QtWalletEvents
from ui.wallet.welcome import BUDGET_ACTION
from ui.wallet.window import WalletWindow
from wallet.secrets import SecretStore
from wallet.service import WalletService

WALLET_KEYS = ("Ctrl+Shift+E",)
POPOVER_KEYS = ("Alt+M",)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class WalletUi:
    """Everything of the wallet UI for one profile."""

    def __init__(
        self,
        service: WalletService,
        *,
        tz: ZoneInfo,
        clock: Callable[[], datetime] = _utc_now,
        secrets: SecretStore | None = None,
        network: NetworkStatus | None = None,
    ) -> None:
        self.events = QtWalletEvents(service.events)
        self.network = network or NetworkStatus(NetworkMode.SANDBOX)
        self.ctx = WalletContext(
            service=service,
            history=service.history_reader(),
            events=self.events,
            network=self.network,
            secrets=secrets,
            tz=tz,
            clock=clock,
        )
        self.notifier = Notifier(self.events, self.network)
        self.indicator_state = IndicatorState(
            service,
            tz=tz,
            clock=clock,
            network=lambda: self.network.account,
            style=self.ctx.style,
            wallet_pays=self.ctx.wallet_pays,
        )
        self.ctx.statuses = self.indicator_state
        self.network.changed.connect(self.indicator_state.refresh)
        self.indicator_state.follow(self.events)
        self._windows: dict[int, WalletWindow] = {}

    def attach(self, window: Any) -> MonetizationIndicator:
        """Add the indicator, the Wallet action and the banner to a ``BrowserWindow``."""
        indicator = MonetizationIndicator(
            self.ctx, self.indicator_state, window.indicator_slot, window=window
        )
        slot_layout = window.indicator_slot.layout()
        slot_layout.addWidget(indicator)
        indicator.show()  # now, not on the layout's queued show: the window may already be up
        action = QAction("Wallet", window)
        action.setShortcuts([QKeySequence(k) for k in WALLET_KEYS])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(f"Wallet: where your money goes, and your limits ({WALLET_KEYS[0]})")
        action.triggered.connect(lambda: self.open_wallet(window))
        window.addAction(action)
        button = QToolButton(window.indicator_slot)
        button.setDefaultAction(action)
        button.setAccessibleName("Open the wallet")
        slot_layout.addWidget(button)
        button.show()
        budget = QAction("Change the monthly budget", window)
        budget.triggered.connect(lambda: self.open_wallet(window).show_budget())
        window.addAction(budget)
        setattr(window, BUDGET_ACTION, budget)  # the welcome page's "Change" link triggers it
        popover = QAction("This site's payments", window)
        popover.setShortcuts([QKeySequence(k) for k in POPOVER_KEYS])
        popover.triggered.connect(indicator.open_popover)
        window.addAction(popover)
        indicator.popover.history_requested.connect(
            lambda site: self.open_wallet(window).show_history_for(site)
        )
        indicator.popover.settings_requested.connect(lambda: self.open_wallet(window).show_budget())
        indicator.popover.account_requested.connect(
            lambda: self.open_wallet(window).show_page("account")
        )
        indicator.popover.reload_requested.connect(lambda site: reload_site(window, site))
        indicator.popover.funding.reconnect_requested.connect(lambda: self.reconnect(window))
        banner = NotificationBanner(self.notifier, window.centralWidget())
        layout = window.centralWidget().layout()
        if isinstance(layout, QBoxLayout):
            layout.insertWidget(1, banner)  # below the load-progress line, above the tabs
        follow_window(window, self.indicator_state)
        attention = getattr(window, "attention", None)
        if isinstance(attention, Attention):
            AttentionRules(attention, self.ctx.service, self.events)

            def attending(_now: bool = False) -> None:
                self.indicator_state.set_window_attention(idle=attention.is_idle(), window=window)

            window.attending_changed.connect(attending)
            attention.changed.connect(attending)
            attending()
        window.wallet_action = action
        window.wallet_indicator = indicator
        window.wallet_banner = banner
        return indicator

    def open_wallet(self, window: QMainWindow | None = None) -> WalletWindow:
        """Show the wallet window (one per browser window), creating it on first use."""
        key = id(window)
        w = self._windows.get(key)
        if w is None:
            w = WalletWindow(self.ctx, self.notifier, window)
            w.setWindowFlag(Qt.WindowType.Window, True)
            self._windows[key] = w
            w.destroyed.connect(lambda *_: self._windows.pop(key, None))
        w.bring_to_front()
        return w

    def reconnect(self, window: QMainWindow | None = None) -> None:
        """The Account page, ready to connect the Open Payments wallet again."""
        page = self.open_wallet(window).show_page("account")
        funding = getattr(page, "funding", None)
        if funding is not None:
            funding.start_reconnect()

    def close(self) -> None:
        """Stop listening (after the windows are gone); the service owns the reader."""
        self.events.close()
