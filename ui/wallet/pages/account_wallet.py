"""The Account page's funding sources: which one pays sites, and connecting an Open Payments
wallet (issue 19, items 1–3).

Connecting, as the Web Monetization flows describe it: the user types their wallet address
(or payment pointer) and a monthly budget; Trickle makes a fresh key and shows its public JWK
with a copy button and the words for adding it at the wallet; "Continue" asks the wallet for
the grant and opens its consent page in a Trickle tab; when the user approved there, the page
says "Connected" and the wallet pays from then on. Connected, the box shows what is left of
the grant and when it renews, why the wallet does not pay if it does not, and offers
"Reconnect with a new budget" and "Disconnect".

Nothing secret is shown or kept by this widget: the private key and the tokens go from the
wallet loop to the keyring (:mod:`wallet.funding.store`).
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QButtonGroup,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ui.asyncbridge import Outcome
from ui.wallet.context import WalletContext
from ui.wallet.fields import AmountField
from ui.wallet.funding import FundingPort, budget_words
from wallet.amounts import AmountError
from wallet.budgets import DEFAULT_CAP_MONTH, Asset, NoRateError, Rate
from wallet.funding import Connecting, FundingSource

__all__ = ["FundingBox"]

ADD_KEY_WORDS = (
    "Add this key to your wallet before you continue. In your wallet's settings, find its "
    'developer keys (or "Open Payments keys") and add a key: paste the text below. It lets '
    "Trickle sign its requests as you; its private part never leaves this computer's keyring."
)


class FundingBox(QWidget):
    """ "Pay sites from" and the Open Payments wallet (on the Account page)."""

    def __init__(self, ctx: WalletContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.port: FundingPort | None = ctx.funding
        self._connecting: Connecting | None = None

        self.source_box = QGroupBox("Pay sites from", self)
        self.source_box.setAccessibleName("Funding source")
        self.local = QRadioButton("The local account (above)", self.source_box)
        self.local.setAccessibleName("Pay from the local account")
        self.wallet = QRadioButton("Your Open Payments wallet", self.source_box)
        self.wallet.setAccessibleName("Pay from your Open Payments wallet")
        self.sources = QButtonGroup(self)
        self.sources.addButton(self.local)
        self.sources.addButton(self.wallet)
        self.local.toggled.connect(self._source_chosen)
        source_row = QVBoxLayout(self.source_box)
        source_row.addWidget(self.local)
        source_row.addWidget(self.wallet)
        note = QLabel(
            "Pages that use the older Web Monetization API (draft 4) are always paid from the "
            "local account: only an Interledger account can pay them.",
            self.source_box,
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: #5f6368;")
        source_row.addWidget(note)

        self.op_box = QGroupBox("Open Payments wallet", self)
        self.op_box.setAccessibleName("Open Payments wallet")
        self.connected = QLabel(self.op_box)
        self.connected.setAccessibleName("Connected wallet")
        self.connected.setWordWrap(True)
        self.budget_left = QLabel(self.op_box)
        self.budget_left.setAccessibleName("Wallet budget left")
        self.budget_left.setWordWrap(True)
        self.address = QLineEdit(self.op_box)
        self.address.setAccessibleName("Wallet address")
        self.address.setPlaceholderText("https://wallet.example/alice or $wallet.example/alice")
        self.address.setMinimumWidth(420)  # a whole https://host:port/name stays readable
        self.address.setMaximumWidth(520)
        self.budget = AmountField(
            "Monthly budget for Trickle", Asset("USD", 9), ctx.style, parent=self.op_box
        )
        self.budget.set_value(DEFAULT_CAP_MONTH)
        self.use_sandbox = QPushButton("Use the &sandbox's wallet", self.op_box)
        self.use_sandbox.setAccessibleName("Use the sandbox's play-money wallet")
        self.use_sandbox.setToolTip("The sandbox's own Open Payments wallet, with play money")
        self.use_sandbox.clicked.connect(self.choose_sandbox_wallet)
        self.connect_button = QPushButton("&Connect…", self.op_box)
        self.connect_button.setAccessibleName("Connect your wallet")
        self.connect_button.clicked.connect(self.start)
        self.key_words = QLabel(ADD_KEY_WORDS, self.op_box)
        self.key_words.setWordWrap(True)
        self.key = QPlainTextEdit(self.op_box)
        self.key.setAccessibleName("Public key to add at your wallet")
        self.key.setReadOnly(True)
        self.key.setMaximumHeight(80)
        self.copy = QPushButton("Cop&y key", self.op_box)
        self.copy.setAccessibleName("Copy the public key")
        self.copy.clicked.connect(self.copy_key)
        self.open_key_page = QPushButton("&Open its key page", self.op_box)
        self.open_key_page.setAccessibleName("Open the wallet's key page in a tab")
        self.open_key_page.clicked.connect(self.show_key_page)
        self.proceed = QPushButton("I added it: c&ontinue", self.op_box)
        self.proceed.setAccessibleName("Continue at your wallet")
        self.proceed.clicked.connect(self.ask_grant)
        self.reconnect = QPushButton("&Reconnect with a new budget…", self.op_box)
        self.reconnect.setAccessibleName("Reconnect with a new budget")
        self.reconnect.clicked.connect(self.start_reconnect)
        self.disconnect_button = QPushButton("&Disconnect", self.op_box)
        self.disconnect_button.setAccessibleName("Disconnect your wallet")
        self.disconnect_button.clicked.connect(self.ask_disconnect)
        self.message = QLabel(self.op_box)
        self.message.setAccessibleName("Wallet message")
        self.message.setWordWrap(True)

        self.connect_form = QWidget(self.op_box)
        form = QFormLayout(self.connect_form)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("&Wallet address", _with(self.address, self.use_sandbox))
        form.addRow("Monthly &budget", _with(self.budget, self.budget.unit, self.connect_button))
        key_row = QHBoxLayout()
        key_row.addWidget(self.copy)
        key_row.addWidget(self.open_key_page)
        key_row.addWidget(self.proceed)
        key_row.addStretch(1)
        connected_row = QHBoxLayout()
        connected_row.addWidget(self.reconnect)
        connected_row.addWidget(self.disconnect_button)
        connected_row.addStretch(1)
        box = QVBoxLayout(self.op_box)
        box.addWidget(self.connected)
        box.addWidget(self.budget_left)
        box.addLayout(connected_row)
        box.addWidget(self.connect_form)
        box.addWidget(self.key_words)
        box.addWidget(self.key)
        box.addLayout(key_row)
        box.addWidget(self.message)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.source_box)
        layout.addWidget(self.op_box)
        if self.port is not None:
            self.port.changed.connect(self.refresh)
        ctx.network.changed.connect(self.refresh)  # the sandbox (and its wallet) started
        self._show_key(False)
        self.refresh()

    # -- showing --

    def refresh(self) -> None:
        if self.port is None:
            self.setEnabled(False)
            self.message.setText("Open Payments wallets are not available in this window.")
            return
        status = self.port.status
        info = status.wallet
        connected = info is not None
        self.wallet.setEnabled(connected)
        paying = status.source is FundingSource.OPEN_PAYMENTS and connected
        (self.wallet if paying else self.local).setChecked(True)
        self.connected.setVisible(connected)
        self.budget_left.setVisible(connected)
        self.reconnect.setVisible(connected)
        self.disconnect_button.setVisible(connected)
        if info is not None:
            name = info.public_name or info.address
            self.connected.setText(f"Connected: {name} ({info.address}), in {info.asset.code}.")
            self.budget_left.setText(budget_words(status, self.ctx.style))
            self.budget_left.setStyleSheet("color: #c0392b;" if status.problem else "")
            if status.problem and self._connecting is None:
                self.message.clear()  # the problem's words say what there is to do
        self.connect_form.setVisible(not connected or self._connecting is not None)
        self.use_sandbox.setVisible(self.ctx.sandbox_wallet is not None)

    def _show_key(self, shown: bool) -> None:
        for w in (self.key_words, self.key, self.copy, self.proceed):
            w.setVisible(shown)
        self.open_key_page.setVisible(shown and self._sandbox_key_page() is not None)

    def _sandbox_key_page(self) -> str | None:
        """The key page of the wallet being connected, when it is the sandbox's."""
        sandbox, connecting = self.ctx.sandbox_wallet, self._connecting
        if sandbox is None or connecting is None or connecting.address.id != sandbox.address:
            return None
        return sandbox.key_page

    def _open_page(self, url: str) -> bool:
        """Open ``url`` in a Trickle tab; whether there was a browser window to open it in."""
        if self.port is not None and self.port.open_url is not None:
            self.port.open_url(url)
            return True
        return open_in_tab(self, url)

    # -- choosing the source --

    def _source_chosen(self) -> None:
        if self.port is None:
            return
        want = FundingSource.LOCAL if self.local.isChecked() else FundingSource.OPEN_PAYMENTS
        if want is not self.port.status.source and (
            want is FundingSource.LOCAL or self.port.status.wallet is not None
        ):
            self.port.set_source(want)

    # -- connecting --

    def start_reconnect(self) -> None:
        info = self.port.status.wallet if self.port is not None else None
        if info is not None:
            self.address.setText(info.address)
            self.budget.set_asset(info.asset)
            self.budget.set_value(info.budget)
        self._connecting = None
        self.connect_form.setVisible(True)
        self.message.setText("Change the budget if you like, then Connect.")

    def choose_sandbox_wallet(self) -> None:
        sandbox = self.ctx.sandbox_wallet
        if sandbox is not None:
            self.address.setText(sandbox.address)
            self.message.setText("The sandbox's wallet holds play money. Connect it as yours.")

    def show_key_page(self) -> None:
        page = self._sandbox_key_page()
        if page is not None and not self._open_page(page):
            self.message.setText(f"Open this page to add the key: {page}")

    def start(self) -> None:
        if self.port is None:
            return
        self.message.setText("Looking up your wallet…")
        self.connect_button.setEnabled(False)
        self.port.begin(self.address.text(), self._began)

    def _began(self, outcome: Outcome[Connecting]) -> None:
        self.connect_button.setEnabled(True)
        if outcome.error is not None or outcome.value is None:
            self.message.setText(str(outcome.error))
            return
        connecting = self._connecting = outcome.value
        asset, typed_in = connecting.asset, self.budget.asset
        if asset != typed_in:
            try:
                amount = self.budget.value()
            except AmountError:
                amount = None
            self.budget.set_asset(asset)
            self.budget.set_value(_convert(amount, typed_in, asset))
        self.key.setPlainText(json.dumps(connecting.jwk, separators=(",", ":")))
        self._show_key(True)
        name = connecting.address.public_name or connecting.address.id
        if self._sandbox_key_page() is not None:
            self.message.setText(
                f"Found {name} ({asset.code}). Copy the key below, add it on the wallet's key "
                "page (Open its key page), then continue."
            )
        else:
            self.message.setText(
                f"Found {name} ({asset.code}). Add the key below to it, then continue."
            )
        self.refresh()

    def copy_key(self) -> None:
        QGuiApplication.clipboard().setText(self.key.toPlainText())
        self.message.setText("The key is on the clipboard.")

    def ask_grant(self) -> None:
        connecting = self._connecting
        if self.port is None or connecting is None:
            return
        try:
            budget = self.budget.value()
        except AmountError as e:
            self.message.setText(str(e))
            return
        if not budget:
            self.message.setText("The monthly budget must be more than zero.")
            return
        self.proceed.setEnabled(False)
        self.message.setText("Asking your wallet…")
        port = self.port

        def asked(outcome: Outcome[str]) -> None:
            self.proceed.setEnabled(True)
            if outcome.error is not None or outcome.value is None:
                self.message.setText(str(outcome.error))
                return
            self.message.setText(
                "Approve Trickle's budget in the tab that opened at your wallet. "
                "This page updates when you have."
            )
            self.consent_url = outcome.value
            if not self._open_page(outcome.value):
                self.message.setText(f"Open this page to approve: {outcome.value}")
            port.when_connected(connecting, self._finished)

        port.request_grant(connecting, budget, asked)

    def _finished(self, outcome: Outcome[Any]) -> None:
        self._connecting = None
        self._show_key(False)
        if outcome.error is not None:
            self.message.setText(str(outcome.error))
        else:
            self.message.setText("Connected. Sites are now paid from your wallet.")
        if self.port is not None:
            self.port.refresh()
        self.refresh()

    # -- disconnecting --

    def ask_disconnect(self) -> None:
        if self.port is None:
            return
        asked = QMessageBox.question(
            self,
            "Disconnect your wallet?",
            "Trickle will cancel its permission at your wallet and forget its key. "
            "Sites are then paid from the local account.",
        )
        if asked != QMessageBox.StandardButton.Yes:
            return
        self.confirmed_disconnect()

    def confirmed_disconnect(self) -> None:
        port = self.port
        if port is None:
            return

        def done(outcome: Outcome[str | None]) -> None:
            if outcome.error is not None:
                self.message.setText(str(outcome.error))
            else:
                self.message.setText(outcome.value or "Disconnected. The local account pays.")
            port.refresh()

        port.disconnect_wallet(done)

    consent_url: str | None = None


def _with(*widgets: QWidget) -> QWidget:
    holder = QWidget()
    row = QHBoxLayout(holder)
    row.setContentsMargins(0, 0, 0, 0)
    for w in widgets:
        row.addWidget(w)
    row.addStretch(1)
    return holder


def _convert(amount: int | None, source: Asset, target: Asset) -> int:
    """The budget typed in one asset, in another (same code: a scale shift), else the default."""
    if amount is None:
        return 0
    try:
        rate = Rate.between(source, target)
    except NoRateError:
        return 0
    return rate.refund(amount)


def open_in_tab(widget: QWidget, url: str) -> bool:
    """Open ``url`` in a tab of the browser window that owns ``widget``'s window."""
    owner = widget.window().parentWidget()
    new_tab = getattr(owner, "new_tab", None)
    if new_tab is None:
        return False
    new_tab(QUrl(url))
    return True
