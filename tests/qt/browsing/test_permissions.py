"""Site permissions: one prompt at a time, remembered per origin, editable, withdrawn on
navigation, and denied without a prompt for frames of other origins (issue 21, item 8)."""

from __future__ import annotations

from typing import Any

from tests.qt.browsing.conftest import BrowsingApp, offscreen_windows
from tests.qt.conftest import WAIT, load, run_js
from tests.qt.servers import Site

pytestmark = offscreen_windows

ASK_NOTIFICATIONS = "Notification.requestPermission().then((r) => { window.answer = r })"


def test_a_request_is_asked_once_and_remembered(
    qtbot: Any, browsing_app: BrowsingApp, http_site: Site
) -> None:
    window = browsing_app.window()
    tab = window.new_tab()
    assert load(qtbot, tab, http_site.add("/p/notify", "<title>Notify</title>"))
    bar = browsing_app.browsing.parts(window).permission_bar
    run_js(qtbot, tab, ASK_NOTIFICATIONS)
    qtbot.waitUntil(bar.isVisible, timeout=WAIT)
    assert bar.label.text() == "127.0.0.1 wants to show notifications."
    bar.allow.click()
    qtbot.waitUntil(lambda: run_js(qtbot, tab, "window.answer ?? null") == "granted", timeout=WAIT)
    assert not bar.isVisible()
    origin = f"http://127.0.0.1:{http_site.port}"
    assert browsing_app.store.permissions() == [(origin, "notifications", True)]
    # Reloaded: the remembered answer applies without a prompt.
    assert load(qtbot, tab, http_site.url("/p/notify"))
    run_js(qtbot, tab, ASK_NOTIFICATIONS)
    qtbot.waitUntil(lambda: run_js(qtbot, tab, "window.answer ?? null") == "granted", timeout=WAIT)
    assert not bar.isVisible()

    # Editable in the settings: blocked now.
    settings = browsing_app.browsing.open_settings()
    row = settings.permissions.topLevelItem(0)
    assert row is not None
    settings.permissions.setCurrentItem(row)
    settings.set_selected(False)
    assert browsing_app.store.permissions() == [(origin, "notifications", False)]
    row = settings.permissions.topLevelItem(0)
    assert row is not None and row.text(2) == "blocked"
    settings.permissions.setCurrentItem(row)
    settings.set_selected(None)
    assert browsing_app.store.permissions() == []


def test_one_prompt_at_a_time_and_withdrawn_on_navigation(
    qtbot: Any, browsing_app: BrowsingApp, http_site: Site
) -> None:
    window = browsing_app.window()
    first = window.new_tab()
    assert load(qtbot, first, http_site.add("/p/first", "<title>First</title>"))
    second = window.new_tab(background=True)
    assert load(qtbot, second, http_site.add("/p/second", "<title>Second</title>"))
    bar = browsing_app.browsing.parts(window).permission_bar
    queue = browsing_app.browsing.prompts
    run_js(
        qtbot,
        first,
        "navigator.geolocation.getCurrentPosition("
        "() => { window.answer = 'yes' }, (e) => { window.answer = 'no ' + e.code })",
    )
    qtbot.waitUntil(bar.isVisible, timeout=WAIT)
    window.tab_strip.setCurrentWidget(second)  # Chromium asks for visible pages only
    run_js(qtbot, second, ASK_NOTIFICATIONS)
    qtbot.waitUntil(lambda: queue.pending() == 2, timeout=WAIT)
    assert bar.label.text() == "127.0.0.1 wants to know your location."  # the first, alone
    # The first page goes elsewhere: its question is withdrawn (denied, not remembered) ...
    assert load(
        qtbot,
        first,
        http_site.add(
            "/p/elsewhere",
            "<title>Elsewhere</title>",
        ),
    )
    qtbot.waitUntil(
        lambda: bar.label.text() == "127.0.0.1 wants to show notifications.", timeout=WAIT
    )
    assert queue.pending() == 1
    # ... and "only this time" is not remembered either.
    bar.once.setChecked(True)
    bar.block.click()
    qtbot.waitUntil(
        lambda: run_js(qtbot, second, "window.answer ?? null") == "denied", timeout=WAIT
    )
    assert browsing_app.store.permissions() == []
    assert not bar.isVisible()


def test_frames_of_other_origins_are_denied_without_a_prompt(
    qtbot: Any, browsing_app: BrowsingApp, http_site: Site
) -> None:
    frame = http_site.add(
        "/p/frame",
        "<script>navigator.geolocation.getCurrentPosition(() => parent.postMessage('yes', '*'),"
        " (e) => parent.postMessage('no ' + e.code, '*'))</script>",
    )
    other_origin = frame.toString().replace("127.0.0.1", "localhost")
    top = http_site.add(
        "/p/top",
        "<title>Top</title><script>addEventListener('message', (e) => { window.answer = e.data })"
        f"</script><iframe allow='geolocation *' src='{other_origin}'></iframe>",
    )
    window = browsing_app.window()
    tab = window.new_tab()
    assert load(qtbot, tab, top)
    qtbot.waitUntil(lambda: run_js(qtbot, tab, "window.answer ?? null") == "no 1", timeout=WAIT)
    assert browsing_app.browsing.prompts.pending() == 0
    assert not browsing_app.browsing.parts(window).permission_bar.isVisible()
