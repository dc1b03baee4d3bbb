"""The Downloads section of the Library: progress, cancel, open, show in folder.

Lists the downloads of this run (``Downloads.started``), newest first. File names come from
sites: plain text only.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWebEngineCore import QWebEngineDownloadRequest
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.browser.downloads import Downloads

_State = QWebEngineDownloadRequest.DownloadState


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} bytes"


def describe(download: QWebEngineDownloadRequest) -> str:
    state = download.state()
    done, total = download.receivedBytes(), download.totalBytes()
    if state == _State.DownloadCompleted:
        return f"Done — {_size(done)}"
    if state == _State.DownloadCancelled:
        return "Cancelled"
    if state == _State.DownloadInterrupted:
        return f"Failed: {download.interruptReasonString()}"
    return f"{_size(done)} of {_size(total)}" if total > 0 else f"{_size(done)}"


class DownloadRow(QWidget):
    """One download: its name, progress, and what can be done with it."""

    def __init__(self, download: QWebEngineDownloadRequest, parent: QWidget | None = None):
        super().__init__(parent)
        self.download = download
        self.name = QLabel(download.downloadFileName(), self)
        self.name.setTextFormat(Qt.TextFormat.PlainText)
        self.state = QLabel(self)
        self.state.setTextFormat(Qt.TextFormat.PlainText)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(180)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.clicked.connect(download.cancel)
        self.open_button = QPushButton("Open", self)
        self.open_button.clicked.connect(self.open_file)
        self.folder_button = QPushButton("Show in folder", self)
        self.folder_button.clicked.connect(self.show_in_folder)
        layout = QHBoxLayout(self)
        layout.addWidget(self.name, 1)
        layout.addWidget(self.state)
        layout.addWidget(self.progress)
        for button in (self.cancel_button, self.open_button, self.folder_button):
            layout.addWidget(button)
        download.receivedBytesChanged.connect(self.update_state)
        download.totalBytesChanged.connect(self.update_state)
        download.stateChanged.connect(self.update_state)
        download.isFinishedChanged.connect(self.update_state)
        self.update_state()

    def path(self) -> Path:
        return Path(self.download.downloadDirectory()) / self.download.downloadFileName()

    def update_state(self) -> None:
        d = self.download
        self.state.setText(describe(d))
        total = d.totalBytes()
        finished = d.isFinished()
        completed = d.state() == _State.DownloadCompleted
        self.progress.setValue(
            100 if completed else (d.receivedBytes() * 100 // total if total > 0 else 0)
        )
        self.progress.setVisible(not finished)
        self.cancel_button.setVisible(not finished)
        self.open_button.setEnabled(completed)
        self.folder_button.setEnabled(completed)

    def open_file(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.path())))

    def show_in_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.path().parent)))


class DownloadsView(QWidget):
    def __init__(self, downloads: Downloads, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[DownloadRow] = []
        self.empty = QLabel("Nothing downloaded yet in this session.", self)
        self._list = QVBoxLayout()
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addLayout(self._list)
        layout.addStretch(1)
        for _at, download in downloads.items:
            self.add(download)
        downloads.started.connect(self.add)
        downloads.forgotten.connect(self.remove)

    def remove(self, downloads: list[QWebEngineDownloadRequest]) -> None:
        for row in [r for r in self.rows if r.download in downloads]:
            self.rows.remove(row)
            row.hide()
            row.deleteLater()
        self.empty.setVisible(not self.rows)

    def add(self, download: QWebEngineDownloadRequest) -> None:
        row = DownloadRow(download, self)
        self.rows.insert(0, row)
        self._list.insertWidget(0, row)
        self.empty.hide()
