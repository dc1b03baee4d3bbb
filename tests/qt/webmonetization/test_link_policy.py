"""A site's own policy over its monetization links, in real QtWebEngine pages from local servers
paid through the sandbox's Open Payments server: the ``Permissions-Policy`` header (parsed as a
Structured Field dictionary), the iframe ``allow`` attribute (first-level iframes only, paid out
of the top-level site's budget and rate), CSP ``monetization-src`` (header and ``<meta>``, with
its ``default-src`` fallback), and the link attributes whose change starts a new session."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from tests.qt.webmonetization.conftest import Site, Tab, page_html
from tests.qt.webmonetization.link_support import (
    FAST,
    World,
    landed,
    link_page,
    settle,
    still,
    units_seen,
    wait_a_while,
)
from wallet.budgets import SitePolicy

# Chromium's own parser does not know the feature and says so on the console (a warning).
# (and, for a header that is no Structured Field dictionary, that it ignores it: as we do)
UNKNOWN_FEATURE = "Error with Permissions-Policy header: "
UNKNOWN_ALLOW = "Unrecognized feature: 'monetization'"  # the allow attribute
UNKNOWN_DIRECTIVE = "Unrecognized Content-Security-Policy directive 'monetization-src'"

# In an iframe: every payment reported to the test (the top-level page cannot read the frame).
FRAME_RECORDER = """
addEventListener("monetization", (e) => report("paid:" + e.target.id, e.amountSent.value));
"""


def clean(tab: Tab) -> None:
    """No console problems but Chromium's notes on what it does not know (taken out here, so
    the fixture's own check passes)."""
    tab.page.problems[:] = [
        p
        for p in tab.page.problems
        if not any(note in p for note in (UNKNOWN_FEATURE, UNKNOWN_ALLOW, UNKNOWN_DIRECTIVE))
    ]
    assert tab.page.problems == []


def frame_units(tab: Tab, link: str) -> int:
    """What an iframe's link saw paid, in units of the receiver's asset (scale 9)."""
    return sum(
        int(Decimal(value) * 10**9) for tag, value in tab.page.reports if tag == f"paid:{link}"
    )


def iframe(src: str, allow: str | None) -> str:
    attr = "" if allow is None else f' allow="{allow}"'
    return f'<iframe id="f" src="{src}"{attr}></iframe>'


def outcome(tab: Tab, w: World, site: str, *, paid: bool, event: str | None, words: str) -> None:
    """Link ``m`` of the page in ``tab`` is paid; or it gets ``event`` (or none) and nothing
    is paid nor reported, and the user reads why (``words``)."""
    if paid:
        tab.wait_report("load:m")
        tab.qtbot.waitUntil(lambda: units_seen(tab) > 0, timeout=20000)
        return
    if event is None:
        tab.qtbot.waitUntil(lambda: bool(tab.bridge.link_reasons), timeout=10000)
    else:
        tab.wait_report(f"{event}:m")
    wait_a_while(tab)
    fired = [tag for tag, _ in tab.page.reports if tag.endswith(":m")]
    assert fired == ([] if event is None else [f"{event}:m"])
    assert units_seen(tab) == 0 and w.history(site) == 0 and w.received() == {}
    assert words in next(iter(tab.bridge.link_reasons.values()))


# ---- Permissions-Policy header --------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "paid"),
    [
        ("monetization=()", False),
        ("camera=(), monetization=()", False),
        ('monetization=("https://elsewhere.example")', False),
        ("monetization=(self)", True),
        ("monetization=*;report-to=x", True),
        ("geolocation=(), monetization=(self  )", True),
        ("Monetization=()", True),  # not a Structured Field dictionary: ignored whole
        ("monetization='none'", True),  # likewise
    ],
)
def test_the_permissions_policy_header(
    header: str,
    paid: bool,
    world_factory: Callable[..., World],
    make_tab: Callable[[], Tab],
    sites: Callable[[], Site],
) -> None:
    w = world_factory()
    site = sites()
    site.pages["/"] = link_page(("m", w.wallet("alice")))
    site.headers["/"] = [("Permissions-Policy", header)]
    tab = make_tab()
    tab.load(site.url("/"))
    # a document not allowed to use the feature: "related events won't be dispatched"
    outcome(tab, w, site.origin, paid=paid, event=None, words="Permissions Policy")
    clean(tab)


