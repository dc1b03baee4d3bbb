"""asyncio ↔ Qt: the wallet's asyncio loop runs in its own thread; Qt stays on the GUI thread.

Why a thread and not QtAsyncio: PySide6 6.11's ``QtAsyncio`` event loop does not implement the
socket APIs (``create_connection``, ``sock_*``) that aiohttp and the ILP uplinks need, and the
core is designed (like Electrum) to run on a normal asyncio loop that never imports Qt.

Two directions, nothing else:

* GUI → loop: ``AsyncBridge.submit(coro, on_done)`` schedules ``coro`` on the loop; ``on_done``
  later runs **on the GUI thread** with an ``Outcome`` (value or exception).
* loop → GUI: ``await AsyncBridge.in_gui(fn)`` runs ``fn()`` on the GUI thread and returns its
  value to the coroutine; ``await AsyncBridge.in_gui_callback(start)`` runs ``start(done)`` on the
  GUI thread and resumes when some GUI code calls ``done(value)`` (e.g. a dialog closing).

Invariants: Qt objects are touched only on the GUI thread; callbacks scheduled after ``close``
are dropped; an exception in ``fn`` is re-raised in the awaiting coroutine.

The app's loop starts on first use (``LoopThread(lazy=True)``): importing asyncio (with ssl,
subprocess and selectors) takes about 19 ms here, a twelfth of a bare QtWebEngine window's
first paint, and nothing needs the loop before the wallet starts (after that paint) or a page
asks for a payment. So this module imports asyncio only when the loop starts or a coroutine
runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from PySide6.QtCore import QObject, Qt, Signal, Slot

if TYPE_CHECKING:
    import asyncio
    import concurrent.futures

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """What a coroutine produced: ``value`` or ``error``."""

    value: T | None = None
    error: BaseException | None = None


class LoopThread:
    """An asyncio event loop running forever in a daemon thread (owned by the app or a test).

    With ``lazy=True`` the loop and its thread start when ``loop`` is first read, from any
    thread; ``stop`` of a loop never started does nothing.
    """

    def __init__(self, name: str = "trickle-asyncio", *, lazy: bool = False) -> None:
        self._name = name
        self._starting = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        if not lazy:
            self._start()

    @property
    def started(self) -> bool:
        return self._loop is not None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The running loop (started now if it was not)."""
        return self._loop if self._loop is not None else self._start()

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._starting:
            if self._loop is None:
                import asyncio

                loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=self._run, args=(loop,), name=self._name, daemon=True
                )
                self._thread.start()
                self._loop = loop
            return self._loop

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop) -> None:
        import asyncio

        asyncio.set_event_loop(loop)
        loop.run_forever()

    def stop(self, timeout: float = 5.0) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return  # never started, or already stopped
        import asyncio

        async def _shutdown() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            asyncio.get_running_loop().stop()

        # (a loop just started may not run yet: what is scheduled runs once it does)
        asyncio.run_coroutine_threadsafe(_shutdown(), loop)
        thread.join(timeout)
        if not loop.is_running():
            loop.close()


class _GuiPoster(QObject):
    """Lives on the GUI thread; a queued signal carries callables onto it."""

    posted = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.posted.connect(self._run, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _run(self, fn: Callable[[], None]) -> None:
        fn()


class AsyncBridge:
    """Created on the GUI thread, with the loop that the wallet runs on (or the thread that
    runs it, started when the bridge first needs it)."""

    def __init__(self, loop: asyncio.AbstractEventLoop | LoopThread) -> None:
        self._loop = loop
        self._poster = _GuiPoster()
        self._closed = False

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop.loop if isinstance(self._loop, LoopThread) else self._loop

    def close(self) -> None:
        self._closed = True

    def post_to_gui(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the GUI thread soon (callable from any thread)."""
        if self._closed:
            return

        def guarded() -> None:
            if not self._closed:
                fn()

        self._poster.posted.emit(guarded)

    def submit(
        self,
        coro: Coroutine[Any, Any, T],
        on_done: Callable[[Outcome[T]], None] | None = None,
    ) -> concurrent.futures.Future[T]:
        """Run ``coro`` on the loop; ``on_done`` gets its outcome on the GUI thread."""
        import asyncio

        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        if on_done is not None:

            def finished(f: concurrent.futures.Future[T]) -> None:
                if f.cancelled():
                    outcome: Outcome[T] = Outcome(error=asyncio.CancelledError())
                elif f.exception() is not None:
                    outcome = Outcome(error=f.exception())
                else:
                    outcome = Outcome(value=f.result())
                self.post_to_gui(lambda: on_done(outcome))

            future.add_done_callback(finished)
        return future

    async def in_gui(self, fn: Callable[[], T]) -> T:
        """From a coroutine on the loop: ``fn()`` evaluated on the GUI thread."""
        return await self.in_gui_callback(lambda done: done(fn()))

    async def in_gui_callback(self, start: Callable[[Callable[[T], None]], None]) -> T:
        """From a coroutine on the loop: ``start(done)`` on the GUI thread; resumes on ``done``."""
        import asyncio

        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def resolve(value: T) -> None:
            loop.call_soon_threadsafe(_set_result, future, value)

        def run() -> None:
            try:
                start(resolve)
            except BaseException as e:  # noqa: BLE001 — re-raised in the awaiting coroutine
                loop.call_soon_threadsafe(_set_exception, future, e)

        self.post_to_gui(run)
        return await future


def _set_result(future: asyncio.Future[T], value: T) -> None:
    if not future.done():
        future.set_result(value)


def _set_exception(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)
