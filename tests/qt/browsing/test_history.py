"""Visited pages are recorded and shown on the History page (issue 21, item 1)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from tests.qt.browsing.conftest import T0, BrowsingApp, offscreen_windows
from tests.qt.conftest import WAIT, load
from tests.qt.servers import Site
from ui.browser.library_sections import HISTORY
from ui.browser.scheme import START_URL

pytestmark = offscreen_windows


def test_visits_are_recorded_with_their_titles_and_shown(
    qtbot: Any, browsing_app: BrowsingApp, http_site: Site
) -> None:
    window = browsing_app.window()
    tab = window.new_tab()
    first = http_site.add("/h/first", "<title>First &lt;b&gt;page&lt;/b&gt;</title><p>1")
    second = http_site.add("/h/second", "<title>Second</title><p>2")
    assert load(qtbot, tab, first)
    assert load(qtbot, tab, http_site.url("/h/second#part"))
    assert load(qtbot, tab, first)
    store = browsing_app.store
    visited = {v.url: v for v in store.history()}
    key_first, key_second = first.toString(), second.toString()
    assert set(visited) == {key_first, key_second}  # the fragment is not part of history
    assert visited[key_first].visits == 2
    assert visited[key_first].title == "First <b>page</b>"  # the page's text, as text
    assert visited[key_second].last_visit == T0

    library = browsing_app.browsing.library(HISTORY)
    qtbot.waitExposed(library)
    view = library.history
    assert view.shown_urls()[0] in (key_first, key_second)
    rows = [view.list.topLevelItem(i) for i in range(view.list.topLevelItemCount())]
    titles = [row.text(0) for row in rows if row is not None]
    assert "First <b>page</b>" in titles  # item text: never rendered as markup

    view.search.setText("second")
    assert view.shown_urls() == [key_second]
    view.search.clear()

    # Opening an entry opens a tab in the browser window.
    item = view.list.findItems("Second", Qt.MatchFlag.MatchExactly, 0)[0]
    view.list.itemActivated.emit(item, 0)
    qtbot.waitUntil(lambda: len(window.tabs()) == 2, timeout=WAIT)

    # Per-entry delete.
    view.list.setCurrentItem(view.list.findItems("Second", Qt.MatchFlag.MatchExactly, 0)[0])
    view.delete_selected()
    assert [v.url for v in store.history()] == [key_first]


def test_history_is_not_kept_for_internal_pages(
    qtbot: Any, browsing_app: BrowsingApp, http_site: Site
) -> None:
    window = browsing_app.window()
    tab = window.new_tab()
    assert load(qtbot, tab, START_URL)
    assert load(qtbot, tab, http_site.add("/h/web", "<title>Web</title>"))
    assert [v.url for v in browsing_app.store.history()] == [http_site.url("/h/web").toString()]


def test_clear_browsing_data_by_time_range(
    qtbot: Any, browsing_app: BrowsingApp, http_site: Site
) -> None:
    window = browsing_app.window()
    tab = window.new_tab()
    old = http_site.add("/h/old", "<title>Old</title>")
    recent = http_site.add("/h/recent", "<title>Recent</title>")
    clock = browsing_app.clock
    assert load(qtbot, tab, old)  # at T0
    clock.now = T0 + 3 * 3600
    assert load(qtbot, tab, recent)
    assert load(qtbot, tab, old)  # visited again, recently
    clock.now = T0 + 3 * 3600 + 60

    view = browsing_app.browsing.library(HISTORY).history
    view.clear(0)  # the last hour
    visited = {v.url: v for v in browsing_app.store.history()}
    assert set(visited) == {old.toString()}  # "recent" had only recent visits: gone
    assert visited[old.toString()].visits == 1  # its recent visit is forgotten ...
    assert visited[old.toString()].last_visit == T0  # ... and the old one stays
    assert "cleared" in view.status.text()

    view.clear(4)  # all time
    assert browsing_app.store.history() == []
    assert view.shown_urls() == []
