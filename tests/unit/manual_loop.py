"""A real asyncio event loop whose clock only the test moves, and a wall clock likewise."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime


class ManualLoop(asyncio.SelectorEventLoop):
    """A real event loop whose ``time()`` only moves when the test says so."""

    now = 0.0

    def time(self) -> float:
        return self.now

    def run_due(self) -> None:
        """Run what is ready and every timer due at ``now``, without waiting."""
        self.call_soon(self.stop)
        self.run_forever()


class WallClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 21, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now
