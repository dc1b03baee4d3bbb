"""A private profile: the directory 0700, every file Trickle writes in it 0600, whatever the umask.

Owns the permission rules for the profile directory. The database engine creates its file
through :func:`create_private_file` (SQLite then gives its WAL and shared-memory files the
database file's mode), the app tightens an existing profile with :func:`tighten_profile` on
start and runs with :data:`PRIVATE_UMASK`, so what Chromium, Qt and the log handler create
later is private too. No Qt.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
PRIVATE_UMASK = 0o077
# Sub-directories whose files Trickle writes itself (the browser engine's own tree is covered
# by the profile directory's 0700 and the process umask).
_OWN_SUBDIRS = ("logs",)


def make_private_dir(path: Path, *, tighten_existing: bool = True) -> None:
    """Create ``path`` if needed, 0700 (with any missing parents 0700 too).

    An existing directory is made 0700 only with ``tighten_existing`` (the profile directory
    the user named, not a database file's arbitrary parent such as ``/tmp``).

    Raises:
        OSError: it cannot be created or its mode set.
    """
    missing = [p for p in (path, *path.parents) if not p.exists()]
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    for created in missing:  # mkdir's mode goes through the umask; parents get the default
        _chmod(created, DIR_MODE)
    if tighten_existing:
        _chmod(path, DIR_MODE)


def create_private_file(path: Path) -> None:
    """Create ``path`` empty with mode 0600 unless it exists; make an existing one 0600 too.

    Raises:
        OSError: it cannot be created or its mode set.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def tighten_profile(profile_dir: Path) -> list[Path]:
    """Make ``profile_dir`` 0700 and the files Trickle keeps in it 0600; returns what changed.

    Covers the files directly in the directory (the database with its WAL and shared-memory
    files, window settings) and in its ``logs`` directory. Symbolic links are left alone.

    Raises:
        OSError: the directory cannot be created or its mode set.
    """
    make_private_dir(profile_dir)
    changed: list[Path] = []
    dirs = [profile_dir, *(profile_dir / d for d in _OWN_SUBDIRS)]
    for d in dirs:
        if d.is_symlink() or not d.is_dir():
            continue
        if d != profile_dir and _mode(d) != DIR_MODE:
            _chmod(d, DIR_MODE)
            changed.append(d)
        for entry in d.iterdir():
            if entry.is_symlink() or not entry.is_file():
                continue
            if _mode(entry) & ~FILE_MODE:
                _chmod(entry, _mode(entry) & FILE_MODE)
                changed.append(entry)
    return changed


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def _chmod(path: Path, mode: int) -> None:
    with contextlib.suppress(NotImplementedError):
        path.chmod(mode)


__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "PRIVATE_UMASK",
    "create_private_file",
    "make_private_dir",
    "tighten_profile",
]
