"""Certificate errors are refused with a clear page; trickle: pages are out of the web's reach."""

from __future__ import annotations

from typing import Any

import pytest

from tests.qt.conftest import WAIT, load, run_js
from tests.qt.servers import Site
from ui.browser.scheme import query_value
from ui.browser.window import BrowserWindow


def test_self_signed_certificate_is_refused_with_an_error_page(
    qtbot: Any, browser: BrowserWindow, https_site: Site
) -> None:
    url = https_site.add("/bank", "<title>Bank</title><p>SECRET CONTENT</p>")
    tab = browser.new_tab()
    tab.load(url)
    qtbot.waitUntil(
        lambda: tab.title() == "Not opened: the connection is not private",
        timeout=WAIT,
    )
    assert tab.url().scheme() == "trickle" and tab.url().host() == "error"
    assert query_value(tab.url(), "url") == url.toString()
    text = run_js(qtbot, tab, "document.body.innerText")
    assert "Trickle did not open this page" in text
    assert "127.0.0.1" in text and url.toString() in text
    assert "certificate" in text.lower()
    assert "SECRET CONTENT" not in text
    assert https_site.hits("/bank") == 0  # not a byte of the request went over the bad TLS
    # The bar shows the refused address (Enter retries), not the internal page's.
    assert browser.address_bar.text() == url.toString()


def test_error_page_escapes_what_it_shows(qtbot: Any, browser: BrowserWindow) -> None:
    from PySide6.QtCore import QUrl

    from ui.browser.page import certificate_error_url

    hostile = QUrl("https://evil.example/<script>document.title='pwned'</script>")
    tab = browser.new_tab()
    assert load(qtbot, tab, certificate_error_url(hostile, "<img src=x onerror=alert(1)>"))
    assert tab.title() == "Not opened: the connection is not private"
    assert run_js(qtbot, tab, "document.querySelectorAll('script, img').length") == 0


def test_start_page(qtbot: Any, browser: BrowserWindow) -> None:
    browser.open_urls([])
    tab = browser.current_tab()
    assert tab is not None
    qtbot.waitUntil(lambda: tab.title() == "Trickle", timeout=WAIT)
    assert "wallet inside" in run_js(qtbot, tab, "document.body.innerText")
    # The stylesheet from trickle://assets/ applied (a different trickle: origin).
    assert run_js(qtbot, tab, "getComputedStyle(document.body).maxWidth") != "none"


def test_unknown_internal_page_fails_cleanly(qtbot: Any, browser: BrowserWindow) -> None:
    from PySide6.QtCore import QUrl

    tab = browser.new_tab()
    assert not load(qtbot, tab, QUrl("trickle://nowhere/"))


@pytest.mark.allow_js_errors  # Chromium reports the refused frame on the console, as it should
def test_web_pages_cannot_frame_internal_pages(
    qtbot: Any, browser: BrowserWindow, http_site: Site, caplog: Any
) -> None:
    url = http_site.add(
        "/framer",
        "<title>Framer</title><iframe id=f src='trickle://start/'></iframe>"
        "<a id=a href='trickle://start/'>start</a>",
    )
    tab = browser.new_tab()
    assert load(qtbot, tab, url)
    # The frame stays empty: its document is not the start page.
    frame_title = run_js(
        qtbot,
        tab,
        "(() => { try { return document.getElementById('f').contentDocument.title }"
        " catch (e) { return 'blocked' } })()",
    )
    assert frame_title != "Trickle"
    run_js(qtbot, tab, "document.getElementById('a').click(); true")
    run_js(qtbot, tab, "1")  # a round trip: a navigation, had it started, would be under way
    assert tab.url() == url
    assert any("Not allowed to load local resource" in r.getMessage() for r in caplog.records)


def test_console_messages_go_to_logging(
    qtbot: Any, browser: BrowserWindow, http_site: Site, caplog: Any
) -> None:
    url = http_site.add("/console", "<script>console.log('hello from the page')</script>")
    caplog.set_level("DEBUG", logger="trickle.js")
    tab = browser.new_tab()
    assert load(qtbot, tab, url)
    qtbot.waitUntil(
        lambda: any("hello from the page" in r.getMessage() for r in caplog.records), timeout=WAIT
    )
    record = next(r for r in caplog.records if "hello from the page" in r.getMessage())
    assert record.name == "trickle.js" and record.levelname == "DEBUG"
