"""Which sites are being attended to, and who waits for a site to be payable again.

Owns, per site origin, the number of attended documents that have a payment session, and the
wake-ups of sessions refused "not now". Tells the wallet service when a site starts or stops
accruing pay (``set_site_active``); the service tells it (``site_listeners``, from any thread)
when a site may pay again (it became active, a policy or the global budget changed).

All state is the wallet loop's; only :meth:`SiteActivity._site_changed` is called from other
threads, and it hops onto the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

__all__ = ["SiteActivity"]


class ActivitySink(Protocol):
    site_listeners: list[Callable[[str | None], None]]

    def set_site_active(self, site: str, active: bool) -> None: ...


class SiteActivity:
    def __init__(self, sink: ActivitySink, loop: asyncio.AbstractEventLoop) -> None:
        self._sink = sink
        self._loop = loop
        self._active: dict[str, int] = {}
        self._waiting: dict[str, list[Callable[[], None]]] = {}
        sink.site_listeners.append(self._site_changed)

    def is_active(self, site: str) -> bool:
        return site in self._active

    def change(self, site: str, delta: int) -> None:
        """One more (``+1``) or one fewer (``-1``) attended document paying ``site``."""
        before = self._active.get(site, 0)
        after = max(0, before + delta)
        if after:
            self._active[site] = after
        else:
            self._active.pop(site, None)
        if (before > 0) != (after > 0):
            self._sink.set_site_active(site, after > 0)

    def wait(self, site: str, wake: Callable[[], None]) -> None:
        """Call ``wake`` once, when ``site`` may be able to pay again."""
        waiting = self._waiting.setdefault(site, [])
        if wake not in waiting:
            waiting.append(wake)

    def stop_waiting(self, site: str, wake: Callable[[], None]) -> None:
        waiting = self._waiting.get(site)
        if waiting is not None and wake in waiting:
            waiting.remove(wake)
            if not waiting:
                del self._waiting[site]

    def _site_changed(self, site: str | None) -> None:
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._wake_waiting, site)

    def _wake_waiting(self, site: str | None) -> None:
        if site is None:
            woken = [wake for wakes in self._waiting.values() for wake in wakes]
            self._waiting.clear()
        else:
            woken = self._waiting.pop(site, [])
        for wake in woken:
            wake()
