"""The toolbar indicator, the site popover and the in-window notifications, in a real browser
window (QtWebEngine, offscreen) wired the way ``ui/app.py`` wires them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from tests.qt.conftest import Browser, load
from tests.qt.servers import Site
from tests.qt.wallet.seed import TZ, USD, WALLET_ORIGIN, FakeClock
from ui.browser.window import BrowserWindow
from ui.wallet.component import WalletUi
from ui.wallet.indicator_state import IndicatorState
from ui.wallet.network import LinkState, NetworkMode
from wallet.budgets import Reason, SitePolicy, SiteState
from wallet.ledger import Refusal, Reservation
from wallet.service import WalletService
from wallet.site_state import Cause

ARTICLE = """<!doctype html><html><head><meta charset="utf-8"><title>A monetized blog</title>
<style>body{font:17px/1.6 sans-serif;max-width:40rem;margin:3rem auto}</style></head>
<body><h1>Writing on the open web</h1><p>Trickle pays this page while you read it.</p>
</body></html>"""

# The popover is a Qt.Popup: it grabs the keyboard and is raised when shown, and its size
# follows its live content, which the offscreen platform cannot do and says so (under
# X11/Wayland there is no such message).
OFFSCREEN_POPUP = pytest.mark.allow_qt_messages(
    r"This plugin does not support raise\(\)",
    r"This plugin does not support grabbing the keyboard",
    r"This plugin does not support propagateSizeHints\(\)",
)


@pytest.fixture
def wallet_ui(wallet: WalletService, clock: FakeClock) -> Iterator[WalletUi]:
    ui = WalletUi(wallet, tz=TZ, clock=clock)
    yield ui
    ui.close()


@pytest.fixture
def browser_with_wallet(qtbot: Any, make_browser: Browser, wallet_ui: WalletUi) -> BrowserWindow:
    window = make_browser()
    wallet_ui.attach(window)
    return window


def has_dark_pixels(image: QImage) -> bool:
    """The page has painted (its heading shows as dark text)."""
    return any(
        image.pixelColor(x, y).lightness() < 100
        for y in range(0, image.height(), 7)
        for x in range(0, image.width(), 7)
    )


def pay(svc: WalletService, clock: FakeClock, site: str, packets: int) -> list[Any]:
    out = []
    svc.set_site_active(site, True)
    for _ in range(packets):
        clock.advance(seconds=2)
        got = svc.reserve(site, WALLET_ORIGIN, USD, 150_000)
        if isinstance(got, Reservation):
            svc.commit(got, delivered=got.amount)
        out.append(got)
    return out


@OFFSCREEN_POPUP
def test_indicator_follows_the_current_tab_and_its_payments(
    qtbot: Any,
    make_browser: Browser,
    browser_with_wallet: BrowserWindow,
    wallet_ui: WalletUi,
    wallet: WalletService,
    clock: FakeClock,
    http_site: Site,
    artifacts: Path,
) -> None:
    window = browser_with_wallet
    indicator = window.wallet_indicator  # type: ignore[attr-defined]
    state: IndicatorState = wallet_ui.indicator_state
    tab = window.new_tab()
    assert load(qtbot, tab, http_site.add("/article", ARTICLE))
    site = f"http://127.0.0.1:{http_site.port}"
    qtbot.waitUntil(lambda: state.current().site == site)
    assert state.status(site).cause is Cause.NOT_MONETIZED
    assert indicator.text() == "Not monetized"
    assert indicator.accessibleName() == "Monetization indicator"

    # The page bridge says the page is monetized; then money flows for this site.
    state.set_monetized(tab.context, True)
    assert state.status(site).cause is Cause.ACCRUING
    results = pay(wallet, clock, site, 5)
    assert all(isinstance(r, Reservation) for r in results)
    sent = sum(r.amount for r in results)
    qtbot.waitUntil(lambda: state.current().sent == sent)
    streaming = "Streaming · " + wallet_ui.ctx.money(sent, USD, max_digits=4)
    assert state.status(site).cause is Cause.STREAMING
    assert indicator.text() == streaming
    assert "Paying this site while you read it" in indicator.accessibleDescription()
    qtbot.waitUntil(lambda: has_dark_pixels(tab.grab().toImage()), timeout=10_000)
    assert window.grab().save(str(artifacts / "wallet-indicator.png"))

    # Another window in front: nothing accrues for this one, and the indicator says so (the
    # connection stays open, so the status is still "streaming"); in front again: the amount.
    window.activateWindow()
    qtbot.waitUntil(window.is_attending)
    assert indicator.text() == streaming
    second = make_browser()
    qtbot.waitUntil(lambda: not window.is_attending())
    qtbot.waitUntil(lambda: indicator.text() == "Not in front")
    assert "this window is not in front" in indicator.toolTip()
    second.close()
    window.activateWindow()
    qtbot.waitUntil(window.is_attending)
    qtbot.waitUntil(lambda: indicator.text() == streaming)

    # Another tab: the indicator shows that tab; back again: the visit's amount is kept.
    other = window.new_tab()
    qtbot.waitUntil(lambda: state.current_key() is other.context)
    assert indicator.text() == "Not monetized"
    window.tab_strip.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: state.current().sent == sent)

    # The popover, opened from the keyboard (Alt+M), pauses the site at once.
    window.activateWindow()
    qtbot.waitUntil(window.is_focused)
    qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.AltModifier)
    popover = indicator.popover
    qtbot.waitUntil(popover.isVisible)
    assert popover.title.text() == site
    assert popover.today.text() == wallet_ui.ctx.money(sent, USD)
    assert popover.grab().save(str(artifacts / "wallet-popover.png"))
    popover.pause.click()
    assert wallet.site_policy(site).state is SiteState.PAUSED
    clock.advance(seconds=2)
    refused = wallet.reserve(site, WALLET_ORIGIN, USD, 150_000)
    assert isinstance(refused, Refusal) and refused.reason is Reason.PAUSED
    qtbot.waitUntil(lambda: state.status(site).cause is Cause.PAUSED)
    assert indicator.text() == "Paused"
    popover.hide()

    # "History for this site" opens the wallet window on that site's history.
    popover.show_site(site)
    popover.history.click()
    wallet_window = wallet_ui.open_wallet(window)
    assert wallet_window.current_page() is wallet_window.history
    assert wallet_window.history.model.filter.site == site
    assert wallet_window.history.model.rowCount() == 1
    wallet_window.close()


def test_wallet_action_and_notifications_in_the_browser_window(
    qtbot: Any,
    browser_with_wallet: BrowserWindow,
    wallet_ui: WalletUi,
    wallet: WalletService,
    clock: FakeClock,
    http_site: Site,
    artifacts: Path,
) -> None:
    window = browser_with_wallet
    tab = window.new_tab()
    assert load(qtbot, tab, http_site.add("/capped", ARTICLE))
    site = f"http://127.0.0.1:{http_site.port}"
    wallet.set_site_policy(SitePolicy(site, cap_day=450_000))
    banner = window.wallet_banner  # type: ignore[attr-defined]
    assert not banner.isVisible()
    results = pay(wallet, clock, site, 5)
    assert isinstance(results[-1], Refusal) and results[-1].reason is Reason.DAY_CAP
    qtbot.waitUntil(banner.isVisible)
    assert banner.label.text() == (
        f"{site} reached its cap for today; it is not paid until tomorrow."
    )
    qtbot.waitUntil(lambda: wallet_ui.indicator_state.status(site).cause is Cause.DAY_CAP)
    assert window.wallet_indicator.text() == "Day cap reached"  # type: ignore[attr-defined]
    wallet_ui.network.update(
        mode=NetworkMode.UPLINK,
        state=LinkState.DOWN,
        detail="connection refused",
        endpoint="https://connector.example",
    )
    assert banner.label.text().startswith("The connection to your uplink is down")
    assert "(+1 more)" in banner.label.text()
    assert window.grab().save(str(artifacts / "wallet-banner.png"))
    banner.dismiss.click()
    assert banner.label.text().startswith(site)
    banner.dismiss.click()
    assert not banner.isVisible()

    # Ctrl+Shift+E opens the wallet window; its pages show the uplink's state in words.
    window.activateWindow()
    qtbot.waitUntil(window.is_focused)
    qtbot.keyClick(
        window,
        Qt.Key.Key_E,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    qtbot.waitUntil(
        lambda: any(
            w.windowTitle() == "Trickle Wallet" and w.isVisible()
            for w in QApplication.topLevelWidgets()
        )
    )
    ww = wallet_ui.open_wallet(window)
    ww.show_page("account")
    assert ww.account.status.text() == (
        "Uplink https://connector.example — down: connection refused"
    )
    ww.close()
