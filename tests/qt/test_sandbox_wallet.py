"""Connecting the sandbox's own Open Payments wallet in the composed app, as a person does it,
end to end: the Account page shows the key to add (the JWK and its copy button); the key is
added on the sandbox wallet's key page in a Trickle tab; "continue" opens the wallet's consent
page in a Trickle tab — which loads (the browser accepts the sandbox's own certificate there,
and only there) — and a real click on Accept connects the wallet; the blog demo site is then
paid from it, and its popover says so. In the same running app the browser still refuses a
different self-signed server, and the sandbox's own certificate at a host it was not made for.
Screenshots of each step go to ``tests/artifacts/``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QGuiApplication

from tests.fixtures_keyring import secret_service  # noqa: F401  (registers the fixture)
from tests.qt.conftest import run_js
from tests.qt.flows import WAIT, App, click_element, load, running_app
from tests.qt.servers import Site
from ui.app import LaunchOptions
from ui.browser.webview import BrowserTab
from ui.wallet.context import HELD_AT_WALLET
from ui.wallet.pages.account import AccountPage
from wallet.funding import FundingSource

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
LEFT = Qt.MouseButton.LeftButton
CERTIFICATE_REFUSED = "Not opened: the connection is not private"
CONSENT_TITLE = "Allow payments from your sandbox wallet?"


def click(qtbot: Any, tab: BrowserTab, selector: str) -> None:
    """A real mouse click on ``selector``, again until the page starts navigating (Chromium
    drops input before its first frame)."""
    started: list[bool] = []
    tab.loadStarted.connect(lambda: started.append(True))
    for _ in range(20):
        click_element(qtbot, tab, selector)
        try:
            qtbot.waitUntil(lambda: bool(started), timeout=1500)
            return
        except Exception:
            continue
    raise AssertionError(f"clicking {selector} did nothing")


def opened_by(qtbot: Any, app: App, action: Callable[[], object]) -> BrowserTab:
    """The tab that ``action`` opens in the app's window."""
    before = set(app.window.tabs())
    action()
    qtbot.waitUntil(lambda: bool(set(app.window.tabs()) - before), timeout=WAIT)
    (tab,) = set(app.window.tabs()) - before
    return tab


def refused(qtbot: Any, app: App, url: QUrl) -> None:
    tab = app.window.new_tab(url)
    qtbot.waitUntil(lambda: tab.title() == CERTIFICATE_REFUSED, timeout=WAIT)
    assert tab.url().scheme() == "trickle" and tab.url().host() == "error"


