"""Today's Web Monetization in a real QtWebEngine page: ``<link rel="monetization"
href="<wallet address>">`` is paid through the sandbox's Open Payments server (TLS with a test
CA, every exchange checked against the official OpenAPI files) to a real STREAM receiver, from a
sandbox account, through the real payment layer and a real wallet (SQLite).

The receiver's own total = the incoming payment's ``receivedAmount`` = Trickle's history = the
sum of the ``amountSent`` of the ``monetization`` events the page saw; a per-site cap holds it
exactly at the cap (nothing paid, no event) and raising the cap resumes the same page; a hidden
tab pays nothing and sees no event; an ``href`` change starts a new session; removal and
``disabled`` stop it; wallet addresses that are 404, HTML or ``http:`` get ``error`` at the
link."""

from __future__ import annotations

from collections.abc import Callable

from tests.qt.webmonetization.conftest import Site, Tab, page_html
from tests.qt.webmonetization.link_support import FAST, World, link_page, settle, still, units_seen
from wallet.budgets import SitePolicy


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


def test_a_day_cap_holds_a_link_exactly_at_the_cap_and_raising_it_resumes_the_same_page(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    w = world_factory()
    site = sites()
    cap = 7_654_321
    w.service.set_site_policy(SitePolicy(site.origin, rate_per_hour=FAST, cap_day=cap))
    site.pages["/"] = link_page(("m", w.wallet("alice")), script="window.documentMark = 1;")
    tab = make_tab()
    tab.load(site.url("/"))
    tab.qtbot.waitUntil(lambda: units_seen(tab) == cap, timeout=20000)
    events = len(tab.js("window.seen"))
    still(tab, w, site.origin)  # held: nothing paid, no event, though the tab is in front
    assert len(tab.js("window.seen")) == events
    ((own, ledger),) = w.received().values()
    assert own == ledger == w.history(site.origin) == cap
    # The cap raised: the same document is paid again, up to the new cap and no further.
    w.service.set_site_policy(SitePolicy(site.origin, rate_per_hour=FAST, cap_day=2 * cap))
    tab.qtbot.waitUntil(lambda: units_seen(tab) == 2 * cap, timeout=20000)
    still(tab, w, site.origin)
    received = w.received().values()
    assert all(own <= 2 * cap for own, _ in received)
    assert sum(own for own, _ in received) == sum(got for _, got in received) == 2 * cap
    assert w.history(site.origin) == units_seen(tab) == 2 * cap
    assert tab.js("window.documentMark") == 1  # never reloaded
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
    # (what is in flight lands first, while hidden: a payment that lands after its link is
    # gone is no event the page can see)
    settle(tab, w, site.origin)
    tab.js('(document.getElementById("m").setAttribute("disabled", ""), 1)')
    tab.tab.set_visible(True)
    still(tab, w, site.origin)  # disabled: stopped, though shown
    tab.js('(document.getElementById("m").removeAttribute("disabled"), 1)')
    tab.qtbot.waitUntil(lambda: len(w.received()) == 3, timeout=20000)  # re-enabled: new
    tab.qtbot.waitUntil(lambda: units_seen(tab) > w.history(site.origin) // 2, timeout=20000)
    settle(tab, w, site.origin)
    tab.js('(document.getElementById("m").remove(), 1)')
    tab.tab.set_visible(True)
    still(tab, w, site.origin)  # removed: stopped, though shown
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
