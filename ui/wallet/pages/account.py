"""Account: address, asset, balance, the network's status in words; sandbox top-up; uplink setup.

The uplink token goes to the secret store (the OS keyring) and nowhere else: the form clears
it once stored, and only the URL and account name are saved as settings.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.wallet.context import WalletContext
from ui.wallet.fields import AmountField
from ui.wallet.pages.account_wallet import FundingBox
from ui.wallet.pages.base import Page, heading, value_label
from wallet.amounts import AmountError
from wallet.budgets import Asset
from wallet.errors import WalletError
from wallet.net.config import UplinkSettings
from wallet.runtime import SANDBOX_NETWORK
from wallet.secrets import Secret, SecretStoreError

UPLINK_SETTING = "uplink"
DEFAULT_TOP_UP = 10  # whole units of the sandbox asset


class AccountPage(Page):
    title = "Account"

    def __init__(self, ctx: WalletContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.address = value_label("Address", self)
        self.asset = value_label("Asset", self)
        self.balance = value_label("Balance", self, big=True)
        self.status = value_label("Network status", self)
        self.status.setWordWrap(True)
        info = QFormLayout()
        info.addRow("Balance", self.balance)
        info.addRow("Address", self.address)
        info.addRow("Asset", self.asset)
        info.addRow("Network", self.status)

        self.sandbox_box = QGroupBox("Sandbox (play money)", self)
        self.sandbox_box.setAccessibleName("Sandbox")
        self.top_up_amount = AmountField(
            "Top-up amount", Asset("USD", 9), ctx.style, empty_text="", parent=self.sandbox_box
        )
        self.top_up = QPushButton("&Top up", self.sandbox_box)
        self.top_up.setAccessibleName("Top up the sandbox account")
        self.top_up.clicked.connect(self.top_up_sandbox)
        self.top_up_amount.returnPressed.connect(self.top_up_sandbox)
        row = QHBoxLayout(self.sandbox_box)
        row.addWidget(QLabel("Add", self.sandbox_box))
        row.addWidget(self.top_up_amount)
        row.addWidget(self.top_up_amount.unit)
        row.addWidget(self.top_up)
        row.addStretch(1)

        self.uplink_box = QGroupBox("Uplink to an Interledger connector", self)
        self.uplink_box.setAccessibleName("Uplink")
        self.url = QLineEdit(self.uplink_box)
        self.url.setAccessibleName("Uplink URL")
        self.url.setMaximumWidth(520)
        self.url.setPlaceholderText("https://connector.example/ilp or btp+wss://connector.example")
        self.account = QLineEdit(self.uplink_box)
        self.account.setAccessibleName("Account name at the connector")
        self.account.setPlaceholderText("optional")
        self.account.setMaximumWidth(520)
        self.token = QLineEdit(self.uplink_box)
        self.token.setAccessibleName("Token")
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setPlaceholderText("kept in your system keyring")
        self.token.setMaximumWidth(520)
        self.save_uplink = QPushButton("&Save uplink", self.uplink_box)
        self.save_uplink.setAccessibleName("Save the uplink configuration")
        self.save_uplink.clicked.connect(self.save_uplink_settings)
        self.message = QLabel(self.uplink_box)
        self.message.setAccessibleName("Uplink message")
        self.message.setWordWrap(True)
        form = QFormLayout(self.uplink_box)
        form.addRow("&URL", self.url)
        form.addRow("A&ccount", self.account)
        form.addRow("T&oken", self.token)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.save_uplink)
        form.addRow(buttons)

        layout = QVBoxLayout(self)
        layout.addWidget(heading("Account", self))
        layout.addLayout(info)
        layout.addWidget(self.sandbox_box)
        layout.addWidget(self.uplink_box)
        self.funding = FundingBox(ctx, self)  # pay sites from the local account or a wallet
        layout.addWidget(self.funding)
        layout.addStretch(1)
        ctx.network.changed.connect(self.refresh)
        ctx.events.account_changed.connect(self._on_account_changed)  # dropped with the page

    def _on_account_changed(self, _event: object) -> None:
        self.refresh()

    def refresh(self) -> None:
        ctx = self.ctx
        acct = ctx.account()
        self.balance.setText(ctx.balance_words(acct, max_digits=None))
        if acct is None:
            self.address.setText("—")
            self.asset.setText("—")
        else:
            self.address.setText(acct.address)
            self.asset.setText(acct.asset.code)
            self.asset.setToolTip(f"kept to {acct.asset.scale} decimal places")
        self.status.setText(ctx.network.words())
        sandbox = ctx.service.account(SANDBOX_NETWORK)
        self.sandbox_box.setEnabled(sandbox is not None)
        if sandbox is not None and (
            sandbox.asset != self.top_up_amount.asset or not self.top_up_amount.text()
        ):
            self.top_up_amount.set_asset(sandbox.asset)
            self.top_up_amount.set_value(DEFAULT_TOP_UP * 10**sandbox.asset.scale)
        saved = ctx.service.setting(UPLINK_SETTING, {}) or {}
        if not self.url.text():
            self.url.setText(str(saved.get("url", "")))
            self.account.setText(str(saved.get("account", "")))

    def top_up_sandbox(self) -> None:
        try:
            amount = self.top_up_amount.value()
        except AmountError as e:
            self.message.setText(str(e))
            return
        if not amount:
            return
        try:
            self.ctx.service.top_up_sandbox(amount)
        except WalletError as e:
            self.message.setText(str(e))
            return
        self.refresh()

    def save_uplink_settings(self) -> None:
        url = self.url.text().strip()
        try:
            settings = UplinkSettings.from_url(url, account=self.account.text().strip())
        except WalletError as e:
            self.message.setText(str(e))
            return
        token = self.token.text()
        if token:
            if self.ctx.secrets is None:
                self.message.setText("No keyring is available: the token cannot be stored.")
                return
            try:
                self.ctx.secrets.set(settings.token_name, Secret(token))
            except SecretStoreError as e:
                self.message.setText(str(e))
                return
            self.token.clear()
        self.ctx.service.set_setting(
            UPLINK_SETTING, {"url": settings.url, "account": settings.account}
        )
        self.message.setText(
            "Saved. The token is in your keyring." if token else "Saved (token unchanged)."
        )
