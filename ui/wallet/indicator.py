"""The toolbar indicator: the current tab's site state, live (issue 8, item 1; issue 20, item 3).

A tool button showing a coloured dot and the state's label from :mod:`wallet.site_state` —
"Streaming", "Paused", "Day cap reached", "No provider", "Not in front", ... — followed by what
went out this visit while money flows ("Streaming · 0.0042 USD"). Its tooltip and accessible
description carry the explanation. Activating it (click, Space/Enter, or the window's shortcut)
opens the :class:`SitePopover` for the current site. :func:`follow_window` keeps the state's
current tab, visits and visibility in step with a browser window.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, Qt, QUrl
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QToolButton, QWidget

from ui.plain_text import ADDRESS_CHARS, page_text, tooltip_text
from ui.wallet.context import WalletContext
from ui.wallet.indicator_state import IndicatorState
from ui.wallet.popover import SitePopover
from wallet.site_state import Cause, SiteStatus

GREEN, GREY, ORANGE, RED = "#27ae60", "#9aa0a6", "#e67e22", "#c0392b"
# The dot: green while money flows or is about to, red where the user stopped it or it
# cannot work, orange where a limit or a missing piece holds it, grey when nothing is asked.
COLOURS = {
    Cause.STREAMING: GREEN,
    Cause.ACCRUING: GREEN,
    Cause.BLOCKED: RED,
    Cause.PROVIDER_FAILING: RED,
    Cause.NOT_MONETIZED: GREY,
    Cause.NOT_OPEN: GREY,
    Cause.PAUSED: GREY,
    Cause.STOPPED: GREY,
    Cause.WINDOW_NOT_FRONT: GREY,
    Cause.TAB_HIDDEN: GREY,
    Cause.IDLE: GREY,
}


def colour_of(cause: Cause) -> str:
    return COLOURS.get(cause, ORANGE)


def site_of(url: QUrl) -> str | None:
    """The origin of a web page's URL (``https://host[:port]``), or ``None``."""
    if url.scheme() not in ("http", "https") or not url.host():
        return None
    origin = f"{url.scheme()}://{url.host()}"
    port = url.port()
    default = 443 if url.scheme() == "https" else 80
    return f"{origin}:{port}" if port not in (-1, default) else origin


class MonetizationIndicator(QToolButton):
    """Shows the current tab's state; opens the site popover."""

    def __init__(
        self,
        ctx: WalletContext,
        state: IndicatorState,
        parent: QWidget | None = None,
        *,
        window: object = None,
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._state = state
        self._window = window  # whose selected tab it shows (None: the one selected last)
        self.setObjectName("monetization_indicator")
        self.setAccessibleName("Monetization indicator")
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setStyleSheet(
            "QToolButton#monetization_indicator { padding: 2px 8px 2px 22px; border: none; }"
            " QToolButton#monetization_indicator:hover,"
            " QToolButton#monetization_indicator:focus { background: palette(midlight); }"
        )
        self._colour = GREY
        self.popover = SitePopover(ctx, self, state=state)
        self.clicked.connect(self.open_popover)
        state.changed.connect(self._on_changed)
        self._render()

    def _on_changed(self, key: object) -> None:
        if key is self._state.current_key(self._window) or key is None:
            self._render()

    def _render(self) -> None:
        tab = self._state.current(self._window)
        status = (
            self._state.status(tab.site)
            if tab.site is not None
            else SiteStatus(Cause.NOT_MONETIZED)
        )
        words = self._state.words(status)
        text = words.label
        if status.cause in (Cause.STREAMING, Cause.ACCRUING) and tab.asset and tab.sent:
            text = f"{text} · {self._ctx.money(tab.sent, tab.asset, max_digits=4)}"
        self.setText(text)
        self._colour = colour_of(status.cause)
        site = page_text(tab.site, ADDRESS_CHARS) if tab.site else "this page"
        self.setToolTip(
            tooltip_text(f"{words.sentence()} ({site}). Click for this site's payments and limits.")
        )
        self.setAccessibleDescription(f"{words.sentence()} ({site})")
        self.setEnabled(True)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(self._colour))
        r = 5
        painter.drawEllipse(QPoint(12, self.height() // 2), r, r)
        painter.end()

    def open_popover(self) -> None:
        """Open the popover for the current tab's site (nothing for non-web pages)."""
        site = self._state.current(self._window).site
        if site is None:
            self.setToolTip("Trickle pays web sites; this page is not one.")
            return
        self.popover.show_site(site)
        self.popover.adjustSize()
        below = self.mapToGlobal(QPoint(self.width() - self.popover.width(), self.height()))
        self.popover.move(below)
        self.popover.show()
        self.popover.rate.setFocus()


def reload_site(window: Any, site: str) -> None:
    """Reload every tab of ``window`` that shows ``site`` (new documents pay afresh)."""
    for tab in window.tabs():
        if site_of(tab.url()) == site:
            tab.reload()


def follow_window(window: Any, state: IndicatorState) -> None:
    """Keep ``state`` in step with a ``BrowserWindow``: the current tab, its visits and whether
    each tab is paid for now (``TabContext.visibility_changed``).

    Tabs are keyed by their ``TabContext`` (what the page bridge also holds).
    """

    watched: set[Any] = set()

    def watch(tab: Any) -> None:
        key = tab.context
        if key in watched:
            return
        watched.add(key)
        tab.urlChanged.connect(lambda url: state.begin_visit(key, site_of(url)))
        key.visibility_changed.connect(lambda visible: state.set_visible(key, visible))

        def closing() -> None:
            watched.discard(key)
            state.forget(key)

        key.closing.connect(closing)
        state.begin_visit(key, site_of(tab.url()))
        state.set_visible(key, key.is_visible_in_focused_window())

    def on_current(tab: Any) -> None:
        if tab is None:
            state.set_current(None, window)
            return
        watch(tab)
        state.set_current(tab.context, window)

    window.current_tab_changed.connect(on_current)
    window.destroyed.connect(lambda *_: state.forget_window(window))
    for tab in window.tabs():
        watch(tab)
    on_current(window.current_tab())
