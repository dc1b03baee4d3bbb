"""History: the lazy, sortable, filterable table; per-site totals; a chart; Export CSV."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ui.plain_text import ADDRESS_CHARS, page_text
from ui.wallet.chart import SpendChart
from ui.wallet.context import WalletContext
from ui.wallet.history_model import HistoryTableModel
from ui.wallet.pages.base import Page, cell, table
from wallet.budgets import day_bounds, month_bounds
from wallet.reports import Granularity, HistoryFilter, write_csv

PERIODS = ["All time", "Today", "This month", "Last 30 days", "Last 12 months"]
ALL = "All"


class HistoryPage(Page):
    title = "History"

    def __init__(
        self, ctx: WalletContext, parent: QWidget | None = None, *, summary_deferred: bool = False
    ) -> None:
        """With ``summary_deferred``, the table shows first and the per-site totals and the chart
        (aggregates over every matching row) follow from the event loop."""
        super().__init__(ctx, parent)
        self._summary = QTimer(self)
        self._summary.setSingleShot(True)
        self._summary.setInterval(0)
        self._summary.timeout.connect(self._update_summary)
        self._deferred = summary_deferred
        self._combos_stale = True
        self.site = QComboBox(self)
        self.site.setAccessibleName("Filter by site")
        self.provider = QComboBox(self)
        self.provider.setAccessibleName("Filter by provider")
        self.period = QComboBox(self)
        self.period.setAccessibleName("Period")
        self.period.addItems(PERIODS)
        self.granularity = QComboBox(self)
        self.granularity.setAccessibleName("Chart by")
        self.granularity.addItem("By day", Granularity.DAY)
        self.granularity.addItem("By month", Granularity.MONTH)
        self.export = QPushButton("&Export CSV…", self)
        self.export.setAccessibleName("Export CSV")
        self.export.clicked.connect(self._ask_export)
        self.status = QLabel(self)
        self.status.setAccessibleName("Rows shown")
        bar = QHBoxLayout()
        for label, w in (
            ("&Site", self.site),
            ("&Provider", self.provider),
            ("Pe&riod", self.period),
        ):
            caption = QLabel(label, self)
            caption.setBuddy(w)
            bar.addWidget(caption)
            bar.addWidget(w, 1 if w is self.site else 0)
        bar.addWidget(self.export)

        self.model = HistoryTableModel(ctx, self)
        self.view = QTableView(self)
        self.view.setAccessibleName("Payment history")
        self.view.setModel(self.model)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setAlternatingRowColors(True)
        self.view.setTabKeyNavigation(False)
        self.view.setWordWrap(False)
        vh = self.view.verticalHeader()
        vh.hide()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(self.fontMetrics().height() + 8)
        hh = self.view.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(True)
        for col, width in enumerate((125, 185, 150, 135, 135, 60, 80, 240)):
            self.view.setColumnWidth(col, width)

        self.totals = table("Totals per site", ["Site", "Sent", "Packets"], self)
        self.chart = SpendChart("Spend chart", self)
        lower = QWidget(self)
        lower_layout = QHBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.totals, 2)
        chart_box = QVBoxLayout()
        chart_row = QHBoxLayout()
        chart_caption = QLabel("&Chart", self)
        chart_caption.setBuddy(self.granularity)
        chart_row.addWidget(chart_caption)
        chart_row.addWidget(self.granularity)
        chart_row.addStretch(1)
        chart_box.addLayout(chart_row)
        chart_box.addWidget(self.chart, 1)
        lower_layout.addLayout(chart_box, 3)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.view)
        split.addWidget(lower)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(split, 1)
        layout.addWidget(self.status)
        self._filling = False
        for combo in (self.site, self.provider, self.period):
            combo.currentIndexChanged.connect(self._apply)
        self.granularity.currentIndexChanged.connect(self._schedule_summary)

    # --- filters -------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read. The filter lists (a DISTINCT over every row) come with the summary."""
        self._combos_stale = True
        if not self._deferred:
            self._fill_combos()
        self._apply()

    def _fill_combos(self) -> None:
        self._combos_stale = False
        self._filling = True
        for combo, values in (
            (self.site, self.ctx.history.sites()),
            (self.provider, self.ctx.history.providers()),
        ):
            current = combo.currentData()
            combo.clear()
            combo.addItem(ALL, None)
            for v in values:
                combo.addItem(page_text(v, ADDRESS_CHARS), v)
            if current is not None and combo.findData(current) < 0:
                combo.addItem(page_text(current, ADDRESS_CHARS), current)
            combo.setCurrentIndex(max(0, combo.findData(current)) if current else 0)
        self._filling = False

    def show_site(self, site: str) -> None:
        """Filter to one site (from the popover's "History for this site")."""
        self._fill_combos()
        i = self.site.findData(site)
        if i < 0:
            self.site.addItem(page_text(site, ADDRESS_CHARS), site)
            i = self.site.count() - 1
        self.site.setCurrentIndex(i)

    def current_filter(self) -> HistoryFilter:
        now = self.ctx.clock()
        tz = self.ctx.tz
        start: datetime | None = None
        end: datetime | None = None
        p = self.period.currentIndex()
        if p == 1:
            start, end = day_bounds(now, tz)
        elif p == 2:
            start, end = month_bounds(now, tz)
        elif p == 3:
            start = day_bounds(now - timedelta(days=29), tz)[0]
        elif p == 4:
            local = now.astimezone(tz)
            first = local.replace(year=local.year - 1) + timedelta(days=1)
            start = month_bounds(first, tz)[0]
        return HistoryFilter(
            site=self.site.currentData(), provider=self.provider.currentData(), start=start, end=end
        )

    def _apply(self) -> None:
        if self._filling:
            return
        self.model.set_filter(self.current_filter())
        count_text = f"{self.model.rowCount():,}".replace(",", self.ctx.style.group)
        self.status.setText(f"{count_text} rows: one per site, provider and hour")
        self._schedule_summary()

    def _schedule_summary(self) -> None:
        if self._deferred:
            self._summary.start()
        else:
            self._update_summary()

    def wait_summary(self) -> None:
        """Fill in the totals and the chart now if they are still pending."""
        if self._summary.isActive():
            self._summary.stop()
            self._update_summary()

    def _update_summary(self) -> None:
        if self._combos_stale:
            self._fill_combos()
        flt = self.model.filter
        svc = self.ctx.service
        totals = svc.site_totals(start=flt.start, end=flt.end, site=flt.site, provider=flt.provider)
        self.totals.setRowCount(0)
        for t in totals:
            r = self.totals.rowCount()
            self.totals.insertRow(r)
            self.totals.setItem(r, 0, cell(page_text(t.site, ADDRESS_CHARS), key=t.site))
            self.totals.setItem(r, 1, cell(self.ctx.money(t.sent, t.asset), numeric=True))
            packets = f"{t.packets:,}".replace(",", self.ctx.style.group)
            self.totals.setItem(r, 2, cell(packets, numeric=True))
        gran = Granularity(self.granularity.currentData())
        count = 30 if gran is Granularity.DAY else 12
        now = self.ctx.clock()
        since = now - (
            timedelta(days=count + 1) if gran is Granularity.DAY else timedelta(days=370)
        )
        start = max(flt.start, since) if flt.start else since
        points = svc.history_series(
            gran, start=start, end=flt.end, site=flt.site, provider=flt.provider
        )
        asset = svc.global_policy().budget_asset
        self.chart.show_series(points, asset, gran, now.astimezone(self.ctx.tz).date(), count)

    # --- export --------------------------------------------------------------------------------

    def export_to(self, path: Path) -> int:
        """Write the filtered rows as CSV to ``path``; returns the number of rows."""
        with path.open("w", encoding="utf-8", newline="") as out:
            return write_csv(self.ctx.history.iter_rows(self.model.filter), out, self.ctx.tz)

    def _ask_export(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Export history as CSV", "trickle-history.csv", "CSV files (*.csv)"
        )
        if name:
            n = self.export_to(Path(name))
            self.status.setText(f"Exported {n} rows to {name}")
