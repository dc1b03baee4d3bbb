"""The persistent QtWebEngine profile, kept inside the Trickle profile directory.

Layout under the Trickle profile directory::

    webengine/storage   cookies, localStorage, IndexedDB ... (persistent)
    webengine/cache     HTTP cache

Invariant: the profile outlives every page created on it; delete windows (and so pages)
first, then the profile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtWebEngineCore import QWebEngineProfile, QWebEngineProfileBuilder, QWebEngineSettings

from ui.browser.hooks import ProfileInstaller
from ui.browser.scheme import SCHEME, Route, TrickleSchemeHandler

STORAGE_NAME = "trickle"


class ProfileInUseError(RuntimeError):
    """Another profile in this process (or another Trickle) already uses this directory."""


def storage_dir(profile_dir: Path) -> Path:
    """Where QtWebEngine keeps cookies and site data for this Trickle profile."""
    return profile_dir / "webengine" / "storage"


def create_profile(
    profile_dir: Path,
    routes: Mapping[str, Route],
    installers: Sequence[ProfileInstaller] = (),
    parent: QObject | None = None,
) -> QWebEngineProfile:
    """Build the disk-backed profile, serve ``trickle:`` from ``routes``, run the installers."""
    storage = storage_dir(profile_dir)
    cache = profile_dir / "webengine" / "cache"
    storage.mkdir(parents=True, exist_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    builder = QWebEngineProfileBuilder()
    builder.setPersistentStoragePath(str(storage))
    builder.setCachePath(str(cache))
    builder.setHttpCacheType(QWebEngineProfile.HttpCacheType.DiskHttpCache)
    builder.setPersistentCookiesPolicy(
        QWebEngineProfile.PersistentCookiesPolicy.AllowPersistentCookies
    )
    profile = builder.createProfile(STORAGE_NAME, parent)
    if profile is None:  # Qt returns null when the data path is taken
        raise ProfileInUseError(f"the browser data in {storage} is already in use")
    profile.setSpellCheckEnabled(False)

    settings = profile.settings()
    # window.open without a user gesture is blocked (Chromium's popup blocker); with one, it
    # opens a tab. Hostile pages must not flood the user with tabs.
    settings.setAttribute(QWebEngineSettings.WebAttribute.JavascriptCanOpenWindows, False)
    # Full screen is a site permission (ui/browser/fullscreen.py): asked, remembered per site.
    settings.setAttribute(QWebEngineSettings.WebAttribute.FullScreenSupportEnabled, True)
    settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls, False)
    settings.setAttribute(QWebEngineSettings.WebAttribute.LocalContentCanAccessFileUrls, False)

    handler = TrickleSchemeHandler(routes, profile)
    profile.installUrlSchemeHandler(SCHEME.encode(), handler)
    for installer in installers:
        installer.install(profile)
    return profile
