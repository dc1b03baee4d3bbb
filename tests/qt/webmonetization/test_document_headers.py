"""A document's own response headers decide its links as soon as the document exists, not when
its load ends: real QtWebEngine pages from local servers, paid through the sandbox's Open
Payments server.

QtWebEngine 6.11 reports a main frame's response headers only when its load ends and an
iframe's never; bridge.js reads the document's response from the HTTP cache instead
(``ui/webmonetization/response_policy.py``). So a page whose load never ends (an image that
never arrives) is paid, its own ``Permissions-Policy`` and CSP still honoured, and an iframe's
own headers count. A response that said ``no-store`` is not in the cache: then links wait for
the load's end, as before."""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QUrl

from tests.qt.webmonetization.conftest import Site, Tab, page_html
from tests.qt.webmonetization.link_support import World, link_page, units_seen, wait_a_while
from tests.qt.webmonetization.test_link_policy import FRAME_RECORDER, clean, frame_units, iframe

HANG = '<img src="/hang.png">'  # the load event waits for it


def hanging(site: Site, path: str, page: str, headers: list[tuple[str, str]] | None = None) -> None:
    """``path`` serves ``page`` (storable in the HTTP cache) with an image that never ends."""
    site.pages[path] = page.replace("</button>", "</button>" + HANG, 1)
    site.cache[path] = "max-age=0"  # stored (stale at once: every navigation asks the server)
    site.headers[path] = headers or []
    site.hangs.setdefault("/hang.png", threading.Event())


def cross_site(url: str) -> str:
    """The same server by another site's name."""
    return url.replace("http://127.0.0.1:", "http://localhost:", 1)


def open_without_waiting(tab: Tab, url: str) -> list[bool]:
    """Navigate; the list gets ``loadFinished``'s argument if the load ever ends."""
    ended: list[bool] = []
    tab.page.loadFinished.connect(ended.append)
    tab.page.load(QUrl(url))
    return ended


