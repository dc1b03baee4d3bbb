"""The asyncio driver: pumps one sans-IO STREAM :class:`~wallet.stream.Connection` over a Link.

One task per connection (the *pump*) asks the connection what to send, sends each Prepare on
its own task (several are in flight under the congestion window), feeds replies and incoming
Prepares back, sleeps until the connection's next deadline or until something happens, and
hands the connection's events to a callback. The contract it follows is the docstring of
:mod:`wallet.stream`.

Invariants: every Prepare handed out gets exactly one ``receive_reply`` — the Link resolves
every send (with a local Reject on trouble), and the pump keeps running until nothing is in
flight, so budget reservations always settle.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime

from wallet.ilp import ErrorCode, Fulfill, Prepare, Reject
from wallet.net.link import Link
from wallet.net.stream_api import IlpConnection
from wallet.stream import BudgetGate, Connection, ConnectionConfig, ConnectionState, Event, Role

__all__ = ["StreamDriver", "run_connection"]

log = logging.getLogger(__name__)

EventSink = Callable[[list[Event]], None]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _Wakeup:
    """What the pump waits on: set by anything that gives it work, or a deadline.

    An ``asyncio.Event`` waited with ``asyncio.wait_for`` costs a new task and a timer per
    wait, and the pump waits once or twice per packet; this is one future and one timer.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._set = False
        self._waiter: asyncio.Future[None] | None = None

    def set(self) -> None:
        self._set = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    def is_set(self) -> bool:
        return self._set

    async def wait(self, timeout: float | None) -> None:
        """Until set, or ``timeout`` seconds (``None``: no deadline)."""
        if self._set:
            return
        waiter = self._waiter = self._loop.create_future()
        timer = None if timeout is None else self._loop.call_later(timeout, _resolve, waiter)
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class StreamDriver:
    """Runs ``conn`` over ``link``; ``on_events`` receives every batch of events.

    ``monotonic`` and ``wallclock`` are injectable for tests; by default the loop's clock and
    the system's UTC time.
    """

    def __init__(
        self,
        conn: Connection,
        link: Link,
        on_events: EventSink,
        *,
        monotonic: Callable[[], float] | None = None,
        wallclock: Callable[[], datetime] | None = None,
    ) -> None:
        self.conn = conn
        self.link = link
        self._on_events = on_events
        self._loop = asyncio.get_running_loop()
        self._monotonic = monotonic or self._loop.time
        self._wallclock = wallclock or _utc_now
        self._wake = _Wakeup(self._loop)
        self._sending: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self.done = self._loop.create_future()  # resolves when the connection is closed

    def start(self) -> None:
        if self._task is None:
            self._task = self._loop.create_task(self._pump(), name="stream-pump")

    def wake(self) -> None:
        """Something changed (an API call): let the pump look again."""
        self._wake.set()

    def handle_prepare(self, prepare: Prepare) -> Fulfill | Reject:
        """Answer a Prepare the peer sent us (called by the router)."""
        if self.conn.state is ConnectionState.CLOSED:
            return Reject(ErrorCode.F99_APPLICATION_ERROR, "", "connection closed", b"")
        reply = self.conn.receive_prepare(prepare, self._monotonic())
        self._flush_events()
        self._wake.set()
        return reply

    async def handle_prepare_async(self, prepare: Prepare) -> Fulfill | Reject:
        return self.handle_prepare(prepare)

    async def aclose(self) -> None:
        """Graceful close: streams finish, ConnectionClose is sent; waits until closed."""
        self.conn.close()
        self._wake.set()
        await asyncio.shield(self.done)

    def abort(self) -> None:
        """Close now (pending replies are still delivered as they arrive)."""
        self.conn.destroy()
        self._wake.set()

    def _flush_events(self) -> None:
        events = self.conn.events()
        if events:
            try:
                self._on_events(events)
            except Exception:  # a listener's bug must not stop the money pump
                log.exception("STREAM event listener failed")

    async def _send(self, packet_id: int, prepare: Prepare) -> None:
        try:
            reply = await self.link.send(prepare)
        except Exception as e:  # noqa: BLE001 - whatever the carrier raised, the Prepare may have left
            # The money's fate is unknown: the connection settles it as LOST (charged, never
            # refunded) instead of a made-up Reject that would let it be sent again.
            log.debug("link.send raised %s: packet %d lost", type(e).__name__, packet_id)
            self.conn.packet_lost(packet_id, self._monotonic())
        else:
            self.conn.receive_reply(packet_id, reply, self._monotonic())
        self._wake.set()

    def _launch(self, packet_id: int, prepare: Prepare) -> None:
        task = self._loop.create_task(self._send(packet_id, prepare))
        self._sending.add(task)
        task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        if not self._sending:
            self._wake.set()  # a closed connection's pump ends once nothing is in flight

    async def _pump(self) -> None:
        conn = self.conn
        try:
            while True:
                self._wake.clear()
                now = self._monotonic()
                deadline = conn.next_deadline()
                if deadline is not None and deadline <= now:
                    conn.handle_timeout(now)
                for packet_id, prepare in conn.packets_to_send(now, self._wallclock()):
                    self._launch(packet_id, prepare)
                self._flush_events()
                if conn.state is ConnectionState.CLOSED and not self._sending:
                    break
                deadline = conn.next_deadline()
                timeout = None if deadline is None else max(0.0, deadline - self._monotonic())
                await self._wake.wait(timeout)
        finally:
            if not self.done.done():
                self.done.set_result(None)


def run_connection(
    config: ConnectionConfig,
    role: Role,
    link: Link,
    *,
    budget: BudgetGate | None = None,
    monotonic: Callable[[], float] | None = None,
    wallclock: Callable[[], datetime] | None = None,
) -> tuple[IlpConnection, StreamDriver]:
    """A sans-IO connection with its driver and its :class:`IlpConnection`, events wired.

    The pump is not started: register routes and listeners first, then ``driver.start()``.
    """
    clock = monotonic or asyncio.get_running_loop().time
    core = Connection(config, role, random_bytes=os.urandom, now=clock(), budget=budget)
    api: IlpConnection | None = None

    def on_events(events: list[Event]) -> None:
        assert api is not None
        api.dispatch(events)

    driver = StreamDriver(core, link, on_events, monotonic=monotonic, wallclock=wallclock)
    api = IlpConnection(core, driver.wake)
    return api, driver
