"""What the browser knows of each tab's site, and every site's state from it (a small Qt model).

Owns the browser's side of the facts (:class:`~wallet.site_state.PageFacts`): which site each
tab shows, whether its page asks to be paid, whether the tab is paid for now (visible in an
attended window) and if not why, the provider failing for it, the last payment to each site and
what went out "this visit". The wallet's side comes from ``WalletService.site_facts``; the
state is :func:`wallet.site_state.site_status` of both, and its words
:func:`wallet.site_state.describe` — the indicator, the popover and the Sites table read them
here, and the words are published on ``service.statuses`` for the demo sites.

The page bridge feeds :meth:`set_monetized`; :func:`ui.wallet.indicator.follow_window` feeds
visits, visibility and the window's attention; the wallet's events (:meth:`follow`) feed the
rest. Tabs are keyed by any hashable object (the browser's ``TabContext``).

Invariants: the amount "this visit" is an ``int`` in one asset and restarts at 0 when the tab
navigates to another site. A status is recomputed on every fact that can change it, and at its
``next_change`` (one timer, armed for the earliest) — never by polling.

Signals:
    changed(object): the state of that tab key changed (``None``: possibly every tab).
    site_changed(str): that site's status or words may have changed (``""``: every site).
"""

from __future__ import annotations

from collections.abc import Callable, Container, Hashable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QObject, QTimer, Signal

from ui.wallet.qtevents import QtWalletEvents
from wallet.amounts import NumberStyle
from wallet.budgets import Asset, Reason
from wallet.events import BudgetReached, PaymentCommitted, PaymentsEnded
from wallet.payments.gate import NOT_NOW
from wallet.service import WalletService
from wallet.site_state import (
    Inattention,
    PageFacts,
    Shown,
    SiteStatus,
    StatusWords,
    describe,
    site_status,
)


@dataclass(frozen=True, slots=True)
class TabState:
    """What the browser knows of one tab."""

    site: str | None = None
    monetized: bool = False
    visible: bool = False  # paid for now: the current tab of an attended window
    provider_failing: bool = False
    stopped: bool = False  # its document's payments ended for good (a new one starts afresh)
    sent: int = 0  # this visit, in ``asset``
    asset: Asset | None = None


def _utc_now() -> datetime:
    return datetime.now(UTC)


