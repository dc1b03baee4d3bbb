"""Receivers that cannot be reached are backed off, bounded, and reported in words.

The Web Monetization extension retried a receiver it could not reach for as long as the page
was open, every few seconds (web-monetization-extension#394). Trickle waits 30 s, then twice as
long after each further failure (at most :data:`LONGEST_WAIT`), and after
:data:`MAX_ATTEMPTS` failures in a row it stops trying for that receiver; the user reads why in
words ("Alice's blog's wallet cannot be reached; trying again in 2 minutes").

"Cannot be reached" means: the wallet address's server does not answer or cannot be connected
to (:class:`~wallet.payments.errors.WalletUnreachableError`, its timeout subclass), or the STREAM
receiver behind it cannot be reached over the user's ILP path — no route (F02), a refused
handshake, a connection it closed (:class:`~wallet.payments.errors.ReceiverUnreachableError`).
Other failures (404, not a wallet address, a refused grant) are not retried at all.

Owns: per receiver (href), the failures in a row, when the next attempt is due and the name it
goes by; kept for the life of the payment layer, so a reload or a new tab continues the
back-off instead of starting it over. Wallet loop only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from wallet.payments.errors import ReceiverUnreachableError, WalletUnreachableError
from wallet.store.payees import short_address

__all__ = ["FIRST_WAIT", "LONGEST_WAIT", "MAX_ATTEMPTS", "Backoffs", "in_words", "unreachable"]

FIRST_WAIT = 30.0
LONGEST_WAIT = 30 * 60.0
MAX_ATTEMPTS = 6  # failures in a row; then a receiver is no longer retried by this session
MAX_RECEIVERS = 1024


def unreachable(error: BaseException) -> bool:
    """Whether ``error`` means the receiver could not be reached (worth trying again later)."""
    return isinstance(error, WalletUnreachableError | ReceiverUnreachableError)


@dataclass
class _Receiver:
    failures: int = 0
    due: float = 0.0  # clock time of the next attempt
    name: str | None = None


class Backoffs:
    """When each receiver may be tried again. ``clock``: seconds, monotonic (the loop's)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._receivers: dict[str, _Receiver] = {}

    def _entry(self, href: str) -> _Receiver:
        entry = self._receivers.pop(href, None) or _Receiver()
        self._receivers[href] = entry
        while len(self._receivers) > MAX_RECEIVERS:
            del self._receivers[next(iter(self._receivers))]
        return entry

    def wait_left(self, href: str) -> float:
        """Seconds until ``href`` may be tried (0: now)."""
        entry = self._receivers.get(href)
        return max(0.0, entry.due - self._clock()) if entry else 0.0

    def given_up(self, href: str) -> bool:
        entry = self._receivers.get(href)
        return entry is not None and entry.failures >= MAX_ATTEMPTS

    def named(self, href: str, name: str | None) -> None:
        """The wallet address answered with its ``publicName``: the words use it."""
        if name:
            self._entry(href).name = name

    def succeeded(self, href: str, name: str | None) -> None:
        entry = self._entry(href)
        entry.failures, entry.due = 0, 0.0
        if name:
            entry.name = name

    def failed(self, href: str) -> float | None:
        """One more failure to reach ``href``: seconds to wait before the next attempt, or
        ``None`` when it is not to be tried again."""
        entry = self._entry(href)
        entry.failures += 1
        if entry.failures >= MAX_ATTEMPTS:
            entry.due = self._clock() + LONGEST_WAIT
            return None
        wait: float = min(FIRST_WAIT * float(2 ** (entry.failures - 1)), LONGEST_WAIT)
        entry.due = self._clock() + wait
        return wait

    def words(self, href: str, wait: float | None) -> str:
        """What the user reads: whose wallet cannot be reached, and what happens next."""
        who = self.who(href)
        if wait is None:
            return (
                f"{who} cannot be reached; Trickle stopped trying after "
                f"{MAX_ATTEMPTS} attempts (reload the page to try again later)."
            )
        return f"{who} cannot be reached; trying again in {in_words(wait)}."

    def who(self, href: str) -> str:
        entry = self._receivers.get(href)
        if entry is not None and entry.name:
            return f"{entry.name}'s wallet ({short_address(href)})"
        return f"The wallet at {short_address(href)}"


def in_words(seconds: float) -> str:
    """``30 seconds``, ``1 minute``, ``2 minutes``, ``1 hour``."""
    whole = max(1, round(seconds))
    if whole < 60:
        return f"{whole} second{'s' if whole != 1 else ''}"
    minutes = round(whole / 60)
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = round(minutes / 60)
    return f"{hours} hour{'s' if hours != 1 else ''}"
