"""Site permissions: notifications, camera, microphone, location, clipboard, pointer lock.

A page hook receives every ``QWebEnginePermission`` request and decides:

* a request from a frame of another origin than the page's (a third-party iframe) is denied,
  without asking;
* a decision remembered for the origin (``BrowsingStore.permissions``) is applied;
* anything else becomes a ``Question`` in the one ``PromptQueue``: shown one at a time, in
  the window of the page that asked; the rest wait. A question is withdrawn (denied, not
  remembered) when its page navigates (to another address, not a ``#part``) or closes.

Qt's own permission store is turned off (``AskEveryTime``): Trickle's store is the only one,
and what is in it the user can see and change in the browser settings. Full screen goes
through the same rules and queue (``ui.browser.fullscreen``), with its own answer.

Signals (``PromptQueue``):
    current_changed(object): the ``Question`` to show now, or None.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import shiboken6
from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEnginePermission, QWebEngineProfile

from ui.browser.hooks import TabContext
from ui.browser.storage import BrowsingStore

_Type = QWebEnginePermission.PermissionType
# What each permission lets a site do, in the words of the prompt ("... wants to ...").
FEATURES: dict[_Type, tuple[str, str]] = {
    _Type.Notifications: ("notifications", "show notifications"),
    _Type.Geolocation: ("location", "know your location"),
    _Type.MediaAudioCapture: ("microphone", "use your microphone"),
    _Type.MediaVideoCapture: ("camera", "use your camera"),
    _Type.MediaAudioVideoCapture: ("camera-microphone", "use your camera and microphone"),
    _Type.DesktopVideoCapture: ("screen", "see your screen"),
    _Type.DesktopAudioVideoCapture: ("screen-audio", "see your screen and hear its sound"),
    _Type.ClipboardReadWrite: ("clipboard", "read and change your clipboard"),
    _Type.MouseLock: ("pointer-lock", "hide and capture your mouse pointer"),
}


def origin_of(url: QUrl) -> str:
    """``scheme://host[:port]`` (the web origin, serialised)."""
    port = url.port()
    default = {"http": 80, "https": 443}.get(url.scheme(), -1)
    suffix = f":{port}" if port not in (-1, default) else ""
    return f"{url.scheme()}://{url.host()}{suffix}"


def install_permission_policy(profile: QWebEngineProfile) -> None:
    """Turn off Qt's own permission memory: every request reaches ``SitePermissions``."""
    profile.setPersistentPermissionsPolicy(
        QWebEngineProfile.PersistentPermissionsPolicy.AskEveryTime
    )


@dataclass(eq=False)
class Question:
    """A permission request waiting for the user: ``permission`` is granted or denied, or
    (a request that is not a ``QWebEnginePermission``, e.g. full screen) ``decide`` is told."""

    page: QWebEnginePage
    permission: QWebEnginePermission | None
    origin: str
    feature: str
    text: str
    settled: bool = field(default=False)
    decide: Callable[[bool], None] | None = None


class PromptQueue(QObject):
    current_changed = Signal(object)

    def __init__(self, store: BrowsingStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._waiting: deque[Question] = deque()
        self.current: Question | None = None

    def ask(self, question: Question) -> None:
        self._waiting.append(question)
        self._advance()

    def answer(self, allow: bool, *, remember: bool = True) -> None:
        """The user's answer to the current question."""
        question = self.current
        if question is None:
            return
        if remember:
            self._store.set_permission(question.origin, question.feature, allow)
        self._settle(question, allow)
        # Other questions for the same origin and feature have their answer now.
        for other in list(self._waiting):
            if remember and (other.origin, other.feature) == (question.origin, question.feature):
                self._waiting.remove(other)
                self._settle(other, allow)
        self.current = None
        self._advance()

    def withdraw(self, page: QWebEnginePage) -> None:
        """The page navigated or closed: its questions are denied, not remembered."""
        for question in [q for q in self._waiting if q.page is page]:
            self._waiting.remove(question)
            self._settle(question, False)
        if self.current is not None and self.current.page is page:
            self._settle(self.current, False)
            self.current = None
            self._advance()

    def pending(self) -> int:
        return len(self._waiting) + (self.current is not None)

    def _settle(self, question: Question, allow: bool) -> None:
        if question.settled:
            return
        question.settled = True
        if question.decide is not None:
            question.decide(allow)
        elif question.permission is not None and question.permission.isValid():
            question.permission.grant() if allow else question.permission.deny()

    def _advance(self) -> None:
        if self.current is None:
            while self._waiting and not shiboken6.isValid(self._waiting[0].page):
                self._waiting.popleft()
            self.current = self._waiting.popleft() if self._waiting else None
            self.current_changed.emit(self.current)


class SitePermissions:
    """A ``PageHook`` and ``ProfileInstaller``: every permission request goes through here."""

    def __init__(self, store: BrowsingStore, queue: PromptQueue) -> None:
        self._store = store
        self.queue = queue

    def install(self, profile: QWebEngineProfile) -> None:
        install_permission_policy(profile)

    def attach(self, page: QWebEnginePage, tab: TabContext) -> None:
        page.permissionRequested.connect(lambda p: self._on_request(page, p))
        last = [""]

        def navigated(url: QUrl) -> None:
            address = url.toString().split("#", 1)[0]  # going to a #part is not navigating
            if address != last[0]:
                last[0] = address
                self.queue.withdraw(page)

        page.urlChanged.connect(navigated)
        tab.closing.connect(lambda: self.queue.withdraw(page))

    def _on_request(self, page: QWebEnginePage, permission: QWebEnginePermission) -> None:
        origin = origin_of(permission.origin())
        known = FEATURES.get(permission.permissionType())
        if known is None or origin != origin_of(page.url()):
            permission.deny()  # unknown kinds, and frames of other origins: never asked
            return
        feature, wants = known
        remembered = self._store.permission(origin, feature)
        if remembered is not None:
            permission.grant() if remembered else permission.deny()
            return
        host = permission.origin().host() or origin
        self.queue.ask(Question(page, permission, origin, feature, f"{host} wants to {wants}."))
