"""End to end: connect the user's Open Payments wallet — the sandbox wallet's consent page
accepted in a real QtWebEngine tab with a real mouse click — then a real page with
``<link rel="monetization" href="<site wallet>">`` is paid from the connected wallet, by
outgoing payments into an incoming payment whose money lands at Rafiki's STREAM receiver
(``@interledger/stream-receiver``, npm) behind the sandbox's ILP path.

The site's ``receivedAmount`` = the receiver's own total = Trickle's history for the site =
the sum of the page's ``monetization`` events, and the user wallet's outgoing payments debit
exactly what Trickle's history says was sent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWebEngineCore import QWebEngineCertificateError

from tests.funding_support import FundingWorld, funding_world
from tests.interop.op_peers import NodeReceiverBackend
from tests.qt.webmonetization.conftest import (  # noqa: F401  (fixtures)
    Env,
    Site,
    Tab,
    env,
    loop_thread,
    make_tab,
    page_html,
    sites,
)
from wallet.budgets import SitePolicy
from wallet.funding import FundingSource
from wallet.net.link import Link

pytestmark = pytest.mark.interop
FAST = 3_600_000_000_000 // 100  # 1e7 units a second
WAIT = 30_000

RECORDER = """
window.seen = [];
window.unitsSeen = 0n;
window.addEventListener("monetization", (e) => {
  const [whole, frac = ""] = e.amountSent.value.split(".");
  window.unitsSeen += BigInt(whole + frac.padEnd(9, "0"));
  window.seen.push({currency: e.amountSent.currency, incoming: e.incomingPayment});
});
"""


@pytest.fixture
def world(
    env: Env,  # noqa: F811
    tmp_path: Path,
) -> Iterator[tuple[FundingWorld, NodeReceiverBackend]]:
    loop = env.asyncs.loop
    with NodeReceiverBackend.start("test.sandbox.op") as receiver:

        def backend(_: Link, address: str) -> NodeReceiverBackend:
            return receiver

        cm = funding_world(
            tmp_path, backend=backend, pace=0.2, access_token_lifetime=dt.timedelta(minutes=2)
        )
        w = asyncio.run_coroutine_threadsafe(cm.__aenter__(), loop).result(30)
        env.services.payments = w.payments
        try:
            yield w, receiver
        finally:
            asyncio.run_coroutine_threadsafe(receiver.aclose(), loop).result(30)
            asyncio.run_coroutine_threadsafe(cm.__aexit__(None, None, None), loop).result(30)


def click(tab: Tab, selector: str) -> None:
    """A real mouse click on an element."""
    where = tab.js(
        f"(() => {{ const e = document.querySelector({selector!r}); e.scrollIntoView();"
        " const r = e.getBoundingClientRect();"
        " return [Math.round(r.left + r.width / 2), Math.round(r.top + r.height / 2)]; })()"
    )
    target = tab.view.focusProxy()
    assert target is not None
    tab.qtbot.mouseClick(target, Qt.MouseButton.LeftButton, pos=QPoint(*where))


def trust_sandbox(tab: Tab, origin: str) -> None:
    """The test page trusts the sandbox's test certificate (its host only), as a browser with
    the sandbox's CA installed would."""
    host = origin.split("//", 1)[1]

    def decide(error: QWebEngineCertificateError) -> None:
        url = error.url()
        if f"{url.host()}:{url.port()}" == host:
            error.acceptCertificate()
        else:
            error.rejectCertificate()

    tab.page.certificateError.connect(decide)


def test_connect_in_a_tab_then_a_link_tag_is_paid_from_the_wallet_and_every_count_agrees(
    world: tuple[FundingWorld, NodeReceiverBackend],
    env: Env,  # noqa: F811
    make_tab: Callable[[], Tab],  # noqa: F811
    sites: Callable[[], Site],  # noqa: F811
    qtbot: Any,
) -> None:
    w, receiver = world
    loop = env.asyncs.loop

    def run(coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(30)

    # -- connecting: the user types the address, adds the key, approves in a tab ---------
    connecting = run(w.funding.begin(w.wallet("user")))
    w.server.register_client_key("user", connecting.jwk)
    consent = run(w.funding.request_grant(connecting, 10**10))
    consent_tab = make_tab()
    consent_tab.view.resize(900, 600)
    trust_sandbox(consent_tab, w.server.origin)
    consent_tab.load(consent)
    assert w.wallet("user") in consent_tab.js("document.body.innerText")
    outcome = asyncio.run_coroutine_threadsafe(connecting.outcome(), loop)
    started: list[bool] = []
    consent_tab.page.loadStarted.connect(lambda: started.append(True))
    for _ in range(20):  # Chromium drops input before its first frame: click again
        click(consent_tab, "#accept")
        try:
            qtbot.waitUntil(lambda: bool(started), timeout=1500)  # the form went
            break
        except Exception:
            continue
    qtbot.waitUntil(outcome.done, timeout=WAIT)
    wallet = outcome.result(5)
    qtbot.waitUntil(lambda: "Trickle is connected" in consent_tab.page.title(), timeout=WAIT)
    assert w.funding.source() is FundingSource.OPEN_PAYMENTS
    consent_tab.tab.set_visible(False)

    # -- a monetized page, paid from the wallet -------------------------------------------
    site = sites()
    w.service.set_site_policy(SitePolicy(site.origin, rate_per_hour=FAST))
    alice = w.wallet("alice")
    site.pages["/"] = page_html(
        body=f'<link rel="monetization" id="m" href="{alice}">', script=RECORDER
    )
    tab = make_tab()
    tab.load(site.url("/"))
    qtbot.waitUntil(lambda: len(tab.js("window.seen")) >= 3, timeout=WAIT)
    tab.tab.set_visible(False)  # no more payments; wait for the last to land and be told

    def told() -> int:
        return int(tab.js("String(window.unitsSeen)"))

    def history() -> tuple[int, int, int]:
        w.service.flush()
        totals = w.service.site_totals(site=site.origin)
        return (
            sum(t.sent for t in totals),
            sum(t.delivered for t in totals),
            sum(t.unresolved for t in totals),
        )

    def every_count_agrees() -> int:
        qtbot.waitUntil(lambda: told() == history()[1] and not wallet.busy(), timeout=WAIT)
        sent, delivered, unresolved = history()
        (incoming,) = {e["incoming"] for e in tab.js("window.seen")}
        tag = incoming.rsplit("/", 1)[-1]
        assert unresolved == 0
        assert receiver.totals() == {tag: delivered}
        assert w.received(incoming) == delivered == told() == sent == w.debited() > 0
        return sent

    first = every_count_agrees()
    assert {e["currency"] for e in tab.js("window.seen")} == {"USD"}

    # -- the short-lived token expires: rotated, stored, and payment goes on ---------------
    token = wallet.grant.access_token
    w.clock.offset += dt.timedelta(minutes=3)  # the token lives 2 minutes here
    tab.tab.set_visible(True)
    qtbot.waitUntil(lambda: told() > first, timeout=WAIT)
    assert wallet.grant.access_token != token
    saved = w.funding.store.grant()
    assert saved is not None and saved.access_token == wallet.grant.access_token

    # -- Disconnect: the grant is cancelled at the wallet, which then refuses the token ----
    stale = wallet.grant
    assert run(w.funding.disconnect()) is None
    tab.tab.set_visible(False)
    paid = every_count_agrees()
    assert run(w.token_refused(stale))
    assert paid > first
    tab.check_clean()
    consent_tab.check_clean()
