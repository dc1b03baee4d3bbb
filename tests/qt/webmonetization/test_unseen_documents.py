"""Nothing is paid for a document nobody sees, and no time is paid twice, in real QtWebEngine
pages paid through the sandbox's Open Payments server: a session belongs to one showing of one
document. A reload or a history navigation ends the document's sessions (the next document gets
its own); a hash change keeps them; a document put in the back/forward cache pays nothing and
sees no event until it is shown again, then on a new session.

QtWebEngine 6.11 prerenders nothing, even with Chromium's feature flags. It can keep pages in a
back/forward cache (``QWebEngineSettings.BackForwardCacheEnabled``, off by default), but a
restored document no longer hears its QWebChannel, so Trickle keeps the cache off. The first
tests hold those facts (and fail the day a Qt upgrade changes them: then the real states get
their tests and the cache can be turned on). A document in the real cache pays nothing; the
restore is driven by bridge.js's ``pagehide``/``pageshow`` handlers with the events Chromium
fires (``persisted: true``), dispatched by the page; a prerendering document's guard
(``document.prerendering``, then ``prerenderingchange``) has no real state to run in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile, QWebEngineSettings

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
from tests.qt.webmonetization.preload_probe import channel_after_restore, observe
from ui.webmonetization.wake import WakeWatch

# What Chromium would need to prerender and to keep pages in its back/forward cache; QtWebEngine
# 6.11 takes them (no error) and does neither (its embedder does not opt in to either).
CHROMIUM_FLAGS = [
    "--enable-features=BackForwardCache,Prerender2,SpeculationRulesPrefetchProxy",
    "--disable-features=BackForwardCacheMemoryControls",
]
UPGRADED = (
    "QtWebEngine now {what}: give it a test with a real page in that state (nothing paid, no "
    "monetization event until it is shown, paid again after), and update the platform notes "
    "in README.md"
)


def assert_no_preloading(seen: dict[str, Any]) -> None:
    """What ``preload_probe.observe`` saw: no document prerendered, none from a cache."""
    notes = seen["notes"]
    transitions = [n for n in notes if n.get("event") in ("pageshow", "pagehide")]
    assert len(transitions) >= 7  # /a, /b, /a again, /c were shown (all but /c hidden)
    assert not any(n["persisted"] for n in transitions), UPGRADED.format(
        what="keeps pages in a back/forward cache"
    )
    documents = [n for n in notes if "prerendering" in n]
    assert [d["doc"] for d in documents] == ["/a", "/b", "/a", "/c"]  # back: a new document
    assert not any(d["prerendering"] or d["activationStart"] for d in documents), UPGRADED.format(
        what="prerenders"
    )
    assert not any(n.get("event") == "activated" for n in notes), UPGRADED.format(what="prerenders")
    early = [r["path"] for r in seen["requests_before_leaving_a"]]
    assert "/c" not in early and "/d" not in early, UPGRADED.format(what="prefetches")
    assert all(r["purpose"] is None for r in seen["requests"])


def test_qtwebengine_prerenders_nothing_and_trickle_keeps_no_back_forward_cache(env: Env) -> None:
    """The app's QtWebEngine, with Trickle's profile settings and scripts."""
    cache = QWebEngineSettings.WebAttribute.BackForwardCacheEnabled
    assert env.profile.settings().testAttribute(cache) is False
    assert_no_preloading(observe(env.profile))


def test_qt_can_keep_pages_in_the_cache_but_a_restored_page_hears_no_channel(
    qapp: Any,
) -> None:
    """With the setting on, a page comes back from the cache (``persisted``), and what it sends
    on its QWebChannel still arrives, but nothing Python sends reaches it: Trickle could never
    fire its links' events nor answer its calls."""
    profile = QWebEngineProfile()  # (without Trickle's scripts: one channel per world)
    try:
        seen = observe(profile, settle=0.0, back_forward_cache=True)
        restored = [n for n in seen["notes"] if n.get("event") == "pageshow" and n["persisted"]]
        assert [n["doc"] for n in restored] == ["/a"]
        both_ways = channel_after_restore(profile)
    finally:
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        shiboken6.delete(profile)
    assert both_ways["pings"] == ["/a created", "/b created", "/a restored"]
    assert "/a created" in both_ways["pongs"] and "/b created" in both_ways["pongs"]
    assert "/a restored" not in both_ways["pongs"], (
        "QtWebEngine's channel now reaches documents restored from the back/forward cache: "
        "turn the cache on (ui/webmonetization/scripts.py), test a restored page's links in "
        "that real state, and update the platform notes in README.md"
    )


