"""The composition with the real wallet service: register() stores into SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt

from tests.qt.webmonetization.conftest import ConsolePage, ManualArm, Tab, page_html
from ui.asyncbridge import AsyncBridge
from ui.browser.hooks import TabContext
from ui.webmonetization.component import ServiceHandlerRegistry, WebMonetization
from wallet.service import WalletService


@pytest.fixture
def service(tmp_path: Path) -> Iterator[WalletService]:
    svc = WalletService.open(tmp_path, tz=ZoneInfo("UTC"))  # never the default profile
    yield svc
    svc.close()


def test_register_through_the_component_stores_in_the_wallet(
    env: Any, loop_thread: Any, qtbot: Any, sites: Any, service: WalletService
) -> None:
    from PySide6.QtWebEngineWidgets import QWebEngineView

    asyncs = AsyncBridge(loop_thread.loop)
    arm = ManualArm()
    wm = WebMonetization(
        asyncs,
        registry=ServiceHandlerRegistry(service),
        payments=None,
        arm=arm,
    )
    wm.install(env.profile)
    site = sites()
    site.pages["/"] = page_html(
        script="""window.onTestClick = () => WebMonetization.register(
            {name: "Wallet Test", handlerUri: "/handler"}).then(v => report("reg", v));"""
    )
    page = ConsolePage(env.profile)
    view = QWebEngineView()
    view.setPage(page)
    view.resize(400, 300)
    tab_context = TabContext()
    tab_context.set_visible(True)
    bridge = wm.attach(page, tab_context)
    view.show()
    qtbot.waitExposed(view)
    tab = Tab(page, view, tab_context, bridge, qtbot)
    try:
        tab.load(site.url("/"))
        tab.click()
        qtbot.waitUntil(lambda: wm.prompter.current_dialog() is not None, timeout=10000)
        dialog = wm.prompter.current_dialog()
        assert dialog is not None
        arm.fire()
        qtbot.mouseClick(dialog.allow_button, Qt.MouseButton.LeftButton)
        assert tab.wait_report("reg") is True
        active = service.active_handler()
        assert active is not None
        assert (active.origin, active.name, active.handler_uri) == (
            site.origin,
            "Wallet Test",
            site.url("/handler"),
        )
        # the same handler again: true, no dialog
        tab.page.reports.clear()
        tab.click()
        assert tab.wait_report("reg") is True
        assert wm.prompter.current_dialog() is None
        tab.check_clean()
    finally:
        tab_context.close()
        view.setPage(None)  # type: ignore[arg-type]
        view.close()
        view.deleteLater()
        page.deleteLater()
        asyncs.close()
