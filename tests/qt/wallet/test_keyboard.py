"""Keyboard and accessibility: every page opens by shortcut, Tab reaches every control, and every
interactive widget has an accessible name."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QHeaderView,
    QLineEdit,
    QWidget,
)

from tests.qt.wallet.seed import NEWS
from ui.wallet.context import WalletContext
from ui.wallet.popover import SitePopover
from ui.wallet.window import PAGE_NAMES, WalletWindow

_INTERACTIVE = (QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox, QAbstractItemView)


def interactive(root: QWidget) -> list[QWidget]:
    """The controls a person operates in ``root`` (not Qt's inner parts of composite widgets)."""
    out: list[QWidget] = []
    for w in root.findChildren(QWidget):
        if not isinstance(w, _INTERACTIVE) or not w.isVisibleTo(root):
            continue
        if w.objectName().startswith("qt_") or isinstance(
            w.parentWidget(), QAbstractSpinBox | QComboBox | QLineEdit
        ):
            continue
        if type(w).__name__ == "QTableCornerButton" or isinstance(w, QHeaderView):
            continue
        out.append(w)
    return out


@pytest.fixture
def active(qtbot: Any, window: WalletWindow) -> WalletWindow:
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    return window


def test_shortcuts_open_every_page(qtbot: Any, active: WalletWindow) -> None:
    for i, name in enumerate(PAGE_NAMES):
        qtbot.keyClick(active, Qt.Key(Qt.Key.Key_1 + i), Qt.KeyboardModifier.ControlModifier)
        assert active.current_page() is active.pages[name]
    qtbot.keyClick(active, Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier)
    assert active.current_page() is active.history
    # The page list follows arrow keys.
    active.nav.setFocus()
    qtbot.keyClick(active.nav, Qt.Key.Key_Down)
    assert active.current_page() is active.providers


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_tab_reaches_every_control_and_all_are_named(
    qtbot: Any, active: WalletWindow, name: str
) -> None:
    page = active.show_page(name)
    if name == "sites":
        assert active.sites.select(NEWS)  # the editor is enabled for a selected site
    if name == "providers":
        assert active.providers.select_name("Example Wallet")
    controls = interactive(page)
    assert controls
    unnamed = [f"{type(w).__name__} {w.objectName()}" for w in controls if not w.accessibleName()]
    assert not unnamed
    active.nav.setFocus()
    qtbot.waitUntil(active.nav.hasFocus)
    seen: set[QWidget] = set()
    for _ in range(80):
        focus = QApplication.focusWidget()
        assert focus is not None
        qtbot.keyClick(focus, Qt.Key.Key_Tab)
        now = QApplication.focusWidget()
        if now is active.nav:
            break
        if now is not None:
            seen.add(now)
    reachable = [w for w in controls if w.isEnabled() and w.focusPolicy() & Qt.FocusPolicy.TabFocus]
    missing = [
        w.accessibleName() for w in reachable if w not in seen and w.focusProxy() not in seen
    ]
    assert not missing


def test_popover_controls_are_named(qtbot: Any, ctx: WalletContext) -> None:
    pop = SitePopover(ctx)
    qtbot.addWidget(pop)
    pop.show_site(NEWS)
    controls = interactive(pop)
    assert len(controls) >= 8
    assert all(w.accessibleName() for w in controls)
