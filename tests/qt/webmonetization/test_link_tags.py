"""Today's Web Monetization in a real QtWebEngine page: ``<link rel="monetization"
href="<wallet address>">`` is paid through the sandbox's Open Payments server (TLS with a test
CA, every exchange checked against the official OpenAPI files) to a real STREAM receiver, from a
sandbox account, through the real payment layer and a real wallet (SQLite).

The receiver's own total = the incoming payment's ``receivedAmount`` = Trickle's history = the
sum of the ``amountSent`` of the ``monetization`` events the page saw; a per-site cap stops it
exactly at the cap; a hidden tab pays nothing and sees no event; an ``href`` change starts a new
session; removal and ``disabled`` stop it; wallet addresses that are 404, HTML or ``http:`` get
``error`` at the link."""

from __future__ import annotations

import asyncio
import itertools
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.op_support import OpSandbox, op_sandbox
from tests.qt.webmonetization.conftest import Env, Site, Tab, page_html
from ui.webmonetization.protocols import RegisteredHandler
from wallet.budgets import Asset, Defaults, GlobalPolicy, SitePolicy
from wallet.net.link import Link
from wallet.payments import PAGE_CONNECTION_TEMPLATE, OpenPaymentsResolver, Payments
from wallet.sandbox.op_ledger import StreamServerBackend
from wallet.service import WalletService

FAST = 3_600_000_000_000  # 1e9 units a second
PROVIDER = "https://provider.example/handler"

# What the page records: every monetization event's fields, and the sum of amountSent in units
# of the receiver's asset (scale 9), as a decimal string (BigInt).
RECORDER = """
window.seen = [];
window.unitsSeen = 0n;
window.addEventListener("monetization", (e) => {
  const [whole, frac = ""] = e.amountSent.value.split(".");
  window.unitsSeen += BigInt(whole + frac.padEnd(9, "0"));
  window.seen.push({
    currency: e.amountSent.currency, pointer: e.paymentPointer, incoming: e.incomingPayment,
    isEvent: e instanceof MonetizationEvent, bubbles: e.bubbles,
    target: e.target.id, receipt: e.receipt, amount: e.amount,
  });
});
function linkEvents(link) {
  link.addEventListener("load", () => report("load:" + link.id, link.href));
  link.addEventListener("error", () => report("error:" + link.id, link.getAttribute("href")));
}
for (const link of document.querySelectorAll("link")) linkEvents(link);
"""


def link_page(*links: tuple[str, str], script: str = "") -> str:
    tags = "".join(f'<link rel="monetization" id="{i}" href="{h}">' for i, h in links)
    return page_html(body=tags, script=RECORDER + script)


class SandboxPath:
    """The user's ILP path: a new sandbox account per session (a ``LinkProvider``)."""

    def __init__(self, sandbox: OpSandbox) -> None:
        self._sandbox = sandbox
        self._names = itertools.count(1)

    async def link_for(self, handler_uri: str) -> Link:
        return self._sandbox.network.account(f"payer{next(self._names)}")


@dataclass
class World:
    env: Env
    sandbox: OpSandbox
    service: WalletService
    loop: asyncio.AbstractEventLoop

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(20)

    def wallet(self, name: str) -> str:
        return self.sandbox.wallet(name)

    def history(self, site: str) -> int:
        """What Trickle's history says arrived for ``site``."""
        self.service.flush()
        return sum(t.delivered for t in self.service.site_totals(site=site))

    def received(self) -> dict[str, tuple[int, int]]:
        """By incoming payment URL: (the STREAM receiver's own count, its receivedAmount)."""

        async def read() -> dict[str, tuple[int, int]]:
            backend = self.sandbox.server.ledger.backend
            assert isinstance(backend, StreamServerBackend)
            return {
                url: (backend.received.get(url.rsplit("/", 1)[-1], 0), payment.received)
                for url, payment in self.sandbox.server.ledger.payments.items()
            }

        result: dict[str, tuple[int, int]] = self.run(read())
        return result


