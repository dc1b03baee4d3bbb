"""Spend over time as a bar chart (QtCharts): per local day or per month, one asset.

Amounts become floats only here, for plotting (QtCharts takes ``float``); every number shown
as text comes from :mod:`wallet.amounts`.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from PySide6.QtCharts import QBarCategoryAxis, QBarSeries, QBarSet, QChart, QChartView, QValueAxis
from PySide6.QtCore import QMargins, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QWidget

from ui.wallet.chart_ticks import nice_ticks
from wallet.amounts import to_decimal
from wallet.budgets import Asset
from wallet.reports import Granularity, SeriesPoint


def periods(granularity: Granularity, last: date, count: int) -> list[date]:
    """The ``count`` days (or months: their 1st) ending with ``last``'s, oldest first."""
    if granularity is Granularity.DAY:
        return [last - timedelta(days=count - 1 - i) for i in range(count)]
    out: list[date] = []
    y, m = last.year, last.month
    for _ in range(count):
        out.append(date(y, m, 1))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


def bucket(points: list[SeriesPoint], asset: Asset, keys: list[date]) -> list[int]:
    """The ``sent`` of ``asset`` for each period in ``keys`` (0 where none)."""
    by = {p.period: p.sent for p in points if p.asset == asset}
    return [by.get(k, 0) for k in keys]


class SpendChart(QChartView):
    """Bars of what was sent per period."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(name)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumHeight(200)
        chart = QChart()
        chart.legend().hide()
        chart.setMargins(QMargins(4, 4, 4, 4))
        chart.setBackgroundRoundness(0)
        self.setChart(chart)
        self.values: list[int] = []
        self.labels: list[str] = []
        self.ticks = nice_ticks(Decimal(0))

    def show_series(
        self,
        points: list[SeriesPoint],
        asset: Asset,
        granularity: Granularity,
        last: date,
        count: int,
    ) -> None:
        """Plot ``count`` periods ending with ``last``'s."""
        keys = periods(granularity, last, count)
        self.values = bucket(points, asset, keys)
        if granularity is Granularity.DAY:
            self.labels = [
                k.strftime("%d %b") if k.day == 1 or i == 0 else k.strftime("%d")
                for i, k in enumerate(keys)
            ]
            self.labels[-1] = "Today"  # ``last`` is today: its bar is named, whatever the angle
        else:
            self.labels = [k.strftime("%b") if k.month != 1 else k.strftime("%Y") for k in keys]
            self.labels[-1] = "This month"
        chart = QChart()
        chart.legend().hide()
        chart.setMargins(QMargins(4, 4, 4, 4))
        chart.setBackgroundRoundness(0)
        bars = QBarSet(f"Sent ({asset.code})")
        bars.setColor(QColor("#2e86de"))
        for v in self.values:
            bars.append(float(to_decimal(v, asset.scale)))
        series = QBarSeries()
        series.append(bars)
        series.setBarWidth(0.8)
        chart.addSeries(series)
        x = QBarCategoryAxis()
        x.append(self.labels)
        x.setTruncateLabels(False)
        if len(self.labels) > 16:
            x.setLabelsAngle(-90)
            small = x.labelsFont()
            small.setPointSizeF(max(6.0, small.pointSizeF() - 1.5))
            x.setLabelsFont(small)
        chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
        series.attachAxis(x)
        y = QValueAxis()
        self.ticks = nice_ticks(to_decimal(max(self.values, default=0), asset.scale))
        y.setRange(0.0, float(self.ticks.top))
        y.setTickCount(self.ticks.steps + 1)
        y.setLabelFormat(f"%.{self.ticks.decimals}f")  # distinct labels: as many digits as needed
        y.setTitleText(asset.code)
        chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(y)
        what = "per day" if granularity is Granularity.DAY else "per month"
        chart.setTitle(f"Sent {what}")
        old = self.chart()
        self.setChart(chart)
        old.deleteLater()
