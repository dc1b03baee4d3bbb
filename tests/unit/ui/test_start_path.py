"""What the browser's start does before its first paint (issue 21: start-up must stay close to
a bare QtWebEngine window): which modules the start path loads, the garbage-collection pause,
and PySide6's per-import scan made cheap. No timings here: those are in
``benchmarks/app_bench.py startup``."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import subprocess
import sys
import threading
import weakref
from pathlib import Path

import pytest

from ui import gc_pause
from ui.asyncbridge import LoopThread
from ui.qt_start import load_pyside, mentions_pyside

ROOT = Path(__file__).resolve().parents[3]

# What ``trickle URL`` imports before its first window: ui/cli.py's browser path.
START_PATH = """
import json, sys
from ui.qt_start import load_pyside
load_pyside()
from ui.browser.single_instance import hand_off_launch
from ui.app import run
print(json.dumps(sorted(sys.modules)))
"""

# Loaded when first used, after the first paint: the Library and its views, the settings,
# the clear-data dialog, bookmark import, completion, the permission bar; the wallet (its
# thread starts after the first paint), its UI and what it brings (SQLAlchemy, aiohttp ...).
LAZY = (
    "ui.browser.library",
    "ui.browser.history_view",
    "ui.browser.bookmarks_view",
    "ui.browser.bookmarks_import",
    "ui.browser.downloads_view",
    "ui.browser.clear_data_view",
    "ui.browser.browser_settings",
    "ui.browser.completion",
    "ui.browser.permission_bar",
    "ui.wallet",
    "wallet.service",
    "wallet.runtime",
    "wallet.provider",
    "wallet.store",
    "wallet.sandbox",
    "wallet.funding",
    "wallet.openpayments",
    "wallet.payments.payments",
    "sqlalchemy",
    "alembic",
    "aiohttp",
    "keyring",
    "platformdirs",  # only without --profile
    # the wallet's asyncio loop starts with the wallet, or with the first page that pays
    "asyncio",
    # the log rotates from the first paint on (ui/app.py, rotate_log)
    "logging.handlers",
    # the ILP codecs and the draft-4 handler host: with the first page that pays
    "wallet.ilp",
    "wallet.net",
    "ui.webmonetization.handler_host",
    # the page API's rules: with the first page call or monetization link that needs them
    "ui.webmonetization.link_policy",
    "ui.webmonetization.csp",
    "ui.webmonetization.permissions_policy",
    "ui.webmonetization.monetize",
    "ui.webmonetization.events",
)


def start_path_modules() -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", START_PATH],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return set(json.loads(done.stdout))


def test_the_start_path_leaves_what_the_first_paint_does_not_need() -> None:
    modules = start_path_modules()
    assert "ui.app" in modules and "PySide6.QtWebEngineWidgets" in modules  # it did run
    loaded = sorted(m for m in modules for lazy in LAZY if m == lazy or m.startswith(lazy + "."))
    assert loaded == []


@pytest.fixture
def collection_on() -> object:
    """Automatic collection on, and no holder left, whatever a test does."""
    was = gc.isenabled()
    gc.enable()
    yield
    for name in gc_pause.holders():
        gc_pause.release(name)
    gc.enable() if was else gc.disable()


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only a collection frees it


def test_the_pause_lasts_until_the_last_holder_lets_go(collection_on: object) -> None:
    gc_pause.hold(gc_pause.STARTUP)
    gc_pause.hold("wallet start")
    gc_pause.hold("wallet start")  # holding twice is holding once
    assert not gc.isenabled()
    gc_pause.release(gc_pause.STARTUP)
    assert not gc.isenabled() and gc_pause.holders() == {"wallet start"}
    gc_pause.release("wallet start")
    assert gc.isenabled() and gc_pause.holders() == frozenset()
    gc_pause.release("wallet start")  # not held: nothing happens
    assert gc.isenabled()


def test_garbage_made_during_the_pause_is_collected_when_asked(collection_on: object) -> None:
    gc.collect()
    gc_pause.hold(gc_pause.STARTUP)
    node = Node()
    alive = weakref.ref(node)
    del node
    for _ in range(20_000):  # enough allocations for several automatic collections
        Node()
    assert alive() is not None  # none ran
    gc_pause.release(gc_pause.STARTUP, collect=True)
    assert alive() is None


def test_a_pause_started_with_collection_off_leaves_it_off(collection_on: object) -> None:
    gc.disable()
    gc_pause.hold(gc_pause.STARTUP)
    gc_pause.release(gc_pause.STARTUP, collect=True)
    assert not gc.isenabled()


def test_the_cheap_scan_answers_as_pyside6_does() -> None:
    import ui.app  # noqa: F401 — Trickle's start-path modules, PySide6's own among them

    assert load_pyside()
    assert load_pyside()  # once replaced, left as it is
    feature = sys.modules["shibokensupport.feature"]
    fast = feature._mod_uses_pyside
    assert fast.reads_bytes
    original = fast.__closure__[0].cell_contents  # PySide6's own check, which it wraps
    modules = [m for m in list(sys.modules.values()) if m is not None]
    answers = [(m.__name__, mentions_pyside(m, original), original(m)) for m in modules]
    assert [a for a in answers if a[1] != a[2]] == []
    assert ("ui.app", True, True) in answers and ("json", False, False) in answers


@pytest.fixture
def root_logger() -> object:
    """The root logger's handlers and level as they were, whatever a test adds."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


def test_the_log_is_plain_until_the_first_paint_then_rotates(
    tmp_path: Path, root_logger: logging.Logger
) -> None:
    from ui.app import rotate_log, setup_logging

    path = setup_logging(tmp_path)
    logging.getLogger("trickle.test").info("before the paint")
    rotate_log(path, max_bytes=2_000)
    ours = [
        h
        for h in root_logger.handlers
        if isinstance(h, logging.FileHandler) and Path(h.baseFilename) == path
    ]
    assert [type(h).__name__ for h in ours] == ["RotatingFileHandler"]  # the plain one went
    for n in range(100):
        logging.getLogger("trickle.test").info("line %03d after the paint", n)
    old = tmp_path / "logs" / "trickle.log.1"
    assert old.is_file() and path.stat().st_size <= 2_000
    kept = "".join(p.read_text() for p in sorted((tmp_path / "logs").glob("trickle.log*")))
    assert kept.count("before the paint") <= 1  # written once, never twice
    assert "line 099 after the paint" in path.read_text()


def test_a_lazy_loop_starts_on_first_use_and_stops() -> None:
    thread = LoopThread("lazy-test", lazy=True)
    assert not thread.started
    assert "lazy-test" not in {t.name for t in threading.enumerate()}
    thread.stop()  # never started: nothing to do
    loop = thread.loop
    assert "lazy-test" in {t.name for t in threading.enumerate()} and thread.loop is loop

    async def answer() -> int:
        return 42

    assert asyncio.run_coroutine_threadsafe(answer(), loop).result(timeout=10) == 42
    thread.stop()
    assert not loop.is_running() and loop.is_closed()
