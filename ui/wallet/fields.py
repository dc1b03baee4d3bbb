"""Small widgets the wallet pages share: an amount field and form helpers.

An :class:`AmountField` holds an ``int`` at an asset's scale (or ``None``: "no cap" / "use the
default", shown as the placeholder). It parses what the user typed with
:func:`wallet.amounts.parse_amount` and marks itself invalid rather than rounding.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from wallet.amounts import MAX_AMOUNT, AmountError, NumberStyle, format_number, parse_amount
from wallet.budgets import Asset


class AmountField(QLineEdit):
    """A line edit for an optional amount of one asset."""

    def __init__(
        self,
        name: str,
        asset: Asset,
        style: NumberStyle,
        *,
        empty_text: str = "no limit",
        maximum: int = MAX_AMOUNT,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._asset = asset
        self._style = style
        self._maximum = maximum
        # What is wrong with the text, under the field (``with_unit`` places it); hidden if valid.
        self.message = QLabel(parent)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c0392b;")
        self.message.setAccessibleName(f"{name}: error")
        self.message.hide()
        self._empty_text = empty_text
        self.setAccessibleName(name)
        self.setPlaceholderText(empty_text)
        self.setClearButtonEnabled(True)
        self.setMinimumWidth(110)
        self.setMaximumWidth(260)
        self.unit = QLabel(asset.code, parent)
        self.unit.setAccessibleName(f"{name}: currency")
        self.textChanged.connect(self._validate)
        self._update_hint()

    @property
    def asset(self) -> Asset:
        return self._asset

    def set_asset(self, asset: Asset) -> None:
        value = self.value_or_none()
        self._asset = asset
        self.unit.setText(asset.code)
        self._update_hint()
        self.set_value(value)

    def set_empty_text(self, text: str) -> None:
        self._empty_text = text
        self.setPlaceholderText(text)

    def set_value(self, value: int | None) -> None:
        self.setText(
            "" if value is None else format_number(value, self._asset.scale, style=self._style)
        )

    def value(self) -> int | None:
        """The amount, ``None`` if empty.

        Raises:
            AmountError: the text is not an amount of the asset.
        """
        text = self.text().strip()
        if not text:
            return None
        return parse_amount(text, self._asset.scale, style=self._style, maximum=self._maximum)

    def value_or_none(self) -> int | None:
        try:
            return self.value()
        except AmountError:
            return None

    def error(self) -> str | None:
        """What is wrong with the text, in words (with the asset), or ``None``."""
        try:
            self.value()
        except AmountError as e:
            return f"{e} ({self._asset.code})" if "too large" in str(e) else str(e)
        return None

    def is_valid(self) -> bool:
        return self.error() is None

    def _validate(self) -> None:
        problem = self.error()
        ok = problem is None
        self.setProperty("invalid", not ok)
        self.setStyleSheet("" if ok else "QLineEdit { border: 1px solid #c0392b; }")
        self.message.setText(problem or "")
        self.message.setVisible(not ok)

    def _update_hint(self) -> None:
        self.setToolTip(f"An amount in {self._asset.code}; empty: {self._empty_text}")


def with_unit(field: AmountField) -> QWidget:
    """``field`` followed by its asset code, left-aligned, its error under it (form rows)."""
    box = QWidget(field.parentWidget())
    column = QVBoxLayout(box)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(2)
    row = QHBoxLayout()
    field.setParent(box)
    field.unit.setParent(box)
    field.message.setParent(box)
    row.addWidget(field)
    row.addWidget(field.unit)
    row.addStretch(1)
    column.addLayout(row)
    column.addWidget(field.message)
    return box
