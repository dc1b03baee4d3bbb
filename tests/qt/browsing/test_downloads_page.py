"""The Downloads page: progress, cancel, open and show in folder (issue 21, item 7)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtWebEngineCore import QWebEngineDownloadRequest

from tests.qt.browsing.conftest import BrowsingApp, offscreen_windows
from tests.qt.conftest import WAIT
from tests.qt.servers import Site
from ui.browser.downloads import default_download_dir, dialog_start_dir
from ui.browser.library_sections import DOWNLOADS

pytestmark = offscreen_windows
_State = QWebEngineDownloadRequest.DownloadState


class _Slow(BaseHTTPRequestHandler):
    """Sends the first chunk of a large file, then waits (until the test releases it)."""

    release = threading.Event()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(10_000_000))
        self.send_header("Content-Disposition", 'attachment; filename="big.bin"')
        self.end_headers()
        self.wfile.write(b"x" * 65536)
        self.wfile.flush()
        self.release.wait(60)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def slow_site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    server.daemon_threads = True
    _Slow.release.clear()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/big.bin"
    _Slow.release.set()
    server.shutdown()
    server.server_close()


def test_a_finished_download_can_be_opened(
    qtbot: Any, browsing_app: BrowsingApp, http_site: Site
) -> None:
    url = http_site.add(
        "/d/notes.txt",
        "some notes\n",
        content_type="text/plain",
        headers=(("Content-Disposition", 'attachment; filename="notes <1>.txt"'),),
    )
    library = browsing_app.browsing.library(DOWNLOADS)
    view = library.downloads
    assert view is not None and view.empty.isVisible()
    window = browsing_app.window()
    window.new_tab(url)
    qtbot.waitUntil(lambda: bool(view.rows), timeout=WAIT)
    row = view.rows[0]
    qtbot.waitUntil(lambda: row.download.state() == _State.DownloadCompleted, timeout=WAIT)
    assert row.name.text() == "notes <1>.txt"  # a name from the site, shown as text
    assert row.name.textFormat() == Qt.TextFormat.PlainText
    assert row.state.text().startswith("Done")
    assert row.open_button.isEnabled() and row.folder_button.isEnabled()
    qtbot.waitUntil(lambda: not row.cancel_button.isVisible(), timeout=WAIT)
    assert row.path() == browsing_app.download_dir / "notes <1>.txt"
    assert row.path().read_text() == "some notes\n"


def test_a_running_download_shows_progress_and_can_be_cancelled(
    qtbot: Any, browsing_app: BrowsingApp, slow_site: str
) -> None:
    library = browsing_app.browsing.library(DOWNLOADS)
    view = library.downloads
    assert view is not None
    window = browsing_app.window()
    window.new_tab(QUrl(slow_site))
    qtbot.waitUntil(lambda: bool(view.rows), timeout=WAIT)
    row = view.rows[0]
    qtbot.waitUntil(lambda: row.download.receivedBytes() > 0, timeout=WAIT)
    qtbot.waitUntil(lambda: "of 9.5 MB" in row.state.text(), timeout=WAIT)
    assert row.progress.isVisible() and 0 <= row.progress.value() < 100
    assert not row.open_button.isEnabled()
    row.cancel_button.click()
    qtbot.waitUntil(lambda: row.state.text() == "Cancelled", timeout=WAIT)
    qtbot.waitUntil(lambda: not row.cancel_button.isVisible(), timeout=WAIT)


def test_file_dialogs_start_in_downloads_or_home(tmp_path: Path) -> None:
    start = dialog_start_dir()
    assert start.is_absolute()
    assert start in (default_download_dir(), Path.home())
    assert start != Path.cwd() or Path.cwd() in (Path.home(), default_download_dir())
