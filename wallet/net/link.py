"""The one interface every packet path implements.

A :class:`Link` takes an ILP Prepare and returns its Fulfill or Reject, and hands Prepares that
arrive from the other side to an incoming handler. The uplinks (ILP-over-HTTP, BTP), the STREAM
driver, the browser's handler bridge, the built-in provider and the sandbox all speak it, so any
of them can be put in front of any other.

Rules every implementation keeps:

* ``send`` never raises for trouble on the path (peer down, connection dropped, timeout): it
  resolves with a Reject generated locally, T-class for "try again" (T00/T01), R00 when the
  Prepare expired unanswered. It raises only on misuse (a closed link) or an
  :class:`~wallet.errors.WalletError` the user must act on (e.g. authentication).
* ``send`` resolves no later than the Prepare's expiry.
* The incoming handler's reply goes back to the peer unchanged; a handler that raises is
  answered with a T00 Reject, never a hang.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from wallet.ilp import Fulfill, Prepare, Reject

IncomingHandler = Callable[[Prepare], Awaitable[Fulfill | Reject]]


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
