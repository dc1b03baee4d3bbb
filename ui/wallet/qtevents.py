"""Wallet service events onto Qt signals, delivered on the GUI thread (Electrum's QtEventListener).

``WalletService`` emits its events synchronously on whatever thread caused them (the GUI thread
for edits, the wallet's asyncio thread for payments). :class:`QtWalletEvents` re-emits each one
through a signal of an object living on the GUI thread: Qt's automatic connection then calls
the slots directly when the event came from the GUI thread and queues them otherwise.
Invariant: slots connected to these signals always run on the GUI thread.

Signals:
    any_event(object): every event (a ``wallet.events`` dataclass).
    payment_committed(object), budget_reached(object), policy_changed(object),
    settings_changed(object), account_changed(object), handlers_changed(object),
    payments_ended(object): the events of that kind (``handlers_changed`` for registered,
    removed and activated).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot

from wallet.events import (
    AccountChanged,
    BudgetReached,
    Event,
    EventBus,
    HandlerActivated,
    HandlerRegistered,
    HandlerRemoved,
    PaymentCommitted,
    PaymentsEnded,
    PolicyChanged,
    SettingsChanged,
)


class QtWalletEvents(QObject):
    """Subscribes to an :class:`EventBus`; re-emits its events as Qt signals on the GUI thread."""

    any_event = Signal(object)
    payment_committed = Signal(object)
    budget_reached = Signal(object)
    policy_changed = Signal(object)
    settings_changed = Signal(object)
    account_changed = Signal(object)
    handlers_changed = Signal(object)
    payments_ended = Signal(object)
    _incoming = Signal(object)

    def __init__(self, bus: EventBus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._incoming.connect(self._dispatch, Qt.ConnectionType.AutoConnection)
        unsubscribe = bus.subscribe(self._on_event)
        self._unsubscribe: Callable[[], None] | None = unsubscribe
        # Captures only ``unsubscribe``: safe to run while the C++ object goes away.
        self.destroyed.connect(lambda *_: unsubscribe())

    def _on_event(self, event: Event) -> None:
        # Any thread. Emitting is thread-safe; the connection decides direct or queued.
        self._incoming.emit(event)

    @Slot(object)
    def _dispatch(self, event: Event) -> None:
        self.any_event.emit(event)
        if isinstance(event, PaymentCommitted):
            self.payment_committed.emit(event)
        elif isinstance(event, BudgetReached):
            self.budget_reached.emit(event)
        elif isinstance(event, PolicyChanged):
            self.policy_changed.emit(event)
        elif isinstance(event, SettingsChanged):
            self.settings_changed.emit(event)
        elif isinstance(event, AccountChanged):
            self.account_changed.emit(event)
        elif isinstance(event, HandlerRegistered | HandlerRemoved | HandlerActivated):
            self.handlers_changed.emit(event)
        elif isinstance(event, PaymentsEnded):
            self.payments_ended.emit(event)

    def close(self) -> None:
        """Stop listening to the bus (also done when the object is destroyed)."""
        self._stop()

    def _stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
