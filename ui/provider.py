"""Wires the network side into the app: the asyncio loop, the sandbox or an uplink, the built-in
provider, and ``window.WebMonetization`` on top of them.

Which network: ``--sandbox`` → the sandbox; ``--uplink URL`` → that connector; otherwise the
uplink saved on the wallet's Account page, if any; otherwise the sandbox. The sandbox starts
before the window (it is in-process and takes milliseconds) so the first launch can open its
demo site; an uplink connects in the background and its state shows in the wallet.

On the very first launch (no URLs given) Trickle opens the welcome page — which offers to make
the built-in wallet the provider — and, on the sandbox, the blog demo site.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from PySide6.QtCore import QUrl

import resources
from ui.asyncbridge import AsyncBridge, LoopThread, Outcome
from ui.browser.hooks import PageHook, ProfileInstaller, TabContext
from ui.browser.scheme import InternalPage, PageDirectory, Reply
from ui.wallet.context import TipSender
from ui.wallet.funding import FundingPort
from ui.wallet.network import LinkState, NetworkMode, NetworkStatus
from ui.wallet.welcome import WelcomePage
from ui.webmonetization.component import ServiceHandlerRegistry, WebMonetization
from wallet.errors import WalletError
from wallet.funding import Funding
from wallet.net.config import UplinkSettings
from wallet.net.link import Link
from wallet.payments import (
    PAGE_CONNECTION_TEMPLATE,
    DeferredResolver,
    LinkResolver,
    OpenPaymentsResolver,
    Payments,
)
from wallet.provider import BUILTIN_HANDLER_URI
from wallet.runtime import GroupCommits, NetworkRuntime, start_sandbox, start_uplink
from wallet.secrets import SecretStore
from wallet.service import WalletService

log = logging.getLogger(__name__)

FIRST_RUN_SETTING = "first_run_done"
UPLINK_SETTING = "uplink"  # what the Account page saves: {"url": ..., "account": ...}
WELCOME_URL = "trickle://wallet/"
WELCOME_PAGES = Path(resources.__file__).parent / "pages" / "wallet"


class DemoPages:
    """``trickle://demo/blog`` and ``trickle://demo/echo``: a redirect to the running sandbox's
    demo site (its loopback port changes every run), for links, bookmarks and benchmarks."""

    def __init__(self, runtime: concurrent.futures.Future[NetworkRuntime]) -> None:
        self._runtime = runtime

    def respond(self, url: QUrl) -> Reply | None:
        key = url.path().strip("/")
        if not self._runtime.done() or self._runtime.exception() is not None:
            return None
        demo = self._runtime.result().demo
        if demo is None or key not in demo.sites:
            return None
        return Reply(b"", redirect=demo.url(key))


@dataclass
class ProviderWiring:
    """What the composition root plugs into the browser."""

    installers: list[ProfileInstaller] = field(default_factory=list)
    hooks: list[PageHook] = field(default_factory=list)
    shutdown: list[Callable[[], object]] = field(default_factory=list)
    start_urls: list[str] = field(default_factory=list)
    internal_pages: dict[str, InternalPage] = field(default_factory=dict)
    web_monetization: WebMonetization | None = None
    runtime: concurrent.futures.Future[NetworkRuntime] | None = None
    funding: FundingPort | None = None
    tips: TipSender | None = None


def _sandbox_ca(runtime: concurrent.futures.Future[NetworkRuntime]) -> Path | None:
    """The sandbox's CA (its wallets are https on loopback), if it is already up."""
    if runtime.done() and runtime.exception() is None:
        return runtime.result().extra_ca_file
    return None


def choose_uplink(
    *, sandbox: bool, uplink: str | None, service: WalletService
) -> UplinkSettings | None:
    """The uplink to use this run, or ``None`` for the sandbox."""
    if sandbox:
        return None
    if uplink:
        return UplinkSettings.from_url(uplink)
    saved = service.setting(UPLINK_SETTING, {}) or {}
    if isinstance(saved, dict) and saved.get("url"):
        return UplinkSettings.from_url(str(saved["url"]), account=str(saved.get("account", "")))
    return None


