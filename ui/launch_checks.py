"""What to check before the browser starts (no Qt): the sandbox as root, a complete install.

Chromium cannot run its sandbox as root: QtWebEngine then exits with only a log line. Trickle
explains it instead, and runs without the sandbox only when asked explicitly (``--no-sandbox``
or Qt's own ``QTWEBENGINE_DISABLE_SANDBOX=1``); the window then shows a warning bar.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

SANDBOX_ENV = "QTWEBENGINE_DISABLE_SANDBOX"

ROOT_REFUSAL = (
    "Trickle is running as root, and Chromium's sandbox (which keeps web pages away from the "
    "rest of your system) cannot run as root. Run Trickle as an ordinary user, or, if this "
    "machine has no other user, start it with --no-sandbox to run it without the sandbox."
)
NO_SANDBOX_WARNING = (
    "Running without Chromium's sandbox: a compromised web page could reach the rest of this "
    "system. Browse only sites you trust, and run Trickle as an ordinary user when you can."
)


@dataclass(frozen=True, slots=True)
class SandboxDecision:
    """``refusal``: why not to start (exit non-zero); else ``disable``: run without it."""

    disable: bool
    refusal: str | None = None


def sandbox_decision(euid: int, no_sandbox: bool, env: Mapping[str, str]) -> SandboxDecision:
    """Whether to start, and whether with the sandbox, for this user and these options."""
    asked = no_sandbox or env.get(SANDBOX_ENV, "") not in ("", "0")
    if asked:
        return SandboxDecision(disable=True)
    if euid == 0:
        return SandboxDecision(disable=False, refusal=ROOT_REFUSAL)
    return SandboxDecision(disable=False)


def sandbox_disabled(env: Mapping[str, str] | None = None) -> bool:
    """Whether this process runs QtWebEngine without its sandbox (for the warning bar)."""
    e = os.environ if env is None else env
    return e.get(SANDBOX_ENV, "") not in ("", "0")


def missing_module_message(error: ImportError) -> str:
    """Words for a broken install: which module is missing and how to repair it."""
    name = error.name or str(error)
    return (
        f"cannot start the browser: the Python module {name!r} is missing or broken "
        f"({error}). Reinstall Trickle (scripts/setup app, or pip install --force-reinstall "
        "trickle) to bring back PySide6 and QtWebEngine."
    )


__all__ = [
    "NO_SANDBOX_WARNING",
    "ROOT_REFUSAL",
    "SANDBOX_ENV",
    "SandboxDecision",
    "missing_module_message",
    "sandbox_decision",
    "sandbox_disabled",
]
