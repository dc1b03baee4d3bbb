"""The top-level document's response policy, as QtWebEngine and the HTTP cache report it (GUI).

``Permissions-Policy`` and ``Content-Security-Policy`` come in the document's response headers.
QtWebEngine 6.11 reports them only when the main frame's load ends
(``QWebEnginePage.loadingChanged``, ``QWebEngineLoadingInfo.responseHeaders()``; nothing at
``LoadStartedStatus``, and no response interceptor exists): a page whose load never ends (an
image that never arrives, a long poll) would never be known. So bridge.js also reads the
document's response from the HTTP cache as soon as the document exists (``fetch(url, {cache:
"only-if-cached"})``: no request reaches the network) and reports its headers
(:meth:`DocumentResponse.cached`). Chromium stores the navigation's response there unless it
says ``no-store``, and a ``no-store`` response dooms the entry before it, so what is found is
this document's response (or, for a POST, the last GET of its URL). Those headers are the
policy until the load ends; then Qt's headers are the policy, and if they differ every link of
the document is decided again (:meth:`DocumentResponse.loaded`).

Without either (a ``no-store`` page still loading), a link whose session bridge.js asks for
waits here, and one stopped meanwhile is never started. A navigation that does not replace the
document (a 204, a download, a stop) keeps the policy of the document before it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QUrl
from PySide6.QtWebEngineCore import QWebEngineLoadingInfo

from ui.webmonetization.origins import origin_of

if TYPE_CHECKING:
    from ui.webmonetization.link_policy import ResponsePolicy

__all__ = ["MAX_HELD_LINKS", "DocumentResponse"]

MAX_HELD_LINKS = 64
_STATUS = QWebEngineLoadingInfo.LoadStatus


@dataclass(frozen=True, slots=True)
class _Headers:
    """A response's policy headers, read (:mod:`.link_policy`) only when a link needs them: most
    documents have none, and the first page's load ends just before its first paint."""

    lines: Mapping[str, list[str]]
    url: str

    def policy(self) -> ResponsePolicy:
        from ui.webmonetization.link_policy import ResponsePolicy

        return ResponsePolicy.from_headers(self.lines, origin_of(QUrl(self.url)))


_NO_HEADERS = _Headers({}, "")  # the policy of a page without policy headers


class DocumentResponse:
    """Owns: the current document's :class:`ResponsePolicy` (``None`` while a navigation's
    headers are not known), whether it is Qt's final word, and the document's link starts
    (waiting for the policy, or decided under a policy read from the cache)."""

    def __init__(self) -> None:
        self._known: ResponsePolicy | _Headers | None = None  # None: not known
        self._final = False  # the policy is Qt's (the load ended), not the cache's
        self._prior: ResponsePolicy | _Headers = _NO_HEADERS
        self._starts: dict[str, str] = {}  # link id -> its linkStart message (held or decided)

    @property
    def policy(self) -> ResponsePolicy | None:
        """The document's policy, ``None`` while not known."""
        self._known = _read(self._known)
        return self._known

    def navigating(self) -> None:
        """A navigation started (``loadStarted``): the next document's headers are not known."""
        if self._known is not None:
            self._prior = self._known
        self._known = None
        self._final = False
        self._starts.clear()

    def new_document(self) -> None:
        """Another document is the page's (bridge.js's ``hello``). A navigation that starts
        while a load is under way emits no ``loadStarted``: unless the load of this navigation
        already ended (Qt's headers came before the document's hello), its policy is unknown."""
        if not self._final:
            self._known = None
        self._starts.clear()

    def cached(self, headers: Mapping[str, list[str]], url: str) -> list[str]:
        """bridge.js found the document's response (``url``) in the HTTP cache: its headers
        are the policy until the load ends; the link starts that waited, to run now."""
        if self._known is not None:
            return []  # Qt's headers came first
        self._known = _Headers(headers, url)
        return list(self._starts.values())

    def loaded(self, info: QWebEngineLoadingInfo) -> list[str]:
        """``loadingChanged``: once the load ends, Qt's headers are the policy (see
        :meth:`ended`)."""
        status = info.status()
        if status == _STATUS.LoadStartedStatus:
            return []
        if status == _STATUS.LoadSucceededStatus and not info.isDownload():
            return self.ended(header_lines(info.responseHeaders()), info.url().toString())
        return self.ended(None, None)

    def ended(self, headers: Mapping[str, list[str]] | None, url: str | None) -> list[str]:
        """The load ended: with the document's response ``headers`` (from ``url``), or none
        (stopped, failed, a download, a 204: the document, if any, is the one the cache told
        of, or the one before). The link starts to run now: those that waited, or all of them
        if the cache's policy was another."""
        if self._final:
            return []
        if headers is not None and url is not None:
            after: ResponsePolicy | _Headers = _Headers(headers, url)
        else:
            after = self._known if self._known is not None else self._prior
        before, self._known, self._final = self._known, after, True
        if not self._starts:
            return []  # nothing to run again (and no header read for nothing)
        if _read(before) == self.policy:
            return []  # (held starts exist only while no policy was known: before is None)
        return list(self._starts.values())

    def hold(self, link: str | None, text: str) -> bool:
        """Remember link ``link``'s start (its message ``text``): to run when the policy is
        known, or again if it changes. True when it must wait (no policy yet)."""
        if link is not None and (link in self._starts or len(self._starts) < MAX_HELD_LINKS):
            self._starts[link] = text
        return self._known is None

    def drop(self, link: str) -> None:
        """Link ``link`` stopped: a start of it still waiting is dropped, never run."""
        self._starts.pop(link, None)


def _read(known: ResponsePolicy | _Headers | None) -> ResponsePolicy | None:
    return known.policy() if isinstance(known, _Headers) else known


def header_lines(raw: Mapping[Any, Any]) -> dict[str, list[str]]:
    """``QWebEngineLoadingInfo.responseHeaders()`` (name → a list of values; the stubs say one
    value) as text, header by header line."""

    def text(b: Any) -> str:
        return bytes(b.data()).decode("latin-1")

    return {
        text(name): [text(v) for v in (values if isinstance(values, list) else [values])]
        for name, values in raw.items()
    }
