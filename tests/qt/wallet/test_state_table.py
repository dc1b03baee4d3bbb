"""The state table (issue 20, item 3): every cause of a site's state, reached by real payments
or the real app condition in the app as ``ui/app.py`` composes it (sandbox, demo blog paid
through its link tag, real database), shows the same words in the toolbar indicator, the site
popover, the Sites table and the demo page's own status line.

The provider failing (a provider proving a payment that does not verify) needs a lying
handler: ``tests/qt/webmonetization/test_state_provider_failing.py``.

Screenshots (tests/artifacts/): the popover streaming, with no provider (its fix button), at a
day cap (until when) and at the global budget; the Sites table.
"""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QWidget

from tests.qt.conftest import run_js
from tests.qt.flows import WAIT, App, load, running_app
from tests.qt.servers import Site
from tests.qt.wallet.seed import BLOG, NEWS, PODCAST, USD, VIDEO, WALLET_ORIGIN
from ui.app import LaunchOptions
from ui.wallet.component import WalletUi
from ui.wallet.indicator import MonetizationIndicator
from ui.wallet.indicator_state import IndicatorState
from ui.wallet.popover import SitePopover
from ui.wallet.window import WalletWindow
from wallet.budgets import SitePolicy, SiteState
from wallet.ledger import Refusal, Reservation
from wallet.provider import BUILTIN_HANDLER_URI
from wallet.runtime import SANDBOX_NETWORK
from wallet.site_state import Cause, Fix, StatusWords

pytestmark = pytest.mark.allow_qt_messages(
    # The popover is a Qt.Popup and the wallet a top-level window: offscreen, they cannot be
    # raised, grab the keyboard or pass size hints on, and say so (X11/Wayland do not).
    r"This plugin does not support raise\(\)",
    r"This plugin does not support grabbing the keyboard",
    r"This plugin does not support propagateSizeHints\(\)",
)

FAST = 3_600_000_000  # 3.60 USD an hour: 1,000,000 units (0.001 USD) a second
STEP = 3_000_000  # what a limit leaves: about three seconds of pay at FAST


def _plain(tooltip: str) -> str:
    return html.unescape(tooltip.removeprefix("<qt>").removesuffix("</qt>"))


class Views:
    """The four places that show a site's state, read as a person reads them."""

    def __init__(self, qtbot: Any, app: App, artifacts: Path) -> None:
        self.qtbot = qtbot
        self.app = app
        self.artifacts = artifacts
        assert app.startup.wallet is not None
        wallet_ui = app.startup.wallet.ui
        assert isinstance(wallet_ui, WalletUi)
        self.ui = wallet_ui
        self.states: IndicatorState = wallet_ui.indicator_state
        self.indicator: MonetizationIndicator = app.window.wallet_indicator  # type: ignore[attr-defined]
        self.popover: SitePopover = self.indicator.popover
        self.wallet: WalletWindow = wallet_ui.open_wallet(app.window)
        self.wallet.show_page("sites")
        app.window.activateWindow()
        qtbot.waitUntil(app.window.is_attending, timeout=WAIT)

    def words(self, site: str) -> StatusWords:
        return self.states.words(self.states.status(site))

    def wait_for(self, site: str, cause: Cause, timeout: int = WAIT) -> StatusWords:
        try:
            self.qtbot.waitUntil(lambda: self.states.status(site).cause is cause, timeout=timeout)
        except Exception:
            facts = self.app.service.site_facts([site])[site]
            raise AssertionError(
                f"{site} is {self.states.status(site)}, not {cause}: {facts}, "
                f"{self.states.page_facts(site)}"
            ) from None
        return self.words(site)

    def check(
        self,
        site: str,
        cause: Cause,
        *,
        indicator: bool = True,
        page: Any = None,
        within: int = WAIT,
    ) -> StatusWords:
        """``site`` reaches ``cause`` (within ``within`` ms); every view says its words (label,
        explanation, fix)."""
        w = self.wait_for(site, cause, within)

        def indicator_says() -> bool:
            return (
                self.indicator.text().split(" · ")[0] == w.label
                and w.sentence() in _plain(self.indicator.toolTip())
                and w.sentence() in self.indicator.accessibleDescription()
            )

        def popover_says() -> bool:
            self.popover.show_site(site)
            fix = None if self.popover.fix.isHidden() else self.popover.fix.text()
            return (self.popover.status.text(), self.popover.explanation.text(), fix) == (
                w.label,
                w.explanation,
                w.fix.value if w.fix is not None else None,
            )

        def table_says() -> bool:
            sites = self.wallet.sites
            sites.refresh()
            row = sites.sites().index(site)
            item = sites.table.item(row, 1)
            return item is not None and (item.text(), _plain(item.toolTip())) == (
                w.label,
                w.explanation,
            )

        # Each view is read until it says it (a view may be a moment behind the model).
        if indicator:
            self.qtbot.waitUntil(indicator_says, timeout=WAIT)
        self.qtbot.waitUntil(popover_says, timeout=WAIT)
        self.qtbot.waitUntil(table_says, timeout=WAIT)
        if page is not None:  # the demo page's status line, live from its server
            status = "document.getElementById('status').textContent"
            self.qtbot.waitUntil(
                lambda: run_js(self.qtbot, page, status) == w.sentence(), timeout=WAIT
            )
        return w

    def resume(self, site: str, page: Any) -> None:
        """After a refusal lifted: the page's link session, held meanwhile, streams again by
        itself — the same document (no reload), never "Stopped" on the way."""
        document = run_js(self.qtbot, page, "window.__trickleDocument ??= Math.random()")
        shown: set[Cause] = set()

        def streaming() -> bool:
            cause = self.states.status(site).cause
            shown.add(cause)
            return cause is Cause.STREAMING

        self.qtbot.waitUntil(streaming, timeout=WAIT)
        assert Cause.STOPPED not in shown, shown
        self.check(site, Cause.STREAMING, page=page)
        assert run_js(self.qtbot, page, "window.__trickleDocument") == document

    def shoot_popover(self, site: str, name: str) -> None:
        self.app.window.activateWindow()
        self.indicator.open_popover()
        self.qtbot.waitUntil(self.popover.isVisible)
        assert self.popover.site == site
        self.popover.adjustSize()
        assert self.popover.grab().save(str(self.artifacts / name))
        self.popover.hide()
        self.app.window.activateWindow()
        self.qtbot.waitUntil(self.app.window.is_attending, timeout=WAIT)