# ---- CSP monetization-src -------------------------------------------------------------------


def csp_meta(policy: str) -> str:
    return f'<meta http-equiv="Content-Security-Policy" content="{policy}">'


@pytest.mark.parametrize(
    ("header", "meta", "paid"),
    [
        ("monetization-src 'none'", None, False),
        (None, "monetization-src https://wallet.elsewhere.example", False),
        ("default-src 'self' 'unsafe-inline'", None, False),  # the fallback
        ("default-src 'self' 'unsafe-inline'; monetization-src https:", None, True),
        (None, "monetization-src 'self' https://{host}", True),
        ("monetization-src *", "monetization-src 'self'", False),  # every policy must allow
        ("script-src 'unsafe-inline'", None, True),  # neither directive: not governed
    ],
)
def test_csp_monetization_src(
    header: str | None,
    meta: str | None,
    paid: bool,
    world_factory: Callable[..., World],
    make_tab: Callable[[], Tab],
    sites: Callable[[], Site],
) -> None:
    w = world_factory()
    site = sites()
    alice = w.wallet("alice")
    host = alice.split("/")[2]
    page = link_page(("m", alice))
    if meta is not None:
        page = page.replace("<title>", csp_meta(meta.format(host=host)) + "<title>", 1)
    site.pages["/"] = page
    if header is not None:
        site.headers["/"] = [("Content-Security-Policy", header)]
    tab = make_tab()
    tab.load(site.url("/"))
    # a blocked fetch is a network error: "error" at the link
    outcome(tab, w, site.origin, paid=paid, event="error", words="monetization-src")
    clean(tab)


# ---- first-level iframes --------------------------------------------------------------------


