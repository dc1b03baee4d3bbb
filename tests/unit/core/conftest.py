"""Fixtures for the wallet core tests: real SQLite files in a temporary directory, fake clocks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from wallet.store import open_store

BERLIN = ZoneInfo("Europe/Berlin")


class FakeClock:
    """An injected clock: moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "profile" / "trickle.sqlite3"


@pytest.fixture
def engine(db_path: Path) -> Iterator[Engine]:
    e = open_store(db_path)
    yield e
    e.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
