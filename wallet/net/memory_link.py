"""Two in-process links joined back to back: what one side sends, the other's handler answers.

Used by the sandbox network and by tests that need a real Link without sockets. A Prepare that
nobody handles is rejected ``F02``; a handler that raises is answered ``T00``; a reply that
arrives after the Prepare's expiry becomes ``R00`` — the same contract as the uplinks.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from wallet.ilp import ErrorCode, Fulfill, Prepare, Reject
from wallet.net.link import IncomingHandler

__all__ = ["MemoryLink", "memory_link_pair"]

log = logging.getLogger(__name__)


class MemoryLink:
    """One end of an in-process link."""

    def __init__(self, name: str = "memory") -> None:
        self.name = name
        self.peer: MemoryLink | None = None
        self._handler: IncomingHandler | None = None
        self.closed = False

    def set_incoming_handler(self, handler: IncomingHandler | None) -> None:
        self._handler = handler

    async def send(self, prepare: Prepare) -> Fulfill | Reject:
        if self.closed or self.peer is None or self.peer.closed:
            return Reject(ErrorCode.T01_PEER_UNREACHABLE, "", f"{self.name}: link closed", b"")
        return await self.peer.deliver(prepare)

    async def deliver(self, prepare: Prepare) -> Fulfill | Reject:
        """Answer ``prepare`` with this end's handler, within its expiry."""
        handler = self._handler
        if handler is None:
            return Reject(ErrorCode.F02_UNREACHABLE, "", f"{self.name}: nobody listens", b"")
        timeout = (prepare.expires_at - datetime.now(UTC)).total_seconds()
        if timeout <= 0:
            return Reject(ErrorCode.R00_TRANSFER_TIMED_OUT, "", "expired", b"")
        try:
            return await asyncio.wait_for(handler(prepare), timeout)
        except TimeoutError:
            return Reject(ErrorCode.R00_TRANSFER_TIMED_OUT, "", "expired unanswered", b"")
        except Exception:  # the Link contract: a handler's bug is a T00, never a hang
            log.exception("%s: incoming handler failed", self.name)
            return Reject(ErrorCode.T00_INTERNAL_ERROR, "", "internal error", b"")

    async def close(self) -> None:
        self.closed = True


def memory_link_pair(a: str = "a", b: str = "b") -> tuple[MemoryLink, MemoryLink]:
    left, right = MemoryLink(a), MemoryLink(b)
    left.peer, right.peer = right, left
    return left, right
