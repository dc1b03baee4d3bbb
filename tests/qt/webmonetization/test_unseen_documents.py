"""Nothing is paid for a document nobody sees, and no time is paid twice, in real QtWebEngine
pages paid through the sandbox's Open Payments server: a session belongs to one showing of one
document. A reload or a history navigation ends the document's sessions (the next document gets
its own); a hash change keeps them; a document put in the back/forward cache pays nothing and
sees no event until it is shown again, then on a new session.

QtWebEngine 6.11 keeps no page in a back/forward cache and prerenders nothing (checked: every
``pageshow`` has ``persisted == false`` and speculation rules fetch nothing, even with
Chromium's feature flags), so the cache test drives bridge.js's ``pagehide``/``pageshow``
handlers with the events Chromium would fire (``persisted: true``), dispatched by the page."""

from __future__ import annotations

from collections.abc import Callable

from tests.qt.webmonetization.conftest import Env, Site, Tab, page_html
from tests.qt.webmonetization.link_support import (
    World,
    landed,
    link_page,
    paid_page,
    still,
    units_seen,
    wait_a_while,
)
from ui.webmonetization.wake import WakeWatch


def growing(tab: Tab, w: World, site: str) -> list[str]:
    """Show the tab until more has arrived; which incoming payments got it."""
    before = w.received()
    tab.tab.set_visible(True)
    tab.qtbot.waitUntil(
        lambda: (
            sum(own for own, _ in w.received().values())
            > sum(own for own, _ in before.values()) + 3 * 10**6
        ),
        timeout=20000,
    )
    landed(tab, w, site)
    after = w.received()
    return [url for url in after if after[url][0] > before.get(url, (0, 0))[0]]


