"""Wires the wallet into the app: ``window.WebMonetization`` at once, and the wallet itself —
its database, the sandbox or an uplink, the built-in provider, the wallet UI — after the
browser's first paint.

Start-up in two steps (the browser paints as fast as a bare QtWebEngine window; the wallet's
imports alone — SQLAlchemy, Alembic, aiohttp, the sandbox — take longer than that paint):

1. :func:`wire_provider`, before the first window: Web Monetization (user scripts, one bridge
   per page) over the stand-ins of :mod:`ui.deferred`, and the asyncio loop's thread, which
   starts when first used (by the wallet, or by a page that pays before it is there); every
   window gets a "Wallet starting…" label where the indicator goes, and a Wallet action.
2. :meth:`WalletStartup.start`, after the first paint: a thread imports the wallet and opens
   its database; the GUI thread then builds the wallet UI, starts the network, and sets
   ``ready``. What waited — a page's ``monetize()``, its monetization links, the welcome page,
   the demo redirect, a click on Wallet — goes on from there, in order.

Which network: ``--sandbox`` → the sandbox; ``--uplink URL`` → that connector; otherwise the
uplink saved on the wallet's Account page, if any; otherwise the sandbox. The wallet is ready
once the sandbox runs (in-process: milliseconds), or at once for an uplink, which connects in
the background and whose state shows in the wallet.

On the very first launch (no URLs given) Trickle opens the welcome page — which offers to make
the built-in wallet the provider — and, on the sandbox, the blog demo site.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import shiboken6
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMenu, QWidget

import resources
from ui import gc_pause
from ui.asyncbridge import AsyncBridge, LoopThread, Outcome
from ui.browser.certificates import CertificatePins
from ui.browser.hooks import PageHook, ProfileInstaller, TabContext
from ui.browser.scheme import PageDirectory, Reply, Route
from ui.deferred import DeferredPayments, DeferredRegistry, Ready, WhenReady
from ui.webmonetization.component import ServiceHandlerRegistry, WebMonetization
from ui.webmonetization.protocols import HandlerRegistry, PaymentSessions

if TYPE_CHECKING:
    from ui.wallet.component import WalletUi
    from ui.wallet.welcome import WelcomePage
    from wallet.funding import Funding
    from wallet.net.config import UplinkSettings
    from wallet.net.link import Link
    from wallet.payments import DeferredResolver, LinkResolver, Payments
    from wallet.runtime import GroupCommits, NetworkRuntime
    from wallet.secrets import SecretStore
    from wallet.service import WalletService

log = logging.getLogger(__name__)

FIRST_RUN_SETTING = "first_run_done"
UPLINK_SETTING = "uplink"  # what the Account page saves: {"url": ..., "account": ...}
WELCOME_URL = "trickle://wallet/"
WELCOME_PAGES = Path(resources.__file__).parent / "pages" / "wallet"
# wallet.provider.BUILTIN_HANDLER_URI (checked when the wallet starts; importing wallet.provider
# here would load the router before the first paint)
BUILTIN_HANDLER_URI = "trickle://wallet/handler"
# ui.wallet.component.WALLET_KEYS: the Wallet action before the wallet UI exists
WALLET_KEYS = ("Ctrl+Shift+E",)
SANDBOX_START_TIMEOUT = 15.0
STARTING_TEXT = "Wallet starting…"
WALLET_START = "wallet start"  # what holds automatic collection while the start thread runs


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


def choose_uplink(
    *, sandbox: bool, uplink: str | None, service: WalletService
) -> UplinkSettings | None:
    """The uplink to use this run, or ``None`` for the sandbox."""
    from wallet.net.config import UplinkSettings

    if sandbox:
        return None
    if uplink:
        return UplinkSettings.from_url(uplink)
    saved = service.setting(UPLINK_SETTING, {}) or {}
    if isinstance(saved, dict) and saved.get("url"):
        return UplinkSettings.from_url(str(saved["url"]), account=str(saved.get("account", "")))
    return None


@dataclass
class Wallet:
    """The started wallet (made on the GUI thread)."""

    service: WalletService
    ui: WalletUi
    registry: HandlerRegistry
    payments: PaymentSessions
    welcome: WelcomePage
    commits: GroupCommits
    resolver: DeferredResolver


@dataclass(frozen=True)
class _Opened:
    """What the start thread made: the database open, the keyring, the network chosen."""

    service: WalletService
    secrets: SecretStore | None
    uplink: UplinkSettings | None
    tz: Any


OpenTabs = Callable[[Sequence[QUrl]], object]


class WalletStartup:
    """The wallet, started after the first paint; ``ready`` holds it (or why it failed)."""

    def __init__(
        self,
        profile_dir: Path,
        asyncs: AsyncBridge,
        *,
        sandbox: bool,
        uplink: str | None,
        first_urls_allowed: bool,
        certificate_pins: CertificatePins | None = None,
    ) -> None:
        self._profile_dir = profile_dir
        self._pins = certificate_pins  # the sandbox's own certificate, at its origins only
        self._unpins: list[Callable[[], None]] = []
        self._asyncs = asyncs  # its loop starts with the wallet, or with a page that pays
        self._sandbox = sandbox
        self._uplink = uplink
        self._first_urls_allowed = first_urls_allowed
        self.ready: Ready[Wallet] = Ready()
        self.registry: Ready[HandlerRegistry] = Ready()
        self.payments: Ready[PaymentSessions] = Ready()
        self.runtime: concurrent.futures.Future[NetworkRuntime] = concurrent.futures.Future()
        self.start_urls: list[str] = []  # what the first launch opened (set when ready)
        self.wallet: Wallet | None = None  # once ready
        self._made: Wallet | None = None  # once composed (the network may still be starting)
        self.funding: Funding | None = None  # the funding sources, once composed
        self._thread: threading.Thread | None = None
        self._gc_paused = False  # automatic collection is off while the start thread runs
        self._opened: _Opened | None = None
        self._open_tabs: OpenTabs = lambda _urls: None
        self._waiting: dict[QWidget, tuple[QLabel, QAction]] = {}
        self._monetized: list[TabContext] = []
        self._then: list[Callable[[Wallet], object]] = []

    # --- before the wallet is there ---------------------------------------------------------

    def attach_window(self, window: Any) -> None:
        """A window hook: the wallet UI, or until it exists a "starting…" label and a Wallet
        action that opens the wallet once it is ready."""
        if self.wallet is not None:
            self.wallet.ui.attach(window)
            return
        label = QLabel(STARTING_TEXT, window.indicator_slot)
        label.setObjectName("wallet_starting")
        label.setAccessibleName("The wallet is starting")
        window.indicator_slot.layout().addWidget(label)
        action = QAction("Wallet", window)
        action.setShortcuts([QKeySequence(k) for k in WALLET_KEYS])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(lambda: self.when_ready(lambda w: w.ui.open_wallet(window)))
        window.addAction(action)
        window.wallet_action = action
        self._waiting[window] = (label, action)
        window.destroyed.connect(lambda: self._waiting.pop(window, None))

    def on_monetize(self, tab: TabContext) -> None:
        """A page asks to be paid: the indicator says so (once the wallet UI exists)."""
        if self.wallet is not None:
            self.wallet.ui.indicator_state.set_monetized(tab, True)
        else:
            self._monetized.append(tab)

    def when_ready(self, then: Callable[[Wallet], object]) -> None:
        """Run ``then`` on the GUI thread with the wallet, now or once it is ready."""
        if self.wallet is not None:
            then(self.wallet)
        elif not self.ready.done():
            self._then.append(then)

    async def builtin_link(self) -> Link:
        import asyncio  # running on the loop: imported already

        started = await asyncio.wrap_future(self.runtime)
        return started.provider.link()

    async def _open_payments_client(self) -> LinkResolver:
        import asyncio

        from wallet.errors import WalletError
        from wallet.payments import OpenPaymentsResolver

        # <link rel="monetization"> wallet addresses: the system's CAs, plus the sandbox's own
        # (its wallet addresses are https on loopback) or $TRICKLE_EXTRA_CA_FILE.
        try:
            extra = (await asyncio.wrap_future(self.runtime)).extra_ca_file
        except WalletError:
            extra = None
        return OpenPaymentsResolver(extra_ca_file=extra)

    async def _extra_ca_file(self) -> Path | None:
        import asyncio

        from wallet.errors import WalletError

        try:
            return (await asyncio.wrap_future(self.runtime)).extra_ca_file
        except WalletError:
            return None

    def _wire_funding(self, payments: Payments, opened: _Opened) -> None:
        """The user's own Open Payments wallet, when connected and chosen, pays link tags."""
        from ui.wallet.funding import FundingPort
        from wallet.funding import Funding

        funding = self.funding = Funding(
            opened.service, opened.secrets, extra_ca_file=self._extra_ca_file
        )
        payments.set_funding(funding)
        self._asyncs.submit(funding.load())
        ui = self._made.ui if self._made is not None else None
        if ui is not None:
            port = ui.ctx.funding = FundingPort(
                funding, self._asyncs, draft4_sites=payments.draft4_sites
            )
            port.changed.connect(ui.indicator_state.refresh)  # who pays changes sites' states

    # --- starting ---------------------------------------------------------------------------

    def start(self, open_tabs: OpenTabs | None = None) -> None:
        """Start the wallet (once): its imports and database on a thread, the rest on the GUI
        thread. ``open_tabs`` opens the first launch's pages."""
        if open_tabs is not None:
            self._open_tabs = open_tabs  # used when ready, whoever started it
        if self._thread is not None:
            return
        # No automatic garbage collection while the start thread runs (its imports and the
        # migrations allocate a lot): a collection there would destroy any Qt object left in a
        # reference cycle on the wrong thread ("Timers cannot be stopped from another thread",
        # then a crash). The garbage made until the thread is done is collected then, on the
        # GUI thread (``_collect_on_gui``) — not now: this runs as the first page paints.
        gc_pause.hold(WALLET_START)
        self._gc_paused = True
        self._thread = threading.Thread(target=self._open, name="trickle-wallet-start")
        self._thread.start()

    def _collect_on_gui(self) -> None:
        """The start thread is done: automatic collection again, on the GUI thread first."""
        if self._gc_paused:
            self._gc_paused = False
            gc_pause.release(WALLET_START, collect=True)

    def _open(self) -> None:
        """On the start thread: everything slow that touches no Qt object."""
        try:
            from ui.wallet.component import WalletUi  # noqa: F401 — imported here, used below
            from ui.wallet.welcome import WelcomePage  # noqa: F401
            from wallet.payments import (  # noqa: F401 — the payment layer, Open Payments client
                PAGE_CONNECTION_TEMPLATE,
                DeferredResolver,
                Payments,
            )
            from wallet.provider import BUILTIN_HANDLER_URI as WALLET_HANDLER
            from wallet.reports import local_zone
            from wallet.runtime import start_sandbox  # noqa: F401
            from wallet.secrets import SecretStoreError, open_secret_store
            from wallet.service import WalletService

            assert WALLET_HANDLER == BUILTIN_HANDLER_URI
            tz = local_zone()
            service = WalletService.open(self._profile_dir, tz=tz)
            try:
                secrets: SecretStore | None = open_secret_store()
            except SecretStoreError as e:
                log.warning("no secret store: %s", e)
                secrets = None
            try:
                uplink = choose_uplink(sandbox=self._sandbox, uplink=self._uplink, service=service)
            except Exception:
                service.close()
                raise
            self._opened = _Opened(service, secrets, uplink, tz)
        except Exception as e:  # the browser goes on; the wallet says why
            log.exception("the wallet did not start")
            error = e
            self._asyncs.post_to_gui(lambda: self._failed(error))
            return
        self._asyncs.post_to_gui(self._compose)

    def _compose(self) -> None:
        """On the GUI thread: the wallet UI, the payment layer and the network."""
        self._collect_on_gui()
        try:
            self._compose_wallet()
        except Exception as e:  # the browser goes on; the wallet says why
            log.exception("the wallet did not start")
            self._failed(e)

    def _compose_wallet(self) -> None:
        import asyncio

        from ui.wallet.component import WalletUi
        from ui.wallet.network import LinkState, NetworkMode, NetworkStatus
        from ui.wallet.welcome import WelcomePage
        from wallet.accounts import account_network
        from wallet.payments import PAGE_CONNECTION_TEMPLATE, DeferredResolver, Payments
        from wallet.runtime import GroupCommits, start_sandbox, start_uplink

        opened = self._opened
        assert opened is not None
        service = opened.service
        network = NetworkStatus(NetworkMode.SANDBOX)
        loop = self._asyncs.loop  # starts it (the wallet's start thread imported asyncio)
        resolver = DeferredResolver(self._open_payments_client)
        self._made = Wallet(
            service=service,
            ui=WalletUi(service, tz=opened.tz, secrets=opened.secrets, network=network),
            registry=ServiceHandlerRegistry(service),
            payments=Payments(service, loop, template=PAGE_CONNECTION_TEMPLATE, resolver=resolver),
            welcome=WelcomePage(PageDirectory(WELCOME_PAGES), service),
            commits=GroupCommits(service, loop),
            resolver=resolver,
        )
        payments = self._made.payments
        assert isinstance(payments, Payments)
        # a limit ends draft-4 pages' payments ("stopped"); link tags hold and resume
        self._made.ui.indicator_state.draft4_sites = payments.draft4_sites
        self._wire_funding(payments, opened)
        self._made.ui.ctx.tips = lambda site, amount, asset: self._asyncs.submit(
            payments.tip(site, amount, asset)
        )  # "Send a tip" in the site popover
        settings = opened.uplink
        if settings is None:
            network.update(mode=NetworkMode.SANDBOX, state=LinkState.CONNECTING)

            def sandbox_started(outcome: Outcome[NetworkRuntime]) -> None:
                if outcome.value is not None:
                    self._offer_sandbox_wallet(outcome.value)
                _show_link(network, outcome, "the sandbox did not start", logging.ERROR)
                self._finish()

            started = self._asyncs.submit(
                asyncio.wait_for(start_sandbox(service), SANDBOX_START_TIMEOUT), sandbox_started
            )
            _chain(started, self.runtime)
            return
        account = account_network(settings)  # the uplink's account row, as it names it
        if opened.secrets is None:
            from wallet.errors import WalletError

            network.update(
                mode=NetworkMode.UPLINK,
                state=LinkState.DOWN,
                endpoint=settings.url,
                detail="no secure keyring for the uplink token",
                account=account,
            )
            self.runtime.set_exception(
                WalletError("no secure keyring: the uplink token is not available")
            )
        else:
            network.update(
                mode=NetworkMode.UPLINK,
                state=LinkState.CONNECTING,
                endpoint=settings.url,
                account=account,
            )

            uplinked = self._asyncs.submit(
                start_uplink(service, settings, opened.secrets),
                lambda outcome: _show_link(network, outcome, "uplink", logging.WARNING),
            )
            _chain(uplinked, self.runtime)
        self._finish()

    def _offer_sandbox_wallet(self, runtime: NetworkRuntime) -> None:
        """The sandbox runs: the browser accepts its own certificate at its own origins (so
        its wallet's pages open in tabs), and the Account page offers its wallet."""
        if self._pins is not None:
            for served in runtime.served_certificates:
                self._unpins.append(self._pins.pin(served.origin, served.der))
        demo, made = runtime.demo, self._made
        if demo is not None and demo.user_wallet and demo.user_key_page and made is not None:
            from ui.wallet.context import SandboxWallet

            made.ui.ctx.sandbox_wallet = SandboxWallet(demo.user_wallet, demo.user_key_page)

    def _finish(self) -> None:
        """The wallet is there: hand it everything that waited for it."""
        wallet = self.wallet = self._made
        assert wallet is not None
        # Payments first: a link tag's start waits on the registry (another thread), then
        # asks the payment layer at once, which must be there by then.
        self.payments.set(wallet.payments)
        self.registry.set(wallet.registry)
        for window, (label, placeholder) in list(self._waiting.items()):
            if shiboken6.isValid(window):
                self._replace_placeholder(window, label, placeholder, wallet)
        self._waiting.clear()
        for tab in self._monetized:
            if shiboken6.isValid(tab) and not tab.is_closed():
                wallet.ui.indicator_state.set_monetized(tab, True)
        self._monetized.clear()
        self._first_launch(wallet.service)
        self.ready.set(wallet)
        then, self._then = self._then, []
        for step in then:
            step(wallet)
        log.info("wallet ready")

    def _replace_placeholder(
        self, window: Any, label: QLabel, placeholder: QAction, wallet: Wallet
    ) -> None:
        label.hide()
        label.deleteLater()
        window.removeAction(placeholder)
        wallet.ui.attach(window)  # sets window.wallet_action
        real = window.wallet_action
        for owner in placeholder.associatedObjects():
            if isinstance(owner, QMenu):  # the browser menu's Wallet entry
                owner.insertAction(placeholder, real)
                owner.removeAction(placeholder)
        placeholder.deleteLater()

    def _first_launch(self, service: WalletService) -> None:
        if not self._first_urls_allowed or service.setting(FIRST_RUN_SETTING, False):
            return
        service.set_setting(FIRST_RUN_SETTING, True)
        demo = None
        if self.runtime.done() and self.runtime.exception() is None:
            demo = self.runtime.result().demo
        query = {k: demo.url(k) for k in ("blog", "echo")} if demo is not None else {}
        if demo is not None:
            self.start_urls.append(demo.url("blog"))
        # Last, so that it is the tab in front: it offers the registration first.
        self.start_urls.append(WELCOME_URL + ("?" + urlencode(query) if query else ""))
        self._open_tabs([QUrl(u) for u in self.start_urls])

    def _failed(self, error: Exception) -> None:
        self._collect_on_gui()
        for label, _action in self._waiting.values():
            if shiboken6.isValid(label):
                label.setText("Wallet unavailable")
                label.setToolTip(f"The wallet did not start: {error}")
        self._waiting.clear()
        self._monetized.clear()
        self._then.clear()
        for ready in (self.registry, self.payments, self.ready):
            ready.fail(error)
        if not self.runtime.done():
            self.runtime.set_exception(error)

    # --- stopping ---------------------------------------------------------------------------

    def close(self) -> None:
        """After the windows are gone: wait for a start under way, then close what it made."""
        from wallet.errors import WalletError

        if self._thread is not None:
            self._thread.join()
            self._collect_on_gui()
        wallet = self._made
        if self.funding is not None:
            try:
                self._asyncs.submit(self.funding.close()).result(timeout=5)
            except (WalletError, OSError, concurrent.futures.TimeoutError) as e:
                log.warning("funding shutdown: %s", e)
        if wallet is not None:
            try:
                self._asyncs.submit(wallet.resolver.close()).result(timeout=5)
            except (WalletError, OSError, concurrent.futures.TimeoutError) as e:
                log.warning("Open Payments client shutdown: %s", e)
        for unpin in self._unpins:  # the sandbox stops: its certificate is trusted no more
            unpin()
        self._unpins.clear()
        if self.runtime.done() and self.runtime.exception() is None:
            try:
                self._asyncs.submit(self.runtime.result().close()).result(timeout=5)
            except (WalletError, OSError, concurrent.futures.TimeoutError) as e:
                log.warning("network shutdown: %s", e)
        if wallet is not None:
            wallet.commits.close()
            wallet.ui.close()
        if self._opened is not None:
            self._opened.service.close()  # composed or not (the app quit while it started)


