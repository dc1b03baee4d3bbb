"""What the pages share: a refreshable page, headings, read-only tables."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from ui.wallet.context import WalletContext


class Page(QWidget):
    """A page of the wallet window."""

    title = ""

    def __init__(self, ctx: WalletContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setAccessibleName(f"{self.title} page")

    def refresh(self) -> None:
        """Re-read what the page shows from the wallet."""


def heading(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setStyleSheet("font-size: 13pt; font-weight: 600; margin-top: 4px;")
    label.setAccessibleName(text)
    return label


def value_label(name: str, parent: QWidget, *, big: bool = False) -> QLabel:
    label = QLabel(parent)
    label.setAccessibleName(name)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if big:
        label.setStyleSheet("font-size: 15pt; font-weight: 600;")
    return label


def table(name: str, headers: list[str], parent: QWidget) -> QTableWidget:
    """A read-only, row-selecting table."""
    t = QTableWidget(0, len(headers), parent)
    t.setAccessibleName(name)
    t.setHorizontalHeaderLabels(headers)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.setAlternatingRowColors(True)
    t.verticalHeader().hide()
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    t.horizontalHeader().setStretchLastSection(True)
    t.setTabKeyNavigation(False)
    return t


def cell(text: str, *, numeric: bool = False, key: object = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if numeric:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if key is not None:
        item.setData(Qt.ItemDataRole.UserRole, key)
    return item


def text_at(t: QTableWidget, row: int, col: int) -> str:
    item = t.item(row, col)
    return item.text() if item is not None else ""
