"""The entry point: ``trickle --profile DIR URL`` as a real process."""

from __future__ import annotations

import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.qt.servers import Site
from ui.app import Extensions, LaunchOptions, compose
from ui.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def test_command_line_options(qapp: Any, tmp_path: Path) -> None:
    # compose() makes Qt objects (timers among them): they need the application
    args = build_parser().parse_args(["--profile", str(tmp_path), "--sandbox", "example.com"])
    options = LaunchOptions.from_args(args)
    assert options.profile_dir == tmp_path.resolve()
    assert options.sandbox and options.uplink is None
    assert list(options.urls) == ["example.com"]
    assert isinstance(compose(options), Extensions)


def test_sandbox_and_uplink_exclude_each_other(capsys: Any) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--sandbox", "--uplink", "https://connector.example"])
    assert "not allowed with" in capsys.readouterr().err


def test_the_app_opens_urls_logs_in_its_profile_and_stops_cleanly(
    qtbot: Any, http_site: Site, tmp_path: Path
) -> None:
    http_site.add(
        "/from-the-command-line",
        "<title>Hello</title>",
        headers=(("Set-Cookie", "visited=yes; Max-Age=3600; Path=/"),),
    )
    profile = tmp_path / "profile"
    log_file = profile / "logs" / "trickle.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ui.cli",
            "--profile",
            str(profile),
            f"127.0.0.1:{http_site.port}/from-the-command-line",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        qtbot.waitUntil(lambda: http_site.hits("/from-the-command-line") == 1, timeout=60_000)
        qtbot.waitUntil(lambda: "window shown" in log_file.read_text(), timeout=60_000)
        # The wallet starts after the first paint; its database is among the files checked.
        qtbot.waitUntil(lambda: "wallet ready" in log_file.read_text(), timeout=60_000)
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    text = log_file.read_text()
    assert "Trickle stopped (0)" in text
    assert "Traceback" not in text
    assert (profile / "webengine" / "storage").is_dir()
    assert "geometry" in (profile / "window.ini").read_text()  # the window's place, kept
    # Private whatever the umask (the test's is usually 022): the directory and every file
    # Trickle wrote in it.
    assert stat.S_IMODE(profile.stat().st_mode) == 0o700
    own = [f for f in [*profile.iterdir(), *(profile / "logs").iterdir()] if f.is_file()]
    assert {"trickle.sqlite3", "window.ini", "trickle.log"} <= {f.name for f in own}
    assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in own} == {f.name: 0o600 for f in own}
