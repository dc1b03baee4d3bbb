"""Sessions and one instance per profile, with the real ``trickle`` program (issue 21).

* Quit (SIGTERM) and start again: the tabs come back, in order.
* ``kill -9`` and start again: the tabs come back (the session is saved a moment after each
  change), and the socket the killed instance left is replaced.
* A second launch on the same profile hands its URL to the first process and exits.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "QTWEBENGINE_DISABLE_SANDBOX": "1"}
WAIT_S = 60.0


class Pages:
    """A loopback site that counts the requests for each page."""

    def __init__(self) -> None:
        hits: Counter[str] = Counter()
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with lock:
                    hits[self.path] += 1
                body = f"<!doctype html><title>page {self.path}</title><p>{self.path}".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._hits, self._lock = hits, lock
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def hits(self, path: str) -> int:
        with self._lock:
            return self._hits[path]


@pytest.fixture
def pages() -> Iterator[Pages]:
    site = Pages()
    yield site
    site.server.shutdown()
    site.server.server_close()


def until(condition: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def launch(profile: Path, *urls: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "--profile", str(profile), "--sandbox", *urls],
        env=ENV,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def saved_tabs(profile: Path) -> list[list[str]]:
    """The session as the running app last saved it (read beside it: WAL)."""
    path = profile / "browsing.sqlite"
    if not path.exists():
        return []
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT value FROM settings WHERE key = 'session'").fetchone()
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()
    session = json.loads(row[0]) if row else None
    if not session:
        return []
    return [[t["url"] for t in w["tabs"]] for w in session["windows"]]


def stop(app: subprocess.Popen[bytes], sig: signal.Signals = signal.SIGTERM) -> int:
    if app.poll() is None:
        os.killpg(app.pid, sig)
    return app.wait(30)


def test_quit_and_start_again_restores_the_tabs(tmp_path: Path, pages: Pages) -> None:
    profile = tmp_path / "profile"
    one, two = pages.url("/one"), pages.url("/two")
    app = launch(profile, one, two)
    try:
        until(lambda: pages.hits("/one") > 0 and pages.hits("/two") > 0, "the pages to load")
        until(lambda: saved_tabs(profile) == [[one, two]], "the session to be saved")
    finally:
        assert stop(app) == 0
    again = launch(profile)  # no URLs: the session comes back
    try:
        until(lambda: pages.hits("/one") == 2 and pages.hits("/two") == 2, "the restored tabs")
        until(lambda: saved_tabs(profile) == [[one, two]], "the same order")
    finally:
        assert stop(again) == 0


def test_kill_9_and_start_again_restores_the_tabs(tmp_path: Path, pages: Pages) -> None:
    profile = tmp_path / "profile"
    one, two, three = pages.url("/k1"), pages.url("/k2"), pages.url("/k3")
    app = launch(profile, one, two)
    try:
        until(lambda: saved_tabs(profile) == [[one, two]], "the session to be saved")
    finally:
        stop(app, signal.SIGKILL)
    again = launch(profile)
    try:
        until(lambda: pages.hits("/k1") == 2 and pages.hits("/k2") == 2, "the restored tabs")
        # The killed instance's socket was replaced: a later launch is handed to this one.
        third = launch(profile, three)
        assert third.wait(30) == 0
        until(lambda: pages.hits("/k3") == 1, "the handed-over URL")
        until(lambda: saved_tabs(profile) == [[one, two, three]], "the new tab in the session")
    finally:
        assert stop(again) == 0


def test_a_second_launch_hands_its_url_to_the_first(tmp_path: Path, pages: Pages) -> None:
    profile = tmp_path / "profile"
    first = launch(profile, pages.url("/first"))
    try:
        until(lambda: pages.hits("/first") == 1, "the first page")
        until(lambda: saved_tabs(profile) == [[pages.url("/first")]], "the session")
        start = time.perf_counter()
        second = launch(profile, pages.url("/second"))
        code = second.wait(30)
        took = time.perf_counter() - start
        print(f"second launch handed over and exited in {took:.2f} s (target < 2 s)")
        assert code == 0
        until(lambda: pages.hits("/second") == 1, "the handed-over page")
        # It opened in the first process: a tab of its window, in its session.
        until(
            lambda: saved_tabs(profile) == [[pages.url("/first"), pages.url("/second")]],
            "the first process's session to have both",
        )
        assert first.poll() is None
        # A launch with no URL opens a new window there.
        assert launch(profile).wait(30) == 0
        both = [[pages.url("/first"), pages.url("/second")], ["trickle://start/"]]
        until(lambda: saved_tabs(profile) == both, "a second window in the session")
    finally:
        assert stop(first) == 0
    # Quitting closes the windows one by one: the session keeps them all.
    assert saved_tabs(profile) == both
