"""Fixtures for tests with a real QtWebEngine (offscreen).

* ``http_site`` / ``https_site``: loopback servers (port 0) serving pages tests add.
* ``make_browser`` / ``browser``: a ``BrowserWindow`` on a persistent profile in a temporary
  directory, shown and focused; torn down pages-first, then the profile.
* ``fail_on_warnings`` (autouse): any Qt warning or JS console error fails the test.

Environment (set by tests/conftest.py before Qt loads): offscreen platform, no Chromium
sandbox, caches in a temporary directory. Here we add a Chromium host-resolver rule so that
any ``*.test`` host name resolves to 127.0.0.1: "a typed host goes to https" can then be tested
with a real name, offline. It goes in QTWEBENGINE_CHROMIUM_FLAGS (read when QtWebEngine first
starts, whoever created the QApplication); the quotes keep the rule's spaces.
"""

from __future__ import annotations

import logging
import os
import re
import ssl
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6 import QtWebEngineWidgets  # noqa: F401  (before QApplication: GL context sharing)
from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QMessageLogContext,
    QtMsgType,
    QUrl,
    qInstallMessageHandler,
)
from PySide6.QtWebEngineCore import QWebEngineProfile

from tests.qt import servers
from ui.app import internal_routes, register_schemes
from ui.browser.hooks import PageHook, ProfileInstaller
from ui.browser.profile import create_profile
from ui.browser.webview import BrowserTab
from ui.browser.window import BrowserWindow

# Generous: the machine may be shared and busy; a wait returns as soon as its condition holds.
WAIT = 20_000

# Read when QtWebEngine first starts (the first profile), whoever created the QApplication.
_RESOLVER_RULE = '--host-resolver-rules="MAP *.test 127.0.0.1"'
if _RESOLVER_RULE not in os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", ""):
    os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = (
        os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "") + " " + _RESOLVER_RULE
    ).strip()

register_schemes()  # must precede the QApplication that pytest-qt's qapp creates

# Qt messages that are expected on this headless machine and say nothing about Trickle.
# Each is matched against the whole message; anything else at Warning or above fails the test.
KNOWN_HARMLESS_QT_MESSAGES = [
    # No GPU / no GL on the offscreen platform: Qt's RHI falls back to software rendering.
    r"QRhiGles2: Failed to create (temporary )?context",
    r"Failed to create RHI for backend: OpenGL",
    # No Vulkan on the offscreen platform either; same fallback.
    r"This plugin does not support createPlatformVulkanInstance",
    r"QVulkanInstance: Failed to initialize Vulkan",
    r"GBM is not supported with the current configuration and Vulkan is not available\. "
    r"Fallback to software rendering\.",
    # Chromium's GPU process has no GPU to describe (follows from the above).
    r"GPUInfo not initialized on GpuInfoUpdate",
    # QTWEBENGINE_DISABLE_SANDBOX=1, required as root in tests only (PLATFORM-NOTES).
    r"Sandboxing disabled by user\.",
    # Under Xvfb (QT_QPA_PLATFORM=xcb, to look at the app as a person would): no Vulkan
    # loader installed, and Mesa's software renderer has no GPU vendor.
    r"Failed to load vulkan: .*",
    r"initInstance: No Vulkan library available",
    r"Failed to create platform Vulkan instance",
    r"Unable to detect GPU vendor for device: .*",
]
_HARMLESS = [re.compile(p) for p in KNOWN_HARMLESS_QT_MESSAGES]
# D-Bus: Chromium prints "Failed to connect to the bus" itself on stderr (no session bus
# here); it never reaches Qt's message handler, so it needs no filter.


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "allow_js_errors: JS console errors are expected in this test (not a failure)"
    )
    config.addinivalue_line(
        "markers", "allow_qt_messages(*regexes): Qt warnings expected in this test"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # fail_on_warnings owns Qt message capture for these tests, set-up to teardown inclusive
    # (pytest-qt's own capture stops before teardown, where "profile released while pages
    # still exist" would be reported).
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.no_qt_log)
            item.add_marker(pytest.mark.qt)


