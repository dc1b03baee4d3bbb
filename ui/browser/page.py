"""The page: popups become tabs, certificate errors are refused, console goes to logging.

Invariants: a certificate error is never accepted — not even "overridable" ones — unless the
page's :class:`~ui.browser.certificates.CertificatePins` vouch for exactly that certificate at
exactly that origin (the running sandbox's own https server); a refused main frame shows
``trickle://error/certificate`` instead of the site. Page console messages
are logged (truncated) on the ``trickle.js`` logger: info → DEBUG, warning → INFO,
error → WARNING, so the log file (INFO) keeps warnings and errors, never routine chatter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, QUrl
from PySide6.QtWebEngineCore import (
    QWebEngineCertificateError,
    QWebEnginePage,
    QWebEngineProfile,
)

from ui.browser.scheme import internal_url

if TYPE_CHECKING:
    from ui.browser.certificates import CertificatePins

js_log = logging.getLogger("trickle.js")
log = logging.getLogger(__name__)

MAX_CONSOLE_CHARS = 1000

_LEVELS = {
    QWebEnginePage.JavaScriptConsoleMessageLevel.InfoMessageLevel: logging.DEBUG,
    QWebEnginePage.JavaScriptConsoleMessageLevel.WarningMessageLevel: logging.INFO,
    QWebEnginePage.JavaScriptConsoleMessageLevel.ErrorMessageLevel: logging.WARNING,
}

# Asked for a new page of the given kind (popup, target=_blank); returns the new page.
PageOpener = Callable[[QWebEnginePage.WebWindowType], QWebEnginePage]


def certificate_error_url(url: QUrl, reason: str) -> QUrl:
    return internal_url(
        "error",
        "/certificate",
        url=url.toDisplayString()[:2000],
        host=url.host()[:255],
        reason=reason[:500],
    )


class BrowserPage(QWebEnginePage):
    """A web page in a Trickle tab."""

    def __init__(
        self, profile: QWebEngineProfile, opener: PageOpener, parent: QObject | None = None
    ) -> None:
        super().__init__(profile, parent)
        self._opener = opener
        self._pins: CertificatePins | None = None
        self.certificateError.connect(self._on_certificate_error)
        self.renderProcessTerminated.connect(self._on_render_process_terminated)

    def trust_pinned(self, pins: CertificatePins) -> None:
        """Accept what ``pins`` vouch for (set by their page hook before anything loads)."""
        self._pins = pins

    def createWindow(self, type: QWebEnginePage.WebWindowType) -> QWebEnginePage:
        return self._opener(type)

    def javaScriptConsoleMessage(
        self,
        level: QWebEnginePage.JavaScriptConsoleMessageLevel,
        message: str,
        line: int,
        source: str,
    ) -> None:
        if len(message) > MAX_CONSOLE_CHARS:
            message = message[:MAX_CONSOLE_CHARS] + "…"
        js_log.log(
            _LEVELS.get(level, logging.WARNING),
            "%s:%d: %s",
            source[:200],
            line,
            message,
            extra={"js_level": level.name},
        )

    def _on_certificate_error(self, error: QWebEngineCertificateError) -> None:
        url = error.url()
        if self._pins is not None and self._pins.vouches_for(error):
            error.acceptCertificate()
            log.info("accepted the pinned certificate of %s:%d", url.host(), url.port())
            return
        error.rejectCertificate()
        log.warning("refused certificate of %s: %s", url.host(), error.description())
        if not error.isMainFrame():
            return  # a subresource: it just fails to load; the page itself stays
        target = certificate_error_url(url, error.description())
        # Navigate once the rejected navigation has unwound, never from inside its handler.
        QTimer.singleShot(0, self, lambda: self.load(target))

    def _on_render_process_terminated(
        self, status: QWebEnginePage.RenderProcessTerminationStatus, exit_code: int
    ) -> None:
        if status == QWebEnginePage.RenderProcessTerminationStatus.NormalTerminationStatus:
            return
        url = self.url()
        log.warning("page renderer ended (%s, %d) on %s", status.name, exit_code, url.host())
        target = internal_url("error", "/crashed", url=url.toDisplayString()[:2000])
        QTimer.singleShot(0, self, lambda: self.load(target))