def test_every_cause_shows_the_same_words_everywhere(
    qtbot: Any, tmp_path: Path, http_site: Site, artifacts: Path
) -> None:
    # The blog alone (a URL given: no welcome page), with no provider chosen yet.
    options = LaunchOptions(
        profile_dir=tmp_path / "profile", sandbox=True, urls=("trickle://demo/blog",)
    )
    with running_app(qtbot, options) as app:
        assert app.wiring.runtime is not None
        demo = app.wiring.runtime.result().demo
        assert demo is not None
        blog_url = demo.url("blog")
        blog = blog_url.rstrip("/")
        svc = app.service
        v = Views(qtbot, app, artifacts)
        (blog_tab,) = app.window.tabs()
        qtbot.waitUntil(lambda: v.states.state(blog_tab.context).site == blog, timeout=WAIT)
        assert svc.active_handler() is None

        # --- no provider: the fix chooses Trickle Wallet ----------------------------------
        w = v.check(blog, Cause.NO_PROVIDER, page=blog_tab)
        assert w.fix is Fix.USE_TRICKLE_WALLET
        v.shoot_popover(blog, "state-popover-no-provider.png")
        v.popover.show_site(blog)
        v.popover.fix.click()
        active = svc.active_handler()
        assert active is not None and active.handler_uri == BUILTIN_HANDLER_URI
        load(qtbot, blog_tab, blog_url)  # the page asks again, now that there is a provider

        # --- streaming ------------------------------------------------------------------------
        v.check(blog, Cause.STREAMING, page=blog_tab)
        v.shoot_popover(blog, "state-popover-streaming.png")

        # --- accruing: a rate so low that no packet's worth accrues -------------------------
        svc.set_site_policy(SitePolicy(blog, rate_per_hour=1))
        v.check(blog, Cause.ACCRUING, page=blog_tab)

        # --- paused and blocked, and their fixes (the popover's own buttons) ------------------
        svc.set_site_policy(SitePolicy(blog, rate_per_hour=FAST))
        v.check(blog, Cause.STREAMING)
        v.popover.show_site(blog)
        v.popover.pause.click()
        assert v.check(blog, Cause.PAUSED, page=blog_tab).fix is Fix.RESUME
        v.popover.fix.click()
        assert svc.site_policy(blog).state is SiteState.ENABLED
        v.popover.block.click()
        assert v.check(blog, Cause.BLOCKED, page=blog_tab).fix is Fix.UNBLOCK
        v.popover.fix.click()
        v.resume(blog, blog_tab)

        # --- each cap, reached by paying up to it -------------------------------------------
        def used() -> Any:
            """What was spent: the ledger's counters once its leases gave back what they hold
            unused (a lease counts in full until then)."""
            svc.ledger.settle(datetime.now(UTC))
            return svc.site_facts([blog])[blog].usage

        cap_day = used().site_day + STEP
        svc.set_site_policy(SitePolicy(blog, rate_per_hour=FAST, cap_day=cap_day))
        w = v.check(blog, Cause.DAY_CAP, page=blog_tab)
        assert used().site_day <= cap_day  # the held page pays nothing past the cap
        assert "paid again from tomorrow (" in w.explanation and w.fix is Fix.RAISE_CAP
        v.shoot_popover(blog, "state-popover-day-cap.png")
        qtbot.wait(500)  # the page's last frame painted
        assert app.window.grab().save(str(artifacts / "state-demo-day-cap.png"))
        v.popover.show_site(blog)
        v.popover.fix.click()  # "Raise the cap": the day cap's field, ready to type in
        assert v.popover.cap_day.hasFocus() or v.popover.focusWidget() is v.popover.cap_day
        # A higher limit lets the site be paid again: the same document, no reload.
        svc.set_site_policy(
            SitePolicy(blog, rate_per_hour=FAST, cap_month=used().site_month + STEP)
        )
        v.resume(blog, blog_tab)
        w = v.check(blog, Cause.MONTH_CAP, page=blog_tab)
        assert "paid again from " in w.explanation
        svc.set_site_policy(
            SitePolicy(blog, rate_per_hour=FAST, cap_total=used().site_total + STEP)
        )
        v.resume(blog, blog_tab)
        w = v.check(blog, Cause.TOTAL_CAP, page=blog_tab)
        assert "until you raise it" in w.explanation

        # --- the global budget ----------------------------------------------------------------
        svc.set_site_policy(SitePolicy(blog, rate_per_hour=FAST))
        v.resume(blog, blog_tab)
        glob = svc.global_policy()
        svc.set_global_policy(replace(glob, monthly_budget=used().global_month + STEP))
        w = v.check(blog, Cause.GLOBAL_BUDGET, page=blog_tab)
        assert w.fix is Fix.RAISE_BUDGET and "Sites are paid again from " in w.explanation
        v.shoot_popover(blog, "state-popover-budget.png")
        v.popover.show_site(blog)
        assert v.popover.budget_left.text().startswith("0.00 USD of ")
        v.popover.fix.click()  # "Raise the budget": the wallet's Settings, at the budget
        assert v.wallet.current_page() is v.wallet.settings
        v.wallet.show_page("sites")
        svc.set_global_policy(replace(glob, monthly_budget=None))
        v.resume(blog, blog_tab)

        # --- the balance runs out ------------------------------------------------------------
        used()  # the lease gives back what it took from the balance and did not pay
        account = svc.account(SANDBOX_NETWORK)
        assert account is not None
        svc.set_account(SANDBOX_NETWORK, account.address, account.asset, STEP)
        # A lease the page took between the two (it holds up to a minute of pay at the
        # rate) is paid out first: on a busy machine that race can add up to a minute.
        w = v.check(blog, Cause.BALANCE, page=blog_tab, within=90_000)
        v.popover.show_site(blog)
        assert v.popover.balance.text() == "0.00 USD"
        svc.top_up_sandbox(10**10)
        v.resume(blog, blog_tab)

        # --- payments switched off, and on again by the fix -----------------------------------
        svc.set_global_policy(replace(svc.global_policy(), enabled=False))
        assert v.check(blog, Cause.PAYMENTS_OFF, page=blog_tab).fix is Fix.TURN_ON
        v.popover.show_site(blog)
        v.popover.fix.click()
        assert svc.global_policy().enabled
        v.resume(blog, blog_tab)

        # --- the window not in front, then the user idle --------------------------------------
        other = QWidget()
        other.setWindowTitle("another application")
        other.show()
        other.activateWindow()
        qtbot.waitUntil(lambda: not app.window.is_attending(), timeout=WAIT)
        v.check(blog, Cause.WINDOW_NOT_FRONT, page=blog_tab)
        other.close()
        app.window.activateWindow()
        qtbot.waitUntil(app.window.is_attending, timeout=WAIT)
        v.check(blog, Cause.STREAMING)
        app.window.attention.configure(focused_only=True, idle_after=0.2)
        v.check(blog, Cause.IDLE, page=blog_tab)
        app.window.attention.configure(focused_only=True, idle_after=None)
        v.check(blog, Cause.STREAMING)

        # --- another tab in front: the blog's tab is hidden; that tab is not monetized ------
        plain = app.window.new_tab()
        plain_url = http_site.add("/plain", "<!doctype html><title>Plain</title><p>hi")
        load(qtbot, plain, plain_url.toString())
        other_site = f"http://127.0.0.1:{http_site.port}"
        qtbot.waitUntil(lambda: v.states.current_key() is plain.context)
        # The indicator shows the tab in front, so a hidden tab's state is in the others.
        v.check(blog, Cause.TAB_HIDDEN, indicator=False)
        v.check(other_site, Cause.NOT_MONETIZED)

        # --- the blog closed: not open ------------------------------------------------------
        app.window.tab_strip.close_tab(blog_tab)
        v.check(blog, Cause.NOT_OPEN, indicator=False)
        v.wallet.resize(1100, 600)
        v.wallet.show_page("sites")
        assert v.wallet.grab().save(str(artifacts / "state-sites-table.png"))
        v.wallet.close()