class _JsErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def fail_on_warnings(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """Fail the test on any Qt warning (bar the known harmless ones) or JS console error.

    Yields the list of Qt messages seen so far (for tests that assert on them).
    """
    messages: list[tuple[QtMsgType, str]] = []

    def handler(kind: QtMsgType, _context: QMessageLogContext, message: str) -> None:
        messages.append((kind, message))

    marker = request.node.get_closest_marker("allow_qt_messages")
    allowed = [*_HARMLESS, *(re.compile(p) for p in (marker.args if marker else ()))]
    js = _JsErrors()
    js_logger = logging.getLogger("trickle.js")
    js_logger.addHandler(js)
    previous_level = js_logger.level
    js_logger.setLevel(logging.DEBUG)
    previous = qInstallMessageHandler(handler)
    seen: list[str] = []
    try:
        yield seen
    finally:
        qInstallMessageHandler(previous)
        js_logger.removeHandler(js)
        js_logger.setLevel(previous_level)
    bad_qt = [
        m
        for kind, m in messages
        if kind != QtMsgType.QtDebugMsg
        and kind != QtMsgType.QtInfoMsg
        and not any(p.fullmatch(m.strip()) for p in allowed)
    ]
    bad_js = (
        []
        if request.node.get_closest_marker("allow_js_errors")
        else [r.getMessage() for r in js.records]
    )
    if bad_qt or bad_js:
        pytest.fail(
            "unexpected messages:\n"
            + "".join(f"  Qt: {m}\n" for m in bad_qt)
            + "".join(f"  JS: {m}\n" for m in bad_js),
            pytrace=False,
        )


@pytest.fixture(scope="session")
def http_site() -> Iterator[servers.Site]:
    site = servers.Site("http")
    server = servers.start(site)
    site.add("/icon.png", servers.png(), "image/png")
    yield site
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def https_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.Site]:
    """HTTPS on loopback with a self-signed certificate (which Trickle must refuse)."""
    context: ssl.SSLContext = servers.self_signed_context(tmp_path_factory.mktemp("tls"))
    site = servers.Site("https")
    server = servers.start(site, context)
    yield site
    server.shutdown()
    server.server_close()


class Browser:
    """Creates windows on profiles and tears them down in the order QtWebEngine needs."""

    def __init__(self, qtbot: Any, root: Path) -> None:
        self._qtbot = qtbot
        self._root = root
        self._open: list[tuple[BrowserWindow, QWebEngineProfile]] = []
        self._count = 0

    def __call__(
        self,
        profile_dir: Path | None = None,
        page_hooks: Sequence[PageHook] = (),
        installers: Sequence[ProfileInstaller] = (),
    ) -> BrowserWindow:
        if profile_dir is None:
            self._count += 1
            profile_dir = self._root / f"profile-{self._count}"
        profile = create_profile(profile_dir, internal_routes({}), installers)
        window = BrowserWindow(profile, page_hooks)
        window.resize(1000, 700)
        window.show()
        window.activateWindow()
        self._qtbot.waitExposed(window)
        self._qtbot.waitUntil(window.is_focused, timeout=WAIT)
        self._open.append((window, profile))
        return window

    def close(self, window: BrowserWindow) -> None:
        """Close the window, delete its pages, then its profile (flushes cookies to disk)."""
        for i, (w, profile) in enumerate(self._open):
            if w is window:
                del self._open[i]
                _teardown(w, profile)
                return

    def close_all(self) -> None:
        while self._open:
            _teardown(*self._open.pop())


def _teardown(window: BrowserWindow, profile: QWebEngineProfile) -> None:
    if shiboken6.isValid(window):
        window.close()
        shiboken6.delete(window)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    shiboken6.delete(profile)
    QCoreApplication.processEvents()


@pytest.fixture
def make_browser(qtbot: Any, tmp_path: Path) -> Iterator[Browser]:
    browser = Browser(qtbot, tmp_path)
    yield browser
    browser.close_all()


@pytest.fixture
def browser(make_browser: Browser) -> BrowserWindow:
    """A shown, focused window with no tabs, on a fresh profile."""
    return make_browser()


def load(qtbot: Any, tab: BrowserTab, url: QUrl, timeout: int = WAIT) -> bool:
    """Load ``url`` in ``tab`` and wait for the load to finish; returns its ``ok``."""
    results: list[bool] = []
    tab.loadFinished.connect(results.append)  # connected before load(): no missed signal
    tab.load(url)
    qtbot.waitUntil(lambda: bool(results), timeout=timeout)
    return results[-1]


def run_js(qtbot: Any, tab: BrowserTab, script: str, timeout: int = WAIT) -> Any:
    """Run ``script`` in the page's main world and return its result."""
    results: list[Any] = []
    tab.page().runJavaScript(script, 0, results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=timeout)
    return results[0]


@pytest.fixture
def js(qtbot: Any) -> Callable[[BrowserTab, str], Any]:
    return lambda tab, script: run_js(qtbot, tab, script)
