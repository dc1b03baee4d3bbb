"""The one interface every packet path implements.

A :class:`Link` takes an ILP Prepare and returns its Fulfill or Reject, and hands Prepares that
arrive from the other side to an incoming handler. The uplinks (ILP-over-HTTP, BTP), the STREAM
driver, the browser's handler bridge, the built-in provider and the sandbox all speak it, so any
of them can be put in front of any other.

Rules every implementation keeps:

* ``send`` resolves with a Reject generated locally (T-class for "try again", R00 when the
  Prepare expired unanswered) for trouble on the path. Where the Prepare may have reached the
  other side and no trustworthy answer came (the carrier failed after sending, answered
  garbage, an error, or nothing by expiry), a link that can tell raises
  :class:`OutcomeUnknownError` instead: the money's fate is unknown, and the STREAM driver
  settles it as ``Outcome.LOST`` (charged, never refunded; ``wallet.payments.outcomes``). It
  also raises on misuse (a closed link) or an :class:`~wallet.errors.WalletError` the user must
  act on (e.g. authentication).
* ``send`` resolves no later than the Prepare's expiry.
* The incoming handler's reply goes back to the peer unchanged; a handler that raises is
  answered with a T00 Reject, never a hang.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from wallet.errors import WalletError
from wallet.ilp import Fulfill, Prepare, Reject

IncomingHandler = Callable[[Prepare], Awaitable[Fulfill | Reject]]


class OutcomeUnknownError(WalletError):
    """The Prepare may have been delivered, and no trustworthy Fulfill or Reject came back."""


class Link(Protocol):
    """Something that carries ILP packets both ways."""

    async def send(self, prepare: Prepare) -> Fulfill | Reject:
        """Send ``prepare``; its Fulfill or Reject (maybe generated locally)."""
        ...

    def set_incoming_handler(self, handler: IncomingHandler | None) -> None:
        """Who answers Prepares that arrive from the peer (``None``: reject them F02)."""
        ...

    async def close(self) -> None:
        """Stop; pending sends resolve as local Rejects."""
        ...
