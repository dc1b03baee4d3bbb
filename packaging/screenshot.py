"""Take the AppStream screenshot: Trickle in a real X server, as a person sees it.

    .venv/bin/python packaging/screenshot.py [--out FILE] [URL ...]

Runs ``trickle`` on a throwaway profile under Xvfb (1280x800) with the openbox window manager
(Debian package ``openbox``; without it the window has no frame), waits until the page has
loaded (asked over QtWebEngine's DevTools endpoint on loopback), and grabs the screen with Qt.
Writes ``packaging/screenshots/main.png`` by default; commit it, the metainfo points there.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZE = (1280, 800)
OPENBOX_RC = """<?xml version="1.0" encoding="UTF-8"?>
<openbox_config xmlns="http://openbox.org/3.4/rc">
  <applications><application class="*"><maximized>yes</maximized></application></applications>
</openbox_config>
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def loaded_pages(port: int) -> list[dict[str, str]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as r:
            targets = json.load(r)
    except OSError:
        return []
    return [t for t in targets if t.get("type") == "page" and t.get("title")]


def trickle_command() -> list[str]:
    exe = Path(sys.executable).with_name("trickle")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "ui.cli"]


def shoot(out: Path, urls: list[str], settle: float) -> int:
    work = Path(tempfile.mkdtemp(prefix="trickle-shot-"))
    env = dict(os.environ)
    port = free_port()
    env.update(
        QTWEBENGINE_REMOTE_DEBUGGING=f"127.0.0.1:{port}",
        XDG_CACHE_HOME=str(work / "cache"),
        XDG_CONFIG_HOME=str(work / "config"),
        XDG_DATA_HOME=str(work / "data"),
        MESA_SHADER_CACHE_DISABLE="true",
    )
    if os.geteuid() == 0:  # Chromium refuses its sandbox as root
        env["QTWEBENGINE_DISABLE_SANDBOX"] = "1"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        if shutil.which("openbox"):
            rc = work / "openbox.xml"
            rc.write_text(OPENBOX_RC)
            procs.append(subprocess.Popen(["openbox", "--config-file", str(rc)], env=env))
            time.sleep(0.5)
        else:
            print("screenshot: openbox not installed; the window will have no frame")
        app = subprocess.Popen(
            [*trickle_command(), "--profile", str(work / "profile"), *urls], env=env, cwd=ROOT
        )
        procs.append(app)
        deadline = time.monotonic() + 60
        while not loaded_pages(port):
            if app.poll() is not None or time.monotonic() > deadline:
                print("screenshot: Trickle did not load a page", file=sys.stderr)
                return 1
            time.sleep(0.2)
        time.sleep(settle)

        from PySide6.QtGui import QGuiApplication

        qt = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
        shot = qt.primaryScreen().grabWindow(0)
        out.parent.mkdir(parents=True, exist_ok=True)
        if not shot.save(str(out), "PNG"):
            print(f"screenshot: cannot write {out}", file=sys.stderr)
            return 1
        print(f"screenshot: {out} {shot.width()}x{shot.height()}")
        return 0
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "packaging/screenshots/main.png")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds to wait after load")
    parser.add_argument("urls", nargs="*")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        if not shutil.which("xvfb-run"):
            print("screenshot: needs an X server or xvfb-run (Debian: xvfb)", file=sys.stderr)
            return 1
        screen = f"-screen 0 {SIZE[0]}x{SIZE[1]}x24"
        cmd = ["xvfb-run", "-a", "-s", screen, sys.executable, *sys.argv]
        return subprocess.run(cmd, check=False).returncode
    os.environ.pop("QT_QPA_PLATFORM", None)
    return shoot(args.out.resolve(), args.urls, args.settle)


if __name__ == "__main__":
    sys.exit(main())
