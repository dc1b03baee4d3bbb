"""The command line: global options on either side of a command, the sandbox as root, a broken
install (issue 20 item 9, issue 17 item 9). No Qt is imported by these paths."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ui import cli
from ui.launch_checks import ROOT_REFUSAL, SANDBOX_ENV, sandbox_decision

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["history"], ("history", [])),
        (["--profile", "/p", "history", "--csv"], ("history", ["--csv", "--profile", "/p"])),
        (["history", "--csv", "--profile", "/p"], ("history", ["--csv", "--profile", "/p"])),
        (["--profile=/p", "budget"], ("budget", ["--profile=/p"])),
        (["--profile", "history"], None),  # a profile directory named "history": the browser
        (["example.com", "history"], None),  # the first positional is a URL
        (["--sandbox"], None),
        ([], None),
    ],
)
def test_global_options_before_or_after_a_command(
    argv: list[str], expected: tuple[str, list[str]] | None
) -> None:
    assert cli.split_command(argv) == expected


def test_history_with_the_profile_first_prints_history_not_a_browser(
    tmp_path: Path, capsys: Any
) -> None:
    """``trickle --profile DIR history`` used to start the browser with "history" as a URL."""
    assert cli.main(["--profile", str(tmp_path), "history", "--csv"]) == 0
    assert capsys.readouterr().out.startswith("start,site,")


def test_the_sandbox_as_root_needs_an_explicit_flag() -> None:
    assert sandbox_decision(0, False, {}).refusal == ROOT_REFUSAL
    assert sandbox_decision(0, False, {SANDBOX_ENV: "0"}).refusal == ROOT_REFUSAL
    assert sandbox_decision(0, True, {}).disable
    assert sandbox_decision(0, False, {SANDBOX_ENV: "1"}).disable  # Qt's own switch, explicit
    user = sandbox_decision(1000, False, {})
    assert user.refusal is None and not user.disable


def run_cli(
    args: list[str], env: dict[str, str], prelude: str = ""
) -> subprocess.CompletedProcess[str]:
    code = f"import sys\n{prelude}\nfrom ui.cli import main\nsys.exit(main({args!r}))\n"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_as_root_without_the_flag_trickle_explains_and_exits_non_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    """Before: QtWebEngine exited silently (only a log line said why)."""
    monkeypatch.delenv(SANDBOX_ENV, raising=False)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert cli.main(["--profile", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "cannot run as root" in err and "--no-sandbox" in err
    assert not (tmp_path / "trickle.sqlite3").exists()  # nothing was started


def test_a_broken_install_says_what_is_missing_and_exits_non_zero(tmp_path: Path) -> None:
    """Before: "the browser window is not built yet" and exit 0."""
    env = {k: v for k, v in os.environ.items() if k != SANDBOX_ENV}
    # A Python whose QtWebEngine module is gone, as after a half-removed PySide6 install.
    done = run_cli(
        ["--no-sandbox", "--profile", str(tmp_path)],
        env,
        prelude="sys.modules['PySide6.QtWebEngineCore'] = None",
    )
    assert done.returncode == 1, done.stderr
    assert "PySide6.QtWebEngineCore" in done.stderr
    assert "Reinstall Trickle" in done.stderr
    assert "not built yet" not in done.stderr
