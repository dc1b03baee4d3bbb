"""Stand-ins for the wallet's parts while the wallet starts (after the browser's first paint).

The browser paints its first page before the wallet exists (``ui.provider.WalletStartup``).
Pages created meanwhile still get ``window.WebMonetization`` and their monetization links: what
they ask goes through these stand-ins, which wait for the wallet and then hand everything to
it, in order. Nothing is paid before the wallet is ready, and nothing a page asked is lost.

* :class:`DeferredRegistry` — the ``HandlerRegistry``: each call awaits the wallet.
* :class:`DeferredPayments` — the ``PaymentSessions``: ``document`` answers at once with a
  :class:`PendingDocument` (attendance and the document's end are kept), bound to the payment
  layer's own document handle when the wallet is ready; ``monetize`` awaits the wallet.
* :class:`WhenReady` — an internal page (``trickle://wallet/``) answered once the wallet is
  ready (the scheme handler keeps the request open meanwhile); a request that has to wait
  says so (``wanted``: the app then starts the wallet without waiting for a first paint).

Invariant: every method of the real parts is called only after ``ready`` holds the wallet; a
failed start (``ready`` holds an exception) makes each waiting call raise it.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from PySide6.QtCore import QUrl

from ui.browser.scheme import InternalPage, Pending, Reply
from ui.webmonetization.protocols import (
    DocumentSession,
    HandlerRegistry,
    PaymentSessions,
    RegisteredHandler,
)

T = TypeVar("T")


class Ready(Generic[T]):
    """A value made later, on some thread; awaited on the wallet loop, or called back."""

    def __init__(self) -> None:
        self.future: concurrent.futures.Future[T] = concurrent.futures.Future()

    def done(self) -> bool:
        return self.future.done()

    def value(self) -> T:
        """The value (raises what the start raised); only once ``done()``."""
        return self.future.result(timeout=0)

    async def wait(self) -> T:
        import asyncio  # on the loop, which imported it (not at start-up: ui/asyncbridge.py)

        return await asyncio.wrap_future(self.future)

    def ok(self) -> bool:
        """Done, with a value."""
        return self.future.done() and self.future.exception() is None

    def set(self, value: T) -> None:
        if not self.future.done():  # the first outcome stands
            self.future.set_result(value)

    def fail(self, error: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(error)


class DeferredRegistry:
    """A ``HandlerRegistry`` that waits for the wallet's."""

    def __init__(self, registry: Ready[HandlerRegistry]) -> None:
        self._registry = registry

    async def is_registered(self, origin: str, uri: str) -> bool:
        return await (await self._registry.wait()).is_registered(origin, uri)

    async def register(self, origin: str, name: str, uri: str) -> None:
        await (await self._registry.wait()).register(origin, name, uri)

    async def active_handler(self) -> RegisteredHandler | None:
        return await (await self._registry.wait()).active_handler()


class _Documents(Protocol):
    def document(self, site: str, *, attending: bool) -> Any: ...


class PendingDocument:
    """A document's payment state asked for before the wallet was ready (GUI thread calls
    ``set_attending`` / ``end``; the wallet loop ``bind``s it)."""

    def __init__(self, site: str, attending: bool) -> None:
        self.site = site
        self._attending = attending
        self._ended = False
        self._real: DocumentSession | None = None
        self._lock = threading.Lock()

    def bind(self, payments: _Documents) -> Any:
        """The payment layer's handle for this document, made on first use, with what
        happened meanwhile (attendance now; ended if it ended)."""
        with self._lock:
            if self._real is None:
                self._real = payments.document(self.site, attending=self._attending)
                if self._ended:
                    self._real.end()
            return self._real

    def set_attending(self, attending: bool) -> None:
        with self._lock:
            self._attending = attending
            if self._real is not None:
                self._real.set_attending(attending)

    def end(self) -> None:
        with self._lock:
            if self._ended:
                return
            self._ended = True
            if self._real is not None:
                self._real.end()


def _bound(handle: Any, payments: PaymentSessions) -> Any:
    return handle.bind(payments) if isinstance(handle, PendingDocument) else handle


class DeferredPayments:
    """``PaymentSessions`` over the wallet's payment layer, once it exists."""

    def __init__(self, payments: Ready[PaymentSessions]) -> None:
        self._payments = payments

    def document(self, site: str, *, attending: bool) -> Any:
        if self._payments.ok():
            return self._payments.value().document(site, attending=attending)
        return PendingDocument(site, attending)  # a failed start: monetize() says why

    async def monetize(
        self,
        handle: Any,
        destination_account: str,
        shared_secret: bytes,
        link: Any,  # a wallet.net.link.Link
        *,
        provider: str,
        account_id: int | None = None,
    ) -> Any:
        payments = await self._payments.wait()
        return await payments.monetize(
            _bound(handle, payments),
            destination_account,
            shared_secret,
            link,
            provider=provider,
            account_id=account_id,
        )

    def pay_link(
        self,
        handle: Any,
        href: str,
        link: Any,  # a wallet.net.link.Link
        listener: Any,
        *,
        provider: str,
        account_id: int | None = None,
    ) -> Any:
        # Called on the wallet loop after the registry and the link were awaited: the wallet
        # is there (value() raises what stopped it otherwise).
        payments = self._payments.value()
        return payments.pay_link(
            _bound(handle, payments),
            href,
            link,
            listener,
            provider=provider,
            account_id=account_id,
        )

    def pays_links_itself(self) -> bool:
        """Whether the connected Open Payments wallet pays link tags (no ILP link needed)."""
        if not self._payments.done():
            return False
        if self._payments.future.exception(timeout=0) is not None:
            return False  # the wallet did not start
        return bool(getattr(self._payments.value(), "pays_links_itself", bool)())

    def pay_link_tag(
        self,
        handle: Any,
        href: str,
        link: Any,  # a wallet.net.link.Link, or None when the connected wallet pays
        listener: Any,
        *,
        provider: str,
        account_id: int | None = None,
    ) -> Any:
        payments = self._payments.value()
        return payments.pay_link_tag(
            _bound(handle, payments),
            href,
            link,
            listener,
            provider=provider,
            account_id=account_id,
        )


class WhenReady(Generic[T]):
    """An internal page served by ``page_of(value)`` once ``ready`` holds the value."""

    def __init__(
        self,
        ready: Ready[T],
        page_of: Callable[[T], InternalPage | None],
        *,
        wanted: Callable[[], object] = lambda: None,
    ) -> None:
        self._ready = ready
        self._page_of = page_of
        self._wanted = wanted  # told when a request has to wait

    def _respond(self, url: QUrl) -> Reply | None:
        try:
            page = self._page_of(self._ready.value())
        except Exception:  # noqa: BLE001 — the wallet did not start: no such page (logged there)
            return None
        return page.respond(url) if page is not None else None

    def respond(self, url: QUrl) -> Reply | Pending | None:
        if self._ready.done():
            return self._respond(url)
        self._wanted()
        return Pending(self._ready.future, lambda: self._respond(url))
