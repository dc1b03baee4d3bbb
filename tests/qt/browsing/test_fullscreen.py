"""Full screen as a site permission (issue 21, item 8): asked through the prompt queue,
remembered per origin, editable in Settings; and what QtWebEngine 6.11 does with a plain
``reject()`` — the reason Trickle refuses another way (ui/browser/fullscreen.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWebEngineCore import QWebEngineFullScreenRequest

from tests.qt.browsing.conftest import BrowsingApp, offscreen_windows
from tests.qt.conftest import WAIT, load, run_js
from tests.qt.servers import Site
from ui.browser.webview import BrowserTab

pytestmark = offscreen_windows
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"

# A page that asks for full screen on a click and reports what it sees.
PAGE = """<title>Video</title><body style="margin:0">
<button id="b" style="width:100vw;height:100vh">full screen</button><script>
window.clicks = 0; window.entered = 0; window.refused = 0; window.changes = [];
b.onclick = () => { window.clicks++;
  document.documentElement.requestFullscreen().then(
    () => window.entered++, () => window.refused++); };
document.addEventListener("fullscreenchange",
  () => window.changes.push(!!document.fullscreenElement));
</script>"""


def click(qtbot: Any, tab: BrowserTab) -> None:
    """A real click in the page (a user activation), repeated until the page saw it (Chromium
    drops input before its first frame)."""
    before = int(run_js(qtbot, tab, "window.clicks"))
    target = tab.focusProxy() or tab
    for _ in range(20):
        qtbot.mouseClick(target, Qt.MouseButton.LeftButton, pos=QPoint(50, 50))
        try:
            qtbot.waitUntil(lambda: int(run_js(qtbot, tab, "window.clicks")) > before, timeout=500)
            return
        except Exception:  # not delivered yet: click again
            continue
    raise AssertionError("the page never saw the click")


def ask(qtbot: Any, tab: BrowserTab) -> None:
    """Click until a full-screen request reaches the browser: one made while the page is
    still leaving full screen is dropped by Chromium (as a person's early second click)."""
    requests: list[bool] = []

    def seen(request: QWebEngineFullScreenRequest) -> None:
        requests.append(request.toggleOn())

    page = tab.page()
    page.fullScreenRequested.connect(seen)
    try:
        for _ in range(10):
            click(qtbot, tab)
            try:
                qtbot.waitUntil(lambda: True in requests, timeout=1000)
                return
            except Exception:  # dropped: ask again
                continue
        raise AssertionError("no full-screen request reached the browser")
    finally:
        page.fullScreenRequested.disconnect(seen)


def settled(qtbot: Any, tab: BrowserTab) -> int:
    """How many of the page's ``requestFullscreen()`` promises settled."""
    return int(run_js(qtbot, tab, "window.entered + window.refused"))


def page_full_screen(qtbot: Any, tab: BrowserTab) -> bool:
    return bool(run_js(qtbot, tab, "document.fullscreenElement !== null"))


def test_full_screen_is_asked_remembered_and_editable(
    qtbot: Any, browsing_app: BrowsingApp, http_site: Site
) -> None:
    window = browsing_app.window()
    tab = window.new_tab()
    assert load(qtbot, tab, http_site.add("/fs/video", PAGE))
    bar = browsing_app.browsing.parts(window).permission_bar
    ask(qtbot, tab)
    qtbot.waitUntil(bar.isVisible, timeout=WAIT)
    assert bar.label.text() == "127.0.0.1 wants to fill your screen."
    ARTIFACTS.mkdir(exist_ok=True)
    assert window.grab().save(str(ARTIFACTS / "permission-fullscreen.png"))
    # "Only this time" + Block: refused, not remembered, and the page may ask again.
    bar.once.setChecked(True)
    bar.block.click()
    # Answered (in and out at once: never left pending), not full screen.
    qtbot.waitUntil(lambda: settled(qtbot, tab) >= 1, timeout=WAIT)
    qtbot.waitUntil(lambda: page_full_screen(qtbot, tab) is False, timeout=WAIT)
    assert not window.isFullScreen() and not window.page_full_screen
    assert browsing_app.store.permissions() == []
    ask(qtbot, tab)
    qtbot.waitUntil(bar.isVisible, timeout=WAIT)  # asked again: the platform did not stick
    bar.allow.click()
    qtbot.waitUntil(lambda: window.page_full_screen, timeout=WAIT)
    qtbot.waitUntil(window.isFullScreen, timeout=WAIT)
    assert not window.tab_strip.tabBar().isVisible()
    origin = f"http://127.0.0.1:{http_site.port}"
    assert browsing_app.store.permissions() == [(origin, "fullscreen", True)]
    qtbot.waitUntil(lambda: page_full_screen(qtbot, tab) is True, timeout=WAIT)
    run_js(qtbot, tab, "document.exitFullscreen(), 1")
    qtbot.waitUntil(lambda: not window.page_full_screen, timeout=WAIT)
    assert window.tab_strip.tabBar().isVisible()
    # Remembered: the next request goes full screen without a prompt.
    ask(qtbot, tab)
    qtbot.waitUntil(lambda: window.page_full_screen, timeout=WAIT)
    assert not bar.isVisible()
    qtbot.waitUntil(lambda: page_full_screen(qtbot, tab) is True, timeout=WAIT)
    window.stop_action.trigger()  # Esc
    qtbot.waitUntil(lambda: not window.page_full_screen, timeout=WAIT)

    # Editable in Settings: blocked now, and refused without a prompt.
    settings = browsing_app.browsing.open_settings()
    row = settings.permissions.topLevelItem(0)
    assert row is not None and row.text(1) == "fullscreen"
    settings.permissions.setCurrentItem(row)
    settings.set_selected(False)
    before = settled(qtbot, tab)
    ask(qtbot, tab)
    # Answered (not left pending, as reject() would) and not full screen; no prompt.
    qtbot.waitUntil(lambda: settled(qtbot, tab) > before, timeout=WAIT)
    qtbot.waitUntil(lambda: page_full_screen(qtbot, tab) is False, timeout=WAIT)
    assert not bar.isVisible() and not window.page_full_screen
    settings.close()


def test_frames_of_other_origins_are_refused_without_a_prompt(
    qtbot: Any, browsing_app: BrowsingApp, http_site: Site
) -> None:
    frame = http_site.add("/fs/frame", PAGE)
    other_origin = frame.toString().replace("127.0.0.1", "localhost")
    top = http_site.add(
        "/fs/top",
        "<title>Top</title><body style='margin:0'>"
        "<iframe allow='fullscreen' style='width:100vw;height:100vh;border:0' "
        f"src='{other_origin}'></iframe>",
    )
    window = browsing_app.window()
    tab = window.new_tab()
    assert load(qtbot, tab, top)
    target = tab.focusProxy() or tab
    for _ in range(10):
        qtbot.mouseClick(target, Qt.MouseButton.LeftButton, pos=QPoint(50, 50))
        qtbot.wait(200)
    assert browsing_app.browsing.prompts.pending() == 0
    assert not browsing_app.browsing.parts(window).permission_bar.isVisible()
    assert not window.page_full_screen


def test_the_platform_never_asks_again_after_a_plain_reject(
    qtbot: Any, browsing_app: BrowsingApp, http_site: Site
) -> None:
    """Why Trickle does not refuse with ``reject()``: QtWebEngine 6.11 then leaves the page's
    request unanswered (its promise never settles) and sends none of its later requests."""
    window = browsing_app.window()
    tab = window.new_tab()
    assert load(qtbot, tab, http_site.add("/fs/plain", PAGE))
    page = tab.page()
    page.fullScreenRequested.disconnect()  # no permission rules: reject everything plainly
    asked: list[bool] = []

    def reject(request: QWebEngineFullScreenRequest) -> None:
        asked.append(request.toggleOn())
        request.reject()

    page.fullScreenRequested.connect(reject)
    click(qtbot, tab)
    qtbot.waitUntil(lambda: asked == [True], timeout=WAIT)
    for _ in range(3):  # three more user activations and requestFullscreen(), a second apart
        click(qtbot, tab)
        qtbot.wait(1000)
    assert asked == [True]  # never asked again
    seen = run_js(qtbot, tab, "JSON.stringify([window.entered, window.refused, window.clicks])")
    assert json.loads(seen) == [0, 0, 4]  # the first request's promise never settled
