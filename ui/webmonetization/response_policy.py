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
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtWebEngineCore import QWebEngineLoadingInfo

from ui.webmonetization.link_policy import ResponsePolicy
from ui.webmonetization.origins import origin_of

__all__ = ["MAX_HELD_LINKS", "DocumentResponse"]

MAX_HELD_LINKS = 64
_STATUS = QWebEngineLoadingInfo.LoadStatus


class DocumentResponse:
    """Owns: the current document's :class:`ResponsePolicy` (``None`` while a navigation's
    headers are not known), whether it is Qt's final word, and the document's link starts
    (waiting for the policy, or decided under a policy read from the cache)."""

    def __init__(self) -> None:
        self.policy: ResponsePolicy | None = None
        self._final = False  # the policy is Qt's (the load ended), not the cache's
        self._prior = ResponsePolicy()
        self._starts: dict[str, str] = {}  # link id -> its linkStart message (held or decided)

    def navigating(self) -> None:
        """A navigation started (``loadStarted``): the next document's headers are not known."""
        if self.policy is not None:
            self._prior = self.policy
        self.policy = None
        self._final = False
        self._starts.clear()

    def new_document(self) -> None:
        """Another document is the page's (bridge.js's ``hello``). A navigation that starts
        while a load is under way emits no ``loadStarted``: unless the load of this navigation
        already ended (Qt's headers came before the document's hello), its policy is unknown."""
        if not self._final:
            self.policy = None
        self._starts.clear()

    def cached(self, headers: Mapping[str, list[str]], url: str) -> list[str]:
        """bridge.js found the document's response (``url``) in the HTTP cache: its headers
        are the policy until the load ends; the link starts that waited, to run now."""
        if self.policy is not None:
            return []  # Qt's headers came first
        self.policy = ResponsePolicy.from_headers(headers, origin_of(QUrl(url)))
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
            policy = ResponsePolicy.from_headers(headers, origin_of(QUrl(url)))
        else:
            policy = self.policy if self.policy is not None else self._prior
        before, self.policy, self._final = self.policy, policy, True
        if before == policy:
            return []  # (held starts exist only while no policy was known: before is None)
        return list(self._starts.values())

    def hold(self, link: str | None, text: str) -> bool:
        """Remember link ``link``'s start (its message ``text``): to run when the policy is
        known, or again if it changes. True when it must wait (no policy yet)."""
        if link is not None and (link in self._starts or len(self._starts) < MAX_HELD_LINKS):
            self._starts[link] = text
        return self.policy is None

    def drop(self, link: str) -> None:
        """Link ``link`` stopped: a start of it still waiting is dropped, never run."""
        self._starts.pop(link, None)


def header_lines(raw: Mapping[Any, Any]) -> dict[str, list[str]]:
    """``QWebEngineLoadingInfo.responseHeaders()`` (name → a list of values; the stubs say one
    value) as text, header by header line."""

    def text(b: Any) -> str:
        return bytes(b.data()).decode("latin-1")

    return {
        text(name): [text(v) for v in (values if isinstance(values, list) else [values])]
        for name, values in raw.items()
    }
