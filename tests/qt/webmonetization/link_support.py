"""What the link-tag tests share: a sandbox Open Payments world (TLS with a test CA, real
STREAM receivers, a real wallet in SQLite, the real payment layer), a page recorder of
``monetization`` events, and waits on what the page saw and what history says."""

from __future__ import annotations

import asyncio
import itertools
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from tests.op_support import OpSandbox, op_sandbox
from tests.qt.webmonetization.conftest import Env, Site, Tab, page_html
from ui.webmonetization.protocols import RegisteredHandler
from wallet.budgets import Asset, Defaults, GlobalPolicy
from wallet.net.link import Link
from wallet.openpayments.transport import HttpResponse, HttpTransport
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

    def make(
        *,
        check_openapi: bool = True,
        pace: float = 0.1,
        backend: Any = None,
        sandbox_host: str | None = None,
    ) -> World:
        """``sandbox_host``: a name the wallet's requests reach the sandbox by, on the default
        https port (:class:`HostsTransport`): payment pointers carry no port (RFC 26)."""
        sandbox_cm = op_sandbox(tmp_path, check_openapi=check_openapi, backend=backend)
        sandbox = asyncio.run_coroutine_threadsafe(sandbox_cm.__aenter__(), loop).result(20)
        profile = tempfile.TemporaryDirectory()
        service = WalletService.open(Path(profile.name), tz=ZoneInfo("UTC"))
        service.set_global_policy(
            GlobalPolicy(
                budget_asset=Asset("USD", 9),
                defaults=Defaults(rate_per_hour=FAST, cap_month=None),
            )
        )
        transport = HttpTransport(extra_ca_file=sandbox.ca_file)
        hosts = {} if sandbox_host is None else {sandbox_host: sandbox.server.origin}
        resolver = OpenPaymentsResolver(transport=HostsTransport(transport, hosts))
        env.registry.handlers.append(RegisteredHandler("https://provider.example", "P", PROVIDER))
        env.services.payments = Payments(
            service, loop, pace=pace, template=PAGE_CONNECTION_TEMPLATE, resolver=resolver
        )
        env.services.links = SandboxPath(sandbox)

        def leave() -> None:
            asyncio.run_coroutine_threadsafe(resolver.close(), loop).result(20)
            asyncio.run_coroutine_threadsafe(transport.close(), loop).result(20)
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


class HostsTransport:
    """The wallet's https transport on a test network whose names (``{"wallet.test":
    "https://127.0.0.1:PORT"}``) lead to local servers — what a hosts file does for a browser.
    Everything else (TLS with the test CA, HTTP, the servers) is real."""

    def __init__(self, inner: HttpTransport, hosts: dict[str, str]) -> None:
        self._inner = inner
        self._hosts = hosts

    async def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        *,
        once: bool = False,
    ) -> HttpResponse:
        parts = urlsplit(url)
        origin = self._hosts.get(parts.netloc)
        if parts.scheme == "https" and origin is not None:
            url = origin + url[len(f"https://{parts.netloc}") :]
        return await self._inner.request(method, url, headers, body, once=once)


def units_seen(tab: Tab) -> int:
    return int(tab.js("String(window.unitsSeen)"))


def settle(tab: Tab, w: World, site: str) -> int:
    """Hide the tab and wait until what is in flight has landed and the page has been told:
    the page's sum equals the history's. Returns it."""
    tab.tab.set_visible(False)
    tab.qtbot.waitUntil(lambda: units_seen(tab) == w.history(site), timeout=20000)
    return units_seen(tab)


def landed(tab: Tab, w: World, site: str) -> None:
    """Hide the tab and wait until every receiver's own count equals the history's."""
    tab.tab.set_visible(False)
    tab.qtbot.waitUntil(
        lambda: sum(own for own, _ in w.received().values()) == w.history(site), timeout=20000
    )


def paid_page(w: World, make_tab: Callable[[], Tab], site: Site) -> Tab:
    """A tab showing ``site``'s page with link ``m`` to alice's wallet, once it is paid."""
    site.pages["/"] = link_page(("m", w.wallet("alice")))
    tab = make_tab()
    tab.load(site.url("/"))
    tab.qtbot.waitUntil(lambda: units_seen(tab) > 0, timeout=20000)
    return tab


def wait_a_while(tab: Tab, seconds: float = 0.6) -> None:
    """Let ``seconds`` pass (several pace periods), the event loop running."""
    deadline = time.monotonic() + seconds
    tab.qtbot.waitUntil(lambda: time.monotonic() >= deadline, timeout=int(seconds * 1000) + 5000)


def still(tab: Tab, w: World, site: str, seconds: float = 0.6) -> None:
    """Nothing more is paid nor reported for ``seconds`` (several pace periods)."""
    before = (units_seen(tab), w.history(site))
    wait_a_while(tab, seconds)
    assert (units_seen(tab), w.history(site)) == before
