"""Whether the user is attending to a window: the rule that decides when money accrues.

A window is *attending* when the user is not idle and either the window (or a dialog it owns)
is focused, or — with ``focused_only`` off — it is at least shown and not minimised (e.g. a
video playing on a second screen while the user types elsewhere). The user is *idle* once no
key, mouse, wheel or touch input has reached a watched window for ``idle_after`` seconds; any
such input ends it at once.

Cost: the filter sits on the top-level ``QWindow`` only (which sees every input event of its
widgets, but not their paints and timers), records a time stamp per input event, and one
timer per ``idle_after`` period checks for idleness — no polling loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QWindow

_INPUT = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TabletPress,
    }
)


class Attention(QObject):
    """The user's settings for paying (focused window only, idle limit) and their idleness.

    Signals:
        changed(): a setting or the idleness changed; windows re-evaluate their tabs.
    """

    changed = Signal()

    def __init__(
        self, parent: QObject | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._focused_only = True
        self._idle_after: float | None = None
        self._last_input = clock()
        self._idle = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.check_idle)

    @property
    def focused_only(self) -> bool:
        return self._focused_only

    @property
    def idle_after(self) -> float | None:
        return self._idle_after

    def is_idle(self) -> bool:
        return self._idle

    def configure(self, *, focused_only: bool, idle_after: float | None) -> None:
        """Apply the user's settings (``idle_after`` in seconds; ``None`` or 0: never idle)."""
        idle_after = idle_after or None
        if (focused_only, idle_after) == (self._focused_only, self._idle_after):
            return
        self._focused_only, self._idle_after = focused_only, idle_after
        self._timer.stop()
        self._idle = False
        self.check_idle()
        self.changed.emit()

    def watch(self, window: QWindow) -> None:
        """Count input to ``window`` as the user's presence."""
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _INPUT:
            self.note_input()
        return False

    def note_input(self) -> None:
        """The user did something (called by the filter; tests may call it directly)."""
        self._last_input = self._clock()
        if self._idle:
            self._idle = False
            self.check_idle()
            self.changed.emit()

    def check_idle(self) -> None:
        """Become idle if the limit has passed since the last input; else look again then."""
        if self._idle_after is None or self._idle:
            return
        left = self._last_input + self._idle_after - self._clock()
        if left <= 0:
            self._idle = True
            self.changed.emit()
        elif not self._timer.isActive():
            self._timer.start(max(1, int(left * 1000) + 1))

    def attending(self, *, focused: bool, shown: bool) -> bool:
        """Whether a window that is ``focused`` / ``shown`` (not minimised) gets paid for."""
        if self._idle:
            return False
        return focused or (shown and not self._focused_only)
