"""Bookmarks: the star and Ctrl+D, the Bookmarks page (edit, folders, delete), and import of
a Netscape bookmarks file (issue 21, item 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

from tests.qt.browsing.conftest import BrowsingApp, offscreen_windows
from tests.qt.conftest import WAIT, load
from tests.qt.servers import Site
from ui.browser.bookmarks_import import BookmarksFileError, parse_bookmarks
from ui.browser.library_sections import BOOKMARKS

pytestmark = offscreen_windows
ANYWHERE = Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive


def _top_level(tree: QTreeWidget) -> list[QTreeWidgetItem]:
    items = (tree.topLevelItem(i) for i in range(tree.topLevelItemCount()))
    return [item for item in items if item is not None]


NETSCAPE = """<!DOCTYPE NETSCAPE-Bookmark-file-1>
<!-- This is an automatically generated file. -->
<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=UTF-8">
<TITLE>Bookmarks</TITLE>
<H1>Bookmarks Menu</H1>
<DL><p>
    <DT><A HREF="https://top.example/" ADD_DATE="1700000000">Top &amp; level</A>
    <DT><H3 ADD_DATE="1700000000">Reading</H3>
    <DL><p>
        <DT><A HREF="https://blog.example/post">A <b>post</b></A>
        <DT><H3>Later</H3>
        <DL><p>
            <DT><A HREF="http://later.example/">Later one</A>
        </DL><p>
        <DT><A HREF="javascript:alert(1)">A bookmarklet</A>
        <DT><A HREF="place:sort=8">Recent tags</A>
    </DL><p>
    <DT><A HREF="https://after.example/">After the folder</A>
</DL>
"""


def test_netscape_file_is_read_with_folders_and_only_web_addresses() -> None:
    found = parse_bookmarks(NETSCAPE)
    assert [(b.url, b.title, b.folder) for b in found] == [
        ("https://top.example/", "Top & level", ""),
        ("https://blog.example/post", "A post", "Reading"),
        ("http://later.example/", "Later one", "Reading/Later"),
        ("https://after.example/", "After the folder", ""),
    ]
    with pytest.raises(BookmarksFileError):
        parse_bookmarks("<html><body>not bookmarks</body></html>")


def test_ctrl_d_and_the_star_bookmark_the_page(
    qtbot: Any, browsing_app: BrowsingApp, http_site: Site
) -> None:
    window = browsing_app.window()
    tab = window.new_tab()
    page = http_site.add("/b/article", "<title>An &lt;i&gt;article&lt;/i&gt;</title>")
    assert load(qtbot, tab, page)
    star = browsing_app.browsing.parts(window).star
    assert star.text().startswith("Bookmark this page")
    qtbot.keyClick(window, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    mark = browsing_app.store.bookmark_for(page.toString())
    assert mark is not None and mark.title == "An <i>article</i>"
    assert star.text() == "Remove the bookmark"
    assert "Bookmarked: An <i>article</i>" in window.notice.label.text()
    qtbot.keyClick(window, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert len(browsing_app.store.bookmarks()) == 1  # not twice
    star.trigger()  # the star toggles
    assert browsing_app.store.bookmarks() == []
    assert star.text().startswith("Bookmark this page")
    star.trigger()
    assert len(browsing_app.store.bookmarks()) == 1
    # Another tab, another page: the star follows the current tab.
    other = window.new_tab()
    assert load(qtbot, other, http_site.add("/b/other", "<title>Other</title>"))
    qtbot.waitUntil(lambda: star.text().startswith("Bookmark this page"), timeout=WAIT)
    window.tab_strip.setCurrentWidget(tab)
    assert star.text() == "Remove the bookmark"


def test_bookmarks_page_edit_move_delete_and_import(
    qtbot: Any, browsing_app: BrowsingApp, http_site: Site, tmp_path: Path
) -> None:
    store = browsing_app.store
    store.add_bookmark("https://one.example/", "One")
    library = browsing_app.browsing.library(BOOKMARKS)
    view = library.bookmarks
    exported = tmp_path / "bookmarks.html"
    exported.write_text(NETSCAPE, encoding="utf-8")
    assert view.import_file(exported) == 4
    assert "Imported 4 bookmarks" in view.status.text()
    folders = [item.text(0) for item in _top_level(view.tree)]
    assert folders == ["(no folder)", "Reading", "Reading/Later"]

    # Edit in place: the title, then the folder (which moves it).
    item = view.tree.findItems("One", ANYWHERE, 0)[0]
    item.setText(0, "One, renamed")
    item = view.tree.findItems("One, renamed", ANYWHERE, 0)[0]
    item.setText(2, "Work / Projects")
    qtbot.waitUntil(
        lambda: any(item.text(0) == "Work/Projects" for item in _top_level(view.tree)),
        timeout=WAIT,
    )
    mark = store.bookmark_for("https://one.example/")
    assert mark is not None and (mark.title, mark.folder) == ("One, renamed", "Work/Projects")

    # A bad address is refused.
    item = view.tree.findItems("Later one", ANYWHERE, 0)[0]
    item.setText(1, "not an address")
    assert "Not a web address" in view.status.text()
    assert store.bookmark_for("http://later.example/") is not None

    # Delete.
    qtbot.waitUntil(
        lambda: bool(view.tree.findItems("Later one", ANYWHERE, 0)),
        timeout=WAIT,
    )
    item = view.tree.findItems("Later one", ANYWHERE, 0)[0]
    view.tree.setCurrentItem(item)
    view.delete_selected()
    assert store.bookmark_for("http://later.example/") is None
    assert len(store.bookmarks()) == 4

    # Opening a bookmark opens a tab.
    window = browsing_app.window()
    page = http_site.add("/b/open-me", "<title>Open me</title>")
    store.add_bookmark(page.toString(), "Open me")
    view.refresh()
    item = view.tree.findItems("Open me", ANYWHERE, 0)[0]
    view.tree.itemActivated.emit(item, 0)
    qtbot.waitUntil(lambda: any(t.url() == page for t in window.tabs()), timeout=WAIT)
