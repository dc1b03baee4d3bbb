"""The user's attention rules (Settings page) applied to each browser window's ``Attention``:
pay only the focused window's tab, and stop paying after so many idle minutes."""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot

from ui.browser.attention import Attention
from ui.wallet.qtevents import QtWalletEvents
from wallet.service import WalletService

PAY_FOCUSED_ONLY = "pay_focused_only"
IDLE_MINUTES = "idle_stop_minutes"
DEFAULT_PAY_FOCUSED_ONLY = True
DEFAULT_IDLE_MINUTES = 10


def pay_focused_only(service: WalletService) -> bool:
    return bool(service.setting(PAY_FOCUSED_ONLY, DEFAULT_PAY_FOCUSED_ONLY))


def idle_minutes(service: WalletService) -> int:
    return int(service.setting(IDLE_MINUTES, DEFAULT_IDLE_MINUTES))


class AttentionRules(QObject):
    """Keeps one window's ``Attention`` in step with the saved settings (a child of it, so
    it stops following when the window goes)."""

    def __init__(
        self, attention: Attention, service: WalletService, events: QtWalletEvents
    ) -> None:
        super().__init__(attention)
        self._attention = attention
        self._service = service
        events.settings_changed.connect(self.apply)
        self.apply()

    @Slot(object)
    def apply(self, _event: object = None) -> None:
        """Read the settings (the Settings page saves them before the global policy, whose
        event calls this)."""
        minutes = idle_minutes(self._service)
        self._attention.configure(
            focused_only=pay_focused_only(self._service),
            idle_after=minutes * 60.0 if minutes > 0 else None,
        )
