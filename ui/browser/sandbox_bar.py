"""The warning bar of a browser window running without Chromium's sandbox (``--no-sandbox``).

It stays for the whole session (no Dismiss): the risk does not go away while the window is open.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QBoxLayout, QFrame, QHBoxLayout, QLabel, QMainWindow

from ui.launch_checks import NO_SANDBOX_WARNING


class SandboxWarningBar(QFrame):
    """A red strip above the tabs with :data:`NO_SANDBOX_WARNING`."""

    def __init__(self, parent: QMainWindow) -> None:
        super().__init__(parent)
        self.setObjectName("sandbox_warning")
        self.setAccessibleName("Warning: no sandbox")
        self.setStyleSheet(
            "#sandbox_warning { background: #fdecea; border-bottom: 1px solid #d93025; }"
            " #sandbox_warning QLabel { color: #7a1410; }"
        )
        self.label = QLabel(NO_SANDBOX_WARNING, self)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.label.setAccessibleName("Sandbox warning")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 10, 4)
        layout.addWidget(self.label, 1)


def show_sandbox_warning(window: QMainWindow) -> SandboxWarningBar | None:
    """Put the bar at the top of ``window``'s page area; None if the window has no layout."""
    central = window.centralWidget()
    layout = central.layout() if central is not None else None
    if not isinstance(layout, QBoxLayout):
        return None
    bar = SandboxWarningBar(window)
    layout.insertWidget(0, bar)
    return bar