class IndicatorState(QObject):
    """Tab key -> :class:`TabState`; site -> :class:`SiteStatus` and its words."""

    changed = Signal(object)
    site_changed = Signal(str)

    def __init__(
        self,
        service: WalletService,
        *,
        tz: ZoneInfo,
        clock: Callable[[], datetime] = _utc_now,
        network: Callable[[], str | None] = lambda: None,
        style: NumberStyle | None = None,
        wallet_pays: Callable[[str], bool] = lambda site: False,
        draft4_sites: Container[str] = (),
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.wallet_pays = wallet_pays
        """Whether the user's connected Open Payments wallet pays ``site`` (no provider needed)."""
        self.draft4_sites = draft4_sites
        """Sites whose pages opened draft-4 connections (``Payments.draft4_sites``): a limit
        ends those (the page's ``sendTotal`` rejects); link-tag sessions hold and resume."""
        self._service = service
        self._tz = tz
        self._clock = clock
        self._network = network
        self._style = style or NumberStyle()
        self._tabs: dict[Hashable, TabState] = {}
        # Each window's selected tab, and why that window is not attended to when it is not
        # (``None`` stands for the one window of callers that name none).
        self._current_of: dict[object, Hashable] = {}
        self._inattention_of: dict[object, Inattention] = {}
        self._current: Hashable | None = None  # the tab selected last, in any window
        self._last_paid: dict[str, datetime] = {}
        self._statuses: dict[str, SiteStatus] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.refresh)

    # --- reading -------------------------------------------------------------------------------

    def state(self, key: Hashable | None) -> TabState:
        return self._tabs.get(key, TabState()) if key is not None else TabState()

    def current_key(self, window: object = None) -> Hashable | None:
        """``window``'s selected tab (no window: the one selected last, in any window)."""
        return self._current if window is None else self._current_of.get(window)

    def current(self, window: object = None) -> TabState:
        return self.state(self.current_key(window))

    def open_sites(self) -> list[str]:
        return sorted({s.site for s in self._tabs.values() if s.site is not None})

    def page_facts(self, site: str) -> PageFacts:
        """The browser's facts of ``site``: all the tabs that show it, together."""
        tabs = [(k, s) for k, s in self._tabs.items() if s.site == site]
        monetized = [s for _, s in tabs if s.monetized]
        inattention: Inattention | None = None
        if tabs and not any(s.visible for _, s in tabs):
            inattention = Inattention.TAB_HIDDEN
            for window, key in self._current_of.items():
                if any(k is key for k, _ in tabs):  # selected in a window not attended to
                    inattention = self._inattention_of.get(window, Inattention.WINDOW_NOT_FRONT)
        return PageFacts(
            open=bool(tabs),
            monetized=bool(monetized),
            inattention=inattention,
            provider_failing=any(s.provider_failing for _, s in tabs),
            stopped=bool(monetized) and all(s.stopped for s in monetized),
            last_paid=self._last_paid.get(site),
        )

    def statuses(self, sites: Iterable[str]) -> dict[str, SiteStatus]:
        """Each site's status now (fresh from the wallet; any site, open or not)."""
        wanted = list(dict.fromkeys(sites))
        facts = self._service.site_facts(wanted, network=self._network())
        now = self._clock()
        for site in wanted:
            if not facts[site].has_provider and self.wallet_pays(site):
                facts[site] = replace(facts[site], has_provider=True)
        return {
            site: site_status(facts[site], self.page_facts(site), now=now, tz=self._tz)
            for site in wanted
        }

    def status(self, site: str) -> SiteStatus:
        """``site``'s status: as last computed if it is open, else fresh."""
        cached = self._statuses.get(site)
        return cached if cached is not None else self.statuses([site])[site]

    def words(self, status: SiteStatus) -> StatusWords:
        """The words people read for ``status``."""
        asset = self._service.global_policy().budget_asset
        return describe(status, asset=asset, now=self._clock(), tz=self._tz, style=self._style)

    # --- the browser's side --------------------------------------------------------------------

    def set_current(self, key: Hashable | None, window: object = None) -> None:
        """``key`` is now ``window``'s selected tab (``None``: it has none)."""
        old = self._current_of.pop(window, None)
        if key is not None:
            self._current_of[window] = key
        self._current = key
        if key is not old:
            self._recompute([s for s in (self.state(old).site, self.state(key).site) if s])
            self.changed.emit(old)
            self.changed.emit(key)

    def forget_window(self, window: object) -> None:
        """``window`` closed."""
        self._current_of.pop(window, None)
        self._inattention_of.pop(window, None)

    def begin_visit(self, key: Hashable, site: str | None) -> None:
        """The tab now shows ``site`` (``None``: not a web page); a new visit starts at 0."""
        old = self.state(key)
        if old.site == site and key in self._tabs:
            return
        self._put(key, TabState(site=site, visible=old.visible), old.site)

    def forget(self, key: Hashable) -> None:
        """The tab closed."""
        old = self._tabs.pop(key, None)
        if key is self._current:
            self._current = None
        for window in [w for w, k in self._current_of.items() if k is key]:
            del self._current_of[window]
        self._recompute([old.site] if old is not None and old.site else [])
        self.changed.emit(key)

    def set_visible(self, key: Hashable, visible: bool) -> None:
        """Whether the tab is paid for now (``TabContext.visibility_changed``)."""
        self._put(key, replace(self.state(key), visible=visible))

    def set_window_attention(self, *, idle: bool, window: object = None) -> None:
        """Why ``window``'s selected tab is not paid for when it is not: idle or not in front."""
        why = Inattention.IDLE if idle else Inattention.WINDOW_NOT_FRONT
        old, self._inattention_of[window] = self._inattention_of.get(window), why
        if why is not old:
            self.refresh()

    # --- the page bridge's side ----------------------------------------------------------------

    def set_monetized(self, key: Hashable, monetized: bool) -> None:
        """The page called ``monetize()`` or started paying a monetization link (a new
        payment session: nothing stops it yet), or no longer asks to be paid."""
        self._put(key, replace(self.state(key), monetized=monetized, stopped=False))

    def add_sent(self, key: Hashable, amount: int, asset: Asset) -> None:
        """``amount`` of ``asset`` went to this tab's site in this visit."""
        old = self.state(key)
        sent = old.sent + amount if old.asset in (None, asset) else amount
        self._put(key, replace(old, sent=sent, asset=asset, monetized=True))

    # --- the wallet's events -------------------------------------------------------------------

    def follow(self, events: QtWalletEvents) -> None:
        """Keep the statuses in step with payments, refusals, policy, settings, providers."""
        events.payment_committed.connect(self._on_payment)
        events.budget_reached.connect(self._on_refusal)
        events.policy_changed.connect(lambda ev: self._recompute([ev.site]))
        events.settings_changed.connect(lambda _ev: self.refresh())
        events.handlers_changed.connect(lambda _ev: self.refresh())
        events.account_changed.connect(lambda _ev: self.refresh())
        events.payments_ended.connect(self._on_ended)

    def _keys_for(self, site: str) -> list[Hashable]:
        return [k for k, s in self._tabs.items() if s.site == site]

    def _on_payment(self, ev: PaymentCommitted) -> None:
        self._last_paid[ev.site] = self._clock()
        keys = self._keys_for(ev.site)
        if not keys:
            return
        # Money accrues only for a visible tab: the first that is, else the one selected last.
        visible = [k for k in keys if self._tabs[k].visible]
        key = visible[0] if visible else self._current if self._current in keys else keys[0]
        for k in keys:  # money flows: the provider works and nothing stops the site
            self._tabs[k] = replace(self._tabs[k], provider_failing=False, stopped=False)
        self.add_sent(key, ev.amount, ev.asset)

    def _on_refusal(self, ev: BudgetReached) -> None:
        for k in self._keys_for(ev.site):
            if ev.reason is Reason.PROVIDER_FAILING:
                self._tabs[k] = replace(self._tabs[k], provider_failing=True)
            elif (
                ev.reason not in NOT_NOW
                and self._tabs[k].monetized
                and ev.site in self.draft4_sites
            ):
                # A limit ends a draft-4 page's connections for good; link-tag sessions hold
                # and resume when it lifts (wallet.payments.lifecycle): the cause is shown.
                self._tabs[k] = replace(self._tabs[k], stopped=True)
        self._recompute([ev.site])

    def _on_ended(self, ev: PaymentsEnded) -> None:
        """A link session of the site's open page ended for good (its receiver gave up)."""
        for k in self._keys_for(ev.site):
            if self._tabs[k].monetized:
                self._tabs[k] = replace(self._tabs[k], stopped=True)
        self._recompute([ev.site])

    # --- computing -----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Recompute every open site's status (a global fact or the time changed)."""
        self._recompute(self.open_sites(), everything=True)

    def _put(self, key: Hashable, state: TabState, *also: str | None) -> None:
        old = self._tabs.get(key)
        if old == state:
            return
        self._tabs[key] = state
        if key not in self._recompute([s for s in (state.site, *also) if s]):
            self.changed.emit(key)

    def _recompute(self, sites: list[str], *, everything: bool = False) -> set[Hashable]:
        """Recompute ``sites``' statuses (those open); returns the tab keys told of a change."""
        told: set[Hashable] = set()
        open_now = set(self.open_sites())
        for gone in [s for s in self._statuses if s not in open_now]:
            del self._statuses[gone]
        for gone in [s for s in self._last_paid if s not in open_now]:
            del self._last_paid[gone]
        wanted = [s for s in dict.fromkeys(sites) if s in open_now]
        fresh = self.statuses(wanted) if wanted else {}
        for site, status in fresh.items():
            old = self._statuses.get(site)
            self._statuses[site] = status
            self._service.statuses.publish(site, Shown(status.cause, self.words(status)))
            if status != old:
                for key in self._keys_for(site):
                    told.add(key)
                    self.changed.emit(key)
                self.site_changed.emit(site)
        if everything:
            self.site_changed.emit("")
        self._arm_timer()
        return told

    def _arm_timer(self) -> None:
        due = [s.next_change for s in self._statuses.values() if s.next_change is not None]
        if not due:
            self._timer.stop()
            return
        wait_ms = (min(due) - self._clock()).total_seconds() * 1000
        self._timer.start(max(50, min(int(wait_ms) + 1, 3_600_000)))
