"""The main menu: one toolbar button (☰) with what a browser offers, and the zoom level.

Every entry is a window action with its usual shortcut, so the menu shows the shortcut and the
key works with the menu closed. The zoom row shows the current tab's level and has −, the
level (click: reset to 100 %) and +.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QToolBar,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from ui.browser.window import BrowserWindow


class ZoomRow(QWidgetAction):
    """−  100 %  + inside the menu; it stays open while zooming."""

    def __init__(self, window: BrowserWindow) -> None:
        super().__init__(window)
        self._window = window
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(24, 2, 8, 2)
        label = QLabel("Zoom", row)
        self.out_button = self._button("−", "Zoom out (Ctrl+-)", row, lambda: self._zoom(-1))
        self.level = self._button("100 %", "Reset to 100 % (Ctrl+0)", row, lambda: self._zoom(0))
        self.level.setMinimumWidth(64)
        self.in_button = self._button("+", "Zoom in (Ctrl++)", row, lambda: self._zoom(1))
        layout.addWidget(label, 1)
        for button in (self.out_button, self.level, self.in_button):
            layout.addWidget(button)
        self.setDefaultWidget(row)

    def _button(self, text: str, tip: str, parent: QWidget, slot: object) -> QToolButton:
        button = QToolButton(parent)
        button.setText(text)
        button.setToolTip(tip)
        button.setAccessibleName(tip)
        button.setAutoRaise(True)
        button.clicked.connect(slot)
        return button

    def _zoom(self, step: int) -> None:
        if tab := self._window.current_tab():
            tab.zoom(step)
        self.refresh()

    def refresh(self) -> None:
        tab = self._window.current_tab()
        factor = tab.zoomFactor() if tab is not None else 1.0
        self.level.setText(f"{round(factor * 100)} %")


def install_menu(
    window: BrowserWindow, entries: Sequence[QAction | ZoomRow | None]
) -> tuple[QToolButton, QMenu]:
    """Add the ☰ button at the right end of the window's toolbar; ``None`` is a separator."""
    menu = QMenu("Menu", window)
    menu.setAccessibleName("Main menu")
    for entry in entries:
        if entry is None:
            menu.addSeparator()
        else:
            menu.addAction(entry)
            if isinstance(entry, ZoomRow):
                menu.aboutToShow.connect(entry.refresh)
    button = QToolButton(window)
    button.setObjectName("main_menu_button")
    button.setText("☰")
    button.setToolTip("Menu")
    button.setAccessibleName("Main menu")
    button.setAutoRaise(True)
    button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    button.setMenu(menu)
    button.setStyleSheet("QToolButton::menu-indicator { image: none; width: 0; }")
    toolbar = window.findChild(QToolBar, "navigation_toolbar")
    if toolbar is not None:
        toolbar.addWidget(button)
    return button, menu
