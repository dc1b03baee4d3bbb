"""Sites & budgets: every site with its state, policy and spend; edit one, reset it; the defaults.

The State column is the site's state in the words of :mod:`wallet.site_state` (its label; the
explanation in the tooltip), the same as the toolbar indicator and the popover say. The list
holds every site with a policy or payments, and every site open in a tab.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ui.plain_text import ADDRESS_CHARS, page_text, tooltip_text
from ui.wallet.context import WalletContext
from ui.wallet.fields import AmountField, with_unit
from ui.wallet.guard import confirm_site_policy, read_fields, show_policy
from ui.wallet.pages.base import Page, cell, heading, table, value_label
from wallet.amounts import AmountError
from wallet.budgets import SitePolicy, SiteState, effective
from wallet.reports import HistoryFilter, spend_by_site

HEADERS = [
    "Site",
    "State",
    "Rate / hour",
    "Cap / day",
    "Cap / month",
    "Cap total",
    "This month",
    "In total",
]
# The policy the user chooses (the State column shows what happens, :mod:`wallet.site_state`).
_STATES = [
    ("Allowed", SiteState.ENABLED),
    ("Paused", SiteState.PAUSED),
    ("Blocked", SiteState.BLOCKED),
]


class SitesPage(Page):
    title = "Sites & budgets"

    def __init__(self, ctx: WalletContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.defaults = value_label("Defaults for other sites", self)
        self.defaults.setWordWrap(True)
        self.table = table("Sites", HEADERS, self)
        self.table.setSortingEnabled(True)
        self.table.setWordWrap(False)
        self.table.itemSelectionChanged.connect(self._on_select)

        asset = ctx.service.global_policy().budget_asset
        self.editor = QGroupBox("Selected site", self)
        self.editor.setAccessibleName("Selected site")
        self.site = value_label("Selected site", self.editor)
        self.state = QComboBox(self.editor)
        self.state.setAccessibleName("Payment state")
        for text, st in _STATES:
            self.state.addItem(text, st)
        self.rate = AmountField("Rate of pay per hour", asset, ctx.style, parent=self.editor)
        self.cap_day = AmountField("Cap per day", asset, ctx.style, parent=self.editor)
        self.cap_month = AmountField("Cap per month", asset, ctx.style, parent=self.editor)
        self.cap_total = AmountField("Cap in total", asset, ctx.style, parent=self.editor)
        self.error = QLabel(self.editor)
        self.error.setTextFormat(Qt.TextFormat.PlainText)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c0392b;")
        self.error.setAccessibleName("Error")
        self.save = QPushButton("&Save", self.editor)
        self.save.setAccessibleName("Save this site's policy")
        self.save.clicked.connect(self.save_selected)
        self.reset = QPushButton("Reset to &defaults", self.editor)
        self.reset.setAccessibleName("Reset this site to the defaults")
        self.reset.clicked.connect(self.reset_selected)
        self.forget = QPushButton("&Forget this site…", self.editor)
        self.forget.setAccessibleName("Forget this site")
        self.forget.clicked.connect(self.forget_selected)
        form = QFormLayout()
        form.addRow("Site", self.site)
        form.addRow("S&tate", self.state)
        form.addRow("&Rate per hour", with_unit(self.rate))
        form.addRow("Cap per d&ay", with_unit(self.cap_day))
        form.addRow("Cap per &month", with_unit(self.cap_month))
        form.addRow("Cap in t&otal", with_unit(self.cap_total))
        buttons = QHBoxLayout()
        buttons.addWidget(self.error, 1)
        buttons.addWidget(self.forget)
        buttons.addWidget(self.reset)
        buttons.addWidget(self.save)
        box = QVBoxLayout(self.editor)
        box.addLayout(form)
        box.addLayout(buttons)
        self.editor.setEnabled(False)
        for f in (self.rate, self.cap_day, self.cap_month, self.cap_total):
            f.returnPressed.connect(self.save_selected)
            f.textEdited.connect(self.error.clear)  # no old error left beside new text

        layout = QVBoxLayout(self)
        layout.addWidget(heading("Sites & budgets", self))
        layout.addWidget(self.defaults)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.editor)
        ctx.events.policy_changed.connect(lambda _ev: self.refresh())
        ctx.events.settings_changed.connect(lambda _ev: self.refresh())
        self._states = ctx.site_states()
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.setInterval(500)
        self._later.timeout.connect(self.refresh)
        self._states.site_changed.connect(self._on_state)

    # --- showing -------------------------------------------------------------------------------

    def sites(self) -> list[str]:
        return [
            str(item.data(Qt.ItemDataRole.UserRole))
            for r in range(self.table.rowCount())
            if (item := self.table.item(r, 0)) is not None
        ]

    def refresh(self) -> None:
        ctx, svc = self.ctx, self.ctx.service
        glob = svc.global_policy()
        asset = glob.budget_asset
        d = glob.defaults

        def amt(v: int | None) -> str:
            return ctx.money(v, asset) if v is not None else "no limit"

        self.defaults.setText(
            f"Other sites: {amt(d.rate_per_hour)} per hour, caps {amt(d.cap_day)} a day, "
            f"{amt(d.cap_month)} a month, {amt(d.cap_total)} in total (change in Settings)."
        )
        policies = {p.site: p for p in svc.list_site_policies()}
        spend = spend_by_site(svc, ctx.clock(), ctx.tz)
        sites = sorted(set(policies) | set(spend) | set(self._states.open_sites()))
        statuses = self._states.statuses(sites)
        selected = self.selected_site()
        self.table.setSortingEnabled(False)
        self.table.setRowCount(0)
        for site in sites:
            p = policies.get(site)
            eff = effective(p, d)
            month, total = spend.get(site, ({}, {}))
            r = self.table.rowCount()
            self.table.insertRow(r)
            words = self._states.words(statuses[site])
            state = cell(words.label)
            state.setToolTip(tooltip_text(words.explanation))
            values = [
                cell(page_text(site, ADDRESS_CHARS), key=site),
                state,
                self._own(p, "rate_per_hour", amt(eff.rate_per_hour)),
                self._own(p, "cap_day", amt(eff.cap_day)),
                self._own(p, "cap_month", amt(eff.cap_month)),
                self._own(p, "cap_total", amt(eff.cap_total)),
                cell(ctx.money_map(month, empty_asset=asset), numeric=True),
                cell(ctx.money_map(total, empty_asset=asset), numeric=True),
            ]
            for c, item in enumerate(values):
                self.table.setItem(r, c, item)
        self.table.setSortingEnabled(True)
        if selected is not None:
            self.select(selected)

    def _on_state(self, _site: str) -> None:
        if self.isVisible() and not self._later.isActive():
            self._later.start()

    @staticmethod
    def _own(p: SitePolicy | None, attr: str, text: str) -> QTableWidgetItem:
        """Effective value; greyed and italic when it is the default (the site sets none)."""
        item = cell(text, numeric=True)
        if p is None or getattr(p, attr) is None:
            font = item.font()
            font.setItalic(True)
            item.setFont(font)
            item.setForeground(QColor("#7a7a7a"))
            item.setToolTip("the default")
        return item

    # --- editing -------------------------------------------------------------------------------

    def selected_site(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return str(item.data(Qt.ItemDataRole.UserRole)) if item else None

    def select(self, site: str) -> bool:
        for r in range(self.table.rowCount()):
            item = self.table.item(r, 0)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == site:
                self.table.selectRow(r)
                return True
        return False

    def _on_select(self) -> None:
        site = self.selected_site()
        self.editor.setEnabled(site is not None)
        self.error.clear()
        if site is None:
            return
        svc = self.ctx.service
        glob = svc.global_policy()
        p = svc.site_policy(site)
        self.site.setText(page_text(site, ADDRESS_CHARS))
        self.state.setCurrentIndex(self.state.findData(p.state))
        show_policy((self.rate, self.cap_day, self.cap_month, self.cap_total), self.ctx, p, glob)

    def save_selected(self) -> None:
        site = self.selected_site()
        if site is None:
            return
        try:
            values = read_fields((self.rate, self.cap_day, self.cap_month, self.cap_total))
        except AmountError as e:
            self.error.setText(str(e))
            return
        state = self.state.currentData()
        policy = SitePolicy(site, SiteState(state), *values)
        if not confirm_site_policy(self, self.ctx, policy, self.ctx.service.site_policy(site)):
            return
        self.ctx.service.set_site_policy(policy)

    def forget_selected(self) -> None:
        """Remove the site's settings and, if the user ticks it, its payment history."""
        site = self.selected_site()
        if site is None:
            return
        rows = self.ctx.history.count(HistoryFilter(site=site))
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Forget this site?",
            f"{page_text(site, ADDRESS_CHARS)}: its rate, caps and state go back to the "
            "defaults. What it was paid still counts against your monthly budget.",
            parent=self,
        )
        box.setObjectName("forget_site")
        box.setTextFormat(Qt.TextFormat.PlainText)
        also = QCheckBox(f"Also delete its payment history ({rows:,} rows)", box)
        also.setEnabled(rows > 0)
        box.setCheckBox(also)
        forget = box.addButton("&Forget", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        if box.clickedButton() is not forget:
            return
        self.ctx.service.forget_site(site, history=also.isChecked())
        self.refresh()

    def reset_selected(self) -> None:
        if (site := self.selected_site()) is not None:
            self.ctx.service.reset_site_policy(site)
