"""Where the money went: each site's share of a chosen month, from the database; a slice opens
that site's history; chart ticks and today's label (issue 20, item 7)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.qt.wallet.seed import USD
from tests.qt.wallet.test_views import sql
from ui.wallet.context import WalletContext
from ui.wallet.share import MAX_SLICES, OTHER
from ui.wallet.window import WalletWindow
from wallet.budgets import month_bounds
from wallet.store.history import hour_of


def month_shares(ctx: WalletContext, when: datetime) -> list[tuple[str, int]]:
    start, end = month_bounds(when, ctx.tz)
    rows = sql(
        ctx,
        "SELECT site, sum(sent) s FROM history WHERE hour >= :a AND hour < :b"
        " GROUP BY site ORDER BY s DESC, site",
        a=hour_of(start),
        b=hour_of(end),
    )
    top = [(r.site, int(r.s)) for r in rows[:MAX_SLICES]]
    rest = sum(int(r.s) for r in rows[MAX_SLICES:])
    return top + ([(OTHER, rest)] if rest else [])


def test_share_of_each_site_for_a_chosen_month_opens_its_history(
    qtbot: Any, window: WalletWindow, ctx: WalletContext, artifacts: Path
) -> None:
    window.show_page("overview")
    share = window.overview.share
    now = ctx.clock()
    assert share.month.currentText() == now.astimezone(ctx.tz).strftime("%B %Y")
    assert share.shares == month_shares(ctx, now) and share.shares
    assert set(share.slices) == {site for site, _ in share.shares}
    assert window.grab().save(str(artifacts / "wallet-overview-share.png"))
    # Last month: other figures, from the same database.
    share.month.setCurrentIndex(1)
    last_month = datetime(now.year, now.month - 1, 15, tzinfo=UTC)
    assert share.shares == month_shares(ctx, last_month) and share.shares
    assert share.caption.text().endswith(f"to {len(share.shares)} sites")
    # A slice opens that site's history.
    site = share.shares[0][0]
    share.slices[site].clicked.emit()
    assert window.stack.currentWidget() is window.history
    assert window.history.current_filter().site == site


def test_chart_axis_has_distinct_ticks_and_today_is_labelled(
    qtbot: Any, window: WalletWindow, ctx: WalletContext
) -> None:
    window.show_page("overview")
    chart = window.overview.chart
    assert chart.labels[-1] == "Today"
    labels = chart.ticks.labels()
    assert len(set(labels)) == len(labels) >= 2
    assert float(chart.ticks.top) * 10**USD.scale >= max(chart.values)
