"""``WebMonetization.register({name, handlerUri})``: the rules, apart from the dialog UI.

Rules, in order (each failure a named JS error):

1. ``name`` and ``handlerUri`` must be strings (``TypeError``); ``handlerUri`` must parse as a
   URL, resolved against the calling page like ``registerProtocolHandler`` does (``TypeError``).
2. ``handlerUri`` must be https — or http to a loopback host — (``SecurityError``) and
   same-origin with the calling page (``SecurityError``), as ``registerProtocolHandler`` requires.
3. A user activation is required (``NotAllowedError``).
4. Already registered (same origin and URL) → ``true`` without a dialog.
5. An origin dismissed 3 times is not asked again for ``cooldown`` → ``false`` without a dialog.
6. At most one question per origin is pending (shown or queued, from any of its pages): a call
   while one is pending → ``false`` at once, without a dialog. So one click cannot queue many
   dialogs, and when the third dismissal starts the embargo nothing of that origin is left
   queued to ask again.
7. Otherwise the consent prompt: Yes → stored through ``HandlerRegistry`` → ``true``; No/close
   → ``false`` (counts as a dismissal); navigation/tab close → ``false`` (not a dismissal).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from PySide6.QtCore import QUrl

from ui.webmonetization.errors import PageError
from ui.webmonetization.origins import is_potentially_trustworthy, origin_of
from ui.webmonetization.protocols import HandlerRegistry

MAX_NAME_CHARS = 32768  # accepted (the call is capped at 64 KiB); the dialog shows 64
MAX_URI_CHARS = 2048

Clock = Callable[[], datetime]


class Answer(Enum):
    ACCEPTED = "accepted"
    DECLINED = "declined"  # No, Escape, or the dialog closed: a dismissal
    CANCELLED = "cancelled"  # navigation or tab close: not the user's answer


@dataclass(frozen=True, slots=True)
class RegisterRequest:
    """A validated request: the caller's origin, the provider's name and absolute handler URL."""

    origin: str
    name: str
    handler_uri: str


def validate_register(args: object, page_url: QUrl, activation: bool) -> RegisterRequest:
    """Check rules 1–3. Raises ``PageError`` with the JS error name."""
    if not isinstance(args, dict):
        raise PageError("TypeError", "register() takes {name: string, handlerUri: string}")
    name = args.get("name")
    uri = args.get("handlerUri")
    if not isinstance(name, str) or not isinstance(uri, str):
        raise PageError("TypeError", "register(): name and handlerUri must be strings")
    if len(name) > MAX_NAME_CHARS or len(uri) > MAX_URI_CHARS:
        raise PageError("TypeError", "register(): name or handlerUri is too long")
    resolved = page_url.resolved(QUrl(uri, QUrl.ParsingMode.StrictMode))
    if not uri or not resolved.isValid() or not resolved.host():
        raise PageError("TypeError", "register(): handlerUri is not a valid URL")
    if not is_potentially_trustworthy(resolved):
        raise PageError("SecurityError", "handlerUri must be https (http only for loopback)")
    origin = origin_of(page_url)
    if origin == "null" or origin_of(resolved) != origin:
        raise PageError("SecurityError", "handlerUri must be same-origin with the calling page")
    if not activation:
        raise PageError("NotAllowedError", "register() must be called from a user gesture")
    # (PySide6 6.11's QUrl.adjusted() rejects UrlFormattingOption, so cut the fragment here)
    text = resolved.toString(QUrl.ComponentFormattingOption.FullyEncoded).split("#", 1)[0]
    return RegisterRequest(origin, name, text)


@dataclass
class DismissalTracker:
    """After ``limit`` dismissals an origin is not asked again until ``cooldown`` has passed."""

    clock: Clock
    limit: int = 3
    cooldown: timedelta = timedelta(hours=24)
    _counts: dict[str, int] = field(default_factory=dict)
    _blocked_until: dict[str, datetime] = field(default_factory=dict)
    _pending: set[str] = field(default_factory=set)

    def begin_question(self, origin: str) -> bool:
        """Claim ``origin``'s one pending question; False if it already has one."""
        if origin in self._pending:
            return False
        self._pending.add(origin)
        return True

    def end_question(self, origin: str) -> None:
        self._pending.discard(origin)

    def is_blocked(self, origin: str) -> bool:
        until = self._blocked_until.get(origin)
        if until is None:
            return False
        if self.clock() >= until:
            del self._blocked_until[origin]
            return False
        return True

    def record(self, origin: str, answer: Answer) -> None:
        if answer is Answer.ACCEPTED:
            self._counts.pop(origin, None)
        elif answer is Answer.DECLINED:
            n = self._counts.get(origin, 0) + 1
            if n >= self.limit:
                self._counts.pop(origin, None)
                self._blocked_until[origin] = self.clock() + self.cooldown
            else:
                self._counts[origin] = n


async def run_register(
    request: RegisterRequest,
    registry: HandlerRegistry,
    tracker: DismissalTracker,
    ask: Callable[[RegisterRequest], Awaitable[Answer]],
) -> bool:
    """Rules 4–7 (on the wallet loop). ``ask`` shows the prompt (bridged to the GUI thread)."""
    origin = request.origin
    if not tracker.begin_question(origin):  # claimed before any await: no race between calls
        return False
    try:
        if await registry.is_registered(origin, request.handler_uri):
            return True
        if tracker.is_blocked(origin):
            return False
        answer = await ask(request)
        tracker.record(origin, answer)
    finally:
        tracker.end_question(origin)
    if answer is not Answer.ACCEPTED:
        return False
    await registry.register(request.origin, request.name, request.handler_uri)
    return True
