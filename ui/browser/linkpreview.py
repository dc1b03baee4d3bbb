"""The hovered link's address, shown over the bottom-left corner of the page (no status bar,
so the page does not jump when it appears)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QLabel, QWidget

from ui.plain_text import visible_url

MAX_CHARS = 200


class LinkPreview(QLabel):
    """Follows the bottom-left corner of ``host``; hidden while no link is hovered."""

    def __init__(self, host: QWidget) -> None:
        super().__init__(host)
        self._host = host
        self.setAccessibleName("Link address")
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAutoFillBackground(True)
        self.setMargin(3)
        self.setFrameShape(QLabel.Shape.StyledPanel)
        host.installEventFilter(self)
        self.hide()

    def show_link(self, url: str) -> None:
        if not url:
            self.hide()
            return
        url = visible_url(url)  # a link's address as it loads: nothing hidden or reordered
        self.setText(url if len(url) <= MAX_CHARS else url[: MAX_CHARS - 1] + "…")
        self._place()
        self.show()
        self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._host and event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return False

    def _place(self) -> None:
        width = min(self.sizeHint().width(), self._host.width() * 2 // 3)
        self.setFixedWidth(width)
        self.adjustSize()
        self.move(0, self._host.height() - self.height())
