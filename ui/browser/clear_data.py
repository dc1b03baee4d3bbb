"""Clear browsing data: what, and from when (Ctrl+Shift+Delete).

What QtWebEngine 6.11 lets a browser clear, and so what "from when" can mean for each kind:

* **History** — Trickle's own (``BrowsingStore``): by time range. The ``:visited`` state of
  the links goes with it (``clearVisitedLinks`` for the pages of the range, or all).
* **Cookies** — ``QWebEngineCookieStore`` keeps no dates, so Trickle records when it first
  saw each cookie (``cookieAdded``; ``loadAllCookies`` at start for those on disk) and deletes
  those first seen in the range; "all time" deletes every cookie.
* **Site data** (local and session storage, IndexedDB, service workers, ...) — QtWebEngine
  has no call to delete it while the profile is in use: "all time" removes its folders the
  next time Trickle starts, before the profile is opened (``remove_site_data``), and the
  dialog says so. A shorter range leaves it.
* **Cached images and files** — ``clearHttpCache`` has no range: all of it, whatever the range.
* **Site permissions** — Trickle's own: the decisions made in the range.
* **Downloads list** — this run's list (the files stay): the finished downloads started in
  the range.
"""

from __future__ import annotations

import contextlib
import enum
import shutil
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QTimer, QUrl
from PySide6.QtNetwork import QNetworkCookie
from PySide6.QtWebEngineCore import QWebEngineProfile

from ui.browser.downloads import Downloads
from ui.browser.storage import BrowsingStore, CookieKey

# How far back, in seconds (None: everything).
RANGES: tuple[tuple[str, float | None], ...] = (
    ("the last hour", 3600.0),
    ("the last 24 hours", 86_400.0),
    ("the last 7 days", 7 * 86_400.0),
    ("the last 4 weeks", 28 * 86_400.0),
    ("all time", None),
)
SITE_DATA_PENDING = "clear_site_data_on_start"
# Chromium's per-site storage under the profile's storage folder (not cookies, not caches).
SITE_DATA_DIRS = (
    "Local Storage",
    "Session Storage",
    "IndexedDB",
    "Service Worker",
    "databases",
    "File System",
    "WebStorage",
    "blob_storage",
    "shared_proto_db",
)


class Kind(enum.Enum):
    HISTORY = "Browsing history"
    COOKIES = "Cookies and site data"
    CACHE = "Cached images and files"
    PERMISSIONS = "Site permissions"
    DOWNLOADS = "Downloads list"


@dataclass(frozen=True)
class Cleared:
    """What one clearing did, in numbers a person can be told."""

    pages: int = 0
    cookies: int = 0
    permissions: int = 0
    downloads: int = 0
    cache: bool = False
    site_data_on_restart: bool = False

    def summary(self) -> str:
        counted = (
            (self.pages, "page", "from history"),
            (self.cookies, "cookie", ""),
            (self.permissions, "site permission", ""),
            (self.downloads, "download", "from the list"),
        )
        parts = [
            f"{n} {noun}{'' if n == 1 else 's'} {where}".strip() for n, noun, where in counted if n
        ]
        if self.cache:
            parts.append("the cache")
        text = "Cleared " + ", ".join(parts) + "." if parts else "Nothing to clear."
        if self.site_data_on_restart:
            text += " Site data is removed when Trickle next starts."
        return text


def remove_site_data(storage: Path) -> None:
    """Delete the site data folders in ``storage`` (a QtWebEngine profile's storage path that
    no profile uses now)."""
    for name in SITE_DATA_DIRS:
        shutil.rmtree(storage / name, ignore_errors=True)


class BrowsingData:
    """A ``ProfileInstaller`` that follows the cookies, and clears what the user chooses."""

    def __init__(self, store: BrowsingStore, downloads: Downloads | None = None) -> None:
        self._store = store
        self._downloads = downloads
        self._profile: QWebEngineProfile | None = None
        self._cookies: dict[CookieKey, QNetworkCookie] = {}
        self._unsaved: list[CookieKey] = []  # seen, written in one transaction a turn later

    def install(self, profile: QWebEngineProfile) -> None:
        self._profile = profile
        cookies = profile.cookieStore()
        cookies.cookieAdded.connect(self._added)
        cookies.cookieRemoved.connect(lambda c: self._cookies.pop(_key(c), None))
        cookies.loadAllCookies()  # those on disk, so that they are known (and dated) too

    def _added(self, cookie: QNetworkCookie) -> None:
        key = _key(cookie)
        self._cookies[key] = QNetworkCookie(cookie)
        if not self._unsaved:
            QTimer.singleShot(0, self._save_seen)
        self._unsaved.append(key)

    def _save_seen(self) -> None:
        keys, self._unsaved = self._unsaved, []
        if keys:
            with contextlib.suppress(sqlite3.ProgrammingError):  # closed: seen again next start
                self._store.cookies_seen(keys)

    def cookie_count(self) -> int:
        return len(self._cookies)

    def clear(self, kinds: Sequence[Kind], range_index: int) -> Cleared:
        """Clear ``kinds`` over ``RANGES[range_index]``."""
        self._save_seen()
        _label, seconds = RANGES[range_index]
        since = None if seconds is None else self._store.now() - seconds
        profile = self._profile
        pages = cookies = permissions = downloads = 0
        if Kind.HISTORY in kinds:
            visited = self._store.pages_visited_since(since)
            pages = self._store.clear_history(since)
            if profile is not None:
                if since is None:
                    profile.clearAllVisitedLinks()
                else:
                    profile.clearVisitedLinks([QUrl(u) for u in visited])
        if Kind.COOKIES in kinds:
            cookies = self._clear_cookies(since)
            if since is None:
                self._store.set_setting(SITE_DATA_PENDING, "1")
        if Kind.CACHE in kinds and profile is not None:
            profile.clearHttpCache()
        if Kind.PERMISSIONS in kinds:
            permissions = self._store.clear_permissions(since)
        if Kind.DOWNLOADS in kinds and self._downloads is not None:
            downloads = self._downloads.forget(since)
        return Cleared(
            pages=pages,
            cookies=cookies,
            permissions=permissions,
            downloads=downloads,
            cache=Kind.CACHE in kinds and profile is not None,
            site_data_on_restart=Kind.COOKIES in kinds and since is None,
        )

    def _clear_cookies(self, since: float | None) -> int:
        if self._profile is None:
            return 0
        store = self._profile.cookieStore()
        if since is None:
            count = len(self._cookies)
            store.deleteAllCookies()
            self._store.forget_cookies(None)
            return count
        recent = self._store.cookies_seen_since(since)
        doomed = [cookie for key, cookie in self._cookies.items() if key in recent]
        for cookie in doomed:
            store.deleteCookie(cookie)
        self._store.forget_cookies(since)
        return len(doomed)


def site_data_cleared_on_start(store: BrowsingStore, storage: Path) -> bool:
    """Before the profile opens: remove the site data that a clearing asked for. Returns
    whether it did."""
    if store.setting(SITE_DATA_PENDING, "") != "1":
        return False
    remove_site_data(storage)
    store.set_setting(SITE_DATA_PENDING, "")
    return True


def _key(cookie: QNetworkCookie) -> CookieKey:
    return (cookie.domain(), cookie.path(), bytes(cookie.name().data()).decode("latin-1"))


Clearer = Callable[[Sequence[Kind], int], Cleared]
