""" "Forget this site" (issue 20, item 8): the site's settings go; its history only when the user
ticks it; what it was paid still counts against the monthly budget. Real dialog, real database."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from tests.qt.wallet.seed import NEWS
from ui.wallet.context import WalletContext
from ui.wallet.window import WalletWindow
from wallet.budgets import SitePolicy, period_keys
from wallet.reports import HistoryFilter
from wallet.store import repo
from wallet.store.engine import transaction

OFFSCREEN_DIALOG = r"This plugin does not support propagateSizeHints\(\)"


def answer(qtbot: Any, button: str, *, tick: bool, seen: list[str]) -> None:
    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        seen.append(f"{box.text()} | {box.checkBox().text()}")
        box.checkBox().setChecked(tick)
        for b in box.buttons():
            if b.text().replace("&", "") == button:
                b.click()
                return

    QTimer.singleShot(0, click)


def global_month(ctx: WalletContext) -> int:
    """This month's spend counted against the global budget, from the database."""
    _day, month = period_keys(ctx.clock(), ctx.tz)
    with transaction(ctx.history.engine, readonly=True) as conn:
        return repo.counter(conn, repo.GLOBAL_SCOPE, month)


def rows(ctx: WalletContext, site: str) -> int:
    return ctx.history.count(HistoryFilter(site=site))


@pytest.mark.allow_qt_messages(OFFSCREEN_DIALOG)
def test_forget_a_site_keeps_or_deletes_its_history_as_asked(
    qtbot: Any, window: WalletWindow, ctx: WalletContext
) -> None:
    svc = ctx.service
    page = window.sites
    window.show_page("sites")
    month_before = global_month(ctx)
    assert month_before > 0
    history_rows = rows(ctx, NEWS)
    assert history_rows > 0 and svc.site_policy(NEWS) != SitePolicy(NEWS)
    seen: list[str] = []

    assert page.select(NEWS)
    answer(qtbot, "Cancel", tick=True, seen=seen)
    page.forget.click()
    assert svc.site_policy(NEWS) != SitePolicy(NEWS) and rows(ctx, NEWS) == history_rows
    assert f"Also delete its payment history ({history_rows:,} rows)" in seen[0]

    assert page.select(NEWS)
    answer(qtbot, "Forget", tick=False, seen=seen)
    page.forget.click()
    assert svc.site_policy(NEWS) == SitePolicy(NEWS)  # settings gone: the defaults
    assert rows(ctx, NEWS) == history_rows  # history kept
    assert NEWS in page.sites()  # still paid this month: listed

    assert page.select(NEWS)
    answer(qtbot, "Forget", tick=True, seen=seen)
    page.forget.click()
    assert rows(ctx, NEWS) == 0
    assert NEWS not in page.sites()
    # The global budget still counts what it was paid.
    assert global_month(ctx) == month_before
