"""The lifecycle every ``<link rel="monetization">`` session shares, whoever funds it.

A link session (:class:`~wallet.payments.links.LinkSession` over the user's ILP path,
:class:`~wallet.payments.op_sessions.OpLinkSession` from the user's Open Payments wallet)
belongs to one document: it runs on the wallet loop from its start, is stopped from any thread
(:meth:`SessionLifecycle.stop`), and ends with its document. Between the two it may **hold**.

Holding. A refusal of the user's own policy — a cap, the global budget, the balance, a pause,
a block, payments switched off — does not end a session (the page would be paid again only
after a reload, where draft-4 pages resume by themselves): the session *holds*. It keeps its
place in the document, but holds no connection, sends nothing and tells the page nothing, and
it *wakes* when the refusal may have lifted:

- the wallet says a site's settings changed (``WalletService.site_listeners``: a policy edit,
  the global budget, a top-up, the site becoming payable), through the document's
  ``wait_for_change``;
- time alone lifts it: a day or month cap, the monthly budget, at the moment
  :func:`wallet.site_state.site_status` gives as its ``next_change`` (the wallet's clock, so
  tests inject it; never polled: one timer per layer, armed for the earliest hold);
- the session is stopped, or its document ends (then it ends; it holds no gate that the
  document's end would close).

A wake is only a hint: the session asks the wallet whether the limit still holds (without
spending anything) and holds on if it does, so several wakes at once, or a wake that lifted
nothing, pay nothing and open nothing. Once it resumes, it pays as a new session does: only
what has accrued since, in whole multiples of the receiver's minimum (the gate decides), so a
wake never pays a lump (the wallet banks at most one pace period while a site is stopped).

Two refusals are not held: "not enough accrued yet" waits with the connection open (it lifts
within a pace period), and a provider that proved a payment that does not verify ends the
session (the document pays nothing more through it; ``wallet.payments.documents``). A
receiver that cannot be reached is not a refusal: it keeps its back-off
(:mod:`wallet.payments.backoff`).

Threads: everything here runs on the wallet loop, except :meth:`SessionLifecycle.stop`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from wallet.budgets import Asset, Decision, Reason
from wallet.errors import WalletError
from wallet.payments.documents import Document
from wallet.payments.errors import PaymentError

__all__ = ["Hold", "Holds", "SessionLifecycle", "SiteLimits", "ends_session"]

_T = TypeVar("_T")

# Refusals a link session waits out with its connection open (pay accrues within a pace).
LINK_NOT_NOW = frozenset({Reason.NO_ACCRUAL})
# The longest a wall-clock timer waits before it looks at the clock again: the loop's timers
# follow a monotonic clock that stops while the machine sleeps, so a wake due at midnight
# after a night asleep comes at most this late.
LONGEST_TIMER = timedelta(hours=1)


def ends_session(reason: Reason | None) -> bool:
    """Whether a refusal ends a link session instead of holding it."""
    return reason is Reason.PROVIDER_FAILING


class SiteLimits(Protocol):
    """What holds ask the wallet (``WalletService`` fits; thread-safe)."""

    def now(self) -> datetime: ...

    def tip_room(self, site: str, asset: Asset, want: int) -> Decision: ...

    def refusal_lifts_at(self, site: str) -> datetime | None: ...


class Holds:
    """The payment layer's held sessions' wall-clock wakes, and the question whether a
    site's limit still holds. Wallet loop."""

    def __init__(self, limits: SiteLimits, loop: asyncio.AbstractEventLoop) -> None:
        self._limits = limits
        self._loop = loop
        self._alarms: dict[Callable[[], None], datetime] = {}
        self._timer: asyncio.TimerHandle | None = None

    def hold(self, doc: Document) -> Hold:
        """Start holding a session of ``doc``: woken by a change of its site or by time."""
        return Hold(self, doc, self._loop)

    def still_refused(self, site: str, asset: Asset, least: int) -> bool:
        """Whether the wallet still refuses ``site`` a payment of ``least`` (source units)
        whatever has accrued: its policy, caps or the global budget. (The balance is not
        known here: a session woken for it asks by paying.)"""
        return self._limits.tip_room(site, asset, least).reason is not None

    def clock_changed(self) -> None:
        """The wall clock may have jumped (the machine woke up, a test moved it): wake the
        holds whose time has come."""
        now = self._limits.now()
        due = [wake for wake, at in self._alarms.items() if at <= now]
        for wake in due:
            del self._alarms[wake]
        self._arm()
        for wake in due:
            wake()

    # -- for Hold --

    def _wake_when_lifted(self, site: str, wake: Callable[[], None]) -> None:
        at = self._limits.refusal_lifts_at(site)
        if at is not None and at > self._limits.now():  # (a past moment would wake at once)
            self._alarms[wake] = at
            self._arm()

    def _forget(self, wake: Callable[[], None]) -> None:
        if self._alarms.pop(wake, None) is not None:
            self._arm()

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._alarms:
            wait = min(self._alarms.values()) - self._limits.now()
            seconds = max(0.0, min(wait, LONGEST_TIMER).total_seconds())
            self._timer = self._loop.call_later(seconds, self.clock_changed)


