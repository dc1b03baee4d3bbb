"""Automatic garbage collection, paused while something must not meet it.

Two holders pause it:

* ``STARTUP`` — ``trickle`` launching the browser, until its first page has painted: the
  objects PySide6 and the browser UI make at start (~10^5) cost a full collection tens of
  milliseconds, several times over, on the path to the first paint.
* the wallet's start thread (``ui/provider.py``): a collection on that thread would destroy Qt
  objects left in reference cycles on the wrong thread ("Timers cannot be stopped from another
  thread", then a crash).

Collection resumes when the last holder lets go, if it ran before the first one held it; the
garbage made meanwhile is collected by whoever asks for it then (on the GUI thread). Cheap to
import (no Qt): ``ui/cli.py`` holds the pause before the browser's modules load.
"""

from __future__ import annotations

import gc

STARTUP = "start-up"

_holders: set[str] = set()
_resume: list[bool] = []  # [whether collection ran before the first holder] while held


def hold(name: str) -> None:
    """Pause automatic collection for ``name`` (holding twice is holding once)."""
    if not _holders:
        _resume[:] = [gc.isenabled()]
        gc.disable()
    _holders.add(name)


def release(name: str, *, collect: bool = False) -> None:
    """``name`` no longer needs the pause; the last one out resumes collection (and collects
    now if ``collect``). Releasing what is not held does nothing."""
    if name not in _holders:
        return
    _holders.discard(name)
    if _holders:
        return
    resume = _resume.pop() if _resume else True
    if resume:
        gc.enable()
        if collect:
            gc.collect()


def holders() -> frozenset[str]:
    """Who holds the pause now."""
    return frozenset(_holders)
