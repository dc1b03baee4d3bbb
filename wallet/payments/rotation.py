"""A document's link sessions take turns: one packet per ``pace / n`` seconds across its ``n``
links, round robin, each taking what accrued since the previous packet, so the site's rate is
split evenly among them and never exceeded (see :mod:`wallet.payments.links`).

Owns: the order of the document's live link gates, whose turn it is, and when the next packet
may leave. Wallet loop only.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

__all__ = ["Rotation"]


class _Member(Protocol):
    def wake(self) -> None: ...


class Rotation:
    """The link sessions of one document take turns to reserve (see the module docstring).

    Owns: the order of the document's live link gates, whose turn it is, and when the next
    packet may leave. Wallet loop only.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, pace: float) -> None:
        self._loop = loop
        self._pace = pace
        self._members: list[_Member] = []
        self._turn = 0
        self._next_at = 0.0
        self._timer: asyncio.TimerHandle | None = None

    def __len__(self) -> int:
        return len(self._members)

    def join(self, member: _Member) -> None:
        self._members.append(member)

    def leave(self, member: _Member) -> None:
        if member not in self._members:
            return
        index = self._members.index(member)
        self._members.remove(member)
        if index < self._turn:
            self._turn -= 1
        if self._members:
            self._turn %= len(self._members)
            self._wake_turn()
        else:
            self._turn = 0
            self._cancel_timer()

    def may_reserve(self, member: _Member) -> bool:
        """Whether ``member`` may reserve now; if it is its turn but too early, it is woken
        when the time comes. A member whose turn it is not is woken when its turn comes."""
        if member not in self._members:
            return True  # not rotating (a lone leg being replaced)
        if self._members[self._turn] is not member:
            return False
        if self._loop.time() < self._next_at:
            self._wake_turn()
            return False
        return True

    def reserved(self, member: _Member, *, limited: bool) -> None:
        """``member`` reserved a packet; ``limited``: it got less than it asked (accrual)."""
        if member not in self._members:
            return
        self._turn = (self._members.index(member) + 1) % len(self._members)
        now = self._loop.time()
        self._next_at = now + self._pace / len(self._members) if limited else now
        self._wake_turn()

    def _wake_turn(self) -> None:
        self._cancel_timer()
        member = self._members[self._turn]
        delay = self._next_at - self._loop.time()
        if delay > 0:
            self._timer = self._loop.call_later(delay, member.wake)
        else:
            self._loop.call_soon(member.wake)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
