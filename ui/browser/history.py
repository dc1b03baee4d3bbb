"""Recording visited pages: a page hook that writes each finished load to the browsing store.

What counts as a visit: a main-frame load of an ``http``/``https`` page that finished
successfully, at its final address (after redirects). Trickle's own pages, error pages and
``about:blank`` are not history. The title is the page's own, kept as plain text; it is
updated when the page changes it after loading.
"""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtWebEngineCore import QWebEnginePage

from ui.browser.hooks import TabContext
from ui.browser.storage import BrowsingStore

RECORDED_SCHEMES = frozenset({"http", "https"})


def history_key(url: QUrl) -> str | None:
    """The address history keeps for ``url`` (no fragment, no password), or None."""
    if url.scheme() not in RECORDED_SCHEMES or not url.host():
        return None
    # A null QString removes the part (an empty one would leave "#" or ":@"); PySide6's
    # stubs do not say that None is accepted, and its adjusted() rejects these options.
    clean = QUrl(url)
    clean.setFragment(None)  # type: ignore[arg-type]
    clean.setPassword(None)  # type: ignore[arg-type]
    return clean.toString()


class HistoryRecorder:
    """A ``PageHook``: records every visit of every page into ``store``."""

    def __init__(self, store: BrowsingStore) -> None:
        self._store = store
        self.enabled = True

    def attach(self, page: QWebEnginePage, tab: TabContext) -> None:
        def finished(ok: bool) -> None:
            key = history_key(page.url())
            if ok and key is not None and self.enabled:
                self._store.record_visit(key, _title(page))

        def title_changed(_title_text: str) -> None:
            key = history_key(page.url())
            if key is not None and self.enabled and not page.isLoading():
                self._store.set_title(key, _title(page))

        page.loadFinished.connect(finished)
        page.titleChanged.connect(title_changed)


def _title(page: QWebEnginePage) -> str:
    title = page.title().strip()
    url = page.url()
    return "" if title in (url.toString(), url.toDisplayString()) else title[:1000]
