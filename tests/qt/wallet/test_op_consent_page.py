"""The sandbox wallet's consent page in a real QtWebEngine page: it shows in plain words what
Trickle asks for, Accept sends the browser to the finish URI with a hash Trickle verifies, and
the grant then continues; Decline comes back as ``result=grant_rejected``.

The page here trusts the sandbox's test certificate itself (``certificateError`` accepted);
whether Trickle's own tabs trust the sandbox's CA is the app's business, not this page's.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import threading
from collections.abc import Coroutine, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, TypeVar

import pytest
import shiboken6
from PySide6.QtCore import QUrl
from PySide6.QtWebEngineCore import QWebEngineCertificateError, QWebEnginePage, QWebEngineProfile

from tests.op_support import op_sandbox
from wallet.openpayments.errors import GrantRejectedError, SignatureError
from wallet.openpayments.intervals import monthly_interval
from wallet.openpayments.models import Amount, Grant, WalletAddress
from wallet.openpayments.outgoing_models import GrantLimits, InteractionFinish, PendingGrant
from wallet.openpayments.signing import ClientKey
from wallet.openpayments.user_wallet import UserWalletClient

FINISH = "https://trickle.invalid/op-finish"
WAIT = 20_000
T = TypeVar("T")


class ConsentPage(QWebEnginePage):
    """Catches the navigation to the finish URI instead of following it."""

    def __init__(self, profile: QWebEngineProfile) -> None:
        super().__init__(profile)
        self.finished: str | None = None
        self.certificateError.connect(self._trust_the_sandbox)

    @staticmethod
    def _trust_the_sandbox(error: QWebEngineCertificateError) -> None:
        error.acceptCertificate()

    def acceptNavigationRequest(
        self, url: QUrl | str, type: QWebEnginePage.NavigationType, isMainFrame: bool
    ) -> bool:
        text = url.toString() if isinstance(url, QUrl) else url
        if text.startswith(FINISH):
            self.finished = text
            return False
        return True


class World:
    """The sandbox and Trickle's client on an asyncio loop in a thread (Qt owns this one)."""

    def __init__(self, tmp: Path, *, register_key: bool = True) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.stack = AsyncExitStack()
        self.sandbox = self.run(
            self.stack.enter_async_context(
                op_sandbox(
                    tmp, wallets=("blog",), user_wallets={"me": 10**12}, grant_wait_seconds=0
                )
            )
        )
        base, _ = self.run(self.stack.enter_async_context(self.sandbox.client()))
        self.key = ClientKey.generate()
        if register_key:
            self.sandbox.server.register_client_key("me", self.key.public_jwk())
        self.user = UserWalletClient(base, self.key)
        self.wallet: WalletAddress = self.run(base.get_wallet_address(self.sandbox.wallet("me")))

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def request(self) -> PendingGrant:
        limits = GrantLimits(
            debit_amount=Amount(2_500_000_000, "USD", 9),
            interval=monthly_interval(dt.datetime(2026, 12, 6, 8, tzinfo=dt.UTC)),
        )
        return self.run(self.user.request_grant(self.wallet, limits, finish_uri=FINISH))

    def close(self) -> None:
        self.run(self.stack.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.close()


def _load(qtbot: Any, page: QWebEnginePage, url: str) -> None:
    loaded: list[bool] = []
    page.loadFinished.connect(loaded.append)
    page.load(QUrl(url))
    qtbot.waitUntil(lambda: bool(loaded), timeout=WAIT)
    assert loaded[-1] is True


def _js(qtbot: Any, page: QWebEnginePage, script: str) -> Any:
    results: list[Any] = []
    page.runJavaScript(script, 0, results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=WAIT)
    return results[0]


def _answer(qtbot: Any, pending: PendingGrant, button: str) -> tuple[str, str]:
    """Open the consent page, read what it says, press ``button``; returns (words, finish)."""
    profile = QWebEngineProfile()
    page = ConsentPage(profile)
    try:
        _load(qtbot, page, pending.redirect_url)
        words = _js(qtbot, page, "document.getElementById('access').innerText")
        page.runJavaScript(f"document.getElementById('{button}').click()", 0, lambda _: None)
        qtbot.waitUntil(lambda: page.finished is not None, timeout=WAIT)
        assert page.finished is not None
        return str(words), page.finished
    finally:
        shiboken6.delete(page)  # the page goes before its profile
        shiboken6.delete(profile)


def test_accepting_in_a_real_page_finishes_the_grant(qtbot: Any, world: World) -> None:
    pending = world.request()
    words, finish_url = _answer(qtbot, pending, "accept")
    # Money and the renewal in words, never "2.500000000 USD" or "R/2026-12-06T08:00:00.000Z/P1M".
    assert "up to 2.50 USD taken from your wallet" in words
    assert "renewing every month from 6 December 2026 (08:00 UTC)" in words
    finish = InteractionFinish.from_redirect(finish_url)
    pending.verify_finish(finish)
    grant = world.run(world.user.continue_grant(pending, interact_ref=finish.interact_ref))
    assert isinstance(grant, Grant)


def test_declining_in_a_real_page_is_a_rejection(qtbot: Any, world: World) -> None:
    _, finish_url = _answer(qtbot, world.request(), "decline")
    with pytest.raises(GrantRejectedError):
        InteractionFinish.from_redirect(finish_url)


def test_the_user_adds_trickles_key_at_the_wallet_in_a_real_page(
    qtbot: Any, tmp_path: Path
) -> None:
    world = World(tmp_path, register_key=False)
    profile = QWebEngineProfile()
    page = ConsentPage(profile)
    try:
        with pytest.raises(SignatureError):  # not registered yet: the wallet refuses the key
            world.request()
        _load(qtbot, page, world.sandbox.server.keys_page("me"))
        shown = base64.b64encode(json.dumps(world.key.public_jwk()).encode()).decode()
        _js(qtbot, page, f"document.getElementById('jwk').value = {json.dumps(shown)}; 1")
        _js(qtbot, page, "document.getElementById('add').click(); 1")
        qtbot.waitUntil(
            lambda: world.key.kid in str(_js(qtbot, page, "document.body?.innerText ?? ''")),
            timeout=WAIT,
        )
        assert world.request().redirect_url  # now the wallet takes Trickle's requests
    finally:
        shiboken6.delete(page)
        shiboken6.delete(profile)
        world.close()
