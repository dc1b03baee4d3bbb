"""Settings: default rate and caps, the global monthly budget, focus and idle rules."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ui.wallet.attention_rules import IDLE_MINUTES, PAY_FOCUSED_ONLY, idle_minutes, pay_focused_only
from ui.wallet.context import WalletContext
from ui.wallet.fields import AmountField, with_unit
from ui.wallet.guard import confirm_budget, confirm_limits, limits_of, read_fields
from ui.wallet.pages.base import Page, heading
from wallet.amounts import AmountError
from wallet.budgets import Defaults


class SettingsPage(Page):
    title = "Settings"

    def __init__(self, ctx: WalletContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        asset = ctx.service.global_policy().budget_asset
        style = ctx.style
        self.enabled = QCheckBox("&Pay sites (Web Monetization on)", self)
        self.enabled.setAccessibleName("Pay sites")
        self.monthly = AmountField("Monthly budget", asset, style, parent=self)
        self.rate = AmountField(
            "Default rate of pay per hour", asset, style, empty_text="", parent=self
        )
        self.cap_day = AmountField("Default cap per day", asset, style, parent=self)
        self.cap_month = AmountField("Default cap per month", asset, style, parent=self)
        self.cap_total = AmountField("Default cap in total", asset, style, parent=self)
        self.focused_only = QCheckBox("Pay only the tab I am &looking at (focused window)", self)
        self.focused_only.setAccessibleName("Pay only the focused tab")
        self.idle = QSpinBox(self)
        self.idle.setAccessibleName("Stop paying after this many idle minutes")
        self.idle.setRange(0, 240)
        self.idle.setSpecialValueText("never")
        self.idle.setSuffix(" min")
        self.idle.setMaximumWidth(120)
        self.save = QPushButton("&Save settings", self)
        self.save.setAccessibleName("Save settings")
        self.save.clicked.connect(self.save_settings)
        self.message = QLabel(self)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Settings message")

        budget = QGroupBox("Budget", self)
        f1 = QFormLayout(budget)
        f1.addRow(self.enabled)
        f1.addRow("&Monthly budget (all sites)", with_unit(self.monthly))
        defaults = QGroupBox("Defaults for sites you have not configured", self)
        f2 = QFormLayout(defaults)
        f2.addRow("&Rate per hour", with_unit(self.rate))
        f2.addRow("Cap per &day", with_unit(self.cap_day))
        f2.addRow("Cap per m&onth", with_unit(self.cap_month))
        f2.addRow("Cap in &total", with_unit(self.cap_total))
        when = QGroupBox("When to pay", self)
        f3 = QFormLayout(when)
        f3.addRow(self.focused_only)
        f3.addRow("Stop after &idle for", self.idle)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.save)
        layout = QVBoxLayout(self)
        layout.addWidget(heading("Settings", self))
        layout.addWidget(budget)
        layout.addWidget(defaults)
        layout.addWidget(when)
        layout.addLayout(buttons)
        layout.addStretch(1)
        for f in (self.monthly, self.rate, self.cap_day, self.cap_month, self.cap_total):
            f.textEdited.connect(self.message.clear)

    def refresh(self) -> None:
        svc = self.ctx.service
        glob = svc.global_policy()
        d = glob.defaults
        for f, v in (
            (self.monthly, glob.monthly_budget),
            (self.rate, d.rate_per_hour),
            (self.cap_day, d.cap_day),
            (self.cap_month, d.cap_month),
            (self.cap_total, d.cap_total),
        ):
            f.set_asset(glob.budget_asset)
            f.set_value(v)
        self.enabled.setChecked(glob.enabled)
        self.focused_only.setChecked(pay_focused_only(svc))
        self.idle.setValue(idle_minutes(svc))
        self.message.clear()

    def save_settings(self) -> None:
        svc = self.ctx.service
        try:
            monthly, rate, cap_day, cap_month, cap_total = read_fields(
                (self.monthly, self.rate, self.cap_day, self.cap_month, self.cap_total)
            )
        except AmountError as e:
            self.message.setText(str(e))
            return
        defaults = Defaults(
            rate_per_hour=rate if rate is not None else 0,
            cap_day=cap_day,
            cap_month=cap_month,
            cap_total=cap_total,
        )
        old = svc.global_policy()
        asset = old.budget_asset
        if monthly != old.monthly_budget and not confirm_budget(self, self.ctx, monthly, asset):
            return
        asked = limits_of(defaults)
        if asked != limits_of(old.defaults):
            glob = replace(old, monthly_budget=monthly)
            who = "every site you have not configured"
            if not confirm_limits(self, self.ctx, who, asked=asked, limits=asked, glob=glob):
                return
        # Read every widget first: saving emits events that refresh this page.
        enabled, focused, idle = (
            self.enabled.isChecked(),
            self.focused_only.isChecked(),
            self.idle.value(),
        )
        svc.set_setting(PAY_FOCUSED_ONLY, focused)
        svc.set_setting(IDLE_MINUTES, idle)
        new = replace(
            svc.global_policy(), monthly_budget=monthly, enabled=enabled, defaults=defaults
        )
        svc.set_global_policy(new)
        self.message.setText("Saved.")
