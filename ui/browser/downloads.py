"""Downloads: saved to the user's download directory, and said so in the window.

A ``ProfileInstaller``. Every download is accepted into ``directory`` under the name Chromium
suggests (already stripped of path separators; made unique if the file exists) — as other
browsers do by default. Saving a page (``isSavePageDownload``) is treated the same.

``items`` is this run's downloads list (what the Downloads page shows), oldest first, with
when each started; ``forget`` takes finished ones off it ("clear browsing data").

Signals:
    started(QWebEngineDownloadRequest): a download was accepted (the Downloads page lists it).
    finished(str, bool, str): file path, success, and a reason in words when it failed.
    forgotten(list): those downloads were taken off the list.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, Signal
from PySide6.QtWebEngineCore import QWebEngineDownloadRequest, QWebEngineProfile

log = logging.getLogger(__name__)

_State = QWebEngineDownloadRequest.DownloadState


def default_download_dir() -> Path:
    """The user's Downloads folder (XDG user dirs), else ``~/Downloads``: never the working
    directory, which file dialogs would otherwise start in."""
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DownloadLocation)
    if location and Path(location).is_absolute() and Path(location) != Path.home():
        return Path(location)
    return Path.home() / "Downloads"


def dialog_start_dir() -> Path:
    """Where file dialogs open: the Downloads folder if it exists, else home."""
    downloads = default_download_dir()
    return downloads if downloads.is_dir() else Path.home()


def unique_name(directory: Path, name: str) -> str:
    """``name``, or ``name (1).ext``, ``name (2).ext`` ... whichever is free in ``directory``."""
    name = Path(name).name or "download"
    candidate = name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 1
    while (directory / candidate).exists():
        candidate = f"{stem} ({n}){suffix}"
        n += 1
    return candidate


class Downloads(QObject):
    started = Signal(QWebEngineDownloadRequest)
    finished = Signal(str, bool, str)
    forgotten = Signal(list)

    def __init__(
        self, directory: Path, parent: QObject | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(parent)
        self._directory = directory
        self._clock = clock
        self.items: list[tuple[float, QWebEngineDownloadRequest]] = []

    def forget(self, since: float | None = None) -> int:
        """Take the finished downloads started at or after ``since`` (all when None) off the
        list; the files stay. Returns how many."""
        gone = [d for at, d in self.items if d.isFinished() and (since is None or at >= since)]
        self.items = [(at, d) for at, d in self.items if d not in gone]
        if gone:
            self.forgotten.emit(gone)
        return len(gone)

    def install(self, profile: QWebEngineProfile) -> None:
        profile.downloadRequested.connect(self._on_requested)

    def _on_requested(self, download: QWebEngineDownloadRequest) -> None:
        self._directory.mkdir(parents=True, exist_ok=True)
        download.setDownloadDirectory(str(self._directory))
        download.setDownloadFileName(unique_name(self._directory, download.downloadFileName()))
        download.isFinishedChanged.connect(lambda: self._on_finished(download))
        log.info("downloading %s from %s", download.downloadFileName(), download.url().host())
        download.accept()
        self.items.append((self._clock(), download))
        self.started.emit(download)

    def _on_finished(self, download: QWebEngineDownloadRequest) -> None:
        path = str(Path(download.downloadDirectory()) / download.downloadFileName())
        ok = download.state() == _State.DownloadCompleted
        reason = "" if ok else (download.interruptReasonString() or "cancelled")
        log.info("download %s: %s", "done" if ok else f"failed ({reason})", path)
        self.finished.emit(path, ok, reason)