def test_a_reload_ends_the_documents_session_and_a_hash_change_keeps_it(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    w, site = world_factory(), sites()
    tab = paid_page(w, make_tab, site)
    (first,) = growing(tab, w, site.origin)
    tab.tab.set_visible(True)
    tab.js('(location.hash = "#later", 1)')  # the same document: the same session
    assert growing(tab, w, site.origin) == [first]
    tab.load(site.url("/"))  # a reload: a new document, a new session; the old one is over
    tab.qtbot.waitUntil(lambda: len(w.received()) == 2, timeout=20000)
    (second,) = growing(tab, w, site.origin)
    assert second != first
    assert growing(tab, w, site.origin) == [second]
    tab.check_clean()


def test_back_and_forward_pay_only_the_document_shown(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    w = world_factory()
    site = sites()
    site.pages["/a"] = link_page(("m", w.wallet("alice")))
    site.pages["/b"] = page_html()
    tab = make_tab()
    tab.load(site.url("/a"))
    tab.qtbot.waitUntil(lambda: units_seen(tab) > 0, timeout=20000)
    tab.load(site.url("/b"))  # nothing of /a is paid while /b is shown
    landed(tab, w, site.origin)  # (what /a sent while shown)
    tab.tab.set_visible(True)
    before = w.received()
    wait_a_while(tab)
    assert w.received() == before and w.history(site.origin) == sum(o for o, _ in before.values())
    loaded: list[bool] = []
    tab.page.loadFinished.connect(loaded.append)
    tab.page.triggerAction(tab.page.WebAction.Back)
    tab.qtbot.waitUntil(lambda: bool(loaded), timeout=10000)
    tab.qtbot.waitUntil(lambda: len(w.received()) == 2, timeout=20000)  # a new session
    grown = growing(tab, w, site.origin)
    assert len(grown) == 1 and grown[0] not in before
    tab.check_clean()


def test_a_document_in_the_back_forward_cache_pays_nothing_and_sees_nothing(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    w, site = world_factory(), sites()
    tab = paid_page(w, make_tab, site)
    landed(tab, w, site.origin)  # (what is in flight lands while the document is shown)
    tab.qtbot.waitUntil(lambda: units_seen(tab) == w.history(site.origin), timeout=20000)
    tab.js('(dispatchEvent(new PageTransitionEvent("pagehide", {persisted: true})), 1)')
    tab.tab.set_visible(True)  # in the cache: nothing paid nor reported, though the tab shows
    seen = tab.js("window.seen.length")
    still(tab, w, site.origin, seconds=1.0)
    assert tab.js("window.seen.length") == seen
    (cached,) = w.received()
    tab.js('(dispatchEvent(new PageTransitionEvent("pageshow", {persisted: true})), 1)')
    tab.qtbot.waitUntil(lambda: len(w.received()) == 2, timeout=20000)  # shown: a new session
    tab.qtbot.waitUntil(lambda: tab.js("window.seen.length") > seen, timeout=20000)
    grown = growing(tab, w, site.origin)
    assert len(grown) == 1 and grown[0] != cached
    tab.qtbot.waitUntil(lambda: units_seen(tab) == w.history(site.origin), timeout=20000)
    tab.check_clean()


def test_a_frozen_page_is_not_paid(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    """QWebEnginePage.lifecycleState: a frozen (or discarded) page runs nothing and nobody sees
    it; its tab still counts as shown here, so only the lifecycle stops the payments."""
    w, site = world_factory(), sites()
    tab = paid_page(w, make_tab, site)
    tab.view.hide()  # Chromium freezes only pages that are not visible
    tab.page.setLifecycleState(tab.page.LifecycleState.Frozen)
    tab.qtbot.waitUntil(
        lambda: tab.page.lifecycleState() == tab.page.LifecycleState.Frozen, timeout=5000
    )
    tab.qtbot.waitUntil(
        lambda: sum(own for own, _ in w.received().values()) == w.history(site.origin),
        timeout=20000,
    )  # (what was in flight)
    before = w.history(site.origin)
    wait_a_while(tab, 1.0)
    assert w.history(site.origin) == before  # the tab says "shown"; the lifecycle says no
    tab.page.setLifecycleState(tab.page.LifecycleState.Active)
    tab.view.show()
    tab.qtbot.waitUntil(lambda: w.history(site.origin) > before, timeout=20000)
    tab.qtbot.waitUntil(lambda: units_seen(tab) == w.history(site.origin), timeout=20000)
    tab.check_clean()


def test_after_the_machine_slept_every_link_session_starts_afresh(
    env: Env,
    world_factory: Callable[..., World],
    make_tab: Callable[[], Tab],
    sites: Callable[[], Site],
) -> None:
    """The wall clock jumped an hour ahead of the monotonic one: the page's link is paid on from
    a new session (new connection, new incoming payment), the old one is over, and the page sees
    nothing of the switch but payments. (That nothing accrues for the time asleep is the
    wallet's: tests/unit/core/test_service.py, test_a_sleeping_machine_accrues_nothing.)"""
    wall, mono = [1_000_000.0], [50.0]
    watch = WakeWatch(wall=lambda: wall[0], monotonic=lambda: mono[0], interval_ms=None)
    env.services.wake = watch
    woke: list[float] = []
    watch.woke.connect(woke.append)
    w, site = world_factory(), sites()
    tab = paid_page(w, make_tab, site)
    (before,) = growing(tab, w, site.origin)
    tab.tab.set_visible(True)
    wall[0] += 20.0
    mono[0] += 20.0
    watch.check()  # awake all along: nothing happens
    assert woke == []
    wall[0] += 3600.0  # asleep for an hour
    mono[0] += 1.0
    watch.check()
    assert woke == [3599.0]
    tab.qtbot.waitUntil(lambda: len(w.received()) == 2, timeout=20000)
    grown = growing(tab, w, site.origin)
    assert len(grown) == 1 and grown[0] != before
    tab.qtbot.waitUntil(lambda: units_seen(tab) == w.history(site.origin), timeout=20000)
    assert tab.page.reports.count(("load:m", w.wallet("alice"))) == 2
    assert not tab.page.has("error:m")
    tab.check_clean()
