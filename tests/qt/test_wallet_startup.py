"""The app composed as ``run()`` composes it, with the wallet started after the first paint:
until it is ready the window says "Wallet starting…", the menu's Wallet entry and Ctrl+Shift+E
wait for it, the welcome page waits for the wallet's figures; then the real indicator, action
and wallet window take over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QUrl
from PySide6.QtWidgets import QApplication, QLabel

from tests.qt.conftest import run_js
from tests.qt.flows import WAIT
from ui.app import LaunchOptions, compose, internal_routes
from ui.browser.browsing import Browsing
from ui.browser.profile import create_profile
from ui.browser.scheme import START_URL
from ui.browser.storage import BrowsingStore
from ui.browser.windows import Windows
from ui.provider import STARTING_TEXT, ProviderWiring
from ui.wallet.window import WalletWindow

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.mark.allow_qt_messages(r"This plugin does not support propagateSizeHints\(\)")
def test_the_window_works_before_the_wallet_and_the_wallet_takes_over_when_ready(
    qtbot: Any, tmp_path: Path
) -> None:
    options = LaunchOptions(profile_dir=tmp_path / "profile", urls=("x",), sandbox=True)
    options.profile_dir.mkdir()
    ext = compose(options)
    wiring = ext.parts["provider"]
    assert isinstance(wiring, ProviderWiring)
    startup = wiring.startup
    browsing = Browsing(BrowsingStore.open(options.profile_dir))
    profile = create_profile(
        options.profile_dir,
        internal_routes(ext.internal_pages),
        [*browsing.installers, *ext.profile_installers],
    )
    windows = Windows(profile, [*browsing.page_hooks, *ext.page_hooks], ext.window_hooks)
    browsing.bind(windows)
    try:
        window: Any = windows.new_window([START_URL])  # the wallet adds attributes
        qtbot.waitExposed(window)
        label = window.indicator_slot.findChild(QLabel, "wallet_starting")
        assert label is not None and label.text() == STARTING_TEXT and label.isVisible()
        ARTIFACTS.mkdir(exist_ok=True)
        assert window.grab().save(str(ARTIFACTS / "wallet-starting.png"))
        placeholder = window.wallet_action
        menu = browsing.parts(window).menu
        assert placeholder in menu.actions()
        placeholder.trigger()  # the user asks for the wallet before it exists
        qtbot.wait(300)
        assert not startup.ready.done()  # nothing started it yet: no page has painted
        # A page that needs the wallet (its figures are the wallet's) waits for it, and starts
        # it: it could not paint before.
        welcome = window.new_tab(QUrl("trickle://wallet/"))
        qtbot.waitUntil(startup.ready.done, timeout=WAIT)
        wallet = startup.ready.value()
        assert not shiboken6.isValid(label) or not label.isVisible()
        assert window.wallet_action is not placeholder
        assert window.wallet_action in menu.actions() and placeholder not in menu.actions()
        assert window.wallet_indicator.isVisible()
        opened = [w for w in QApplication.topLevelWidgets() if isinstance(w, WalletWindow)]
        assert [w.isVisible() for w in opened] == [True]  # the early click, kept
        assert wallet.ui.open_wallet(window) is opened[0]
        expected = "you start with a monthly budget of 5.00 USD for all sites together"
        budget = "(document.getElementById('budget') || {}).textContent || ''"
        qtbot.waitUntil(lambda: expected in run_js(qtbot, welcome, budget), timeout=WAIT)
        second: Any = windows.new_window([START_URL])  # windows made now get the wallet at once
        assert second.wallet_indicator is not None and second.wallet_action in (
            browsing.parts(second).menu.actions()
        )
    finally:
        browsing.save_session()  # and its pending save timer stops
        windows.delete_all()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        shiboken6.delete(profile)
        QCoreApplication.processEvents()
        browsing.close()
        for step in ext.on_shutdown:
            step()


def test_quitting_while_the_wallet_starts_closes_it_cleanly(tmp_path: Path) -> None:
    options = LaunchOptions(profile_dir=tmp_path / "profile", urls=("x",), sandbox=True)
    options.profile_dir.mkdir()
    ext = compose(options)
    wiring = ext.parts["provider"]
    assert isinstance(wiring, ProviderWiring)
    wiring.startup.start()
    for step in ext.on_shutdown:  # before the GUI thread ever composed the wallet
        step()
    assert not wiring.startup.ready.done()
    assert (options.profile_dir / "trickle.sqlite3").is_file()


def test_a_wallet_that_cannot_start_leaves_the_browser_working_and_says_so(
    qtbot: Any, tmp_path: Path
) -> None:
    options = LaunchOptions(profile_dir=tmp_path / "profile", urls=("x",), sandbox=True)
    options.profile_dir.mkdir()
    (options.profile_dir / "trickle.sqlite3").write_bytes(b"not a database " * 100)
    ext = compose(options)
    wiring = ext.parts["provider"]
    assert isinstance(wiring, ProviderWiring)
    profile = create_profile(
        options.profile_dir, internal_routes(ext.internal_pages), ext.profile_installers
    )
    windows = Windows(profile, ext.page_hooks, ext.window_hooks)
    try:
        window: Any = windows.new_window([START_URL])
        wiring.startup.start()
        qtbot.waitUntil(wiring.startup.ready.done, timeout=WAIT)
        assert wiring.startup.ready.future.exception() is not None
        label = window.indicator_slot.findChild(QLabel, "wallet_starting")
        assert label.text() == "Wallet unavailable"
        assert "did not start" in label.toolTip()
        welcome = window.new_tab(QUrl("trickle://wallet/"))  # no wallet: no welcome page
        failed: list[bool] = []
        welcome.loadFinished.connect(failed.append)
        qtbot.waitUntil(lambda: failed == [False], timeout=WAIT)
    finally:
        windows.delete_all()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        shiboken6.delete(profile)
        QCoreApplication.processEvents()
        for step in ext.on_shutdown:
            step()