def test_the_sites_table_over_months_of_history(
    qtbot: Any, window: WalletWindow, wallet: Any, clock: Any, artifacts: Path
) -> None:
    """The wallet window alone (no browser: every site "not open" unless the wallet knows
    more), over a profile with four months of payments: paused, blocked, a day cap reached
    today by real reservations (with until when), the others not open."""
    wallet.set_site_active(PODCAST, True)
    for _ in range(3_000):
        clock.advance(seconds=2)
        got = wallet.reserve(PODCAST, WALLET_ORIGIN, USD, 150_000_000, min_amount=1)
        if isinstance(got, Refusal):
            break
        assert isinstance(got, Reservation)
        wallet.commit(got, delivered=got.amount)
    wallet.set_site_active(PODCAST, False)
    window.show_page("sites")
    page = window.sites
    page.refresh()
    shown = {
        site: (page.table.item(r, 1).text(), _plain(page.table.item(r, 1).toolTip()))  # type: ignore[union-attr]
        for r, site in enumerate(page.sites())
    }
    assert shown[BLOG] == ("Paused", "You paused payments to this site.")
    assert shown[VIDEO][0] == "Blocked"
    assert shown[PODCAST] == (
        "Day cap reached",
        "This site reached its cap of 0.50 USD a day; it is paid again from tomorrow (Sun 22 Nov).",
    )
    assert shown[NEWS] == ("Not open", "Paid only while you read it in a tab in front of you.")
    # The same words as the popover, for the same site.
    popover = SitePopover(window.ctx)
    popover.show_site(PODCAST)
    assert (popover.status.text(), popover.explanation.text()) == shown[PODCAST]
    assert popover.fix.text() == "Raise the cap"
    assert window.grab().save(str(artifacts / "state-sites-table-history.png"))


