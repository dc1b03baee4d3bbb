"""Where the money went: each site's share of a chosen month, as a pie whose slices open that
site's history (issue 20, item 7).

Amounts are the budget asset's (other assets, if any, are left out and the caption says so);
the largest ``MAX_SLICES`` sites get their own slice, the rest one "Other sites" slice. Slice
labels are page text made safe (:mod:`ui.plain_text`).

Signals:
    site_activated(str): the user clicked a site's slice (show its history).
"""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCharts import QChart, QChartView, QPieSeries, QPieSlice
from PySide6.QtCore import QMargins, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ui.plain_text import page_text
from ui.wallet.chart import periods
from ui.wallet.context import WalletContext
from wallet.amounts import rescale, to_decimal
from wallet.budgets import Asset, month_bounds
from wallet.reports import Granularity

MAX_SLICES = 8
MONTHS = 12
OTHER = "Other sites"
_COLOURS = ["#2e86de", "#10ac84", "#ee5253", "#ff9f43", "#5f27cd", "#48dbfb", "#c8d6e5", "#576574"]


class SiteShareView(QWidget):
    """A month picker and a pie of each site's share of that month."""

    site_activated = Signal(str)

    def __init__(self, ctx: WalletContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.month = QComboBox(self)
        self.month.setAccessibleName("Month")
        self.month.currentIndexChanged.connect(lambda _i: self.refresh())
        self.caption = QLabel(self)
        self.caption.setTextFormat(Qt.TextFormat.PlainText)
        self.caption.setAccessibleName("Share caption")
        self.view = QChartView(self)
        self.view.setAccessibleName("Share of each site")
        self.view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.view.setMinimumHeight(220)
        self.shares: list[tuple[str, int]] = []  # (site or OTHER, amount), largest first
        self.slices: dict[str, QPieSlice] = {}
        top = QHBoxLayout()
        top.addWidget(QLabel("Month", self))
        top.addWidget(self.month)
        top.addWidget(self.caption, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        self._fill_months()

    def _fill_months(self) -> None:
        today = self._ctx.clock().astimezone(self._ctx.tz).date()
        self.month.blockSignals(True)
        self.month.clear()
        for first in reversed(periods(Granularity.MONTH, today, MONTHS)):
            self.month.addItem(first.strftime("%B %Y"), first)
        self.month.blockSignals(False)

    def refresh(self) -> None:
        ctx = self._ctx
        asset = ctx.service.global_policy().budget_asset
        first = self.month.currentData()
        if first is None:
            return
        when = datetime(first.year, first.month, 15, 12, tzinfo=ctx.tz).astimezone(UTC)
        start, end = month_bounds(when, ctx.tz)
        totals: dict[str, int] = {}
        others = False
        for t in ctx.service.site_totals(start=start, end=end):
            if t.asset.code != asset.code:
                others = True
                continue
            totals[t.site] = totals.get(t.site, 0) + rescale(t.sent, t.asset.scale, asset.scale)
        ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
        rest = sum(v for _, v in ranked[MAX_SLICES:])
        self.shares = ranked[:MAX_SLICES] + ([(OTHER, rest)] if rest else [])
        total = sum(v for _, v in self.shares)
        self.caption.setText(
            (
                f"{ctx.money(total, asset, max_digits=2)} to {len(totals)} sites"
                if total
                else "Nothing paid"
            )
            + (" (other currencies not shown)" if others else "")
        )
        self._draw(asset, total)

    def _draw(self, asset: Asset, total: int) -> None:
        chart = QChart()
        chart.setMargins(QMargins(2, 2, 2, 2))
        chart.setBackgroundRoundness(0)
        chart.legend().setAlignment(Qt.AlignmentFlag.AlignRight)
        series = QPieSeries()
        self.slices = {}
        for i, (site, amount) in enumerate(self.shares):
            pct = amount * 100 // total if total else 0
            host = site.split("://", 1)[-1]  # the scheme is the same for nearly every site
            label = f"{pct}% {page_text(host, 40)}"
            piece = series.append(label, float(to_decimal(amount, asset.scale)))
            piece.setColor(QColor(_COLOURS[i % len(_COLOURS)]))
            if site != OTHER:
                piece.clicked.connect(lambda s=site: self.site_activated.emit(s))
                piece.hovered.connect(lambda on, p=piece: p.setExploded(on))
            self.slices[site] = piece
        chart.addSeries(series)
        old = self.view.chart()
        self.view.setChart(chart)
        if old is not None:
            old.deleteLater()
