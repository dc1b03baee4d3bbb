"""Search engines for the address bar: what is typed that is not an address is searched for.

The user picks one in the browser settings (``SETTING``); ``none`` keeps the "not a web
address" page. Each engine is an HTTPS URL template whose ``{}`` receives the percent-encoded
words.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QUrl

SETTING = "search_engine"
NONE = "none"


@dataclass(frozen=True, slots=True)
class SearchEngine:
    key: str
    name: str
    template: str  # "{}" is replaced by the percent-encoded query

    def url_for(self, text: str) -> QUrl:
        encoded = bytes(QUrl.toPercentEncoding(text.strip()).data()).decode()
        return QUrl(self.template.replace("{}", encoded))


ENGINES: tuple[SearchEngine, ...] = (
    SearchEngine("duckduckgo", "DuckDuckGo", "https://duckduckgo.com/?q={}"),
    SearchEngine("startpage", "Startpage", "https://www.startpage.com/do/search?query={}"),
    SearchEngine("brave", "Brave Search", "https://search.brave.com/search?q={}"),
    SearchEngine("wikipedia", "Wikipedia", "https://en.wikipedia.org/w/index.php?search={}"),
    SearchEngine("google", "Google", "https://www.google.com/search?q={}"),
    SearchEngine("bing", "Bing", "https://www.bing.com/search?q={}"),
)
DEFAULT = "duckduckgo"


def engine_by_key(key: str) -> SearchEngine | None:
    """The engine called ``key``; None for ``none`` (and for a key no longer offered)."""
    return next((e for e in ENGINES if e.key == key), None)
