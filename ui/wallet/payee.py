"""Who receives a site's money, in one line: "Paid to Alice's blog (wallet.example/alice)".

For sites paid through ``<link rel="monetization">`` (Open Payments wallet addresses, or SPSP),
the wallet knows which wallet each connection paid (:mod:`wallet.store.payees`). A
:class:`PayeeLabel` names the latest one for a site; it is hidden for sites paid only through
draft-4 handlers (the handler decides who receives the money there). The name comes from the
wallet (its ``publicName``): plain text, bounded, like any text from a page.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from ui.plain_text import ADDRESS_CHARS, page_text
from ui.wallet.context import WalletContext
from wallet.errors import WalletError
from wallet.reports import PayeeRecord

__all__ = ["PayeeLabel", "paid_to_text"]


def paid_to_text(payee: PayeeRecord) -> str:
    """``Paid to Alice's blog (wallet.example/alice)``, or the address alone without a name."""
    return "Paid to " + page_text(payee.describe(), ADDRESS_CHARS)


class PayeeLabel(QLabel):
    """The latest receiver of one site's money (hidden when there is none)."""

    def __init__(self, ctx: WalletContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.payee: PayeeRecord | None = None
        self.setObjectName("payee")
        self.setAccessibleName("Who receives the money")
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self.setStyleSheet("color: #5f6368;")
        self.hide()

    def show_site(self, site: str) -> None:
        try:
            self.payee = self._ctx.service.latest_payee(site)
        except WalletError:  # (a storage error) the popover shows the rest
            self.payee = None
        if self.payee is None:
            self.clear()
            self.hide()
            return
        self.setText(paid_to_text(self.payee))
        if self.payee.incoming_payment:
            self.setToolTip(page_text(self.payee.incoming_payment, ADDRESS_CHARS))
        self.show()
