"""The site popover: this site's spend and policy, edited in place (issue 8, item 2).

Opened from the toolbar indicator (or its keyboard shortcut). Shows what went to the site
today, this month and in total (from the history), its rate of pay and caps (empty = the
default), and Pause/Resume, Block/Unblock, Reset and "History for this site".

Invariant: every edit goes through ``WalletService.set_site_policy``/``reset_site_policy``,
which stop payments at once when the site is paused or blocked.

Signals:
    history_requested(str): show the history of this site.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.plain_text import ADDRESS_CHARS, page_text
from ui.wallet.context import WalletContext
from ui.wallet.fields import AmountField, with_unit
from ui.wallet.funding import FundingNote
from ui.wallet.guard import confirm_site_policy, read_fields
from ui.wallet.payee import PayeeLabel
from ui.wallet.tip_dialog import open_tip_dialog
from wallet.amounts import AmountError
from wallet.budgets import SitePolicy, SiteState
from wallet.reports import site_spend


class SitePopover(QFrame):
    """Spend and policy of one site."""

    history_requested = Signal(str)

    def __init__(self, ctx: WalletContext, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self._ctx = ctx
        self._site = ""
        self.setObjectName("site_popover")
        self.setAccessibleName("Site payments")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        asset = ctx.service.global_policy().budget_asset
        style = ctx.style

        self.title = QLabel(self)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setStyleSheet("font-weight: bold; font-size: 11pt;")
        self.title.setAccessibleName("Site")
        self.status = QLabel(self)
        self.status.setAccessibleName("Site status")
        self.today = QLabel(self)
        self.month = QLabel(self)
        self.total = QLabel(self)
        spend = QGridLayout()
        for col, (caption, label) in enumerate(
            (("Today", self.today), ("This month", self.month), ("In total", self.total))
        ):
            cap = QLabel(caption, self)
            cap.setStyleSheet("color: #5f6368;")
            label.setAccessibleName(f"Spent {caption.lower()}")
            label.setStyleSheet("font-size: 11pt;")
            spend.addWidget(cap, 0, col)
            spend.addWidget(label, 1, col)

        self.rate = AmountField("Rate of pay per hour", asset, style, parent=self)
        self.cap_day = AmountField("Cap per day", asset, style, parent=self)
        self.cap_month = AmountField("Cap per month", asset, style, parent=self)
        self.cap_total = AmountField("Cap in total", asset, style, parent=self)
        form = QFormLayout()
        form.addRow("&Rate per hour", with_unit(self.rate))
        form.addRow("Cap per &day", with_unit(self.cap_day))
        form.addRow("Cap per &month", with_unit(self.cap_month))
        form.addRow("Cap in &total", with_unit(self.cap_total))
        self.error = QLabel(self)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c0392b;")
        self.error.setAccessibleName("Error")
        self.error.hide()

        self.save = self._button("&Save", "Save rate and caps", self._save)
        self.pause = self._button("&Pause", "Pause payments to this site", self._toggle_pause)
        self.block = self._button("&Block", "Block payments to this site", self._toggle_block)
        self.reset = self._button("Reset", "Reset this site to the defaults", self._reset)
        self.history = self._button("&History…", "History for this site", self._history)
        self.payee = PayeeLabel(ctx, self)  # "Paid to Alice's blog (wallet.example/alice)"
        self.tip = self._button("Send a t&ip…", "Send a tip to this site", self._send_tip)
        self.save.setDefault(True)
        buttons = QHBoxLayout()
        for b in (self.save, self.pause, self.block, self.reset, self.history, self.tip):
            buttons.addWidget(b)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.addWidget(self.title)
        layout.addWidget(self.status)
        layout.addWidget(self.payee)
        self.funding = FundingNote(ctx.funding, self)  # paid from the connected wallet?
        layout.addWidget(self.funding)
        layout.addLayout(spend)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        for field in (self.rate, self.cap_day, self.cap_month, self.cap_total):
            field.returnPressed.connect(self._save)
            field.textEdited.connect(self.error.hide)

    def _button(self, text: str, name: str, slot: object) -> QPushButton:
        b = QPushButton(text, self)
        b.setAccessibleName(name)
        b.clicked.connect(slot)
        return b

    @property
    def site(self) -> str:
        return self._site

    def show_site(self, site: str) -> None:
        """Fill in ``site``'s numbers and policy."""
        self._site = site
        self.funding.show_site(site)
        self.refresh()

    def refresh(self) -> None:
        svc, ctx = self._ctx.service, self._ctx
        glob = svc.global_policy()
        asset = glob.budget_asset
        policy = svc.site_policy(self._site)
        spend = site_spend(svc, self._site, ctx.clock(), ctx.tz)
        self.title.setText(page_text(self._site, ADDRESS_CHARS))
        self.today.setText(ctx.money_map(spend.today, empty_asset=asset))
        self.month.setText(ctx.money_map(spend.month, empty_asset=asset))
        self.total.setText(ctx.money_map(spend.total, empty_asset=asset))
        d = glob.defaults
        for field, value, default in (
            (self.rate, policy.rate_per_hour, d.rate_per_hour),
            (self.cap_day, policy.cap_day, d.cap_day),
            (self.cap_month, policy.cap_month, d.cap_month),
            (self.cap_total, policy.cap_total, d.cap_total),
        ):
            field.set_asset(asset)
            field.set_empty_text(
                "default: " + (ctx.money(default, asset) if default is not None else "no limit")
            )
            field.set_value(value)
        state = policy.state
        self.status.setText(
            {
                SiteState.ENABLED: "Paid while you read it",
                SiteState.PAUSED: "Paused: not paid until you resume",
                SiteState.BLOCKED: "Blocked: never paid",
            }[state]
        )
        self.pause.setText("&Resume" if state is SiteState.PAUSED else "&Pause")
        self.pause.setAccessibleName(
            "Resume payments to this site"
            if state is SiteState.PAUSED
            else "Pause payments to this site"
        )
        self.pause.setEnabled(state is not SiteState.BLOCKED)
        self.payee.show_site(self._site)
        self.tip.setEnabled(ctx.tips is not None and state is SiteState.ENABLED)
        self.block.setText("Un&block" if state is SiteState.BLOCKED else "&Block")
        self.block.setAccessibleName(
            "Unblock this site" if state is SiteState.BLOCKED else "Block payments to this site"
        )
        self.error.hide()

    def _policy(self, state: SiteState | None = None) -> SitePolicy | None:
        try:
            values = read_fields((self.rate, self.cap_day, self.cap_month, self.cap_total))
        except AmountError as e:
            self.error.setText(str(e))
            self.error.show()
            return None
        old = self._ctx.service.site_policy(self._site)
        policy = SitePolicy(self._site, state or old.state, *values)
        return policy if confirm_site_policy(self, self._ctx, policy, old) else None

    def _save(self) -> None:
        if (p := self._policy()) is not None:
            self._ctx.service.set_site_policy(p)
            self.refresh()

    def _toggle_pause(self) -> None:
        old = self._ctx.service.site_policy(self._site).state
        self._set_state(SiteState.ENABLED if old is SiteState.PAUSED else SiteState.PAUSED)

    def _toggle_block(self) -> None:
        old = self._ctx.service.site_policy(self._site).state
        self._set_state(SiteState.ENABLED if old is SiteState.BLOCKED else SiteState.BLOCKED)

    def _set_state(self, state: SiteState) -> None:
        if (p := self._policy(state)) is not None:
            self._ctx.service.set_site_policy(p)
            self.refresh()

    def _reset(self) -> None:
        self._ctx.service.reset_site_policy(self._site)
        self.refresh()

    def _send_tip(self) -> None:
        self.hide()
        open_tip_dialog(self._ctx, self._site, self.parentWidget())

    def _history(self) -> None:
        self.hide()
        self.history_requested.emit(self._site)
