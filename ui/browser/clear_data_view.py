"""The "Clear browsing data" dialog: which kinds, over which time range (Ctrl+Shift+Delete).

What each kind and range means on QtWebEngine is in :mod:`ui.browser.clear_data`; the dialog
says the two limits a person would not guess (the cache goes whole; site data goes at the next
start).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from ui.browser.clear_data import RANGES, Cleared, Clearer, Kind

DEFAULT_KINDS = (Kind.HISTORY, Kind.COOKIES, Kind.CACHE)
NOTE = (
    "The cache is cleared whole, whatever the range. Site data (storage, databases) is "
    "cleared for all time only, when Trickle next starts."
)


class ClearDataDialog(QDialog):
    def __init__(self, clearer: Clearer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._clearer = clearer
        self.setWindowTitle("Clear browsing data — Trickle")
        self.setMinimumWidth(460)
        self.range = QComboBox(self)
        self.range.setAccessibleName("Time range to clear")
        for label, _seconds in RANGES:
            self.range.addItem(label)
        self.kinds: dict[Kind, QCheckBox] = {}
        form = QFormLayout()
        form.addRow("Time range", self.range)
        for kind in Kind:
            box = QCheckBox(kind.value, self)
            box.setChecked(kind in DEFAULT_KINDS)
            self.kinds[kind] = box
            form.addRow(box)
        note = QLabel(NOTE, self)
        note.setWordWrap(True)
        note.setTextFormat(Qt.TextFormat.PlainText)
        self.status = QLabel(self)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        buttons = QDialogButtonBox(self)
        self.clear_button = buttons.addButton("Clear data", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.clear_button.clicked.connect(self.clear)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.status)
        layout.addWidget(buttons)

    def clear(self) -> Cleared:
        chosen = [kind for kind, box in self.kinds.items() if box.isChecked()]
        done = self._clearer(chosen, self.range.currentIndex())
        self.status.setText(done.summary())
        self.adjustSize()
        return done
