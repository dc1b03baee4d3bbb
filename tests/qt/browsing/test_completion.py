"""The address bar completes from history and bookmarks by frecency, and searches what is
not an address (issue 21, item 2)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QUrl

from tests.qt.browsing.conftest import T0, BrowsingApp, offscreen_windows
from tests.qt.conftest import WAIT, load
from tests.qt.servers import Site
from ui.browser.addressbar import AddressBar
from ui.browser.search import SearchEngine, engine_by_key
from ui.browser.storage import HALF_LIFE

pytestmark = offscreen_windows


def type_in(qtbot: Any, bar: AddressBar, text: str) -> None:
    """Click into the bar (which selects all it shows) and type ``text`` over it."""
    bar.setFocus()
    qtbot.waitUntil(lambda: bar.hasFocus() and bar.selectedText() == bar.text(), timeout=WAIT)
    qtbot.keyClicks(bar, text)


def test_suggestions_rank_by_frecency_and_bookmarks(
    qtbot: Any, browsing_app: BrowsingApp, http_site: Site
) -> None:
    window = browsing_app.window()
    tab = window.new_tab()
    often = http_site.add("/c/recipes-often", "<title>Recipes I read often</title>")
    once = http_site.add("/c/recipes-once", "<title>Recipes seen once</title>")
    old = http_site.add("/c/recipes-old", "<title>Recipes from long ago</title>")
    clock = browsing_app.clock
    for _ in range(3):  # three visits, long ago: they weigh less than one today ...
        clock.now = T0 - 4 * HALF_LIFE
        assert load(qtbot, tab, old)
    clock.now = T0
    assert load(qtbot, tab, once)
    for _ in range(3):
        assert load(qtbot, tab, often)
    completion = browsing_app.browsing.parts(window).completion
    bar = window.address_bar
    type_in(qtbot, bar, "recipes")
    popup = completion.popup()
    assert popup is not None
    qtbot.waitUntil(popup.isVisible, timeout=WAIT)
    assert completion.suggestions() == [often.toString(), once.toString(), old.toString()]
    # ... and a bookmark ranks above pages visited as often.
    browsing_app.store.add_bookmark(old.toString(), "Old recipes")
    completion.refresh("recipes")
    assert completion.suggestions()[0] == old.toString()
    assert completion.model_.item(0).text().startswith("★ Old recipes — http://")


def test_choosing_a_suggestion_goes_there(
    qtbot: Any, browsing_app: BrowsingApp, http_site: Site
) -> None:
    window = browsing_app.window()
    tab = window.new_tab()
    target = http_site.add("/c/weather", "<title>Weather today</title>")
    assert load(qtbot, tab, target)
    assert load(qtbot, tab, http_site.add("/c/elsewhere", "<title>Elsewhere</title>"))
    hits = http_site.hits("/c/weather")
    bar = window.address_bar
    type_in(qtbot, bar, "weath")
    popup = browsing_app.browsing.parts(window).completion.popup()
    assert popup is not None
    qtbot.waitUntil(popup.isVisible, timeout=WAIT)
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    assert bar.text() == target.toString()  # the highlighted row's address
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: tab.url() == target, timeout=WAIT)
    qtbot.waitUntil(lambda: not tab.is_loading(), timeout=WAIT)
    assert http_site.hits("/c/weather") == hits + 1  # one navigation, not two


def test_words_go_to_the_chosen_search_engine(
    qtbot: Any, browsing_app: BrowsingApp, http_site: Site
) -> None:
    results = http_site.add("/search", "<title>Results</title>")
    window = browsing_app.window()
    tab = window.new_tab()
    bar = window.address_bar
    bar.search_engine = SearchEngine(
        "local", "Local", http_site.url("/search").toString() + "?q={}"
    )
    type_in(qtbot, bar, "what is interledger?")
    qtbot.keyClick(bar, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: tab.url().path() == results.path(), timeout=WAIT)
    assert (
        tab.url().query(QUrl.ComponentFormattingOption.FullyEncoded)
        == "q=what%20is%20interledger%3F"
    )
    # An address is still an address.
    type_in(qtbot, bar, f"127.0.0.1:{http_site.port}/c/plain")
    qtbot.keyClick(bar, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: tab.url().path() == "/c/plain", timeout=WAIT)


def test_no_search_engine_keeps_the_not_an_address_page(
    qtbot: Any, browsing_app: BrowsingApp
) -> None:
    window = browsing_app.window()
    tab = window.new_tab()
    settings = browsing_app.browsing.open_settings()
    settings.engine.setCurrentIndex(settings.engine.findData("none"))
    assert window.address_bar.search_engine is None
    bar = window.address_bar
    type_in(qtbot, bar, "just words")
    qtbot.keyClick(bar, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: tab.url().toString().startswith("trickle://error/not-a-url"), timeout=WAIT
    )
    settings.engine.setCurrentIndex(settings.engine.findData("duckduckgo"))
    assert window.address_bar.search_engine == engine_by_key("duckduckgo")
    assert browsing_app.store.setting("search_engine", "") == "duckduckgo"
