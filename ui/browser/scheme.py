"""The ``trickle:`` URL scheme: Trickle's own internal pages.

URLs have a host, one per page or page family: ``trickle://start/``,
``trickle://error/certificate?url=...``. Each host is a separate origin (Host syntax), so an
internal page cannot script another one. The scheme is Secure (a secure context) and Local
(web pages can neither link to it nor frame it). Registration must happen before the
QApplication exists (``register_scheme``); the handler is installed per profile.

Invariants: only GET is served; every value taken from the URL is HTML-escaped before it
reaches a page; an unknown host or path fails with ``UrlNotFound`` rather than a fallback.
A page whose answer is not known yet (the wallet's, while the wallet starts) returns
``Pending``: the request stays open and is answered on the GUI thread when it is known, unless
the page went away meanwhile.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import html
import logging
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import shiboken6
from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QIODevice,
    QObject,
    Qt,
    QUrl,
    QUrlQuery,
    Signal,
    Slot,
)
from PySide6.QtWebEngineCore import (
    QWebEngineUrlRequestJob,
    QWebEngineUrlScheme,
    QWebEngineUrlSchemeHandler,
)

log = logging.getLogger(__name__)

SCHEME = "trickle"
START_URL = QUrl("trickle://start/")

_MIME_BY_SUFFIX = {
    ".html": b"text/html",
    ".css": b"text/css",
    ".svg": b"image/svg+xml",
    ".png": b"image/png",
    ".js": b"text/javascript",
}
_NAME = re.compile(r"[a-z0-9][a-z0-9-]*(\.[a-z0-9]+)?")


def register_scheme() -> None:
    """Declare ``trickle:`` to QtWebEngine. Call before the QApplication is created."""
    if QWebEngineUrlScheme.schemeByName(SCHEME.encode()).name():
        return  # already registered in this process (tests create many windows)
    scheme = QWebEngineUrlScheme(SCHEME.encode())
    scheme.setSyntax(QWebEngineUrlScheme.Syntax.Host)
    scheme.setFlags(
        QWebEngineUrlScheme.Flag.SecureScheme
        | QWebEngineUrlScheme.Flag.LocalScheme
        | QWebEngineUrlScheme.Flag.LocalAccessAllowed
    )
    QWebEngineUrlScheme.registerScheme(scheme)


def internal_url(host: str, path: str = "/", /, **query: str) -> QUrl:
    """``trickle://host/path?query``, with the query values percent-encoded."""
    url = QUrl()
    url.setScheme(SCHEME)
    url.setHost(host)
    url.setPath(path)
    if query:
        q = QUrlQuery()
        for key, value in query.items():
            q.addQueryItem(key, bytes(QUrl.toPercentEncoding(value).data()).decode())
        url.setQuery(q)
    return url


def query_value(url: QUrl, key: str) -> str:
    return QUrlQuery(url).queryItemValue(key, QUrl.ComponentFormattingOption.FullyDecoded)


@dataclass(frozen=True, slots=True)
class Reply:
    body: bytes
    mime: bytes = b"text/html"
    redirect: str | None = None  # an absolute URL: answer with a redirect instead of a body


@dataclass(frozen=True, slots=True)
class Pending:
    """An answer known later: ``answer()`` is called on the GUI thread once ``until`` is done."""

    until: concurrent.futures.Future[Any]
    answer: Callable[[], Reply | None]


class InternalPage(Protocol):
    """Serves the URLs of one ``trickle://HOST/``; ``None`` means "no such page"."""

    def respond(self, url: QUrl) -> Reply | None: ...


class Route(Protocol):
    """What serves one ``trickle://HOST/``: an ``InternalPage``, or one that may answer
    ``Pending``."""

    def respond(self, url: QUrl) -> Reply | Pending | None: ...


class PageDirectory:
    """Files of one directory: ``/`` is ``index.html``, ``/name`` is ``name.html``, and
    ``/name.css`` (etc.) is served as is. HTML files are ``string.Template``s: ``${key}`` is
    replaced by the HTML-escaped query value ``key`` (empty when absent)."""

    def __init__(self, directory: Path) -> None:
        self._dir = directory

    def respond(self, url: QUrl) -> Reply | None:
        name = url.path().strip("/") or "index"
        if not _NAME.fullmatch(name):
            return None
        path = self._dir / (name if "." in name else f"{name}.html")
        mime = _MIME_BY_SUFFIX.get(path.suffix)
        if mime is None or not path.is_file():
            return None
        if path.suffix != ".html":
            return Reply(path.read_bytes(), mime)
        query = QUrlQuery(url)
        values = {
            key: html.escape(query_value(url, key))
            for key, _ in query.queryItems(QUrl.ComponentFormattingOption.FullyDecoded)
        }
        text = path.read_text(encoding="utf-8")
        keys = {
            m.group("braced") or m.group("named") for m in string.Template.pattern.finditer(text)
        }
        values.update({k: "" for k in keys if k and k not in values})
        return Reply(string.Template(text).safe_substitute(values).encode("utf-8"), mime)


def page_directories(root: Path) -> dict[str, Route]:
    """One route per subdirectory of ``root``: ``root/start`` serves ``trickle://start/``."""
    return {d.name: PageDirectory(d) for d in sorted(root.iterdir()) if d.is_dir()}


class TrickleSchemeHandler(QWebEngineUrlSchemeHandler):
    """Routes ``trickle://HOST/...`` to the ``InternalPage`` registered for HOST."""

    _later = Signal(object)  # a Pending that is done, carried onto the GUI thread

    def __init__(self, routes: Mapping[str, Route], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._routes = dict(routes)
        self._later.connect(self._answer_later, Qt.ConnectionType.QueuedConnection)

    def requestStarted(self, job: QWebEngineUrlRequestJob) -> None:
        url = job.requestUrl()
        if job.requestMethod() != b"GET":
            job.fail(QWebEngineUrlRequestJob.Error.RequestDenied)
            return
        page = self._routes.get(url.host())
        reply = page.respond(url) if page is not None else None
        if isinstance(reply, Pending):
            self._wait(job, reply)
            return
        _answer(job, reply)

    def _wait(self, job: QWebEngineUrlRequestJob, pending: Pending) -> None:
        live = [True]  # QtWebEngine deletes the job when the page goes away meanwhile
        job.destroyed.connect(live.clear)

        def done(_future: concurrent.futures.Future[Any]) -> None:
            with contextlib.suppress(RuntimeError):  # the handler went with its profile
                self._later.emit((job, pending, live))

        pending.until.add_done_callback(done)

    @Slot(object)
    def _answer_later(self, waited: tuple[QWebEngineUrlRequestJob, Pending, list[bool]]) -> None:
        job, pending, live = waited
        if live and shiboken6.isValid(job):
            _answer(job, pending.answer())


def _answer(job: QWebEngineUrlRequestJob, reply: Reply | None) -> None:
    url = job.requestUrl()
    if reply is None:
        log.info("no internal page for %s", url.toString())
        job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
        return
    if reply.redirect is not None:
        job.redirect(QUrl(reply.redirect))
        return
    buffer = QBuffer(job)  # owned by the job: lives exactly as long as the request
    buffer.setData(QByteArray(reply.body))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    job.reply(reply.mime, buffer)
