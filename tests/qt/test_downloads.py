"""Downloads land in the download directory and the window says so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.qt.conftest import WAIT, Browser
from tests.qt.servers import Site
from ui.browser.downloads import Downloads, unique_name


def test_a_download_is_saved_and_announced(
    qtbot: Any, make_browser: Browser, http_site: Site, tmp_path: Path
) -> None:
    target = tmp_path / "downloads"
    target.mkdir()
    (target / "report.csv").write_text("an older file\n")
    downloads = Downloads(target)
    window = make_browser(installers=[downloads])
    downloads.finished.connect(window.on_download_finished)
    done: list[tuple[str, bool, str]] = []
    downloads.finished.connect(lambda *args: done.append(args))
    url = http_site.add(
        "/report",
        "day,amount\n2026-11-21,0.42\n",
        content_type="text/csv",
        headers=(("Content-Disposition", 'attachment; filename="report.csv"'),),
    )
    tab = window.new_tab()
    tab.load(url)
    qtbot.waitUntil(lambda: bool(done), timeout=WAIT)
    path, ok, _reason = done[0]
    assert ok
    assert Path(path) == target / "report (1).csv"  # the older file is kept
    assert Path(path).read_text() == "day,amount\n2026-11-21,0.42\n"
    assert (target / "report.csv").read_text() == "an older file\n"
    assert window.notice.isVisible()
    assert "Downloaded report (1).csv" in window.notice.label.text()


def test_unique_names(tmp_path: Path) -> None:
    assert unique_name(tmp_path, "a.txt") == "a.txt"
    (tmp_path / "a.txt").touch()
    (tmp_path / "a (1).txt").touch()
    assert unique_name(tmp_path, "a.txt") == "a (2).txt"
    assert unique_name(tmp_path, "../../etc/passwd") == "passwd"
    assert unique_name(tmp_path, "") == "download"
