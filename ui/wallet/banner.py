"""In-window notifications: a non-modal banner, and what the wallet tells the user.

:class:`Notifier` turns wallet events (a site's cap reached, the global budget reached) and
network status (uplink down) into short messages, once per cause until it changes;
:class:`NotificationBanner` shows the latest in any window, with a Dismiss button, and never
takes the keyboard focus from the page.

Signals:
    Notifier.notify(str, str): (key, text) — a new message; the key names its cause.
    Notifier.clear(str): the cause of that key went away.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from ui.wallet.network import LinkState, NetworkStatus
from ui.wallet.qtevents import QtWalletEvents
from wallet.budgets import Reason
from wallet.events import BudgetReached, PaymentCommitted, PolicyChanged, SettingsChanged

_WORDS = {
    Reason.DAY_CAP: "{site} reached its cap for today; it is not paid until tomorrow.",
    Reason.MONTH_CAP: "{site} reached its cap for this month; it is not paid until next month.",
    Reason.TOTAL_CAP: "{site} reached its total cap; it is not paid any more.",
    Reason.GLOBAL_BUDGET: "Your monthly budget is used up; no site is paid until next month.",
    Reason.BALANCE: "Your wallet balance is used up; top it up to keep paying sites.",
    Reason.PROVIDER_FAILING: (
        "{site}: your payment provider sent a proof of payment that does not check out, so "
        "Trickle stopped paying through it on this page."
    ),
}


class Notifier(QObject):
    """Wallet events and network status -> notification messages."""

    notify = Signal(str, str)
    clear = Signal(str)

    def __init__(
        self, events: QtWalletEvents, network: NetworkStatus, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._shown: set[str] = set()
        self._network = network
        events.budget_reached.connect(self._on_budget)
        events.payment_committed.connect(self._on_payment)
        events.policy_changed.connect(self._on_policy)
        events.settings_changed.connect(self._on_settings)
        network.changed.connect(self._on_network)

    def _show(self, key: str, text: str) -> None:
        if key in self._shown:
            return
        self._shown.add(key)
        self.notify.emit(key, text)

    def _drop(self, key: str) -> None:
        if key in self._shown:
            self._shown.discard(key)
            self.clear.emit(key)

    def _on_budget(self, ev: BudgetReached) -> None:
        words = _WORDS.get(ev.reason)
        if words is None:
            return
        key = "global" if ev.reason in (Reason.GLOBAL_BUDGET, Reason.BALANCE) else f"site:{ev.site}"
        self._show(key, words.format(site=ev.site))

    def _on_payment(self, ev: PaymentCommitted) -> None:
        self._drop(f"site:{ev.site}")
        self._drop("global")

    def _on_policy(self, ev: PolicyChanged) -> None:
        self._drop(f"site:{ev.site}")

    def _on_settings(self, _ev: SettingsChanged) -> None:
        self._drop("global")

    def _on_network(self) -> None:
        if self._network.state is LinkState.DOWN:
            detail = f": {self._network.detail}" if self._network.detail else ""
            self._show("network", f"The connection to your uplink is down{detail}.")
        else:
            self._drop("network")


class NotificationBanner(QFrame):
    """A thin strip with the latest message and a Dismiss button; hidden when empty."""

    def __init__(self, notifier: Notifier, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("wallet_banner")
        self.setAccessibleName("Wallet notification")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            "#wallet_banner { background: #fff4d6; border: 1px solid #e0b84a; }"
            " #wallet_banner QLabel { color: #3d2e00; }"
        )
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setAccessibleName("Notification text")
        self.dismiss = QPushButton("Dismiss", self)
        self.dismiss.setAccessibleName("Dismiss notification")
        self.dismiss.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.dismiss.clicked.connect(self._dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 6, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.dismiss)
        self._messages: dict[str, str] = {}
        notifier.notify.connect(self._on_notify)
        notifier.clear.connect(self._on_clear)
        self.hide()

    def messages(self) -> list[str]:
        return list(self._messages.values())

    def _on_notify(self, key: str, text: str) -> None:
        self._messages.pop(key, None)
        self._messages[key] = text
        self._render()

    def _on_clear(self, key: str) -> None:
        if self._messages.pop(key, None) is not None:
            self._render()

    def _dismiss(self) -> None:
        if self._messages:
            self._messages.pop(next(reversed(self._messages)))
        self._render()

    def _render(self) -> None:
        if not self._messages:
            self.hide()
            return
        latest = next(reversed(self._messages.values()))
        more = len(self._messages) - 1
        self.label.setText(latest + (f"  (+{more} more)" if more else ""))
        self.setAccessibleDescription(latest)
        self.show()
