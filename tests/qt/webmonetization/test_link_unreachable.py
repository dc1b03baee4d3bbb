"""A link whose wallet cannot be reached, in a real QtWebEngine page: the page gets ``error`` at
the link, and what the UI reads for that link (``PageBridge.link_reasons``) says in words whose
wallet cannot be reached and when Trickle tries again — it is backed off, not retried in a loop
(web-monetization-extension#394)."""

from __future__ import annotations

from collections.abc import Callable

from tests.qt.webmonetization.conftest import Site, Tab
from tests.qt.webmonetization.link_support import World, link_page


def test_an_unreachable_wallet_is_reported_in_words_and_backed_off(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    w = world_factory()
    site = sites()
    site.pages["/"] = link_page(("down", "https://127.0.0.1:1/alice"))  # nothing listens there
    tab = make_tab()
    tab.load(site.url("/"))
    tab.wait_report("error:down")
    expected = "The wallet at 127.0.0.1:1/alice cannot be reached; trying again in 30 seconds."
    tab.qtbot.waitUntil(lambda: expected in tab.bridge.link_reasons.values(), timeout=10_000)
    assert tab.js("window.seen.length") == 0
    assert w.history(site.origin) == 0
    tab.check_clean()