def wire_provider(
    service: WalletService,
    network: NetworkStatus,
    *,
    sandbox: bool,
    uplink: str | None,
    secrets: SecretStore | None,
    first_urls_allowed: bool,
    on_monetize: Callable[[TabContext], None] | None = None,
) -> ProviderWiring:
    """Start the loop and the network; build Web Monetization over them."""
    wiring = ProviderWiring()
    loop = LoopThread()
    asyncs = AsyncBridge(loop.loop)
    commits = GroupCommits(service, loop.loop)
    settings = choose_uplink(sandbox=sandbox, uplink=uplink, service=service)
    runtime: concurrent.futures.Future[NetworkRuntime]
    if settings is None:
        runtime = asyncs.submit(start_sandbox(service))
        try:
            runtime.result(timeout=15)
            network.update(mode=NetworkMode.SANDBOX, state=LinkState.CONNECTED)
        except (WalletError, OSError, concurrent.futures.TimeoutError) as e:
            log.error("the sandbox did not start: %s", e)
            network.update(mode=NetworkMode.SANDBOX, state=LinkState.DOWN, detail=str(e))
    elif secrets is None:
        network.update(
            mode=NetworkMode.UPLINK,
            state=LinkState.DOWN,
            endpoint=settings.url,
            detail="no secure keyring for the uplink token",
        )
        runtime = concurrent.futures.Future()
        runtime.set_exception(WalletError("no secure keyring: the uplink token is not available"))
    else:
        network.update(mode=NetworkMode.UPLINK, state=LinkState.CONNECTING, endpoint=settings.url)

        def connected(outcome: Outcome[NetworkRuntime]) -> None:
            if outcome.error is None:
                network.update(state=LinkState.CONNECTED)
            else:
                log.warning("uplink: %s", outcome.error)
                network.update(state=LinkState.DOWN, detail=str(outcome.error))

        runtime = asyncs.submit(start_uplink(service, settings, secrets), connected)

    async def builtin_link() -> Link:
        started = await asyncio.wrap_future(runtime)
        return started.provider.link()

    async def open_payments_client() -> LinkResolver:
        # <link rel="monetization"> wallet addresses: the system's CAs, plus the sandbox's own
        # (its wallet addresses are https on loopback) or $TRICKLE_EXTRA_CA_FILE.
        try:
            extra = (await asyncio.wrap_future(runtime)).extra_ca_file
        except WalletError:
            extra = None
        return OpenPaymentsResolver(extra_ca_file=extra)

    link_resolver = DeferredResolver(open_payments_client)
    # The user's own Open Payments wallet, when connected and chosen, pays link tags.
    funding = Funding(service, secrets, extra_ca_file=_sandbox_ca(runtime))
    payments = Payments(
        service,
        loop.loop,
        template=PAGE_CONNECTION_TEMPLATE,
        resolver=link_resolver,
        funding=funding,
    )
    asyncs.submit(funding.load())
    wiring.funding = FundingPort(funding, asyncs, draft4_sites=payments.draft4_sites)
    wiring.tips = lambda site, amount, asset: asyncs.submit(payments.tip(site, amount, asset))
    wm = WebMonetization(
        asyncs,
        registry=ServiceHandlerRegistry(service),
        payments=payments,
        native_links={BUILTIN_HANDLER_URI: builtin_link},
    )
    wm.services.on_monetize = on_monetize
    wiring.installers.append(wm)
    wiring.hooks.append(wm)
    wiring.web_monetization = wm
    wiring.runtime = runtime
    wiring.internal_pages["demo"] = DemoPages(runtime)
    wiring.internal_pages["wallet"] = WelcomePage(PageDirectory(WELCOME_PAGES), service)

    if first_urls_allowed and not service.setting(FIRST_RUN_SETTING, False):
        service.set_setting(FIRST_RUN_SETTING, True)
        demo = None
        if runtime.done() and runtime.exception() is None:
            demo = runtime.result().demo
        query = {k: demo.url(k) for k in ("blog", "echo")} if demo is not None else {}
        if demo is not None:
            wiring.start_urls.append(demo.url("blog"))
        # Last, so that it is the tab in front: it offers the registration first.
        wiring.start_urls.append(WELCOME_URL + ("?" + urlencode(query) if query else ""))

    def stop() -> None:
        try:
            asyncs.submit(funding.close()).result(timeout=5)
        except (WalletError, OSError, concurrent.futures.TimeoutError) as e:
            log.warning("funding shutdown: %s", e)
        try:
            asyncs.submit(link_resolver.close()).result(timeout=5)
        except (WalletError, OSError, concurrent.futures.TimeoutError) as e:
            log.warning("Open Payments client shutdown: %s", e)
        if runtime.done() and runtime.exception() is None:
            closing = asyncs.submit(runtime.result().close())
            try:
                closing.result(timeout=5)
            except (WalletError, OSError, concurrent.futures.TimeoutError) as e:
                log.warning("network shutdown: %s", e)
        commits.close()
        asyncs.close()
        loop.stop()

    wiring.shutdown.append(stop)
    return wiring