def test_a_page_whose_load_never_ends_is_paid(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    w, site = world_factory(), sites()
    hanging(site, "/", link_page(("m", w.wallet("alice"))))
    tab = make_tab()
    ended = open_without_waiting(tab, site.url("/"))
    tab.wait_report("load:m")
    tab.qtbot.waitUntil(lambda: units_seen(tab) > 0, timeout=20000)
    assert ended == []  # paid while the page is still loading
    assert tab.js("document.readyState") == "interactive"
    assert site.served.count("/") == 1  # the headers came from the cache, not a new request
    clean(tab)


def test_a_page_whose_load_never_ends_keeps_its_own_policy(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    """Its headers from the cache are its policy: Permissions-Policy refuses the link (no
    event), CSP blocks the other (``error``)."""
    w, site = world_factory(), sites()
    hanging(
        site,
        "/pp",
        link_page(("m", w.wallet("alice"))),
        [("Permissions-Policy", "geolocation=(), monetization=()")],
    )
    hanging(
        site,
        "/csp",
        link_page(("m", w.wallet("alice"))),
        [("Content-Security-Policy", "monetization-src 'none'")],
    )
    tab = make_tab()
    ended = open_without_waiting(tab, site.url("/pp"))
    tab.qtbot.waitUntil(lambda: bool(tab.bridge.link_reasons), timeout=10000)
    assert "Permissions Policy" in next(iter(tab.bridge.link_reasons.values()))
    ended = open_without_waiting(tab, site.url("/csp"))
    tab.wait_report("error:m")
    assert "monetization-src" in next(iter(tab.bridge.link_reasons.values()))
    wait_a_while(tab)
    assert ended == [] and not tab.page.has("load:m")
    assert units_seen(tab) == 0 and w.received() == {} and w.history(site.origin) == 0
    clean(tab)


def test_without_the_headers_in_the_cache_links_wait_for_the_load_to_end(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    """A ``no-store`` page is not in the cache: its headers are Qt's, when the load ends."""
    w, site = world_factory(), sites()
    hanging(site, "/", link_page(("m", w.wallet("alice"))))
    site.cache["/"] = "no-store"
    tab = make_tab()
    ended = open_without_waiting(tab, site.url("/"))
    tab.qtbot.waitUntil(lambda: tab.js("document.readyState") == "interactive", timeout=10000)
    wait_a_while(tab, 1.0)
    assert ended == [] and not tab.page.has("load:m") and w.received() == {}
    site.hangs["/hang.png"].set()  # the image ends: so does the load, and Qt tells the headers
    tab.qtbot.waitUntil(lambda: ended == [True], timeout=10000)
    tab.wait_report("load:m")
    tab.qtbot.waitUntil(lambda: units_seen(tab) > 0, timeout=20000)
    clean(tab)


def test_an_iframes_own_headers_are_honoured(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    """Three allowed first-level frames of another site (``localhost`` in a page of
    ``127.0.0.1``, so the HTTP cache is partitioned as for any cross-site frame): the one whose
    own response says
    ``Permissions-Policy: monetization=()`` gets no event, the one whose CSP says
    ``monetization-src 'none'`` gets ``error``; their sibling is paid."""
    w = world_factory()
    top, widget = sites(), sites()
    for path, link, headers in (
        ("/ok", "okm", []),
        ("/pp", "ppm", [("Permissions-Policy", "monetization=()")]),
        ("/csp", "cspm", [("Content-Security-Policy", "monetization-src 'none'")]),
    ):
        widget.pages[path] = link_page((link, w.wallet("bob")), script=FRAME_RECORDER)
        widget.cache[path] = "max-age=0"
        widget.headers[path] = headers
    top.pages["/"] = page_html(
        body="".join(
            iframe(cross_site(widget.url(p)), "monetization").replace('id="f"', f'id="{p[1:]}"')
            for p in ("/ok", "/pp", "/csp")
        )
    )
    tab = make_tab()
    tab.load(top.url("/"))
    tab.wait_report("load:okm")
    tab.wait_report("error:cspm")
    tab.qtbot.waitUntil(lambda: frame_units(tab, "okm") > 0, timeout=20000)
    tab.qtbot.waitUntil(lambda: len(tab.bridge.link_reasons) == 2, timeout=10000)
    reasons = sorted(tab.bridge.link_reasons.values())
    assert "monetization-src" in reasons[0] and "Permissions Policy" in reasons[1]
    assert "this frame" in reasons[1]
    wait_a_while(tab)
    assert not tab.page.has("load:ppm") and not tab.page.has("error:ppm")
    assert not tab.page.has("load:cspm")
    assert frame_units(tab, "ppm") == frame_units(tab, "cspm") == 0
    assert len(w.received()) == 1  # the sibling's incoming payment only
    clean(tab)


def test_without_its_headers_in_the_cache_an_iframe_is_decided_as_before(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    """A ``no-store`` frame's own headers are not known (QtWebEngine reports none for
    iframes): its parent's policy and the ``allow`` attribute decide, as before."""
    w = world_factory()
    top, widget = sites(), sites()
    widget.pages["/pp"] = link_page(("ppm", w.wallet("bob")), script=FRAME_RECORDER)
    widget.headers["/pp"] = [("Permissions-Policy", "monetization=()")]
    top.pages["/"] = page_html(body=iframe(widget.url("/pp"), "monetization"))
    tab = make_tab()
    tab.load(top.url("/"))
    tab.wait_report("load:ppm")
    tab.qtbot.waitUntil(lambda: frame_units(tab, "ppm") > 0, timeout=20000)
    clean(tab)


def test_when_the_load_ends_qt_agreeing_with_the_cache_keeps_the_session(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    """Paid under the cache's headers while loading; Qt's, when the load ends, are the same
    policy: the link goes on in the session it has (no second incoming payment)."""
    w, site = world_factory(), sites()
    hanging(
        site,
        "/",
        link_page(("m", w.wallet("alice"))),
        [
            ("Permissions-Policy", "monetization=(self)"),
            ("Content-Security-Policy", "monetization-src https:"),
        ],
    )
    tab = make_tab()
    ended = open_without_waiting(tab, site.url("/"))
    tab.wait_report("load:m")
    tab.qtbot.waitUntil(lambda: units_seen(tab) > 0, timeout=20000)
    assert ended == [] and len(w.received()) == 1
    site.hangs["/hang.png"].set()
    tab.qtbot.waitUntil(lambda: ended == [True], timeout=10000)
    seen = units_seen(tab)
    tab.qtbot.waitUntil(lambda: units_seen(tab) > seen, timeout=20000)
    assert len(w.received()) == 1 and tab.page.reports.count(("load:m", w.wallet("alice"))) == 1
    clean(tab)
