"""The profile is private: directory 0700, database, WAL, shm and log 0600, whatever the umask."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from wallet.private_files import tighten_profile
from wallet.reports import local_zone
from wallet.service import WalletService
from wallet.store import database_path
from wallet.store.engine import DB_FILENAME


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture(params=[0o000, 0o022, 0o002])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def test_a_new_profile_is_private_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    profile = tmp_path / "deep" / "profile"
    svc = WalletService.open(profile, tz=local_zone())
    try:
        svc.set_setting("probe", 1)  # a write: the WAL and shm exist now
        db = database_path(profile)
        files = [db, db.with_name(DB_FILENAME + "-wal"), db.with_name(DB_FILENAME + "-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
        assert mode(profile) == 0o700
        assert mode(profile.parent) == 0o700  # created for it, so private too
    finally:
        svc.close()


def test_an_existing_open_profile_is_tightened_on_start(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        profile = tmp_path / "profile"
        svc = WalletService.open(profile, tz=local_zone())
        svc.set_setting("probe", 1)
        # What an older Trickle left: everything readable by every local user.
        logs = profile / "logs"
        logs.mkdir()
        handler = logging.FileHandler(logs / "trickle.log")
        logging.getLogger("test.private").addHandler(handler)
        logging.getLogger("test.private").warning("a line")
        handler.close()
        (profile / "window.ini").write_text("[window]\n")
        profile.chmod(0o755)
        logs.chmod(0o755)
        for f in [*profile.iterdir(), *logs.iterdir()]:
            if f.is_file():
                f.chmod(0o644)
        changed = tighten_profile(profile)
        files = [f for f in [*profile.iterdir(), *logs.iterdir()] if f.is_file()]
        names = {f.name for f in files}
        assert {DB_FILENAME, DB_FILENAME + "-wal", DB_FILENAME + "-shm"} <= names
        assert {"trickle.log", "window.ini"} <= names
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
        assert mode(profile) == 0o700
        assert mode(logs) == 0o700
        assert set(files) <= set(changed)
        svc.close()
    finally:
        os.umask(old)


def test_a_database_in_a_shared_directory_leaves_the_directory_alone(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    svc = WalletService.open(shared, tz=local_zone())
    svc.close()
    assert mode(shared) == 0o1777  # only a profile directory is tightened, by the app
    assert mode(database_path(shared)) == 0o600
