"""Coalescing completions under load: the wallet loop lingers a moment before it blocks.

When an uplink has many packets in flight, the connector answers them one by one. A client that
sleeps in ``epoll_wait`` between answers is woken for each: the peer's ``write`` must wake a
thread on another CPU, which is the costliest thing it does on a virtual machine (an
inter-processor interrupt is a VM exit). Measured here through ilp-connector with 100 Prepares
in flight over ILP-over-HTTP: the connector spent ~30 µs of kernel time per packet answering a
client that slept, ~10 µs answering one that did not, and moved ~25 % more packets a second
(benchmarks/uplink_bench.py).

So, while some component reports itself under load (:class:`LoadMeter`: at least
``BUSY_THRESHOLD`` requests in flight), the loop's selector first polls without blocking, and if
nothing is ready, sleeps ``LINGER_SECONDS`` (a timer on its own CPU: nobody has to wake it) and
only then waits as usual; the answers that came meanwhile are taken in one turn. This is the
interrupt coalescing network cards do, for the same reason. It costs at most ``LINGER_SECONDS``
of latency, and only under load: a page streaming a packet every 2 s never engages it, and with
one packet in flight the round trip is untouched.

Only loops made by :func:`new_event_loop` linger; on any other loop a :class:`LoadMeter` does
nothing. The HTTP uplink's client reports its load (one connection per request in flight, so
one wake-up per answer); the BTP uplink does not: its answers share one WebSocket and arrive
together already, and lingering there only added latency (measured: 10 in flight, -10 %).
"""

from __future__ import annotations

import asyncio
import selectors
import time
import weakref
from collections.abc import Callable

__all__ = ["BUSY_THRESHOLD", "LINGER_SECONDS", "LingeringSelector", "LoadMeter", "new_event_loop"]

LINGER_SECONDS = 0.0002
BUSY_THRESHOLD = 4

_SELECTORS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LingeringSelector] = (
    weakref.WeakKeyDictionary()
)


class LingeringSelector(selectors.DefaultSelector):
    """The platform's default selector, lingering before it blocks while anything is busy."""

    def __init__(
        self, linger: float = LINGER_SECONDS, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        super().__init__()
        self.linger = linger
        self._sleep = sleep
        self._busy = 0

    @property
    def busy(self) -> int:
        """How many components are under load now."""
        return self._busy

    def hold(self) -> None:
        self._busy += 1

    def release(self) -> None:
        self._busy = max(0, self._busy - 1)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if self._busy and (timeout is None or timeout > 0):
            ready: list[tuple[selectors.SelectorKey, int]] = super().select(0)
            if ready:
                return ready
            pause = self.linger if timeout is None else min(self.linger, timeout)
            self._sleep(pause)
            if timeout is not None:
                timeout = max(0.0, timeout - pause)
        result: list[tuple[selectors.SelectorKey, int]] = super().select(timeout)
        return result


def new_event_loop() -> asyncio.AbstractEventLoop:
    """An asyncio event loop whose selector lingers under load (see the module)."""
    selector = LingeringSelector()
    loop = asyncio.SelectorEventLoop(selector)
    _SELECTORS[loop] = selector
    return loop


class LoadMeter:
    """Counts one component's requests in flight on ``loop``; from ``threshold`` of them on,
    the loop lingers (if it was made by :func:`new_event_loop`; else this does nothing)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, threshold: int = BUSY_THRESHOLD) -> None:
        self._selector = _SELECTORS.get(loop)
        self._threshold = threshold
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def started(self) -> None:
        self._in_flight += 1
        if self._in_flight == self._threshold and self._selector is not None:
            self._selector.hold()

    def finished(self) -> None:
        if self._in_flight == self._threshold and self._selector is not None:
            self._selector.release()
        self._in_flight -= 1