def test_an_iframe_without_allow_is_not_paid(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    w = world_factory()
    top, widget = sites(), sites()
    widget.pages["/w"] = link_page(("fm", w.wallet("bob")), script=FRAME_RECORDER)
    top.pages["/"] = page_html(body=iframe(widget.url("/w"), None))
    tab = make_tab()
    tab.load(top.url("/"))
    tab.qtbot.waitUntil(lambda: bool(tab.bridge.link_reasons), timeout=10000)
    wait_a_while(tab)
    assert not tab.page.has("load:fm") and not tab.page.has("error:fm")
    assert frame_units(tab, "fm") == 0 and w.received() == {}
    assert w.history(top.origin) == w.history(widget.origin) == 0
    assert "this frame" in next(iter(tab.bridge.link_reasons.values()))
    # "The allow attribute only takes effect when the navigable content of the iframe is
    # navigated": added now, nothing; the frame's next document is paid
    tab.js('(document.getElementById("f").allow = "monetization", 1)')
    wait_a_while(tab)
    assert w.received() == {}
    tab.js(f'(document.getElementById("f").src = "{widget.url("/w")}?again", 1)')
    tab.wait_report("load:fm")
    tab.qtbot.waitUntil(lambda: frame_units(tab, "fm") > 0, timeout=20000)
    clean(tab)


def test_an_allowed_iframe_is_paid_within_the_top_level_sites_cap(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    w = world_factory()
    top, widget = sites(), sites()
    cap = 9_876_543
    # a rate at which the cap takes several packets: both links get turns
    w.service.set_site_policy(SitePolicy(top.origin, rate_per_hour=FAST // 100, cap_total=cap))
    widget.pages["/w"] = link_page(("fm", w.wallet("bob")), script=FRAME_RECORDER)
    top.pages["/"] = link_page(("m", w.wallet("alice")), script="").replace(
        "</button>", "</button>" + iframe(widget.url("/w"), "monetization"), 1
    )
    tab = make_tab()
    tab.load(top.url("/"))
    tab.wait_report("load:fm")
    tab.wait_report("load:m")
    tab.qtbot.waitUntil(lambda: units_seen(tab) + frame_units(tab, "fm") == cap, timeout=30000)
    still(tab, w, top.origin)
    # both links were paid, the site's total is exactly its cap, all of it charged to the
    # top-level site (none to the iframe's), and every receiver's count agrees
    assert units_seen(tab) > 0 and frame_units(tab, "fm") > 0
    assert w.history(top.origin) == cap and w.history(widget.origin) == 0
    assert sum(own for own, _ in w.received().values()) == cap
    assert sum(ledger for _, ledger in w.received().values()) == cap
    clean(tab)


def test_the_top_level_header_governs_its_iframes_and_deeper_frames_get_nothing(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    w = world_factory()
    top, widget, nested = sites(), sites(), sites()
    nested.pages["/n"] = link_page(("nm", w.wallet("alice")), script=FRAME_RECORDER)
    widget.pages["/w"] = link_page(("fm", w.wallet("bob")), script=FRAME_RECORDER).replace(
        "</button>", "</button>" + iframe(nested.url("/n"), "monetization"), 1
    )
    top.pages["/"] = page_html(body=iframe(widget.url("/w"), "monetization"))
    top.headers["/"] = [("Permissions-Policy", "monetization=(self)")]
    tab = make_tab()
    tab.load(top.url("/"))
    tab.qtbot.waitUntil(lambda: bool(tab.bridge.link_reasons), timeout=10000)
    wait_a_while(tab)
    assert not tab.page.has("load:fm") and not tab.page.has("load:nm")
    assert w.received() == {} and w.history(top.origin) == 0
    # the same frames without that header: the first-level one is paid, the nested one never
    top.headers["/"] = []
    tab.load(top.url("/"))
    tab.wait_report("load:fm")
    tab.qtbot.waitUntil(lambda: frame_units(tab, "fm") > 0, timeout=20000)
    assert not tab.page.has("load:nm") and not tab.page.has("error:nm")
    assert frame_units(tab, "nm") == 0
    assert len(w.received()) == 1  # bob's incoming payment only
    clean(tab)


def test_an_iframe_navigation_ends_its_documents_sessions(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    w = world_factory()
    top, widget = sites(), sites()
    widget.pages["/w"] = link_page(("fm", w.wallet("alice")), script=FRAME_RECORDER)
    widget.pages["/x"] = link_page(("gm", w.wallet("bob")), script=FRAME_RECORDER)
    top.pages["/"] = page_html(body=iframe(widget.url("/w"), "monetization"))
    tab = make_tab()
    tab.load(top.url("/"))
    tab.qtbot.waitUntil(lambda: frame_units(tab, "fm") > 0, timeout=20000)
    tab.js(f'(document.getElementById("f").src = "{widget.url("/x")}", 1)')
    tab.qtbot.waitUntil(lambda: frame_units(tab, "gm") > 0, timeout=20000)
    landed(tab, w, top.origin)
    before, seen = w.received(), payments(tab, "gm")
    tab.tab.set_visible(True)
    tab.qtbot.waitUntil(lambda: payments(tab, "gm") >= seen + 4, timeout=20000)
    after = w.received()
    grown = [url for url in after if after[url][0] > before.get(url, (0, 0))[0]]
    assert len(after) == 2 and len(grown) == 1  # only the frame's current document is paid
    clean(tab)


def payments(tab: Tab, link: str) -> int:
    return sum(1 for tag, _ in tab.page.reports if tag == f"paid:{link}")


# ---- link attributes ------------------------------------------------------------------------


def test_type_and_crossorigin_changes_start_a_new_session(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    w = world_factory()
    site = sites()
    site.pages["/"] = link_page(("m", w.wallet("alice")))
    tab = make_tab()
    tab.load(site.url("/"))
    tab.qtbot.waitUntil(lambda: len(w.received()) == 1 and units_seen(tab) > 0, timeout=20000)
    link = 'document.getElementById("m")'
    tab.js(f'({link}.crossOrigin = "use-credentials", 1)')
    tab.qtbot.waitUntil(lambda: len(w.received()) == 2, timeout=20000)
    tab.js(f'({link}.type = "application/json; charset=utf-8", 1)')
    tab.qtbot.waitUntil(lambda: len(w.received()) == 3, timeout=20000)
    settle(tab, w, site.origin)  # (what is in flight lands while the link is there)
    tab.js(f'({link}.type = "text/html", 1)')  # an unsupported type: not obtained, stopped
    tab.tab.set_visible(True)
    still(tab, w, site.origin)
    assert len(w.received()) == 3
    tab.js(f'({link}.removeAttribute("type"), 1)')  # the default type again: a new session
    tab.qtbot.waitUntil(lambda: len(w.received()) == 4, timeout=20000)
    total = settle(tab, w, site.origin)
    assert sum(own for own, _ in w.received().values()) == total
    clean(tab)


def test_a_same_origin_iframe_needs_no_allow_and_its_own_csp_counts(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    w = world_factory()
    top = sites()
    # the default allowlist is 'self': a same-origin frame is allowed without the attribute
    top.pages["/w"] = link_page(("fm", w.wallet("bob")), script=FRAME_RECORDER)
    # a frame's own <meta> CSP governs its links (its blocked link gets error)
    top.pages["/blocked"] = link_page(("bm", w.wallet("alice")), script=FRAME_RECORDER).replace(
        "<title>", csp_meta("monetization-src 'self'") + "<title>", 1
    )
    top.pages["/"] = page_html(
        body=iframe(top.url("/w"), None)
        + f'<iframe src="{top.url("/blocked")}" allow="monetization"></iframe>'
    )
    tab = make_tab()
    tab.load(top.url("/"))
    tab.wait_report("load:fm")
    tab.wait_report("error:bm")
    tab.qtbot.waitUntil(lambda: frame_units(tab, "fm") > 0, timeout=20000)
    assert not tab.page.has("load:bm") and frame_units(tab, "bm") == 0
    assert len(w.received()) == 1  # bob's only
    assert w.history(top.origin) > 0
    clean(tab)


def test_the_top_level_page_cannot_forge_an_iframes_payments(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    """The embedding page sees no relay message and cannot make a cross-origin frame's link see
    a payment that was never made (pushes carry a key only the two bridges know)."""
    w = world_factory()
    top, widget = sites(), sites()
    widget.pages["/w"] = link_page(("fm", w.wallet("bob")), script=FRAME_RECORDER)
    top.pages["/"] = page_html(
        body=iframe(widget.url("/w"), "monetization"),
        script="""
        window.relayed = 0;
        addEventListener("message", (e) => {
          if (e.data && e.data.__trickle_wm_frame) window.relayed += 1;
        }, true);
        window.forge = () => {
          const f = document.getElementById("f").contentWindow;
          for (const link of ["l1", "l2", "l3"]) {
            f.postMessage({__trickle_wm_frame: {op: "push", doc: "x", link: link,
              kind: "monetization", fields: {amountSent: {currency: "USD", value: "1000"}}}}, "*");
          }
        };
        """,
    )
    tab = make_tab()
    tab.load(top.url("/"))
    tab.wait_report("load:fm")
    tab.qtbot.waitUntil(lambda: frame_units(tab, "fm") > 0, timeout=20000)
    landed(tab, w, top.origin)
    tab.js("(window.forge(), 1)")
    wait_a_while(tab)
    assert frame_units(tab, "fm") == w.history(top.origin)  # only what was paid
    assert tab.js("window.relayed") == 0
    clean(tab)


def test_a_link_removed_before_the_headers_are_known_is_never_paid(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    """Link sessions wait for the document's response headers (its policy), which QtWebEngine
    reports when the load ends; a link gone by then never gets one."""
    w = world_factory()
    site = sites()
    site.delays["/slow.png"] = 2.0  # the load event waits for it
    site.pages["/slow.png"] = "x"
    site.pages["/"] = link_page(
        ("m", w.wallet("alice")),
        ("k", w.wallet("bob")),
        # removed once bridge.js asked for its session (its channel is up), before the load ends
        script='setTimeout(() => document.getElementById("m").remove(), 700);'
        'const img = new Image(); img.src = "/slow.png"; document.body.append(img);',
    )
    tab = make_tab()
    tab.load(site.url("/"))
    tab.wait_report("load:k")
    tab.qtbot.waitUntil(lambda: units_seen(tab) > 0, timeout=20000)
    landed(tab, w, site.origin)
    assert len(w.received()) == 1  # bob's only: the removed link never started
    assert not tab.page.has("load:m") and not tab.page.has("error:m")
    clean(tab)
