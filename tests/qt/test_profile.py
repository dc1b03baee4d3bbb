"""The QtWebEngine profile persists inside the Trickle profile directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.qt.conftest import WAIT, Browser, load, run_js
from tests.qt.servers import Site
from ui.browser.profile import ProfileInUseError, create_profile


def test_cookies_and_local_storage_survive_a_restart(
    qtbot: Any, make_browser: Browser, http_site: Site, tmp_path: Path
) -> None:
    profile_dir = tmp_path / "trickle-profile"
    url = http_site.add(
        "/remember",
        "<title>Remember</title>",
        headers=(("Set-Cookie", "server=kept; Max-Age=3600; Path=/"),),
    )

    window = make_browser(profile_dir)
    tab = window.new_tab()
    # A cookie a script sets travels from the renderer to the browser's cookie store on its own
    # time; the store's cookieAdded says it arrived (only then can closing the profile keep it;
    # a person does not quit within the same millisecond, a test does).
    arrived: list[str] = []
    tab.page().profile().cookieStore().cookieAdded.connect(
        lambda cookie: arrived.append(bytes(cookie.name().data()).decode())
    )
    assert load(qtbot, tab, url)
    run_js(
        qtbot,
        tab,
        "document.cookie = 'page=also-kept; max-age=3600; path=/';"
        "localStorage.setItem('greeting', 'hello again'); true",
    )
    qtbot.waitUntil(lambda: {"server", "page"} <= set(arrived), timeout=WAIT)
    make_browser.close(window)  # window, pages, then the profile: as the app shuts down
    assert (profile_dir / "webengine" / "storage").is_dir()

    window = make_browser(profile_dir)
    tab = window.new_tab()
    assert load(qtbot, tab, url)
    cookies = run_js(qtbot, tab, "document.cookie")
    assert "server=kept" in cookies and "page=also-kept" in cookies
    assert run_js(qtbot, tab, "localStorage.getItem('greeting')") == "hello again"


@pytest.mark.allow_qt_messages(
    r"Unable to create new profile, as another profile is using the same data path"
)
def test_a_profile_directory_in_use_is_refused(make_browser: Browser, tmp_path: Path) -> None:
    make_browser(tmp_path / "shared")
    with pytest.raises(ProfileInUseError):
        create_profile(tmp_path / "shared", {})
