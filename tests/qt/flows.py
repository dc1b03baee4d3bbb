"""User flows the end-to-end Qt tests share: start the composed app, click, register."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QPoint, Qt, QUrl
from PySide6.QtWebEngineCore import QWebEngineProfile

from tests.qt.conftest import _teardown, run_js
from ui.app import (
    Extensions,
    LaunchOptions,
    compose,
    internal_routes,
    open_first_tabs,
    open_targets,
)
from ui.browser.profile import create_profile
from ui.browser.window import BrowserWindow
from ui.provider import ProviderWiring, WalletStartup
from wallet.service import WalletService

WAIT = 20_000


@dataclass
class App:
    """The app as ``run()`` composes it, in this process, once its wallet is ready."""

    ext: Extensions
    window: BrowserWindow
    profile: QWebEngineProfile
    service: WalletService
    wiring: ProviderWiring
    startup: WalletStartup


@contextmanager
def running_app(qtbot: Any, options: LaunchOptions) -> Iterator[App]:
    """Compose Trickle, open the command line's URLs (else the start page) in a shown window,
    start the wallet as ``run()`` does after the first paint (the first launch's pages open
    then), wait for it; tear it all down after."""
    options.profile_dir.mkdir(parents=True, exist_ok=True)
    ext = compose(options)
    wiring = ext.parts["provider"]
    assert isinstance(wiring, ProviderWiring)
    profile = create_profile(
        options.profile_dir, internal_routes(ext.internal_pages), ext.profile_installers
    )
    window = BrowserWindow(profile, ext.page_hooks)
    try:
        for hook in ext.window_hooks:
            hook(window)
        window.resize(1200, 800)
        window.open_urls(open_targets(options.urls))
        window.show()
        window.activateWindow()
        qtbot.waitExposed(window)
        wiring.startup.start(lambda urls: open_first_tabs(window, urls))
        qtbot.waitUntil(wiring.startup.ready.done, timeout=WAIT)
        wallet = wiring.startup.ready.value()
        yield App(ext, window, profile, wallet.service, wiring, wiring.startup)
    finally:
        _teardown(window, profile)
        for step in ext.on_shutdown:
            step()


def click_element(qtbot: Any, tab: Any, selector: str) -> None:
    """A real mouse click on an element (a user activation, as register() needs)."""
    where = run_js(
        qtbot,
        tab,
        f"(() => {{ const r = document.querySelector({selector!r}).getBoundingClientRect();"
        " return `${Math.round(r.left + r.width / 2)},${Math.round(r.top + r.height / 2)}`;"
        " })()",
    )
    x, y = (int(v) for v in str(where).split(","))
    target = tab.focusProxy() or tab
    qtbot.mouseClick(target, Qt.MouseButton.LeftButton, pos=QPoint(x, y))


def register_builtin_provider(qtbot: Any, app: App, tab: Any) -> None:
    """On the welcome page in ``tab``: click "Use Trickle Wallet", wait out the dialog's inert
    time, click Allow (the dialog's own widgets), and wait for the page to say it worked."""
    qtbot.waitUntil(
        lambda: run_js(qtbot, tab, "!!document.getElementById('use-builtin')"), timeout=WAIT
    )
    wm = app.wiring.web_monetization
    assert wm is not None
    for _ in range(20):
        click_element(qtbot, tab, "#use-builtin")
        try:
            qtbot.waitUntil(lambda: wm.prompter.current_dialog() is not None, timeout=1000)
            break
        except Exception:  # Chromium drops input before its first frame: click again
            continue
    dialog = wm.prompter.current_dialog()
    assert dialog is not None
    assert dialog.origin_label.text() == "wallet"
    qtbot.waitUntil(dialog.allow_button.isEnabled, timeout=WAIT)
    qtbot.mouseClick(dialog.allow_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: run_js(qtbot, tab, "document.body.dataset.registered || ''") == "true",
        timeout=WAIT,
    )


def load(qtbot: Any, tab: Any, url: str) -> None:
    loaded: list[bool] = []
    tab.loadFinished.connect(loaded.append)  # before load(): no missed signal
    tab.load(QUrl(url))
    qtbot.waitUntil(lambda: bool(loaded), timeout=WAIT)
