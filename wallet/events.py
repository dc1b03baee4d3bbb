"""Typed events of the wallet service and a small synchronous listener registry.

Owns the event types the ``ui`` (through its Qt adapter) listens to. Events are frozen, slotted
dataclasses — never strings. Listeners run synchronously on the thread that caused the event, in
subscription order; a failing listener is logged and does not stop the others or the caller.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from wallet.budgets import Asset, GlobalPolicy, Reason, SitePolicy
from wallet.store.repo import AccountInfo, HandlerInfo

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HandlerRegistered:
    handler: HandlerInfo


@dataclass(frozen=True, slots=True)
class HandlerRemoved:
    handler_id: int


@dataclass(frozen=True, slots=True)
class HandlerActivated:
    handler: HandlerInfo | None  # None: no handler is active any more


@dataclass(frozen=True, slots=True)
class PolicyChanged:
    site: str
    policy: SitePolicy | None  # None: reset to the defaults


@dataclass(frozen=True, slots=True)
class SettingsChanged:
    policy: GlobalPolicy


@dataclass(frozen=True, slots=True)
class AccountChanged:
    account: AccountInfo


@dataclass(frozen=True, slots=True)
class PaymentCommitted:
    site: str
    provider: str
    asset: Asset
    amount: int
    delivered: int


@dataclass(frozen=True, slots=True)
class BudgetReached:
    """A site can send nothing more for now (emitted when the reason changes)."""

    site: str
    reason: Reason


@dataclass(frozen=True, slots=True)
class PaymentsEnded:
    """A link session of an open page ended for good (its receiver gave up after the
    back-off, the provider failed): that page is paid again only after a reload. A limit
    never ends one: it holds (``wallet.payments.lifecycle``)."""

    site: str
    reason: str


Event = (
    HandlerRegistered
    | HandlerRemoved
    | HandlerActivated
    | PolicyChanged
    | SettingsChanged
    | AccountChanged
    | PaymentCommitted
    | BudgetReached
    | PaymentsEnded
)
Listener = Callable[[Event], None]


class EventBus:
    """Subscribe listeners, emit events to them."""

    def __init__(self) -> None:
        self._listeners: list[tuple[Listener, tuple[type, ...] | None]] = []
        self._lock = threading.Lock()

    def subscribe(
        self, listener: Listener, kinds: tuple[type, ...] | None = None
    ) -> Callable[[], None]:
        """Call ``listener`` for every event (or only those of ``kinds``); returns unsubscribe."""
        entry = (listener, kinds)
        with self._lock:
            self._listeners.append(entry)

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._listeners:
                    self._listeners.remove(entry)

        return unsubscribe

    def emit(self, event: Event) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener, kinds in listeners:
            if kinds is not None and not isinstance(event, kinds):
                continue
            try:
                listener(event)
            except Exception:
                log.exception("an event listener failed on %s", type(event).__name__)
