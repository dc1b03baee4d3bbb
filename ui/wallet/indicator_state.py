"""Per-tab monetization state for the toolbar indicator, as a small Qt model.

The page bridge (``ui/webmonetization``) feeds it what only it knows — a page called
``monetize()``, its stream started or stopped, money went out — through :meth:`set_monetized`,
:meth:`set_status` and :meth:`add_sent`; the wallet's own events feed the rest (payments for
the site, caps reached, pause/block, no active provider) through :meth:`follow`. Tabs are keyed
by any hashable object (the browser's ``TabContext``).

Invariants: the amount "this visit" is an ``int`` in one asset; it restarts at 0 when the tab
navigates to another site (:meth:`begin_visit`). A paused or blocked site shows so whatever
the page does; a budget refusal holds until the policy changes or money flows again.

Signals:
    changed(object): the state of that tab key changed.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace

from PySide6.QtCore import QObject, Signal

from ui.wallet.qtevents import QtWalletEvents
from wallet.budgets import Asset, Reason, SiteState
from wallet.events import BudgetReached, HandlerActivated, PaymentCommitted, PolicyChanged


class Status(enum.StrEnum):
    NOT_MONETIZED = "not_monetized"
    NO_PROVIDER = "no_provider"
    STREAMING = "streaming"
    PAUSED = "paused"
    BLOCKED = "blocked"
    BUDGET_REACHED = "budget_reached"


_REASON_STATUS = {
    Reason.PAUSED: Status.PAUSED,
    Reason.BLOCKED: Status.BLOCKED,
    Reason.DISABLED: Status.PAUSED,
    Reason.DAY_CAP: Status.BUDGET_REACHED,
    Reason.MONTH_CAP: Status.BUDGET_REACHED,
    Reason.TOTAL_CAP: Status.BUDGET_REACHED,
    Reason.GLOBAL_BUDGET: Status.BUDGET_REACHED,
    Reason.BALANCE: Status.BUDGET_REACHED,
}


@dataclass(frozen=True, slots=True)
class TabState:
    """What the indicator shows for one tab."""

    site: str | None = None
    status: Status = Status.NOT_MONETIZED
    monetized: bool = False
    sent: int = 0  # this visit, in ``asset``
    asset: Asset | None = None
    reason: Reason | None = None


class IndicatorState(QObject):
    """Tab key -> :class:`TabState`, and which tab is current."""

    changed = Signal(object)

    def __init__(
        self,
        site_state: Callable[[str], SiteState] | None = None,
        has_provider: Callable[[], bool] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._site_state = site_state
        self._has_provider = has_provider
        self._tabs: dict[Hashable, TabState] = {}
        self._current: Hashable | None = None

    # --- reading -------------------------------------------------------------------------------

    def state(self, key: Hashable | None) -> TabState:
        return self._tabs.get(key, TabState()) if key is not None else TabState()

    def current_key(self) -> Hashable | None:
        return self._current

    def current(self) -> TabState:
        return self.state(self._current)

    # --- the browser's side --------------------------------------------------------------------

    def set_current(self, key: Hashable | None) -> None:
        if key is not self._current:
            self._current = key
            self.changed.emit(key)

    def begin_visit(self, key: Hashable, site: str | None) -> None:
        """The tab now shows ``site`` (``None``: not a web page); a new visit starts at 0."""
        old = self.state(key)
        if old.site == site and key in self._tabs:
            return
        status = self._policy_status(site) or Status.NOT_MONETIZED
        self._put(key, TabState(site=site, status=status))

    def forget(self, key: Hashable) -> None:
        """The tab closed."""
        self._tabs.pop(key, None)
        if key is self._current:
            self._current = None
        self.changed.emit(key)

    # --- the page bridge's side ----------------------------------------------------------------

    def set_monetized(self, key: Hashable, monetized: bool) -> None:
        """The page called ``monetize()`` (or its last connection closed)."""
        old = self.state(key)
        status = self._policy_status(old.site)
        if status is None:
            if not monetized:
                status = Status.NOT_MONETIZED
            elif self._has_provider is not None and not self._has_provider():
                status = Status.NO_PROVIDER
            else:
                status = Status.STREAMING
        self._put(key, replace(old, monetized=monetized, status=status, reason=None))

    def set_status(self, key: Hashable, status: Status, reason: Reason | None = None) -> None:
        self._put(key, replace(self.state(key), status=status, reason=reason))

    def add_sent(self, key: Hashable, amount: int, asset: Asset) -> None:
        """``amount`` of ``asset`` went to this tab's site in this visit."""
        old = self.state(key)
        sent = old.sent + amount if old.asset in (None, asset) else amount
        self._put(
            key,
            replace(
                old, sent=sent, asset=asset, monetized=True, status=Status.STREAMING, reason=None
            ),
        )

    # --- the wallet's events -------------------------------------------------------------------

    def follow(self, events: QtWalletEvents) -> None:
        """Keep the tabs in step with payments, refusals, policy and provider changes."""
        events.payment_committed.connect(self._on_payment)
        events.budget_reached.connect(self._on_budget)
        events.policy_changed.connect(self._on_policy)
        events.handlers_changed.connect(self._on_handlers)

    def _keys_for(self, site: str) -> list[Hashable]:
        return [k for k, s in self._tabs.items() if s.site == site]

    def _on_payment(self, ev: PaymentCommitted) -> None:
        keys = self._keys_for(ev.site)
        if not keys:
            return
        # Money accrues only for the visible tab: the current one if it shows the site.
        key = self._current if self._current in keys else keys[0]
        self.add_sent(key, ev.amount, ev.asset)

    def _on_budget(self, ev: BudgetReached) -> None:
        status = _REASON_STATUS.get(ev.reason)
        if status is None:
            return
        for key in self._keys_for(ev.site):
            self.set_status(key, status, ev.reason)

    def _on_policy(self, ev: PolicyChanged) -> None:
        state = ev.policy.state if ev.policy is not None else SiteState.ENABLED
        for key in self._keys_for(ev.site):
            old = self.state(key)
            if state is SiteState.PAUSED:
                self.set_status(key, Status.PAUSED, Reason.PAUSED)
            elif state is SiteState.BLOCKED:
                self.set_status(key, Status.BLOCKED, Reason.BLOCKED)
            else:
                self.set_monetized(key, old.monetized)

    def _on_handlers(self, ev: object) -> None:
        if isinstance(ev, HandlerActivated):
            for key, old in list(self._tabs.items()):
                if old.monetized and old.status in (Status.STREAMING, Status.NO_PROVIDER):
                    self.set_monetized(key, True)

    # --- helpers -------------------------------------------------------------------------------

    def _policy_status(self, site: str | None) -> Status | None:
        if site is None or self._site_state is None:
            return None
        state = self._site_state(site)
        if state is SiteState.PAUSED:
            return Status.PAUSED
        if state is SiteState.BLOCKED:
            return Status.BLOCKED
        return None

    def _put(self, key: Hashable, state: TabState) -> None:
        if self._tabs.get(key) == state:
            return
        self._tabs[key] = state
        self.changed.emit(key)
