"""Noticing that the machine slept, so that the pages' payment sessions start afresh (GUI).

While a machine sleeps the wall clock runs on and the monotonic clock does not (Linux's
``CLOCK_MONOTONIC``, macOS's ``mach_absolute_time``); Qt has no portable "resumed from suspend"
signal, and logind's ``PrepareForSleep`` needs the system bus. So a :class:`WakeWatch` compares
the two clocks every few seconds: when the wall clock ran ahead by more than ``threshold``, the
machine slept (or the clock was set forward) and ``woke`` is emitted.

What listens (``ui.webmonetization.bridge.PageBridge``) restarts each link session of its
document: its STREAM connections and incoming payments may have died with the sleep (receivers
close idle connections, incoming payments expire), and a new session resumes in the state the
page is in now. Nothing is paid for the time asleep whatever this notices: the wallet's active
time never exceeds the monotonic time that passed (``wallet.budgets.ActivityClock``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

__all__ = ["WakeWatch"]

CHECK_MS = 5000
THRESHOLD = 30.0  # seconds the wall clock may run ahead between two checks (load, NTP slews)


class WakeWatch(QObject):
    """Signals:
    woke(float): the machine slept about this many seconds (the wall clock jumped ahead)."""

    woke = Signal(float)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        threshold: float = THRESHOLD,
        interval_ms: int | None = CHECK_MS,
    ) -> None:
        """``interval_ms=None``: no timer; whoever owns it calls :meth:`check` (tests)."""
        super().__init__(parent)
        self._wall = wall
        self._monotonic = monotonic
        self._threshold = threshold
        self._last = (wall(), monotonic())
        self._timer: QTimer | None = None
        if interval_ms is not None:
            self._timer = QTimer(self)
            self._timer.setInterval(interval_ms)
            self._timer.timeout.connect(self.check)
            self._timer.start()

    def check(self) -> None:
        wall, mono = self._wall(), self._monotonic()
        last_wall, last_mono = self._last
        self._last = (wall, mono)
        asleep = (wall - last_wall) - (mono - last_mono)
        if asleep > self._threshold:
            self.woke.emit(asleep)