def _show_link(network: Any, outcome: Outcome[Any], what: str, level: int) -> None:
    """The network's state in the wallet UI once it started, or why it did not."""
    from ui.wallet.network import LinkState

    if outcome.error is None:
        network.update(state=LinkState.CONNECTED)
    else:
        log.log(level, "%s: %s", what, outcome.error)
        network.update(state=LinkState.DOWN, detail=str(outcome.error))


def _chain(source: concurrent.futures.Future[Any], target: concurrent.futures.Future[Any]) -> None:
    """``target`` gets ``source``'s outcome (on whichever thread finishes ``source``)."""

    def copy(done: concurrent.futures.Future[Any]) -> None:
        import asyncio  # ``source`` ran on the loop

        if target.done():
            return
        if done.cancelled():
            target.set_exception(asyncio.CancelledError())
        elif (error := done.exception()) is not None:
            target.set_exception(error)
        else:
            target.set_result(done.result())

    source.add_done_callback(copy)


@dataclass
class ProviderWiring:
    """What the composition root plugs into the browser."""

    startup: WalletStartup
    installers: list[ProfileInstaller] = field(default_factory=list)
    hooks: list[PageHook] = field(default_factory=list)
    shutdown: list[Callable[[], object]] = field(default_factory=list)
    internal_pages: dict[str, Route] = field(default_factory=dict)
    web_monetization: WebMonetization | None = None

    @property
    def runtime(self) -> concurrent.futures.Future[NetworkRuntime]:
        return self.startup.runtime


