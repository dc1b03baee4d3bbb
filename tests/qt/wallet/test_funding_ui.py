"""Connecting an Open Payments wallet from the Account page, as a person does it — type the
address, see the key to add (with its copy button and the words), continue, approve in the
consent tab (a real QtWebEngine page of the sandbox wallet, a real click) — then the site
popover says the site is paid from the wallet and what is left of its budget; when the budget
is used up the popover and the Account page say so and offer to reconnect; Disconnect goes
back to the local account. Screenshots of each step go to ``artifacts/``."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QPoint, Qt, QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWebEngineCore import (
    QWebEngineCertificateError,
    QWebEnginePage,
    QWebEngineProfile,
)
from PySide6.QtWebEngineWidgets import QWebEngineView

from tests.funding_support import FundingWorld, Page, funding_world
from ui.asyncbridge import AsyncBridge, LoopThread
from ui.wallet.banner import Notifier
from ui.wallet.context import WalletContext
from ui.wallet.funding import FundingPort
from ui.wallet.history_model import PAYEE_COLUMN
from ui.wallet.network import NetworkStatus
from ui.wallet.pages.account import AccountPage
from ui.wallet.popover import SitePopover
from ui.wallet.qtevents import QtWalletEvents
from ui.wallet.window import WalletWindow
from wallet.amounts import NumberStyle
from wallet.budgets import SitePolicy
from wallet.funding import FundingSource
from wallet.payments.documents import DocumentHandle
from wallet.store.payees import short_address

WAIT = 20_000
SITE = "https://blog.example"
# The popover is a Qt.Popup; the offscreen platform says so for popups.
OFFSCREEN_POPUP = pytest.mark.allow_qt_messages(
    r"This plugin does not support (propagateSizeHints|raise|grabbing the keyboard).*"
)


@dataclass
class Ui:
    world: FundingWorld
    loop: asyncio.AbstractEventLoop
    port: FundingPort
    ctx: WalletContext
    window: WalletWindow
    opened: list[str]
    qtbot: Any

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    @property
    def account(self) -> AccountPage:
        page = self.window.show_page("account")
        assert isinstance(page, AccountPage)
        return page


@pytest.fixture
def ui(qtbot: Any, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Ui]:
    budget = getattr(request, "param", None)
    thread = LoopThread()
    asyncs = AsyncBridge(thread.loop)
    cm = funding_world(tmp_path, pace=0.2)
    w = asyncio.run_coroutine_threadsafe(cm.__aenter__(), thread.loop).result(30)
    w.service.set_site_policy(SitePolicy(SITE, rate_per_hour=3_600_000_000_000 // 1000))
    opened: list[str] = []
    port = FundingPort(
        w.funding, asyncs, open_url=opened.append, draft4_sites=w.payments.draft4_sites
    )
    events = QtWalletEvents(w.service.events)
    ctx = WalletContext(
        service=w.service,
        history=w.service.history_reader(),
        events=events,
        network=NetworkStatus(),
        secrets=w.secrets,
        tz=w.service._tz,
        clock=w.clock,
        style=NumberStyle(),
        funding=port,
    )
    window = WalletWindow(ctx, Notifier(events, ctx.network), payment_refresh_ms=0)
    qtbot.addWidget(window)
    window.resize(1100, 900)
    window.show()
    qtbot.waitExposed(window)
    del budget
    try:
        yield Ui(w, thread.loop, port, ctx, window, opened, qtbot)
    finally:
        window.close()
        events.close()
        asyncio.run_coroutine_threadsafe(cm.__aexit__(None, None, None), thread.loop).result(30)
        asyncs.close()
        thread.stop()


class ConsentTab:
    """The wallet's consent page in a real QtWebEngine view (trusting the sandbox's cert)."""

    def __init__(self, qtbot: Any, url: str, sandbox_origin: str) -> None:
        self.qtbot = qtbot
        self.profile = QWebEngineProfile()
        self.page = QWebEnginePage(self.profile)
        self.page.certificateError.connect(self._certificate)
        self._host = sandbox_origin.split("//", 1)[1]
        self.view = QWebEngineView()
        self.view.setPage(self.page)
        self.view.resize(900, 420)
        self.view.show()
        qtbot.waitExposed(self.view)
        loaded: list[bool] = []
        self.page.loadFinished.connect(loaded.append)
        self.page.load(QUrl(url))
        qtbot.waitUntil(lambda: bool(loaded), timeout=WAIT)
        self.view.activateWindow()
        qtbot.waitUntil(self._painted, timeout=WAIT)  # the renderer's first frame

    def _painted(self) -> bool:
        image = self.view.grab().toImage()
        corner = image.pixelColor(20, 20)
        return any(
            image.pixelColor(x, y) != corner
            for x in range(0, image.width(), 13)
            for y in range(0, min(image.height(), 120), 7)
        )

    def _certificate(self, error: QWebEngineCertificateError) -> None:
        url = error.url()
        if f"{url.host()}:{url.port()}" == self._host:
            error.acceptCertificate()
        else:
            error.rejectCertificate()

    def js(self, expression: str) -> Any:
        box: list[Any] = []
        self.page.runJavaScript(f"JSON.stringify(({expression}))", 0, box.append)
        self.qtbot.waitUntil(lambda: bool(box), timeout=5000)
        return json.loads(box[0]) if box[0] else None  # (nothing while navigating)

    def click(self, selector: str, until: Callable[[], bool]) -> None:
        """A real mouse click on ``selector``, repeated until the page starts navigating
        (Chromium drops input before its first frame); then wait for ``until``."""
        started: list[bool] = []
        self.page.loadStarted.connect(lambda: started.append(True))
        for _ in range(20):
            where = self.js(
                f"(() => {{ const r = document.querySelector({selector!r})"
                ".getBoundingClientRect(); return [Math.round(r.left + r.width / 2),"
                " Math.round(r.top + r.height / 2)]; })()"
            )
            target = self.view.focusProxy()
            assert target is not None and where is not None
            x, y = (int(v) for v in where)
            self.qtbot.mouseClick(target, Qt.MouseButton.LeftButton, pos=QPoint(x, y))
            try:
                self.qtbot.waitUntil(lambda: bool(started), timeout=1500)
            except Exception:
                continue
            try:
                self.qtbot.waitUntil(until, timeout=WAIT)
            except Exception as e:
                raise AssertionError(f"after the click: {self.page.title()!r}") from e
            return
        raise AssertionError(f"clicking {selector} did nothing")

    def close(self) -> None:
        self.view.close()
        shiboken6.delete(self.view)
        shiboken6.delete(self.page)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        shiboken6.delete(self.profile)
        QCoreApplication.processEvents()


def connect_through_the_account_page(ui: Ui, artifacts: Path, budget_text: str) -> None:
    box = ui.account.funding
    assert not box.wallet.isEnabled() and box.local.isChecked()
    box.address.setText(ui.world.wallet("user"))
    box.budget.setText(budget_text)
    ui.qtbot.mouseClick(box.connect_button, Qt.MouseButton.LeftButton)
    ui.qtbot.waitUntil(box.key.isVisible, timeout=WAIT)
    jwk_text = box.key.toPlainText()
    assert '"kty":"OKP"' in jwk_text and '"d"' not in jwk_text
    assert "Add this key to your wallet" in box.key_words.text()
    ui.qtbot.mouseClick(box.copy, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == jwk_text
    ui.window.grab().save(str(artifacts / "op-connect-key.png"))
    # the user adds the key at their wallet
    connecting = ui.world.funding._connecting
    assert connecting is not None
    ui.world.server.register_client_key("user", connecting.jwk)
    ui.qtbot.mouseClick(box.proceed, Qt.MouseButton.LeftButton)
    ui.qtbot.waitUntil(lambda: bool(ui.opened), timeout=WAIT)
    assert "Approve Trickle's budget" in box.message.text()
    tab = ConsentTab(ui.qtbot, ui.opened[-1], ui.world.server.origin)
    try:
        assert "Allow payments" in tab.page.title()
        tab.view.grab().save(str(artifacts / "op-consent-tab.png"))
        tab.click("#accept", lambda: "Trickle is connected" in tab.page.title())
        ui.qtbot.waitUntil(tab._painted, timeout=WAIT)
        tab.view.grab().save(str(artifacts / "op-consent-done.png"))
    finally:
        tab.close()
    ui.qtbot.waitUntil(box.connected.isVisible, timeout=WAIT)
    ui.qtbot.waitUntil(
        lambda: "left of your wallet's budget" in box.budget_left.text(), timeout=WAIT
    )
    assert box.wallet.isChecked()
    assert "Connected" in box.message.text()


def pay_a_while(ui: Ui, until: Callable[[], bool]) -> DocumentHandle:
    handle = ui.world.payments.document(SITE, attending=True)

    async def start() -> Any:
        return ui.world.payments.pay_link_tag(
            handle, ui.world.wallet("alice"), None, Page(), provider=""
        )

    ui.run(start())
    ui.qtbot.waitUntil(until, timeout=WAIT)
    return handle


@OFFSCREEN_POPUP
def test_connect_pay_and_disconnect_from_the_account_page(ui: Ui, artifacts: Path) -> None:
    connect_through_the_account_page(ui, artifacts, "5")
    box = ui.account.funding
    assert "5.00 USD of 5.00 USD left" in box.budget_left.text()
    assert "renews on" in box.budget_left.text()
    ui.window.grab().save(str(artifacts / "op-account-connected.png"))

    handle = pay_a_while(ui, lambda: sum(t.sent for t in ui.world.service.site_totals()) > 0)
    popover = SitePopover(ui.ctx)
    ui.qtbot.addWidget(popover)
    ui.port.refresh()
    popover.show_site(SITE)
    popover.show()
    ui.qtbot.waitUntil(
        lambda: "Paid from your Open Payments wallet" in popover.funding.words.text(), timeout=WAIT
    )
    ui.qtbot.waitUntil(lambda: "of 5.00 USD left" in popover.funding.words.text(), timeout=WAIT)
    ui.qtbot.waitUntil(lambda: "5.00 USD of" not in popover.funding.words.text(), timeout=WAIT)
    # what is left reads as money: cents, rounded down (never more than there is)
    words = popover.funding.words.text()
    shown = re.search(r"\. (\d+)\.(\d\d) USD of 5\.00 USD left", words)
    assert shown is not None, words
    left = ui.port.status.budget
    assert left is not None
    assert int(shown[1]) * 100 + int(shown[2]) == left.left // 10**7, (words, left)
    ui.qtbot.waitUntil(lambda: shown[0][2:] in ui.account.funding.budget_left.text(), timeout=WAIT)
    # who was paid: the popover and History name the site's wallet, as for link-tag payments
    ui.qtbot.waitUntil(popover.payee.isVisible, timeout=WAIT)
    alice = "Alice's sandbox wallet (" + short_address(ui.world.wallet("alice")) + ")"
    assert popover.payee.text() == "Paid to " + alice
    # a draft-4 page of the site: only the local account can pay it, and the popover says so
    ui.world.payments.draft4_sites.add(SITE)
    popover.show_site(SITE)
    words = popover.funding.words.text()
    assert "draft 4" in words and "paid from your local account" in words
    ui.world.payments.draft4_sites.discard(SITE)
    popover.show_site(SITE)
    assert not popover.funding.reconnect.isVisible()
    # The connected wallet is the site's provider: no view says there is none.
    ui.qtbot.waitUntil(lambda: "No provider" not in popover.status.text(), timeout=WAIT)
    assert not popover.fix.isVisible()
    popover.grab().save(str(artifacts / "op-popover-paying.png"))
    handle.end()
    ui.window.grab().save(str(artifacts / "op-account-paying.png"))
    ui.window.show_page("history")
    history = ui.window.history
    history.show_site(SITE)
    model = history.model
    texts = {model.index(i, PAYEE_COLUMN).data() for i in range(model.rowCount())}
    assert texts == {alice + " · USD"}, texts
    history.view.scrollTo(model.index(0, PAYEE_COLUMN))
    ui.window.grab().save(str(artifacts / "op-history-paid-to.png"))
    box = ui.account.funding

    # Disconnect: the grant goes, the local account pays again
    box.confirmed_disconnect()
    ui.qtbot.waitUntil(lambda: not box.connected.isVisible(), timeout=WAIT)
    assert box.local.isChecked() and not box.wallet.isEnabled()
    assert ui.world.funding.source() is FundingSource.LOCAL
    ui.qtbot.waitUntil(lambda: not popover.funding.isVisible(), timeout=WAIT)


@OFFSCREEN_POPUP
def test_a_used_up_budget_is_said_in_words_with_reconnect(ui: Ui, artifacts: Path) -> None:
    connect_through_the_account_page(ui, artifacts, "0.001")
    handle = pay_a_while(ui, lambda: ui.port.status.problem is not None)
    handle.end()
    popover = SitePopover(ui.ctx)
    ui.qtbot.addWidget(popover)
    popover.show_site(SITE)
    popover.show()
    words = popover.funding.words.text()
    assert "Your wallet's budget for Trickle is used up" in words
    assert popover.funding.reconnect.isVisible()
    popover.grab().save(str(artifacts / "op-popover-used-up.png"))
    box = ui.account.funding
    ui.qtbot.waitUntil(lambda: "used up" in box.budget_left.text(), timeout=WAIT)
    assert ui.world.history()[0] == 1_000_000  # exactly the budget, 0.001 USD
    ui.window.grab().save(str(artifacts / "op-account-used-up.png"))
    # "Reconnect with a new budget": the form comes back, filled in with the wallet
    ui.qtbot.mouseClick(box.reconnect, Qt.MouseButton.LeftButton)
    assert box.connect_form.isVisible()
    assert box.address.text() == ui.world.wallet("user")
