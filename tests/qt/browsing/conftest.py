"""A composed browser for the issue-21 tests: ``Browsing`` bound to ``Windows`` on a real
profile, a real ``browsing.sqlite`` and an injected clock; torn down pages-first."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWebEngineCore import QWebEngineProfile
from PySide6.QtWidgets import QApplication

from tests.qt.conftest import WAIT
from ui.app import internal_routes
from ui.browser.browsing import Browsing
from ui.browser.downloads import Downloads
from ui.browser.profile import create_profile
from ui.browser.storage import BrowsingStore
from ui.browser.window import BrowserWindow
from ui.browser.windows import Windows

T0 = 1_800_000_000.0  # 2027-01-15
# What the offscreen platform says when a top-level widget (the Library) sizes itself, and
# when a popup (the completion list, a menu) raises itself and grabs the keyboard.
OFFSCREEN_NOTES = (
    r"This plugin does not support propagateSizeHints\(\)",
    r"This plugin does not support raise\(\)",
    r"This plugin does not support grabbing the keyboard",
)
offscreen_windows = pytest.mark.allow_qt_messages(*OFFSCREEN_NOTES)


@dataclass
class Clock:
    now: float = T0

    def __call__(self) -> float:
        return self.now


@dataclass
class BrowsingApp:
    qtbot: Any
    root: Path
    clock: Clock
    store: BrowsingStore
    downloads: Downloads
    browsing: Browsing
    windows: Windows
    profile: QWebEngineProfile
    download_dir: Path
    closed: bool = field(default=False)

    def window(self) -> BrowserWindow:
        """A new shown, focused window with no tabs."""
        window = self.windows.new_window(show=False)
        window.resize(1000, 700)
        window.show()
        window.activateWindow()
        self.qtbot.waitExposed(window)
        self.qtbot.waitUntil(window.is_focused, timeout=WAIT)
        return window

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.browsing.save_session()
        self.windows.delete_all()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        self.browsing.close()
        shiboken6.delete(self.profile)
        QCoreApplication.processEvents()


def open_browsing(qtbot: Any, root: Path, clock: Clock | None = None) -> BrowsingApp:
    clock = clock or Clock()
    profile_dir = root / "profile"
    profile_dir.mkdir(parents=True, exist_ok=True)
    store = BrowsingStore.open(profile_dir, clock)
    download_dir = root / "downloads"
    downloads = Downloads(download_dir)
    browsing = Browsing(store, downloads, start_dir=root)
    profile = create_profile(profile_dir, internal_routes({}), [downloads, *browsing.installers])
    windows = Windows(profile, browsing.page_hooks)
    browsing.bind(windows)
    return BrowsingApp(
        qtbot, root, clock, store, downloads, browsing, windows, profile, download_dir
    )


@pytest.fixture
def browsing_app(qtbot: Any, tmp_path: Path) -> Iterator[BrowsingApp]:
    app = open_browsing(qtbot, tmp_path)
    yield app
    for widget in QApplication.topLevelWidgets():
        if widget.isVisible() and not isinstance(widget, BrowserWindow):
            widget.close()
    app.close()
