"""The welcome page's monthly budget can be changed from the page (issue 20, item 2): its
"Change the monthly budget" link opens the wallet's Settings at the budget field, in the
window the user clicked in, and comes back to the welcome page with its demo links; the new
figure is what the page says next. No amount ever comes from a URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.qt.conftest import run_js
from tests.qt.flows import WAIT, click_element, load, running_app
from ui.app import LaunchOptions
from ui.wallet.window import WalletWindow

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
BUDGET = "((document.getElementById('budget') || {}).textContent || '')"


def wallet_window() -> WalletWindow | None:
    return next(
        (
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, WalletWindow) and w.isVisible()
        ),
        None,
    )


@pytest.mark.allow_qt_messages(r"This plugin does not support propagateSizeHints\(\)")
def test_the_welcome_page_changes_the_budget_through_the_wallets_own_field(
    qtbot: Any, tmp_path: Path
) -> None:
    with running_app(qtbot, LaunchOptions(profile_dir=tmp_path / "profile", sandbox=True)) as app:
        welcome = app.window.tabs()[-1]
        start = app.startup.start_urls[-1]
        assert "?" in start  # the demo links travel in the query
        qtbot.waitUntil(lambda: "5.00 USD" in str(run_js(qtbot, welcome, BUDGET)), timeout=WAIT)

        # A URL cannot set the budget: the "Change" address takes no amount, whatever it says.
        load(qtbot, welcome, "trickle://wallet/budget?budget=1000&amount=1000")
        qtbot.waitUntil(lambda: wallet_window() is not None, timeout=WAIT)
        assert app.service.global_policy().monthly_budget == 5_000_000_000
        w = wallet_window()
        assert w is not None
        w.close()
        qtbot.waitUntil(lambda: wallet_window() is None)
        load(qtbot, welcome, start)

        # The link, clicked: Settings at the monthly budget, selected for typing.
        app.window.activateWindow()
        qtbot.waitUntil(app.window.is_attending, timeout=WAIT)
        for _ in range(20):  # Chromium drops input before its first frame: click again
            click_element(qtbot, welcome, "#change-budget")
            try:
                qtbot.waitUntil(lambda: wallet_window() is not None, timeout=1000)
                break
            except Exception:
                continue
        w = wallet_window()
        assert w is not None and w.current_page() is w.settings
        assert w.settings.monthly.selectedText() == w.settings.monthly.text() == "5.00"
        ARTIFACTS.mkdir(exist_ok=True)
        assert w.grab().save(str(ARTIFACTS / "welcome-budget-settings.png"))
        # ... and the welcome page is back, with its demo links.
        # (read null-safely: the URL changes before the new document is readable)
        demo_link = "((document.getElementById('demo-blog') || {}).href || '')"
        qtbot.waitUntil(lambda: welcome.url().toString() == start, timeout=WAIT)
        qtbot.waitUntil(
            lambda: str(run_js(qtbot, welcome, demo_link)).startswith("http://127.0.0.1:"),
            timeout=WAIT,
        )

        # Typed in the wallet's field (the locale's parser, the guard rails) and saved.
        w.settings.monthly.setText("7.50")
        qtbot.mouseClick(w.settings.save, Qt.MouseButton.LeftButton)
        assert app.service.global_policy().monthly_budget == 7_500_000_000
        w.close()
        load(qtbot, welcome, start)
        qtbot.waitUntil(lambda: "7.50 USD" in str(run_js(qtbot, welcome, BUDGET)), timeout=WAIT)
        app.window.tab_strip.setCurrentWidget(welcome)
        qtbot.wait(500)  # the page's last frame painted
        assert app.window.grab().save(str(ARTIFACTS / "welcome-budget.png"))