def wire_provider(
    profile_dir: Path, *, sandbox: bool, uplink: str | None, first_urls_allowed: bool
) -> ProviderWiring:
    """The loop and Web Monetization now; the wallet when ``wiring.startup.start()`` runs."""
    loop = LoopThread(lazy=True)  # started by the wallet, or by a page that pays first
    asyncs = AsyncBridge(loop)
    pins = CertificatePins()
    startup = WalletStartup(
        profile_dir,
        asyncs,
        sandbox=sandbox,
        uplink=uplink,
        first_urls_allowed=first_urls_allowed,
        certificate_pins=pins,
    )
    wm = WebMonetization(
        asyncs,
        registry=DeferredRegistry(startup.registry),
        payments=DeferredPayments(startup.payments),
        native_links={BUILTIN_HANDLER_URI: startup.builtin_link},
    )
    wm.services.on_monetize = startup.on_monetize
    demo = DemoPages(startup.runtime)

    def stop() -> None:
        startup.close()
        asyncs.close()
        loop.stop()

    return ProviderWiring(
        startup=startup,
        installers=[wm],
        hooks=[wm, pins],
        shutdown=[stop],
        # A page waiting for the wallet cannot paint before it: it starts the wallet at once.
        internal_pages={
            "demo": WhenReady(startup.ready, lambda _w: demo, wanted=startup.start),
            "wallet": WhenReady(startup.ready, lambda w: w.welcome, wanted=startup.start),
        },
        web_monetization=wm,
    )
