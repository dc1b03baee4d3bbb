"""Web Monetization as one browser extension: the composition the app root plugs in.

``WebMonetization`` is at once a ``ProfileInstaller`` (the two user scripts; the handler host
for that profile, created lazily on the first ``monetize``) and a ``PageHook`` (one bridge per
page). ``ui.app.compose`` does::

    wm = WebMonetization(asyncs, registry=ServiceHandlerRegistry(service),
                         payments=Payments(service, asyncs.loop))
    installers.append(wm); hooks.append(wm)

``ServiceHandlerRegistry`` adapts ``wallet.service.WalletService`` (sync, thread-safe) to the
async ``HandlerRegistry`` Protocol.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QWidget

from ui.asyncbridge import AsyncBridge
from ui.browser.hooks import TabContext
from ui.webmonetization.bridge import PageBridge, WebMonetizationHook, WebMonetizationServices
from ui.webmonetization.consent import Arm, ConsentPrompter, default_arm
from ui.webmonetization.protocols import HandlerRegistry, PaymentSessions, RegisteredHandler
from ui.webmonetization.register import DismissalTracker
from ui.webmonetization.scripts import WebMonetizationProfileInstaller
from ui.webmonetization.wake import WakeWatch

if TYPE_CHECKING:  # the handler host and the ILP codecs load with the first page that pays
    from ui.webmonetization.handler_host import HandlerHost, HandlerLink
    from wallet.net.link import Link


class _HandlerStore(Protocol):
    """The part of ``WalletService`` the registry adapter uses."""

    def register_handler(self, origin: str, name: str, handler_uri: str) -> bool: ...

    def active_handler(self) -> _HandlerInfo | None: ...

    def list_handlers(self) -> Sequence[_HandlerInfo]: ...


class _HandlerInfo(Protocol):
    @property
    def origin(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def handler_uri(self) -> str: ...


class ServiceHandlerRegistry:
    """``HandlerRegistry`` over the wallet service (its calls are short SQLite transactions)."""

    def __init__(self, service: _HandlerStore) -> None:
        self._service = service

    async def is_registered(self, origin: str, uri: str) -> bool:
        return any(
            h.origin == origin and h.handler_uri == uri for h in self._service.list_handlers()
        )

    async def register(self, origin: str, name: str, uri: str) -> None:
        self._service.register_handler(origin, name, uri)

    async def active_handler(self) -> RegisteredHandler | None:
        info = self._service.active_handler()
        if info is None:
            return None
        return RegisteredHandler(info.origin, info.name, info.handler_uri)


class _LazyHost:
    """A ``LinkProvider`` that creates the profile's hidden handler host on first use."""

    def __init__(self, asyncs: AsyncBridge) -> None:
        self._asyncs = asyncs
        self._profile: QWebEngineProfile | None = None
        self.host: HandlerHost | None = None

    def set_profile(self, profile: QWebEngineProfile) -> None:
        self._profile = profile

    def _ensure(self) -> HandlerHost:
        if self.host is None:
            if self._profile is None:
                raise RuntimeError("WebMonetization.install(profile) was not called")
            # Imported with the first handler a page pays through: it brings the ILP codecs,
            # which the browser's first paint does without.
            from ui.webmonetization.handler_host import HandlerHost

            self.host = HandlerHost(self._profile, self._asyncs, parent=self._profile)
        return self.host

    async def link_for(self, handler_uri: str) -> HandlerLink:
        host = await self._asyncs.in_gui(self._ensure)
        return await host.link_for(handler_uri)


class _Links:
    """A ``LinkProvider``: handlers served natively (the built-in provider's ``trickle:`` URI,
    no JavaScript hop) by their own factory, every other handler in the hidden handler host."""

    def __init__(
        self, host: _LazyHost, native: Mapping[str, Callable[[], Awaitable[Link]]]
    ) -> None:
        self._host = host
        self._native = dict(native)

    async def link_for(self, handler_uri: str) -> Link:
        native = self._native.get(handler_uri)
        if native is not None:
            return await native()
        return await self._host.link_for(handler_uri)


def _window_of(key: Hashable) -> QWidget | None:
    """The window showing the page that asked (the dialog's parent), if any."""
    if not isinstance(key, PageBridge):
        return None
    view = QWebEngineView.forPage(key.page)
    return view.window() if view is not None else None


class WebMonetization:
    """``ProfileInstaller`` + ``PageHook`` for ``window.WebMonetization`` (one per app)."""

    def __init__(
        self,
        asyncs: AsyncBridge,
        *,
        registry: HandlerRegistry,
        payments: PaymentSessions | None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        arm: Arm = default_arm,
        parent_for: Callable[[Hashable], QWidget | None] | None = None,
        native_links: Mapping[str, Callable[[], Awaitable[Link]]] | None = None,
    ) -> None:
        self._host = _LazyHost(asyncs)
        self._links = _Links(self._host, native_links or {})
        self.prompter = ConsentPrompter(arm=arm, parent_for=parent_for or _window_of)
        self.services = WebMonetizationServices(
            asyncs=asyncs,
            registry=registry,
            prompter=self.prompter,
            tracker=DismissalTracker(clock),
            payments=payments,
            links=self._links,
            wake=WakeWatch() if payments is not None else None,
        )
        self._hook = WebMonetizationHook(self.services)

    def install(self, profile: QWebEngineProfile) -> None:
        WebMonetizationProfileInstaller().install(profile)
        self._host.set_profile(profile)

    def attach(self, page: QWebEnginePage, tab: TabContext) -> PageBridge:
        return self._hook.attach(page, tab)


if TYPE_CHECKING:  # a static proof that the wallet's parts plug in as they are
    from wallet.payments import Payments
    from wallet.service import WalletService

    def _fits(service: WalletService, payments: Payments) -> tuple[_HandlerStore, PaymentSessions]:
        return service, payments