def test_a_document_in_the_real_back_forward_cache_pays_nothing(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    """The page's setting on (this test only): /a goes into the cache (its real ``pagehide``
    with ``persisted``), its document alive there; its sessions are over and nothing is paid
    for it while /b is shown."""
    w, site = world_factory(), sites()
    site.pages["/a"] = link_page(
        ("m", w.wallet("alice")),
        script='addEventListener("pagehide", (e) => report("pagehide", e.persisted));',
    )
    site.pages["/b"] = page_html()
    tab = make_tab()
    tab.page.settings().setAttribute(QWebEngineSettings.WebAttribute.BackForwardCacheEnabled, True)
    tab.load(site.url("/a"))
    tab.qtbot.waitUntil(lambda: units_seen(tab) > 0, timeout=20000)
    tab.load(site.url("/b"))
    assert tab.wait_report("pagehide") is True  # into the cache, for real
    assert tab.bridge.link_sessions == 0
    landed(tab, w, site.origin)  # (what /a sent while shown)
    tab.tab.set_visible(True)
    before = w.received()
    wait_a_while(tab, 1.0)
    assert w.received() == before and w.history(site.origin) == sum(o for o, _ in before.values())
    tab.check_clean()


def test_not_even_with_chromiums_feature_flags() -> None:
    """A QtWebEngine process started with the features turned on (environment and command
    line, as Qt reads both)."""
    environ = dict(os.environ, QTWEBENGINE_CHROMIUM_FLAGS=" ".join(CHROMIUM_FLAGS))
    done = subprocess.run(
        [sys.executable, "-m", "tests.qt.webmonetization.preload_probe", *CHROMIUM_FLAGS],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).parents[3],
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert_no_preloading(json.loads(done.stdout.strip().splitlines()[-1]))


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


def unpaid_in_state(tab: Tab, w: World, site: str, state: QWebEnginePage.LifecycleState) -> int:
    """Put the hidden page in lifecycle ``state``: once what was in flight has landed nothing
    more is paid (its link sessions are gone if it is discarded); then show it, active again.
    Returns what had been paid."""
    tab.view.hide()  # Chromium freezes and discards only pages that are not visible
    tab.page.setLifecycleState(state)
    tab.qtbot.waitUntil(lambda: tab.page.lifecycleState() == state, timeout=5000)
    if state == QWebEnginePage.LifecycleState.Discarded:
        assert tab.bridge.link_sessions == 0  # ended with the document
    tab.qtbot.waitUntil(
        lambda: sum(own for own, _ in w.received().values()) == w.history(site), timeout=20000
    )  # (what was in flight)
    before = w.history(site)
    wait_a_while(tab, 1.0)
    assert w.history(site) == before
    tab.page.setLifecycleState(QWebEnginePage.LifecycleState.Active)
    tab.view.show()
    return before


def test_a_frozen_page_is_not_paid(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    """QWebEnginePage.lifecycleState: a frozen (or discarded) page runs nothing and nobody sees
    it; its tab still counts as shown here, so only the lifecycle stops the payments."""
    w, site = world_factory(), sites()
    tab = paid_page(w, make_tab, site)
    # the tab says "shown"; the lifecycle says no
    before = unpaid_in_state(tab, w, site.origin, tab.page.LifecycleState.Frozen)
    tab.qtbot.waitUntil(lambda: w.history(site.origin) > before, timeout=20000)
    tab.qtbot.waitUntil(lambda: units_seen(tab) == w.history(site.origin), timeout=20000)
    tab.check_clean()


def test_a_discarded_page_ends_its_sessions_and_is_paid_afresh_when_reloaded(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    """QWebEnginePage.LifecycleState.Discarded: the document is gone (nothing of it runs, no
    pagehide): its sessions end at once; made active again, the page loads anew and the new
    document has a new session."""
    w, site = world_factory(), sites()
    tab = paid_page(w, make_tab, site)
    (first,) = w.received()
    unpaid_in_state(tab, w, site.origin, tab.page.LifecycleState.Discarded)
    assert list(w.received()) == [first]
    tab.qtbot.waitUntil(lambda: len(w.received()) == 2, timeout=20000)  # a new document
    tab.qtbot.waitUntil(lambda: units_seen(tab) > 0, timeout=20000)
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
