"""The first launch, end to end, in-process with the app's own composition (sandbox):

the welcome page offers the built-in provider → the consent dialog (real widgets) → Allow →
the blog demo site streams money; the site's own receiver, the ledger's history and the
account balance agree to the unit. Saves a screenshot of the demo site with money received.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt, QUrl

from tests.qt.conftest import _teardown, run_js
from ui.app import LaunchOptions, compose, internal_routes, open_targets
from ui.browser.profile import create_profile
from ui.browser.window import BrowserWindow
from ui.provider import ProviderWiring
from wallet.provider import BUILTIN_HANDLER_URI
from wallet.runtime import SANDBOX_NETWORK, SANDBOX_START_BALANCE
from wallet.service import WalletService

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
WAIT = 20_000


def click_element(qtbot: Any, tab: Any, selector: str) -> None:
    """A real mouse click on an element (a user activation for register())."""
    rect = run_js(
        qtbot,
        tab,
        f"(() => {{ const r = document.querySelector({selector!r}).getBoundingClientRect();"
        " return `${Math.round(r.left + r.width / 2)},${Math.round(r.top + r.height / 2)}`; })()",
    )
    x, y = (int(v) for v in str(rect).split(","))
    target = tab.focusProxy() or tab
    qtbot.mouseClick(target, Qt.MouseButton.LeftButton, pos=QPoint(x, y))


@pytest.mark.allow_qt_messages(r"This plugin does not support propagateSizeHints\(\)")
def test_first_launch_registers_the_wallet_and_streams_to_the_demo_site(
    qtbot: Any, tmp_path: Path
) -> None:
    options = LaunchOptions(profile_dir=tmp_path / "profile", sandbox=True)
    options.profile_dir.mkdir()
    ext = compose(options)
    service = ext.parts["service"]
    wiring = ext.parts["provider"]
    assert isinstance(service, WalletService) and isinstance(wiring, ProviderWiring)
    assert wiring.web_monetization is not None and wiring.runtime is not None
    demo = wiring.runtime.result().demo
    assert demo is not None
    assert [u.split("?")[0] for u in ext.start_urls] == [demo.url("blog"), "trickle://wallet/"]

    profile = create_profile(
        options.profile_dir, internal_routes(ext.internal_pages), ext.profile_installers
    )
    window = BrowserWindow(profile, ext.page_hooks)
    try:
        for hook in ext.window_hooks:
            hook(window)
        window.resize(1200, 800)
        window.open_urls(open_targets(ext.start_urls))
        window.show()
        window.activateWindow()
        qtbot.waitExposed(window)
        blog_tab, welcome = window.tabs()
        assert window.current_tab() is welcome
        qtbot.waitUntil(
            lambda: run_js(qtbot, welcome, "!!document.getElementById('use-builtin')"),
            timeout=WAIT,
        )

        # The welcome page registers the built-in provider through the consent dialog.
        prompter = wiring.web_monetization.prompter
        for _ in range(20):
            click_element(qtbot, welcome, "#use-builtin")
            try:
                qtbot.waitUntil(lambda: prompter.current_dialog() is not None, timeout=1000)
                break
            except Exception:  # Chromium drops input before its first frame: click again
                continue
        dialog = prompter.current_dialog()
        assert dialog is not None
        assert dialog.origin_label.text() == "wallet"
        qtbot.waitUntil(dialog.allow_button.isEnabled, timeout=WAIT)
        qtbot.mouseClick(dialog.allow_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(
            lambda: run_js(qtbot, welcome, "document.body.dataset.registered || ''") == "true",
            timeout=WAIT,
        )
        active = service.active_handler()
        assert active is not None and active.handler_uri == BUILTIN_HANDLER_URI

        # The blog, reloaded now that there is a provider, is paid while it is in front.
        window.tab_strip.setCurrentWidget(blog_tab)
        loaded: list[bool] = []
        blog_tab.loadFinished.connect(loaded.append)
        blog_tab.load(QUrl(demo.url("blog")))
        qtbot.waitUntil(lambda: bool(loaded), timeout=WAIT)

        def received() -> int:
            return int(run_js(qtbot, blog_tab, "document.body.dataset.received || '0'"))

        qtbot.waitUntil(lambda: received() > 0, timeout=WAIT)
        qtbot.waitUntil(
            lambda: (
                "you have sent"
                in run_js(qtbot, blog_tab, "document.getElementById('status').textContent")
            ),
            timeout=WAIT,
        )
        ARTIFACTS.mkdir(exist_ok=True)
        assert window.grab().save(str(ARTIFACTS / "first-launch-demo.png"))

        # Leave the page: its connection closes, every packet settles; then the books agree.
        blog_tab.load(QUrl("trickle://start/"))
        site = demo.url("blog").rstrip("/")

        def settled() -> bool:
            service.flush()
            totals = {t.site: t.sent for t in service.site_totals()}
            return totals.get(site, 0) == demo.sites["blog"].received > 0

        qtbot.waitUntil(settled, timeout=WAIT)
        paid = demo.sites["blog"].received
    finally:
        _teardown(window, profile)
        for step in ext.on_shutdown:
            step()
    reopened = WalletService.open(options.profile_dir, tz=service._tz)
    account = reopened.account(SANDBOX_NETWORK)
    reopened.close()
    assert account is not None and account.balance == SANDBOX_START_BALANCE - paid
