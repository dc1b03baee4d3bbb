"""The desktop bundle: built from this checkout by packaging/build, run offscreen.

Slow (~1-2 min, ~550 MB in a temporary directory that is removed afterwards). Proves that
the one-folder bundle holds everything: it prints its version, then starts on a temporary
profile, and its QtWebEngine loads the start page. The page is read over QtWebEngine's
DevTools endpoint on loopback (QTWEBENGINE_REMOTE_DEBUGGING, set here, never in the app).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.interop.harness import free_port
from tests.packaging.tools import PACKAGING
from wallet import __version__

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.timeout(1500)]

# A fresh profile's first launch opens the sandbox's blog demo site (and the welcome page):
# the bundle's migrations, sandbox, demo resources and pages all have to work for it to load.
DEMO_TITLE = "The Slow Web — a monetized blog"


@pytest.fixture(scope="module")
def bundle() -> Iterator[Path]:
    work = Path(tempfile.mkdtemp(prefix="trickle-bundle-"))
    try:
        result = subprocess.run(
            [str(PACKAGING / "build"), "--dist", str(work / "dist"), "--work", str(work / "w")],
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
        report = [line for line in result.stdout.splitlines() if line.startswith("build:")]
        print("\n".join(report))  # size and build time, in the test's captured output
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
        shutil.rmtree(work / "w", ignore_errors=True)  # PyInstaller's scratch, ~100 MB
        yield work / "dist" / "trickle"
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bare_env(home: Path, **extra: str) -> dict[str, str]:
    """No virtualenv, no PYTHONPATH: only what a desktop session would have."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "LANG": "C.UTF-8",
    }
    env.update(extra)
    return env


def test_bundle_has_its_parts(bundle: Path) -> None:
    internal = bundle / "_internal"
    for part in (
        "resources/icons/trickle-512.png",
        "resources/pages/start/index.html",
        "wallet/store/migrations/env.py",
        "wallet/store/migrations/script.py.mako",
        "PySide6/Qt/libexec/QtWebEngineProcess",
        "PySide6/Qt/resources/qtwebengine_resources.pak",
        "PySide6/Qt/translations/qtwebengine_locales/en-US.pak",
    ):
        assert (internal / part).is_file(), part
    assert list((internal / "resources" / "js").glob("*.js"))
    assert list((internal / "wallet" / "store" / "migrations" / "versions").glob("0*.py"))
    assert not (internal / "PySide6" / "Qt" / "qml").exists(), "QML plugins are dead weight"


def test_bundle_prints_its_version(bundle: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [str(bundle / "trickle"), "--version"],
        env=bare_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout.strip()) == (0, f"Trickle {__version__}")


def page_targets(port: int) -> list[dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as r:
            targets = json.load(r)
    except OSError:
        return []
    return [t for t in targets if t.get("type") == "page"]


async def evaluate(ws_url: str, expression: str) -> Any:
    """One Runtime.evaluate over the DevTools protocol."""
    import aiohttp

    async with aiohttp.ClientSession() as session, session.ws_connect(ws_url) as ws:
        await ws.send_json(
            {
                "id": 1,
                "method": "Runtime.evaluate",
                "params": {"expression": expression, "returnByValue": True},
            }
        )
        async for message in ws:
            data = json.loads(message.data)
            if data.get("id") == 1:
                return data["result"]["result"].get("value")
    raise AssertionError("no answer from DevTools")


def test_bundle_starts_and_loads_a_page(bundle: Path, tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    port = free_port()
    env = bare_env(
        tmp_path,
        QT_QPA_PLATFORM="offscreen",
        QTWEBENGINE_DISABLE_SANDBOX="1",
        MESA_SHADER_CACHE_DISABLE="true",
        QTWEBENGINE_REMOTE_DEBUGGING=f"127.0.0.1:{port}",
    )
    output = tmp_path / "output.log"
    with output.open("wb") as out:
        app = subprocess.Popen(
            [str(bundle / "trickle"), "--profile", str(profile)],
            env=env,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: QtWebEngineProcess goes with it
        )
    try:
        state: Any = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert app.poll() is None, f"exited {app.returncode}: " + output.read_text()[-3000:]
            pages = [t for t in page_targets(port) if t.get("title") == DEMO_TITLE]
            if pages:
                state = asyncio.run(
                    evaluate(
                        pages[0]["webSocketDebuggerUrl"],
                        "[document.readyState, document.title, document.body.innerText.length,"
                        " !!document.getElementById('received')]",
                    )
                )
                if state and state[0] == "complete":
                    break
            time.sleep(0.3)
        assert state is not None, "no page loaded: " + output.read_text()[-3000:]
        ready, title, text_length, has_counter = state
        assert (ready, title, has_counter) == ("complete", DEMO_TITLE, True)
        assert text_length > 50
        log = (profile / "logs" / "trickle.log").read_text()
        assert f"Trickle {__version__} starting" in log
        assert "Traceback" not in log
    finally:
        stop(app)


def stop(app: subprocess.Popen[bytes]) -> None:
    """End the app and everything it started (its process group)."""
    if app.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(app.pid, sig)
        except ProcessLookupError:
            return
        try:
            app.wait(timeout=15)
            return
        except subprocess.TimeoutExpired:
            continue
