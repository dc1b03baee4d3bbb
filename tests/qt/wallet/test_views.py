"""Every wallet view against a real, seeded database: the numbers shown are the database's.

Also saves a screenshot of each view with data to tests/artifacts/wallet-<view>.png.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from sqlalchemy import text

from tests.qt.wallet.seed import NEWS, SITES, USD, WALLET_ORIGIN
from ui.wallet.context import WalletContext
from ui.wallet.pages.base import text_at
from ui.wallet.window import WalletWindow
from wallet.amounts import format_amount
from wallet.budgets import month_bounds
from wallet.store.engine import transaction
from wallet.store.history import Granularity


def money(ctx: WalletContext, amount: int, **kw: Any) -> str:
    return format_amount(amount, USD, style=ctx.style, **kw)


def sql(ctx: WalletContext, query: str, **params: Any) -> Any:
    with transaction(ctx.history.engine, readonly=True) as conn:
        return conn.execute(text(query), params).all()


def month_hours(ctx: WalletContext) -> tuple[int, int]:
    m0, m1 = month_bounds(ctx.clock(), ctx.tz)

    def epoch_h(t: datetime) -> int:
        return int(t.timestamp()) // 3600

    return epoch_h(m0), epoch_h(m1)


def test_overview_shows_the_database(
    qtbot: Any, window: WalletWindow, ctx: WalletContext, artifacts: Path
) -> None:
    page = window.show_page("overview")
    assert page is window.overview
    (balance,) = sql(ctx, "SELECT balance FROM account WHERE network = 'sandbox'")[0]
    assert window.overview.balance.text() == money(ctx, balance, max_digits=2)
    h0, h1 = month_hours(ctx)
    rows = sql(
        ctx,
        "SELECT site, sum(sent) s FROM history WHERE hour >= :a AND hour < :b"
        " GROUP BY site ORDER BY s DESC, site",
        a=h0,
        b=h1,
    )
    assert window.overview.month_spent.text() == money(ctx, sum(r.s for r in rows), max_digits=2)
    assert (
        window.overview.budget.text() == f"of {money(ctx, 20 * 10**9, max_digits=6)} monthly budget"
    )
    shown = [
        (text_at(window.overview.top_sites, r, 0), text_at(window.overview.top_sites, r, 1))
        for r in range(window.overview.top_sites.rowCount())
    ]
    assert shown == [(r.site, money(ctx, r.s, max_digits=6)) for r in rows[:5]]
    # The chart: one bar a day for 30 days, today's bar = today's payments.
    today = ctx.clock().astimezone(ctx.tz).date()
    points = {p.period: p.sent for p in ctx.service.history_series(Granularity.DAY)}
    expected = [points.get(today - timedelta(days=29 - i), 0) for i in range(30)]
    assert window.overview.chart.values == expected
    assert expected[-1] > 0
    assert window.grab().save(str(artifacts / "wallet-overview.png"))


def test_sites_page_lists_every_site_with_its_spend(
    qtbot: Any, window: WalletWindow, ctx: WalletContext, artifacts: Path
) -> None:
    window.show_page("sites")
    page = window.sites
    assert sorted(page.sites()) == sorted(SITES)
    totals = {r.site: r.s for r in sql(ctx, "SELECT site, sum(sent) s FROM history GROUP BY site")}
    h0, h1 = month_hours(ctx)
    month = {
        r.site: r.s
        for r in sql(
            ctx,
            "SELECT site, sum(sent) s FROM history WHERE hour >= :a AND hour < :b GROUP BY site",
            a=h0,
            b=h1,
        )
    }
    for r in range(page.table.rowCount()):
        site = text_at(page.table, r, 0)
        assert text_at(page.table, r, 6) == money(ctx, month[site], max_digits=6)
        assert text_at(page.table, r, 7) == money(ctx, totals[site], max_digits=6)
    states = {
        text_at(page.table, r, 0): text_at(page.table, r, 1) for r in range(page.table.rowCount())
    }
    assert states["https://blog.example"] == "Paused"
    assert states["https://video.example"] == "Blocked"
    assert page.select(NEWS)
    assert page.rate.text() == "1.20"
    assert page.cap_month.text() == "8.00"
    assert page.cap_day.text() == ""
    assert window.grab().save(str(artifacts / "wallet-sites.png"))


def test_history_page_numbers(
    qtbot: Any, window: WalletWindow, ctx: WalletContext, artifacts: Path
) -> None:
    window.show_page("history")
    page = window.history
    ((count,),) = sql(ctx, "SELECT count(*) FROM history")
    assert page.model.rowCount() == count
    page.wait_summary()
    newest = sql(
        ctx, "SELECT site, sent, packets FROM history ORDER BY hour DESC, id DESC LIMIT 1"
    )[0]
    model = page.model
    assert model.index(0, 1).data() == newest.site
    assert model.index(0, 3).data() == money(ctx, newest.sent, max_digits=6)
    assert model.index(0, 5).data() == f"{newest.packets:,}"
    oldest = sql(ctx, "SELECT site, sent FROM history ORDER BY hour ASC, id ASC LIMIT 1")[0]
    # Readable in the table (6 digits), every digit in the tooltip (and in the CSV).
    assert model.index(count - 1, 3).data() == money(ctx, oldest.sent, max_digits=6)
    assert model.index(count - 1, 3).data(Qt.ItemDataRole.ToolTipRole) == money(ctx, oldest.sent)
    totals = sql(ctx, "SELECT site, sum(sent) s FROM history GROUP BY site ORDER BY s DESC")
    shown = [
        (text_at(page.totals, r, 0), text_at(page.totals, r, 1))
        for r in range(page.totals.rowCount())
    ]
    assert shown == [(r.site, money(ctx, r.s, max_digits=6)) for r in totals]
    assert page.provider.findData(WALLET_ORIGIN) > 0
    assert window.grab().save(str(artifacts / "wallet-history.png"))


def test_providers_page(
    qtbot: Any, window: WalletWindow, ctx: WalletContext, artifacts: Path
) -> None:
    ctx.service.register_handler("https://other.example", "Other Wallet", "https://other.example/h")
    window.show_page("providers")
    page = window.providers
    handlers = ctx.service.list_handlers()
    assert page.table.rowCount() == len(handlers) == 2
    for r, h in enumerate(handlers):
        assert text_at(page.table, r, 1) == h.name
        assert text_at(page.table, r, 3) == h.handler_uri
        assert (text_at(page.table, r, 0) != "") == h.active
    assert "Example Wallet" in page.note.text()
    assert page.select_name("Other Wallet")
    assert window.grab().save(str(artifacts / "wallet-providers.png"))


def test_account_page(
    qtbot: Any, window: WalletWindow, ctx: WalletContext, artifacts: Path
) -> None:
    window.show_page("account")
    page = window.account
    acct = ctx.service.account("sandbox")
    assert acct is not None
    assert page.address.text() == "test.trickle.sandbox.alice"
    assert page.asset.text() == "USD"  # no "scale 9": that is the developer's word
    assert page.balance.text() == money(ctx, acct.balance)
    assert page.status.text() == "Sandbox (play money) — connected"
    page.url.setText("https://connector.example/ilp")
    page.account.setText("alice")
    assert window.grab().save(str(artifacts / "wallet-account.png"))


def test_settings_page(
    qtbot: Any, window: WalletWindow, ctx: WalletContext, artifacts: Path
) -> None:
    window.show_page("settings")
    page = window.settings
    assert page.monthly.text() == "20.00"
    assert page.rate.text() == "0.60"
    assert page.cap_month.text() == "5.00"
    assert page.cap_day.text() == ""
    assert page.enabled.isChecked()
    assert window.grab().save(str(artifacts / "wallet-settings.png"))
