"""Pages that load while the wallet is still starting (``ui.deferred``; the app starts the
wallet after its first paint): what they ask waits for the wallet, nothing is paid before it is
ready, and they are paid as soon as it is — a real ``<link rel="monetization">`` page through the
real payment layer and the sandbox's Open Payments server; a draft-4 ``monetize()`` with the
document's attendance carried over."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from tests.qt.webmonetization.conftest import Env, Site, Tab, page_html
from tests.qt.webmonetization.fakes import FakePayments
from tests.qt.webmonetization.link_support import World, link_page, settle, still
from ui.deferred import DeferredPayments, DeferredRegistry, PendingDocument, Ready
from ui.webmonetization.protocols import HandlerRegistry, PaymentSessions, RegisteredHandler

SECRET = "btoa(String.fromCharCode(...new Uint8Array(32).fill(7)))"
MONETIZE = f"""WebMonetization.monetize({{destinationAccount: "test.receiver.abc",
    sharedSecret: {SECRET}}}).then(() => report("connected", "yes"),
    (e) => reportError("failed", e));"""


def defer(env: Env) -> tuple[Ready[HandlerRegistry], Ready[PaymentSessions], Any, Any]:
    """Swap the page API's registry and payments for the stand-ins the app uses while the
    wallet starts; returns the stand-ins' readiness and the real parts, to hand over later."""
    registry: Ready[HandlerRegistry] = Ready()
    payments: Ready[PaymentSessions] = Ready()
    real = (env.services.registry, env.services.payments)
    env.services.registry = DeferredRegistry(registry)
    env.services.payments = DeferredPayments(payments)
    return registry, payments, real[0], real[1]


def test_a_link_page_loaded_before_the_wallet_is_paid_once_it_is_ready(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    w = world_factory()
    registry, payments, real_registry, real_payments = defer(w.env)
    site = sites()
    alice = w.wallet("alice")
    site.pages["/"] = link_page(("m", alice))
    tab = make_tab()
    tab.load(site.url("/"))
    still(tab, w, site.origin)  # the link asked; the wallet is not there: nothing is paid
    assert not tab.page.has("load:m") and w.received() == {}
    payments.set(real_payments)  # in the app's order (ui.provider.WalletStartup._finish)
    registry.set(real_registry)
    assert tab.wait_report("load:m") == alice
    tab.qtbot.waitUntil(lambda: len(tab.js("window.seen")) >= 2, timeout=20000)
    total = settle(tab, w, site.origin)
    (incoming,) = w.received()
    assert w.received()[incoming] == (total, total) and total == w.history(site.origin) > 0
    tab.check_clean()


def test_monetize_waits_for_the_wallet_and_keeps_the_documents_attendance(
    env: Env, make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    fake = FakePayments()
    env.services.payments = fake  # type: ignore[assignment]
    env.registry.handlers.append(RegisteredHandler("https://p.example", "P", "trickle://x"))

    class Links:
        async def link_for(self, handler_uri: str) -> Any:
            return object()

    env.services.links = Links()
    registry, payments, real_registry, _ = defer(env)
    site = sites()
    site.pages["/"] = page_html(script=MONETIZE)
    tab = make_tab()
    tab.tab.set_visible(True)
    tab.load(site.url("/"))
    tab.qtbot.wait(300)
    assert fake.documents == [] and fake.opened == []  # nothing reached the payment layer
    assert not tab.page.has("connected") and not tab.page.has("failed")
    tab.tab.set_visible(False)  # the user looked away meanwhile
    payments.set(fake)  # type: ignore[arg-type]  # no links in this test
    registry.set(real_registry)
    assert tab.wait_report("connected") == "yes"
    (doc,) = fake.documents
    assert doc.site == site.origin and doc.attending is False and not doc.ended
    tab.tab.set_visible(True)
    tab.qtbot.waitUntil(lambda: doc.attending, timeout=5000)
    tab.check_clean()


def test_a_document_that_ended_before_the_wallet_is_ended_in_it() -> None:
    fake = FakePayments()
    pending = PendingDocument("https://a.example", attending=True)
    pending.set_attending(False)
    pending.end()
    bound = pending.bind(fake)
    assert bound is pending.bind(fake)  # one handle per document
    assert fake.documents == [bound] and bound.ended and bound.attending is False


def test_a_wallet_that_failed_to_start_fails_what_waits() -> None:
    registry: Ready[HandlerRegistry] = Ready()
    registry.fail(RuntimeError("the database is locked"))
    with pytest.raises(RuntimeError, match="locked"):
        asyncio.run(DeferredRegistry(registry).active_handler())
