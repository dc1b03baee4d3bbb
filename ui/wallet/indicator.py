"""The toolbar indicator: the current tab's monetization state, live (issue 8, item 1).

A tool button showing a coloured dot and a few words — "Not monetized", "No provider",
"0.0042 USD" while streaming (this visit), "Paused", "Blocked", "Budget reached", and "Not
paying" while a streaming tab's window is not attended to (not in front, or the user is idle:
money accrues only for what the user is looking at, so the page's connection stays open but
nothing is paid — the dot must not stay green then). Activating
it (click, Space/Enter, or the window's shortcut) opens the :class:`SitePopover` for the
current site. :func:`follow_window` keeps the state's current tab and visits in step with a
browser window.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, Qt, QUrl
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QToolButton, QWidget

from ui.plain_text import ADDRESS_CHARS, page_text, tooltip_text
from ui.wallet.context import WalletContext
from ui.wallet.indicator_state import IndicatorState, Status, TabState
from ui.wallet.popover import SitePopover

_LOOK = {
    Status.NOT_MONETIZED: ("#9aa0a6", "Not monetized"),
    Status.NO_PROVIDER: ("#e67e22", "No provider"),
    Status.STREAMING: ("#27ae60", "Streaming"),
    Status.PAUSED: ("#7f8c8d", "Paused"),
    Status.BLOCKED: ("#c0392b", "Blocked"),
    Status.BUDGET_REACHED: ("#d35400", "Budget reached"),
}


def site_of(url: QUrl) -> str | None:
    """The origin of a web page's URL (``https://host[:port]``), or ``None``."""
    if url.scheme() not in ("http", "https") or not url.host():
        return None
    origin = f"{url.scheme()}://{url.host()}"
    port = url.port()
    default = 443 if url.scheme() == "https" else 80
    return f"{origin}:{port}" if port not in (-1, default) else origin


def describe(state: TabState, money: str) -> str:
    """The indicator's words for ``state``."""
    colour_words = _LOOK[state.status][1]
    if state.status is Status.STREAMING:
        return f"{money} this visit" if state.asset is not None else colour_words
    return colour_words


class MonetizationIndicator(QToolButton):
    """Shows the current tab's state; opens the site popover."""

    def __init__(
        self, ctx: WalletContext, state: IndicatorState, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._state = state
        self.setObjectName("monetization_indicator")
        self.setAccessibleName("Monetization indicator")
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setStyleSheet(
            "QToolButton#monetization_indicator { padding: 2px 8px 2px 22px; border: none; }"
            " QToolButton#monetization_indicator:hover,"
            " QToolButton#monetization_indicator:focus { background: palette(midlight); }"
        )
        self._colour = _LOOK[Status.NOT_MONETIZED][0]
        self._not_paying_because: str | None = None
        self.popover = SitePopover(ctx, self)
        self.clicked.connect(self.open_popover)
        state.changed.connect(self._on_changed)
        self._render()

    def set_attending(self, attending: bool, why_not: str = "") -> None:
        """Whether the window is attended to (see ``ui.browser.attention``); if not, why."""
        because = None if attending else why_not or "this window is not in front"
        if because != self._not_paying_because:
            self._not_paying_because = because
            self._render()

    def _on_changed(self, key: object) -> None:
        if key is self._state.current_key() or key is None:
            self._render()

    def _render(self) -> None:
        st = self._state.current()
        colour, _ = _LOOK[st.status]
        money = self._ctx.money(st.sent, st.asset, max_digits=4) if st.asset else ""
        words = describe(st, money)
        text = money if st.status is Status.STREAMING and st.asset else words
        if st.status is Status.STREAMING and self._not_paying_because is not None:
            colour = _LOOK[Status.PAUSED][0]
            text = "Not paying"
            words = f"Not paying now: {self._not_paying_because}"
        self.setText(text)
        self._colour = colour
        site = page_text(st.site, ADDRESS_CHARS) if st.site else "this page"
        self.setToolTip(
            tooltip_text(f"{words} — {site}. Click for this site's payments and limits.")
        )
        self.setAccessibleDescription(f"{words} ({site})")
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
        site = self._state.current().site
        if site is None:
            self.setToolTip("Trickle pays web sites; this page is not one.")
            return
        self.popover.show_site(site)
        self.popover.adjustSize()
        below = self.mapToGlobal(QPoint(self.width() - self.popover.width(), self.height()))
        self.popover.move(below)
        self.popover.show()
        self.popover.rate.setFocus()


def follow_window(window: Any, state: IndicatorState) -> None:
    """Keep ``state`` in step with a ``BrowserWindow``: the current tab and its visits.

    Tabs are keyed by their ``TabContext`` (what the page bridge also holds).
    """

    watched: set[Any] = set()

    def watch(tab: Any) -> None:
        key = tab.context
        if key in watched:
            return
        watched.add(key)
        tab.urlChanged.connect(lambda url: state.begin_visit(key, site_of(url)))

        def closing() -> None:
            watched.discard(key)
            state.forget(key)

        key.closing.connect(closing)
        state.begin_visit(key, site_of(tab.url()))

    def on_current(tab: Any) -> None:
        if tab is None:
            state.set_current(None)
            return
        watch(tab)
        state.set_current(tab.context)

    window.current_tab_changed.connect(on_current)
    for tab in window.tabs():
        watch(tab)
    on_current(window.current_tab())
