"""Full screen as a site permission: asked through the one prompt queue, remembered per
origin (feature ``fullscreen``), editable in Settings, refused without a prompt for frames of
other origins.

What QtWebEngine 6.11 allows (tests/qt/browsing/test_fullscreen.py shows it): a page's
``requestFullscreen()`` reaches ``QWebEnginePage.fullScreenRequested`` with a
``QWebEngineFullScreenRequest``, which may be answered later (after a prompt). But
``reject()`` never answers the document: its promise stays pending and none of its later
requests reach the browser again — one refusal and the page can never ask again until it
navigates. Leaving before the document is in has the same effect. So Trickle refuses by
accepting and leaving full screen as soon as the document is in (``WebAction.ExitFullScreen``,
polled from the isolated world): the window never goes full screen, the page sees
``fullscreenchange`` back to normal (its promise resolves, as the platform leaves no way to
reject it), and its next request reaches Trickle again — to be asked again when the refusal
was "only this time", or refused without a prompt when it is remembered.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QTimer
from PySide6.QtWebEngineCore import QWebEngineFullScreenRequest, QWebEnginePage, QWebEngineScript
from PySide6.QtWebEngineWidgets import QWebEngineView

from ui.browser.hooks import TabContext
from ui.browser.permissions import PromptQueue, Question, origin_of
from ui.browser.storage import BrowsingStore

FEATURE = "fullscreen"
WANTS = "fill your screen"
LEAVE_POLL_MS = 20  # a refusal leaves full screen once the document is in: checked this often
LEAVE_TRIES = 100
_ISOLATED = QWebEngineScript.ScriptWorldId.ApplicationWorld


def _window_of(page: QWebEnginePage) -> object | None:
    view = QWebEngineView.forPage(page)
    return view.window() if view is not None else None


def _set_full_screen(page: QWebEnginePage, on: bool) -> None:
    window = _window_of(page)
    set_mode = getattr(window, "set_page_full_screen", None)
    if callable(set_mode):
        set_mode(on)


def refuse(page: QWebEnginePage, request: QWebEngineFullScreenRequest) -> None:
    """Refuse so that the page can ask again (``reject()`` would leave it stuck): accept, and
    leave as soon as the document is in (leaving before that leaves its promise pending too)."""
    request.accept()
    tries = [0]

    def leave_when_in(inside: object = False) -> None:
        if not shiboken6.isValid(page):
            return
        if inside is True or tries[0] >= LEAVE_TRIES:
            page.triggerAction(QWebEnginePage.WebAction.ExitFullScreen)
            return
        tries[0] += 1
        QTimer.singleShot(LEAVE_POLL_MS, ask_if_in)

    def ask_if_in() -> None:
        if shiboken6.isValid(page):
            page.runJavaScript("document.fullscreenElement !== null", _ISOLATED, leave_when_in)

    leave_when_in()


class FullScreenRequests:
    """A ``PageHook``: every full-screen request goes through the permission rules."""

    def __init__(self, store: BrowsingStore, queue: PromptQueue) -> None:
        self._store = store
        self._queue = queue

    def attach(self, page: QWebEnginePage, tab: TabContext) -> None:
        page.fullScreenRequested.connect(lambda r: self._on_request(page, r))

    def _on_request(self, page: QWebEnginePage, request: QWebEngineFullScreenRequest) -> None:
        if not request.toggleOn():  # leaving is always allowed
            request.accept()
            _set_full_screen(page, False)
            return
        origin = origin_of(request.origin())
        if origin != origin_of(page.url()):
            refuse(page, request)  # a frame of another origin: never asked
            return
        remembered = self._store.permission(origin, FEATURE)
        if remembered is not None:
            self._decide(page, request, remembered)
            return
        host = request.origin().host() or origin

        def decide(allow: bool) -> None:
            if shiboken6.isValid(page):
                self._decide(page, request, allow)

        self._queue.ask(
            Question(page, None, origin, FEATURE, f"{host} wants to {WANTS}.", decide=decide)
        )

    def _decide(
        self, page: QWebEnginePage, request: QWebEngineFullScreenRequest, allow: bool
    ) -> None:
        if allow:
            request.accept()
            _set_full_screen(page, True)
        else:
            refuse(page, request)
