"""Overview: balance and network, this month's spend against the budget, top sites, a chart."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QProgressBar, QVBoxLayout, QWidget

from ui.plain_text import ADDRESS_CHARS, page_text
from ui.wallet.chart import SpendChart
from ui.wallet.context import WalletContext
from ui.wallet.pages.base import Page, cell, heading, table, value_label
from ui.wallet.share import SiteShareView
from wallet.amounts import rescale
from wallet.budgets import Asset
from wallet.reports import Granularity, SiteTotal

TOP_SITES = 5
CHART_DAYS = 30


def spent_in(totals: list[SiteTotal], asset: Asset) -> int:
    """Sum of ``totals`` in ``asset`` (same code at another scale is converted exactly up)."""
    return sum(
        rescale(t.sent, t.asset.scale, asset.scale) for t in totals if t.asset.code == asset.code
    )


class OverviewPage(Page):
    """Signals:
    site_activated(str): the user chose a top site (show its history).
    """

    title = "Overview"
    site_activated = Signal(str)

    def __init__(self, ctx: WalletContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.balance = value_label("Balance", self, big=True)
        self.network = value_label("Network", self)
        self.month_spent = value_label("Spent this month", self, big=True)
        self.budget = value_label("Monthly budget", self)
        self.budget_bar = QProgressBar(self)
        self.budget_bar.setAccessibleName("Monthly budget used")
        self.budget_bar.setRange(0, 1000)
        self.budget_bar.setTextVisible(False)
        self.budget_bar.setFixedHeight(10)
        self.top_sites = table("Top sites this month", ["Site", "This month"], self)
        self.top_sites.setMaximumHeight(180)
        self.top_sites.setToolTip("Enter or double-click: this site's history")
        self.top_sites.itemActivated.connect(
            lambda item: self.site_activated.emit(self._site_at(item.row()))
        )
        self.chart = SpendChart("Spend over the last 30 days", self)
        self.share = SiteShareView(ctx, self)
        self.share.site_activated.connect(self.site_activated)

        grid = QGridLayout()
        grid.addWidget(heading("Balance", self), 0, 0)
        grid.addWidget(heading("This month", self), 0, 1)
        grid.addWidget(self.balance, 1, 0)
        grid.addWidget(self.month_spent, 1, 1)
        grid.addWidget(self.network, 2, 0)
        budget_box = QVBoxLayout()
        budget_box.addWidget(self.budget)
        budget_box.addWidget(self.budget_bar)
        grid.addLayout(budget_box, 2, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        row = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(heading("Top sites", self))
        left.addWidget(self.top_sites)
        left.addWidget(heading("Where the money went", self))
        left.addWidget(self.share, 1)
        row.addLayout(left, 2)
        right = QVBoxLayout()
        right.addWidget(heading("Spend over time", self))
        right.addWidget(self.chart)
        row.addLayout(right, 3)
        layout.addLayout(row, 1)
        ctx.network.changed.connect(self._show_network)

    def _site_at(self, row: int) -> str:
        item = self.top_sites.item(row, 0)
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else ""

    def refresh(self) -> None:
        ctx, svc = self.ctx, self.ctx.service
        glob = svc.global_policy()
        asset = glob.budget_asset
        self.balance.setText(ctx.balance_words(ctx.account(), max_digits=2))
        self._show_network()
        now = ctx.clock()
        month = svc.month_totals(now)
        spent = spent_in(month, asset)
        self.month_spent.setText(ctx.money(spent, asset, max_digits=2))
        if glob.monthly_budget:
            self.budget.setText(f"of {ctx.money(glob.monthly_budget, asset)} monthly budget")
            self.budget_bar.setValue(min(1000, spent * 1000 // glob.monthly_budget))
            self.budget_bar.show()
        else:
            self.budget.setText("No monthly budget set")
            self.budget_bar.hide()
        self.top_sites.setRowCount(0)
        for t in month[:TOP_SITES]:
            r = self.top_sites.rowCount()
            self.top_sites.insertRow(r)
            self.top_sites.setItem(r, 0, cell(page_text(t.site, ADDRESS_CHARS), key=t.site))
            self.top_sites.setItem(r, 1, cell(ctx.money(t.sent, t.asset), numeric=True))
        today = now.astimezone(ctx.tz).date()
        points = svc.history_series(Granularity.DAY, start=now - timedelta(days=CHART_DAYS + 1))
        self.chart.show_series(points, asset, Granularity.DAY, today, CHART_DAYS)
        self.share.refresh()

    def _show_network(self) -> None:
        self.network.setText(self.ctx.network.words())
