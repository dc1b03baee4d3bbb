"""The History view: a lazy model (pages, not the table), sorting and filtering in SQLite,
per-site totals, CSV export — and ``trickle history --csv`` on the same profile gives the same
rows."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from sqlalchemy import text

from tests.qt.wallet.seed import COMICS, NEWS, VIDEO
from ui.wallet.context import WalletContext
from ui.wallet.history_model import PAGE
from ui.wallet.pages.base import text_at
from ui.wallet.window import WalletWindow
from wallet.reports import CSV_HEADER, HistoryFilter, csv_text
from wallet.store.engine import transaction

ROOT = Path(__file__).resolve().parents[3]


def sql(ctx: WalletContext, query: str, **params: Any) -> Any:
    with transaction(ctx.history.engine, readonly=True) as conn:
        return conn.execute(text(query), params).all()


def test_the_model_reads_pages_not_the_table(qtbot: Any, window: WalletWindow) -> None:
    window.show_page("history")
    model = window.history.model
    n = model.rowCount()
    assert n > 2 * PAGE
    before = model.queries
    window.history.view.scrollToBottom()
    qtbot.waitUntil(lambda: model.queries > before)
    assert model.index(n - 1, 1).data() is not None
    assert model.queries - before <= 3  # the last page(s), read backwards


def test_sorting_by_each_column_matches_sql(
    qtbot: Any, window: WalletWindow, ctx: WalletContext
) -> None:
    window.show_page("history")
    view, model = window.history.view, window.history.model
    view.sortByColumn(3, Qt.SortOrder.DescendingOrder)
    top = sql(ctx, "SELECT sent FROM history ORDER BY sent DESC, id DESC LIMIT 1")[0].sent
    bottom = sql(ctx, "SELECT sent FROM history ORDER BY sent ASC, id ASC LIMIT 1")[0].sent
    asset = model.row(0).asset  # type: ignore[union-attr]
    assert model.index(0, 3).data(Qt.ItemDataRole.ToolTipRole) == ctx.money(
        top, asset, max_digits=None
    )
    assert model.row(model.rowCount() - 1).sent == bottom  # type: ignore[union-attr]
    view.sortByColumn(1, Qt.SortOrder.AscendingOrder)
    sites = [model.row(i).site for i in range(model.rowCount())]  # type: ignore[union-attr]
    assert sites == sorted(sites)
    view.sortByColumn(5, Qt.SortOrder.AscendingOrder)
    packets = [model.row(i).packets for i in range(0, model.rowCount(), 37)]  # type: ignore[union-attr]
    assert packets == sorted(packets)


def test_filters_and_totals(qtbot: Any, window: WalletWindow, ctx: WalletContext) -> None:
    page = window.history
    window.show_page("history")
    page.wait_summary()  # the filter lists come with the summary
    page.site.setCurrentIndex(page.site.findData(VIDEO))
    page.wait_summary()
    ((count,),) = sql(ctx, "SELECT count(*) FROM history WHERE site = :s", s=VIDEO)
    assert page.model.rowCount() == count
    assert {page.model.row(i).site for i in range(count)} == {VIDEO}  # type: ignore[union-attr]
    assert page.totals.rowCount() == 1
    ((total,),) = sql(ctx, "SELECT sum(sent) FROM history WHERE site = :s", s=VIDEO)
    assert text_at(page.totals, 0, 1) == ctx.money(total, page.model.row(0).asset)  # type: ignore[union-attr]
    assert page.model.index(0, 4).data().endswith(" EUR")  # delivered in the receiver's asset
    page.site.setCurrentIndex(0)
    page.period.setCurrentText("Today")
    page.wait_summary()
    today = sql(
        ctx,
        "SELECT site, sum(sent) s FROM history WHERE hour >= :h GROUP BY site ORDER BY s DESC",
        h=int(datetime(2026, 11, 20, 23, 0).timestamp()) // 3600,
    )
    assert (
        [text_at(page.totals, r, 0) for r in range(page.totals.rowCount())]
        == [r.site for r in today]
        == [NEWS, COMICS]
    )
    page.granularity.setCurrentIndex(1)
    page.wait_summary()
    assert len(page.chart.values) == 12
    assert page.chart.values[-1] == sum(r.s for r in today)  # only today in this period


def test_show_site_from_the_popover(qtbot: Any, window: WalletWindow) -> None:
    window.show_history_for(NEWS)
    assert window.current_page() is window.history
    assert window.history.model.filter == HistoryFilter(site=NEWS)


def test_export_csv_and_the_command_line_give_the_same_rows(
    qtbot: Any, window: WalletWindow, ctx: WalletContext, profile: Path, tmp_path: Path
) -> None:
    window.show_page("history")
    out = tmp_path / "history.csv"
    n = window.history.export_to(out)
    data = out.read_bytes().decode("utf-8")
    rows = list(csv.reader(io.StringIO(data)))
    assert tuple(rows[0]) == CSV_HEADER
    assert len(rows) == n + 1 == window.history.model.rowCount() + 1
    assert data.endswith("\r\n")
    for r in rows[1:]:
        rec = dict(zip(CSV_HEADER, r, strict=True))
        start = datetime.fromisoformat(rec["start"])  # ISO 8601 with the local offset
        assert start.utcoffset() is not None and start.minute == 0
        assert rec["asset"] == "USD"
        assert Decimal(rec["sent"]).as_tuple().exponent == -9  # the asset's scale, exact
        assert "e" not in rec["sent"].lower()
        if rec["delivered_asset"] == "EUR":
            assert Decimal(rec["delivered"]).as_tuple().exponent == -6
    ((total,),) = sql(ctx, "SELECT sum(sent) FROM history")
    assert sum(Decimal(r[4]) for r in rows[1:]) == Decimal(total).scaleb(-9)

    env = {**os.environ, "TZ": "Europe/Berlin", "PYTHONPATH": str(ROOT)}
    cli = subprocess.run(
        [sys.executable, "-m", "ui.cli", "history", "--csv", "--profile", str(profile)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=True,
        timeout=60,
    )
    assert cli.stdout.decode("utf-8") == data
    one = subprocess.run(
        [
            sys.executable,
            "-m",
            "ui.cli",
            "history",
            "--csv",
            "--site",
            NEWS,
            "--since",
            "2026-11-01",
            "--profile",
            str(profile),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=True,
        timeout=60,
    )
    expected = csv_text(
        ctx.history.iter_rows(HistoryFilter(site=NEWS, start=datetime(2026, 11, 1, tzinfo=ctx.tz))),
        ctx.tz,
    )
    assert one.stdout.decode("utf-8") == expected
    assert expected.count("\r\n") > 5