@pytest.mark.usefixtures("secret_service")  # Trickle's key and tokens go to the keyring
@pytest.mark.allow_qt_messages(
    r"This plugin does not support (propagateSizeHints|raise|grabbing the keyboard).*"
)
def test_the_sandbox_wallet_connects_in_a_trickle_tab_and_pays_the_blog(
    qtbot: Any, tmp_path: Path, https_site: Site
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    options = LaunchOptions(profile_dir=tmp_path / "profile", sandbox=True)
    with running_app(qtbot, options) as app:
        assert app.wiring.runtime is not None
        demo = app.wiring.runtime.result(timeout=20).demo
        assert demo is not None and demo.open_payments is not None
        assert demo.user_wallet is not None
        op = demo.open_payments
        wallet = app.startup.wallet
        assert wallet is not None and wallet.ui.ctx.funding is not None
        port = wallet.ui.ctx.funding

        # -- the Account page: the address, then the key to add ------------------------------
        wallet_window = wallet.ui.open_wallet(app.window)
        wallet_window.resize(1100, 900)
        account = wallet_window.show_page("account")
        assert isinstance(account, AccountPage)
        box = account.funding
        # the sandbox's wallet is offered (its address changes every run)
        qtbot.waitUntil(box.use_sandbox.isVisible, timeout=WAIT)
        qtbot.mouseClick(box.use_sandbox, Qt.MouseButton.LeftButton)
        assert box.address.text() == demo.user_wallet
        qtbot.mouseClick(box.connect_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(box.key.isVisible, timeout=WAIT)
        jwk = box.key.toPlainText()
        assert '"kty":"OKP"' in jwk and '"d"' not in jwk
        qtbot.mouseClick(box.copy, Qt.MouseButton.LeftButton)
        assert QGuiApplication.clipboard().text() == jwk
        qtbot.wait(200)
        assert wallet_window.grab().save(str(ARTIFACTS / "sandbox-connect-key.png"))

        # -- at the wallet: its key page opens in a Trickle tab (the sandbox's own https) ----
        assert box.open_key_page.isVisible()
        keys = opened_by(qtbot, app, lambda: qtbot.mouseClick(box.open_key_page, LEFT))
        qtbot.waitUntil(lambda: keys.title() == "Keys", timeout=WAIT)
        assert keys.url().toString() == op.keys_page("you")
        assert keys.url().scheme() == "https"
        run_js(
            qtbot,
            keys,
            f"document.getElementById('jwk').value = {jwk!r};"
            " document.querySelector('form').submit(); true",
        )
        qtbot.waitUntil(
            lambda: (
                "Added key" in str(run_js(qtbot, keys, "(document.body || {}).innerText || ''"))
            ),
            timeout=WAIT,
        )

        # -- continue: the consent page opens in a Trickle tab, and loads -------------------
        consent = opened_by(qtbot, app, lambda: qtbot.mouseClick(box.proceed, LEFT))
        qtbot.waitUntil(lambda: consent.title() == CONSENT_TITLE, timeout=WAIT)
        assert consent.url().toString().startswith(op.origin + "/auth/interact/")
        assert demo.user_wallet in str(run_js(qtbot, consent, "document.body.innerText"))
        app.window.tab_strip.setCurrentWidget(consent)
        app.window.activateWindow()
        qtbot.wait(300)  # the page's first frame
        assert app.window.grab().save(str(ARTIFACTS / "sandbox-consent-tab.png"))
        click(qtbot, consent, "#accept")
        qtbot.waitUntil(box.connected.isVisible, timeout=WAIT)
        assert box.message.text() == "Connected. Sites are now paid from your wallet."
        status = port.status
        assert status.source is FundingSource.OPEN_PAYMENTS
        assert status.wallet is not None and status.wallet.address == demo.user_wallet
        qtbot.wait(200)
        assert wallet_window.grab().save(str(ARTIFACTS / "sandbox-connected.png"))
        wallet_window.close()

        # -- the blog is paid from the connected wallet; its popover says so ----------------
        blog = app.window.new_tab()
        app.window.tab_strip.setCurrentWidget(blog)
        app.window.activateWindow()
        load(qtbot, blog, demo.url("blog"))

        def received() -> int:
            return int(run_js(qtbot, blog, "document.body.dataset.received || '0'"))

        qtbot.waitUntil(lambda: received() > 0, timeout=WAIT)
        assert op.balance("you") < 100 * 10**9  # the user's sandbox wallet paid it
        indicator = app.window.wallet_indicator  # type: ignore[attr-defined]
        indicator.open_popover()
        popover = indicator.popover
        qtbot.waitUntil(
            lambda: "Open Payments wallet" in popover.funding.words.text(), timeout=WAIT
        )
        # what pays is the wallet, whose balance Trickle does not see: not the local account's
        assert popover.balance.text() == HELD_AT_WALLET
        qtbot.wait(300)
        assert popover.grab().save(str(ARTIFACTS / "sandbox-popover-wallet.png"))
        assert app.window.grab().save(str(ARTIFACTS / "sandbox-blog-paid.png"))
        popover.hide()

        # -- and nothing else is trusted ----------------------------------------------------
        refused(qtbot, app, https_site.add("/other", "<title>Other</title>"))
        port_number = QUrl(op.origin).port()
        refused(qtbot, app, QUrl(f"https://localhost:{port_number}/you"))
