"""The top-level document's response policy, as QtWebEngine reports it (GUI thread).

``Permissions-Policy`` and ``Content-Security-Policy`` come in the document's response headers;
QtWebEngine reports them when the main frame's load ends (``QWebEnginePage.loadingChanged``,
``QWebEngineLoadingInfo.responseHeaders()``), not when the document is created. So a link whose
session bridge.js asks for earlier waits here until they are known, and one stopped meanwhile is
never started. A navigation that does not replace the document (a 204, a download, a stop) keeps
the policy of the document before it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtWebEngineCore import QWebEngineLoadingInfo

from ui.webmonetization.link_policy import ResponsePolicy
from ui.webmonetization.origins import origin_of

__all__ = ["MAX_HELD_LINKS", "DocumentResponse"]

MAX_HELD_LINKS = 64
_STATUS = QWebEngineLoadingInfo.LoadStatus


class DocumentResponse:
    """Owns: the current document's :class:`ResponsePolicy` (``None`` while a navigation's
    headers are not known) and the link starts waiting for it."""

    def __init__(self) -> None:
        self.policy: ResponsePolicy | None = None
        self._prior = ResponsePolicy()
        self._held: list[tuple[str, str]] = []  # (link id, its linkStart message)

    def navigating(self) -> None:
        """A navigation started (``loadStarted``): the next document's headers are not known."""
        if self.policy is not None:
            self._prior = self.policy
        self.policy = None
        self._held.clear()

    def loaded(self, info: QWebEngineLoadingInfo) -> list[str]:
        """``loadingChanged``: once the load ends, the policy is known; the link starts that
        waited for it, to run now."""
        status = info.status()
        if status == _STATUS.LoadStartedStatus or self.policy is not None:
            return []
        if status == _STATUS.LoadSucceededStatus and not info.isDownload():
            headers = header_lines(info.responseHeaders())
            self.policy = ResponsePolicy.from_headers(headers, origin_of(info.url()))
        else:  # stopped, failed, a download, a 204: the document (if any) is the one before
            self.policy = self._prior
        held, self._held = self._held, []
        return [text for _link, text in held]

    def hold(self, link: str | None, text: str) -> None:
        """Keep link ``link``'s start (its message ``text``) until the policy is known."""
        if link is not None and len(self._held) < MAX_HELD_LINKS:
            self._held.append((link, text))

    def drop(self, link: str) -> None:
        """Link ``link`` stopped: a start of it still waiting is dropped, never run."""
        self._held = [(held, text) for held, text in self._held if held != link]


def header_lines(raw: Mapping[Any, Any]) -> dict[str, list[str]]:
    """``QWebEngineLoadingInfo.responseHeaders()`` (name → a list of values; the stubs say one
    value) as text, header by header line."""

    def text(b: Any) -> str:
        return bytes(b.data()).decode("latin-1")

    return {
        text(name): [text(v) for v in (values if isinstance(values, list) else [values])]
        for name, values in raw.items()
    }