class Hold:
    """One held session's wake-ups (see the module docstring). Registered at once, so that
    a change that comes while the session closes its connection is not missed."""

    def __init__(self, holds: Holds, doc: Document, loop: asyncio.AbstractEventLoop) -> None:
        self._holds = holds
        self._doc = doc
        self._woken: asyncio.Future[None] = loop.create_future()
        doc.wait_for_change(self._wake)
        doc.when_ended(self._wake)
        holds._wake_when_lifted(doc.site, self._wake)

    def _wake(self) -> None:
        if not self._woken.done():
            self._woken.set_result(None)

    async def woken(self, stopping: asyncio.Future[None]) -> bool:
        """Until a wake (``True``) or ``stopping`` (``False``); then it is over."""
        try:
            await asyncio.wait({self._woken, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.cancel()
        return self._woken.done() and not stopping.done()

    def cancel(self) -> None:
        self._doc.stop_waiting(self._wake)
        self._doc.forget_ended(self._wake)
        self._holds._forget(self._wake)


class SessionLifecycle:
    """Start, stop, the document's end, and holding, for one link session of one document.

    Subclasses implement :meth:`_run` (the session) and start it with :meth:`_start`.
    """

    def __init__(
        self, *, doc: Document, href: str, loop: asyncio.AbstractEventLoop, holds: Holds
    ) -> None:
        self.href = href
        self._doc = doc
        self._loop = loop
        self._holds = holds
        self._stopping: asyncio.Future[None] = loop.create_future()
        self.held = False
        """Whether the session holds now (a limit refuses; nothing is sent)."""
        self.ended_by: PaymentError | None = None
        """Why the session ended after loading, if not asked to (or its document ended)."""
        self.task: asyncio.Task[None]

    def _start(self) -> None:
        self.task = self._loop.create_task(self._run())

    async def _run(self) -> None:
        raise NotImplementedError

    # -- control --

    def stop(self) -> None:
        """End the session (any thread); takes effect on the wallet loop."""
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._stop)

    def _stop(self) -> None:
        if not self._stopping.done():
            self._stopping.set_result(None)

    @property
    def _ended(self) -> bool:
        """Stopped, or its document ended."""
        return self._stopping.done() or not self._doc.alive

    def _gate_closed(self, *_: object) -> None:
        if not self._doc.alive:
            self._stop()  # the document ended: so does the session

    async def _until_stopped(self, work: Awaitable[_T]) -> _T | None:
        """``work``'s result, or ``None`` if the session is stopped (or its document ends)
        first."""
        task = asyncio.ensure_future(work)
        waits: set[asyncio.Future[Any]] = {task, self._stopping}
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        if task.done() and not self._ended:
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, WalletError):
            await task
        return None

    # -- holding --

    def _begin_hold(self) -> Hold:
        """A limit refused: from now on, changes that may lift it wake the session."""
        self.held = True
        return self._holds.hold(self._doc)

    async def _hold(self, hold: Hold, asset: Asset, least: int) -> bool:
        """Hold until the limit lifts (``True``) or the session ends (``False``): each wake
        asks the wallet whether ``least`` of ``asset`` could go now, and holds on if not."""
        try:
            while True:
                if not await hold.woken(self._stopping) or self._ended:
                    return False
                if not self._holds.still_refused(self._doc.site, asset, least):
                    return True
                hold = self._holds.hold(self._doc)  # no await since the wake: nothing missed
        finally:
            self._end_hold(hold)

    def _end_hold(self, hold: Hold) -> None:
        hold.cancel()
        self.held = False