@pytest.mark.allow_qt_messages(
    r"This plugin does not support raise\(\)",
    r"This plugin does not support grabbing the keyboard",
    r"This plugin does not support propagateSizeHints\(\)",
)
def test_the_open_popover_follows_payments_and_state_live_but_not_the_field_being_edited(
    qtbot: Any, ctx: Any, wallet: Any, clock: Any
) -> None:
    popover = SitePopover(ctx)
    qtbot.addWidget(popover)
    popover.show_site(NEWS)
    popover.show()
    qtbot.waitUntil(popover.isVisible)
    today, balance, left = (
        popover.today.text(),
        popover.balance.text(),
        popover.budget_left.text(),
    )
    popover.rate.setText("1.5")  # the user is typing a new rate: live updates leave it alone
    wallet.set_site_active(NEWS, True)
    clock.advance(seconds=30)
    got = wallet.reserve(NEWS, WALLET_ORIGIN, USD, 5_000_000)
    assert isinstance(got, Reservation)
    wallet.commit(got, delivered=got.amount)
    qtbot.waitUntil(lambda: popover.today.text() != today, timeout=WAIT)
    assert popover.budget_left.text() != left  # what is left of the budget went down
    assert popover.balance.text() == balance  # the example wallet's account is not ours
    assert popover.rate.text() == "1.5"
    # Paused elsewhere (the Sites page, the CLI): the open popover says so, with its fix.
    wallet.set_site_policy(SitePolicy(NEWS, SiteState.PAUSED))
    qtbot.waitUntil(lambda: popover.status.text() == "Paused", timeout=WAIT)
    assert popover.fix.text() == "Resume" and not popover.fix.isHidden()
    assert popover.rate.text() == "1.5"
    popover.hide()
