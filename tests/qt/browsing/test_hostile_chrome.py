"""Text a page supplied is plain text in the browser's own chrome too (issue 20, item 4): a
hostile title (HTML, a right-to-left override, zero-width and invisible characters, 5,000
characters) and a hostile address go through the tab's text and tooltip, the window title,
the address bar, the hovered link's preview and a permission prompt. None is rendered as rich
text, none keeps an invisible or direction-changing character, none is unbounded; the
address bar and the preview show such characters percent-encoded, so what they show is what
loads. The wallet's views are in tests/qt/wallet/test_hostile_text.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QUrl
from PySide6.QtGui import QMouseEvent, Qt
from PySide6.QtWidgets import QApplication

from tests.qt.browsing.conftest import BrowsingApp, offscreen_windows
from tests.qt.conftest import WAIT, load, run_js
from tests.qt.servers import Site
from tests.qt.wallet.test_hostile_text import HOSTILE_NAMES, assert_safe

pytestmark = offscreen_windows
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"

TITLE = "".join(HOSTILE_NAMES)  # HTML, an RLO, zero-width and invisible characters, 5,000 L
PATH = "/p/%E2%80%AEgpj.exe%E2%80%8B"  # an RLO and a zero-width space in the address


def page(title: str) -> str:
    escaped = title.replace("&", "&amp;").replace("<", "&lt;")
    return (
        f"<!doctype html><title>{escaped}</title>"
        "<style>a{display:block;position:fixed;inset:0;font-size:40px}</style>"
        f"<a id=link href='{PATH}?next'>a link over the whole page</a>"
    )


def test_hostile_titles_and_addresses_are_plain_in_the_browser_chrome(
    qtbot: Any, browsing_app: BrowsingApp, http_site: Site
) -> None:
    window = browsing_app.window()
    tab = window.new_tab()
    url = http_site.add(PATH, page(TITLE))
    assert load(qtbot, tab, url)
    qtbot.waitUntil(lambda: run_js(qtbot, tab, "document.title") == TITLE, timeout=WAIT)
    qtbot.waitUntil(lambda: "VERIFIED" in window.windowTitle(), timeout=WAIT)
    bar = window.tab_strip.tabBar()
    index = window.tab_strip.indexOf(tab)

    # The hovered link's address: moved over by the mouse (Chromium needs a few moves).
    preview = window._link_preview  # what the user sees under the pointer
    target = tab.focusProxy() or tab
    for x in range(40, 400, 40):
        QApplication.sendEvent(
            target,
            QMouseEvent(
                QMouseEvent.Type.MouseMove,
                QPoint(x, 60).toPointF(),
                target.mapToGlobal(QPoint(x, 60)).toPointF(),
                Qt.MouseButton.NoButton,
                Qt.MouseButton.NoButton,
                Qt.KeyboardModifier.NoModifier,
            ),
        )
        qtbot.wait(50)
        if preview.isVisible():
            break
    qtbot.waitUntil(preview.isVisible, timeout=WAIT)

    # A permission prompt from the same page.
    parts = browsing_app.browsing.parts(window)
    run_js(qtbot, tab, "Notification.requestPermission()")
    qtbot.waitUntil(parts.permission_bar.isVisible, timeout=WAIT)

    shown = [
        ("window title", window.windowTitle(), False),
        ("tab text", bar.tabText(index), False),
        ("tab tooltip", bar.tabToolTip(index), True),
        ("address bar", window.address_bar.text(), False),
        ("link preview", preview.text(), False),
        ("permission prompt", parts.permission_bar.label.text(), False),
    ]
    assert_safe(shown)
    assert preview.textFormat() == Qt.TextFormat.PlainText
    assert parts.permission_bar.label.textFormat() == Qt.TextFormat.PlainText
    # The hostile parts really were shown (else the test proves nothing): the HTML as text,
    # the letters around the override kept, the invisible characters percent-encoded in the
    # addresses — which still load what the page named.
    assert window.windowTitle().startswith("<h1 style='font-size:40pt'>✔ VERIFIED BANK</h1>")
    assert "Good knaB liveE Provider" in window.windowTitle()
    assert "%E2%80%AEgpj.exe%E2%80%8B" in window.address_bar.text()
    assert QUrl(window.address_bar.text()) == tab.url()
    assert "%E2%80%AEgpj.exe%E2%80%8B?next" in preview.text()
    assert parts.permission_bar.label.text() == "127.0.0.1 wants to show notifications."
    ARTIFACTS.mkdir(exist_ok=True)
    assert window.grab().save(str(ARTIFACTS / "hostile-browser-chrome.png"))
