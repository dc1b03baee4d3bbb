"""Amounts typed into the wallet's fields: the locale's separators, exactly; ambiguous text is
refused with a suggestion in the field; too large is a message, not a traceback; big limits ask
first, stating the monthly worst case (issue 20, items 1 and 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QLocale, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from tests.qt.wallet.seed import NEWS, FakeClock
from tests.unit.test_amounts import LOCALES
from ui.wallet.context import WalletContext, number_style
from ui.wallet.pages.sites import SitesPage
from ui.wallet.window import WalletWindow
from wallet.budgets import SitePolicy

# A QMessageBox on the offscreen platform (no window manager to take size hints).
OFFSCREEN_DIALOG = r"This plugin does not support propagateSizeHints\(\)"


@pytest.mark.parametrize("name", sorted(LOCALES))
def test_qt_locales_give_the_table_s_separators(name: str) -> None:
    """The unit tests' table of en_US, de_DE, fr_FR, en_IN is what Qt (CLDR) says."""
    assert number_style(QLocale(name)) == LOCALES[name]


def answer_next_question(qtbot: Any, button: str, seen: list[str]) -> None:
    """Click ``button`` ("Allow" / "Cancel") in the next confirmation, recording its text."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, click)
            return
        seen.append(box.text())
        for b in box.buttons():
            if b.text().replace("&", "") == button:
                b.click()
                return

    QTimer.singleShot(0, click)


def edit_news(window: WalletWindow, ctx: WalletContext) -> tuple[SitesPage, SitePolicy]:
    """The Sites page with NEWS selected, and NEWS's policy before any edit."""
    page = window.sites
    window.show_page("sites")
    assert page.select(NEWS)
    return page, ctx.service.site_policy(NEWS)


def test_a_decimal_comma_in_en_us_is_refused_with_a_suggestion_in_the_field(
    qtbot: Any, window: WalletWindow, ctx: WalletContext, artifacts: Path
) -> None:
    page, before = edit_news(window, ctx)
    page.rate.setText("1,5")  # was saved as 15.00 USD/hour
    assert page.rate.message.isVisible()
    assert "did you mean 1.5?" in page.rate.message.text()
    page.save.click()
    assert "Rate of pay per hour" in page.error.text()
    assert ctx.service.site_policy(NEWS) == before  # nothing saved
    assert window.grab().save(str(artifacts / "wallet-sites-amount-error.png"))
    page.rate.setText("1.5")
    assert not page.rate.message.isVisible()


def test_too_large_and_too_precise_are_messages_in_the_field(
    qtbot: Any, window: WalletWindow, ctx: WalletContext
) -> None:
    page, before = edit_news(window, ctx)
    page.rate.setText("9" * 20)  # was an OverflowError in the terminal, nothing on screen
    assert page.rate.message.text() == "too large: at most 1,000,000,000 (USD)"
    page.save.click()
    assert "too large" in page.error.text()
    page.cap_day.setText("0.0000000001")
    assert "at most 9 digits after the decimal point" in page.cap_day.message.text()
    assert ctx.service.site_policy(NEWS) == before
    # Typing again clears the old page-level error: no stale message beside new text.
    page.rate.clear()
    qtbot.keyClicks(page.rate, "2")
    assert page.error.text() == ""


@pytest.mark.allow_qt_messages(OFFSCREEN_DIALOG)
def test_a_big_rate_needs_a_confirmation_that_states_the_monthly_worst_case(
    qtbot: Any, window: WalletWindow, ctx: WalletContext, profile: Path, clock: FakeClock
) -> None:
    page, before = edit_news(window, ctx)
    seen: list[str] = []
    page.rate.setText("1000")  # was accepted without a word and paid out within seconds
    page.cap_day.clear()
    page.cap_month.setText("200")
    page.cap_total.clear()
    answer_next_question(qtbot, "Cancel", seen)
    page.save.click()
    assert ctx.service.site_policy(NEWS) == before  # cancelled: nothing saved
    # 1000 USD an hour around the clock is 744,000 a month; the month cap bounds it at 200,
    # and the seeded global budget of 20 USD a month still stops every site together.
    assert seen[0] == (
        "In the worst case, https://news.example could be paid 200.00 USD a month. "
        "Your global monthly budget of 20.00 USD still stops all sites together."
    )
    answer_next_question(qtbot, "Allow", seen)
    page.save.click()
    assert ctx.service.site_policy(NEWS).rate_per_hour == 1000 * 10**9
    assert ctx.service.site_policy(NEWS).cap_month == 200 * 10**9
    # A rate and caps under the thresholds ask nothing.
    page.rate.setText("0.50")
    page.cap_month.setText("20")
    page.save.click()
    assert ctx.service.site_policy(NEWS).rate_per_hour == 500_000_000
    assert len(seen) == 2


@pytest.mark.allow_qt_messages(OFFSCREEN_DIALOG)
def test_a_big_monthly_budget_needs_a_confirmation(
    qtbot: Any, window: WalletWindow, ctx: WalletContext
) -> None:
    page = window.settings
    window.show_page("settings")
    seen: list[str] = []
    page.monthly.setText("250")
    answer_next_question(qtbot, "Cancel", seen)
    page.save.click()
    assert ctx.service.global_policy().monthly_budget != 250 * 10**9
    assert "250.00 USD a month" in seen[0]
    answer_next_question(qtbot, "Allow", seen)
    page.save.click()
    assert ctx.service.global_policy().monthly_budget == 250 * 10**9


def test_the_popover_uses_the_same_parser(qtbot: Any, ctx: WalletContext) -> None:
    from ui.wallet.popover import SitePopover

    pop = SitePopover(ctx)
    qtbot.addWidget(pop)
    pop.show_site(NEWS)
    before = ctx.service.site_policy(NEWS)
    pop.cap_month.setText("2,5")
    pop.save.click()
    assert "did you mean 2.5?" in pop.error.text()
    assert ctx.service.site_policy(NEWS) == before