@pytest.fixture
def world_factory(env: Env, tmp_path: Path) -> Iterator[Callable[..., World]]:
    loop = env.asyncs.loop
    exits: list[Callable[[], None]] = []

    def make(*, check_openapi: bool = True, pace: float = 0.1) -> World:
        sandbox_cm = op_sandbox(tmp_path, check_openapi=check_openapi)
        sandbox = asyncio.run_coroutine_threadsafe(sandbox_cm.__aenter__(), loop).result(20)
        profile = tempfile.TemporaryDirectory()
        service = WalletService.open(Path(profile.name), tz=ZoneInfo("UTC"))
        service.set_global_policy(
            GlobalPolicy(
                budget_asset=Asset("USD", 9),
                defaults=Defaults(rate_per_hour=FAST, cap_month=None),
            )
        )
        resolver = OpenPaymentsResolver(extra_ca_file=sandbox.ca_file)
        env.registry.handlers.append(RegisteredHandler("https://provider.example", "P", PROVIDER))
        env.services.payments = Payments(
            service, loop, pace=pace, template=PAGE_CONNECTION_TEMPLATE, resolver=resolver
        )
        env.services.links = SandboxPath(sandbox)

        def leave() -> None:
            asyncio.run_coroutine_threadsafe(resolver.close(), loop).result(20)
            asyncio.run_coroutine_threadsafe(sandbox_cm.__aexit__(None, None, None), loop).result(
                20
            )
            service.close()
            profile.cleanup()

        exits.append(leave)
        return World(env, sandbox, service, loop)

    yield make
    for leave in exits:
        leave()


def units_seen(tab: Tab) -> int:
    return int(tab.js("String(window.unitsSeen)"))


def settle(tab: Tab, w: World, site: str) -> int:
    """Hide the tab and wait until what is in flight has landed and the page has been told:
    the page's sum equals the history's. Returns it."""
    tab.tab.set_visible(False)
    tab.qtbot.waitUntil(lambda: units_seen(tab) == w.history(site), timeout=20000)
    return units_seen(tab)


def still(tab: Tab, w: World, site: str, seconds: float = 0.6) -> None:
    """Nothing more is paid nor reported for ``seconds`` (several pace periods)."""
    before = (units_seen(tab), w.history(site))
    deadline = time.monotonic() + seconds
    tab.qtbot.waitUntil(lambda: time.monotonic() >= deadline, timeout=int(seconds * 1000) + 5000)
    assert (units_seen(tab), w.history(site)) == before


