""" "Send a tip": a one-time amount to the page's monetization links, confirmed first.

Opened from the site popover for the site of the current tab. The amount is typed in the
budget's currency and read by the locale parser (:func:`wallet.amounts.parse_amount`, through
:class:`~ui.wallet.fields.AmountField`). Before anything is sent the dialog checks that the tip
fits the site's caps and the global budget (``WalletService.tip_room``) and says which limit
when it does not; then it asks for confirmation (a ``QMessageBox``, object name
``confirm_tip``), and the payment layer splits the tip across the page's paid links
(:meth:`wallet.payments.Payments.tip`, through ``WalletContext.tips``). What each receiver got,
or why not, is shown in words.

Signals:
    sent(object): the tip went out (its ``wallet.payments.tips.TipResult``).
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from ui.plain_text import ADDRESS_CHARS, page_text
from ui.wallet.context import WalletContext
from ui.wallet.fields import AmountField, with_unit
from ui.wallet.payee import PayeeLabel
from wallet.amounts import AmountError
from wallet.errors import WalletError
from wallet.payments.tips import TipResult, room_words

__all__ = ["TipDialog", "ask_to_confirm", "open_tip_dialog", "tip_outcome_words"]

Confirm = Callable[[QWidget, str], bool]


def ask_to_confirm(parent: QWidget, question: str) -> bool:
    """The real question: a modal ``QMessageBox`` with Send / Cancel (Cancel is the default)."""
    box = QMessageBox(QMessageBox.Icon.Question, "Send a tip", question, parent=parent)
    box.setObjectName("confirm_tip")
    box.setTextFormat(Qt.TextFormat.PlainText)
    send = box.addButton("&Send", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is send


def tip_outcome_words(ctx: WalletContext, result: TipResult) -> str:
    """One line per receiver: what it got, or why not."""
    lines = []
    for share in result.shares:
        who = page_text(share.payee.describe(), ADDRESS_CHARS)
        if share.error is None:
            lines.append(f"{who}: {ctx.money(share.sent, result.asset)}")
        else:
            sent = ctx.money(share.sent, result.asset)
            lines.append(f"{who}: {sent} sent; {page_text(share.error, ADDRESS_CHARS)}")
    return "Tip sent.\n" + "\n".join(lines)


class _Relay(QObject):
    """Brings a finished tip back to the GUI thread."""

    done = Signal(object)


class TipDialog(QDialog):
    """Send a one-time amount to ``site``'s page."""

    sent = Signal(object)

    def __init__(
        self,
        ctx: WalletContext,
        site: str,
        parent: QWidget | None = None,
        *,
        confirm: Confirm = ask_to_confirm,
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._site = site
        self._confirm = confirm
        self._relay = _Relay(self)
        self._relay.done.connect(self._finished)
        self.pending: concurrent.futures.Future[TipResult] | None = None
        self.setObjectName("tip_dialog")
        self.setWindowTitle("Send a tip")
        self.setMinimumWidth(460)
        asset = ctx.service.global_policy().budget_asset
        self._asset = asset

        heading = QLabel(f"A one-time amount to {page_text(site, ADDRESS_CHARS)}", self)
        heading.setTextFormat(Qt.TextFormat.PlainText)
        heading.setWordWrap(True)
        heading.setStyleSheet("font-weight: bold;")
        self.payee = PayeeLabel(ctx, self)
        self.payee.show_site(site)
        note = QLabel("Split evenly across the page's monetization links.", self)
        note.setStyleSheet("color: #5f6368;")
        self.amount = AmountField("Tip", asset, ctx.style, empty_text="amount", parent=self)
        form = QFormLayout()
        form.addRow("&Amount", with_unit(self.amount))
        self.message = QLabel(self)
        self.message.setObjectName("tip_message")
        self.message.setAccessibleName("Tip status")
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.hide()
        self.buttons = QDialogButtonBox(self)
        self.send = self.buttons.addButton("&Send tip…", QDialogButtonBox.ButtonRole.AcceptRole)
        self.send.setAccessibleName("Send the tip")
        self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.reject)
        self.send.clicked.connect(self.submit)
        self.amount.returnPressed.connect(self.submit)
        self.amount.textEdited.connect(self.message.hide)
        if ctx.tips is None:
            self.send.setEnabled(False)
            self._say("Tips need the payment layer, which is not running.", error=True)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.payee)
        layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def _say(self, text: str, *, error: bool) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #c0392b;" if error else "color: #1e7e34;")
        self.message.show()
        self.adjustSize()

    def _money(self, amount: int) -> str:
        return self._ctx.money(amount, self._asset, max_digits=None)

    def submit(self) -> None:
        """Check, confirm, send (the Send button and Enter)."""
        if self._ctx.tips is None or self.pending is not None:
            return
        try:
            amount = self.amount.value()
        except AmountError as e:
            self._say(str(self.amount.error() or e), error=True)
            return
        if amount is None or amount <= 0:
            self._say("Type the amount to send.", error=True)
            return
        room = self._ctx.service.tip_room(self._site, self._asset, amount)
        if room.amount < amount:
            self._say(room_words(room, amount, self._money), error=True)
            return
        money = self._ctx.money(amount, self._asset, max_digits=None)
        question = (
            f"Send {money} to {page_text(self._site, ADDRESS_CHARS)} now, once?\n"
            "It is split across the page's monetization links and counts against this "
            "site's caps and your budget."
        )
        if not self._confirm(self, question):
            return
        self.send.setEnabled(False)
        self._say(f"Sending {money}…", error=False)
        self.pending = self._ctx.tips(self._site, amount, self._asset)
        self.pending.add_done_callback(self._relay.done.emit)

    def _finished(self, future: concurrent.futures.Future[TipResult]) -> None:
        self.pending = None
        self.send.setEnabled(True)
        error = future.exception() if not future.cancelled() else None
        if future.cancelled() or error is not None:
            words = str(error) if isinstance(error, WalletError) else "the tip was not sent"
            self._say(words or "the tip was not sent", error=True)
            return
        result = future.result()
        self._say(tip_outcome_words(self._ctx, result), error=False)
        self.payee.show_site(self._site)
        self.sent.emit(result)


def open_tip_dialog(ctx: WalletContext, site: str, parent: QWidget | None) -> TipDialog:
    """Show a :class:`TipDialog` for ``site`` (not modal; deleted when closed)."""
    dialog = TipDialog(ctx, site, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    dialog.amount.setFocus()
    return dialog