def test_a_link_tag_is_paid_and_every_count_agrees(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    w = world_factory()
    site = sites()
    alice = w.wallet("alice")
    site.pages["/"] = link_page(("m", alice))
    tab = make_tab()
    tab.load(site.url("/"))
    assert tab.wait_report("load:m") == alice
    tab.qtbot.waitUntil(lambda: len(tab.js("window.seen")) >= 3, timeout=20000)
    total = settle(tab, w, site.origin)
    still(tab, w, site.origin)  # hidden: no payments and no events
    (incoming,) = w.received()
    assert w.received()[incoming] == (total, total)  # receiver's own == receivedAmount
    assert total == w.history(site.origin) > 0
    first = tab.js("window.seen[0]")
    assert first == {
        "currency": "USD",
        "pointer": alice,
        "incoming": incoming,
        "isEvent": True,
        "bubbles": True,
        "target": "m",
        "receipt": None,
        "amount": None,
    }
    tab.tab.set_visible(True)  # attended again: paid again, on the same session
    tab.qtbot.waitUntil(lambda: units_seen(tab) > total, timeout=20000)
    assert list(w.received()) == [incoming]
    tab.check_clean()


def test_a_site_cap_stops_a_link_exactly_at_the_cap(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    w = world_factory()
    site = sites()
    cap = 7_654_321
    w.service.set_site_policy(SitePolicy(site.origin, rate_per_hour=FAST, cap_total=cap))
    site.pages["/"] = link_page(("m", w.wallet("alice")))
    tab = make_tab()
    tab.load(site.url("/"))
    tab.qtbot.waitUntil(lambda: units_seen(tab) == cap, timeout=20000)
    still(tab, w, site.origin)
    ((own, ledger),) = w.received().values()
    assert own == ledger == w.history(site.origin) == cap
    tab.check_clean()


def test_href_change_starts_a_new_session_and_removal_or_disabled_stops_it(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    w = world_factory()
    site = sites()
    alice, bob = w.wallet("alice"), w.wallet("bob")
    site.pages["/"] = link_page(("m", alice))
    tab = make_tab()
    tab.load(site.url("/"))
    tab.qtbot.waitUntil(lambda: len(tab.js("window.seen")) >= 1, timeout=20000)
    tab.js(f'(document.getElementById("m").href = "{bob}", 1)')
    tab.qtbot.waitUntil(lambda: tab.js("window.seen.at(-1).pointer") == bob, timeout=20000)
    assert len(w.received()) == 2  # a new incoming payment, at bob's wallet
    tab.js('(document.getElementById("m").setAttribute("disabled", ""), 1)')
    tab.qtbot.waitUntil(lambda: units_seen(tab) == w.history(site.origin), timeout=20000)
    still(tab, w, site.origin)  # disabled: stopped
    tab.js('(document.getElementById("m").removeAttribute("disabled"), 1)')
    tab.qtbot.waitUntil(lambda: len(w.received()) == 3, timeout=20000)  # re-enabled: new
    tab.qtbot.waitUntil(lambda: units_seen(tab) > w.history(site.origin) // 2, timeout=20000)
    tab.js('(document.getElementById("m").remove(), 1)')
    tab.qtbot.waitUntil(lambda: units_seen(tab) == w.history(site.origin), timeout=20000)
    still(tab, w, site.origin)  # removed: stopped
    total = units_seen(tab)
    assert sum(own for own, _ in w.received().values()) == total
    assert sum(ledger for _, ledger in w.received().values()) == total
    tab.check_clean()


def test_links_that_cannot_be_paid_get_error(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    w = world_factory(check_openapi=False)  # /nobody is no Open Payments endpoint
    site = sites()
    site.pages["/"] = link_page(
        ("missing", w.wallet("nobody")),
        ("insecure", "http://127.0.0.1:1/alice"),
        ("page", site.url("/")),  # http: as well, and HTML
        ("relative", "/alice"),
    )
    tab = make_tab()
    tab.load(site.url("/"))
    for name in ("missing", "insecure", "page", "relative"):
        tab.wait_report(f"error:{name}")
    assert not tab.page.has("load:missing")
    assert tab.js("window.seen.length") == 0
    reasons = tab.bridge.link_reasons
    assert any("does not exist (HTTP 404)" in words for words in reasons.values()), reasons
    assert w.history(site.origin) == 0
    tab.check_clean()


def test_the_page_api_of_todays_web_monetization(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    world_factory()
    site = sites()
    site.pages["/"] = page_html(
        script="""
        const link = document.createElement("link");
        const e = new MonetizationEvent("monetization", {
          bubbles: true, amountSent: {currency: "EUR", value: "0.01"},
          paymentPointer: "https://w.example/a", incomingPayment: null});
        let threw = "";
        try { new MonetizationEvent("monetization", {}); } catch (err) { threw = err.name; }
        let illegal = "";
        try { new MonetizationCurrencyAmount(); } catch (err) { illegal = err.name; }
        let viaProperty = 0, viaAttribute = 0;
        document.body.setAttribute("onmonetization", "window.attr = event.amountSent.value");
        window.onmonetization = (ev) => { viaProperty += 1; };
        report("api", {
          supports: link.relList.supports("monetization"),
          other: link.relList.supports("stylesheet"),
          amountSent: [e.amountSent.currency, e.amountSent.value],
          pointer: e.paymentPointer, incoming: e.incomingPayment,
          deprecated: [e.amount, e.assetCode, e.assetScale, e.receipt],
          isEvent: e instanceof Event, threw: threw, illegal: illegal,
          frozen: Object.isFrozen(MonetizationEvent.prototype),
          handlers: [typeof window.onmonetization, document.onmonetization,
                     document.body.onmonetization],
        });
        """
    )
    tab = make_tab()
    tab.load(site.url("/"))
    assert tab.wait_report("api") == {
        "supports": True,
        "other": True,
        "amountSent": ["EUR", "0.01"],
        "pointer": "https://w.example/a",
        "incoming": None,
        "deprecated": [None, None, None, None],
        "isEvent": True,
        "threw": "TypeError",
        "illegal": "TypeError",
        "frozen": True,
        "handlers": ["function", None, None],
    }
    tab.check_clean()


def test_onmonetization_attribute_and_property_see_link_payments(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    w = world_factory()
    site = sites()
    site.pages["/"] = page_html(
        body=f'<link rel="monetization" id="m" href="{w.wallet("alice")}"'
        ' onmonetization="window.viaAttribute = (window.viaAttribute || 0) + 1">',
        script="window.viaProperty = 0; document.onmonetization = () => window.viaProperty++;",
    )
    tab = make_tab()
    tab.load(site.url("/"))
    tab.qtbot.waitUntil(lambda: (tab.js("window.viaAttribute") or 0) >= 2, timeout=20000)
    tab.qtbot.waitUntil(lambda: tab.js("window.viaProperty") >= 2, timeout=20000)
    tab.check_clean()
