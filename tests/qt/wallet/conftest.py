"""Fixtures for the wallet UI tests: a real profile database filled with realistic data.

``wallet``: a ``WalletService`` on a temporary profile (injected clock, Europe/Berlin), seeded
through the service and the history module; ``ctx``: the UI's ``WalletContext`` over it.
Everything inherits ``tests/qt/conftest.py``'s ``fail_on_warnings`` (any Qt warning fails).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.qt.wallet.seed import TZ, FakeClock, configure, ingest_history, pay_today
from ui.wallet.banner import Notifier
from ui.wallet.context import WalletContext
from ui.wallet.network import NetworkStatus
from ui.wallet.qtevents import QtWalletEvents
from ui.wallet.window import WalletWindow
from wallet.amounts import NumberStyle
from wallet.reports import HistoryReader
from wallet.secrets import MemorySecretStore
from wallet.service import WalletService
from wallet.store import database_path, open_store

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture(scope="session")
def seeded_profile(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, datetime]:
    """Seed one profile per session (ingesting history takes seconds); tests copy its file."""
    profile = tmp_path_factory.mktemp("seeded") / "profile"
    profile.mkdir()
    clock = FakeClock()
    svc = WalletService.open(profile, tz=TZ, clock=clock)
    configure(svc)
    engine = open_store(database_path(profile))
    ingest_history(engine)
    engine.dispose()
    pay_today(svc, clock, lambda: clock.advance(seconds=2))
    svc.close()  # the last connection closes: the WAL is checkpointed into the file
    return profile, clock.now


@pytest.fixture
def clock(seeded_profile: tuple[Path, datetime]) -> FakeClock:
    return FakeClock(seeded_profile[1])


@pytest.fixture
def profile(tmp_path: Path, seeded_profile: tuple[Path, datetime]) -> Path:
    p = tmp_path / "profile"
    p.mkdir()
    for f in seeded_profile[0].iterdir():
        if f.is_file():
            shutil.copy2(f, p / f.name)
    return p


@pytest.fixture
def wallet(profile: Path, clock: FakeClock) -> Iterator[WalletService]:
    svc = WalletService.open(profile, tz=TZ, clock=clock)
    yield svc
    svc.close()


@pytest.fixture
def ctx(
    qtbot: Any, wallet: WalletService, profile: Path, clock: FakeClock
) -> Iterator[WalletContext]:
    engine = open_store(database_path(profile))
    events = QtWalletEvents(wallet.events)
    c = WalletContext(
        service=wallet,
        history=HistoryReader(engine, before_read=wallet.flush_pending),
        events=events,
        network=NetworkStatus(),
        secrets=MemorySecretStore(),
        tz=TZ,
        clock=clock,
        style=NumberStyle(),
    )
    yield c
    events.close()
    engine.dispose()


@pytest.fixture
def notifier(ctx: WalletContext) -> Notifier:
    return Notifier(ctx.events, ctx.network)


@pytest.fixture
def window(qtbot: Any, ctx: WalletContext, notifier: Notifier) -> WalletWindow:
    w = WalletWindow(ctx, notifier, payment_refresh_ms=0)
    qtbot.addWidget(w)
    w.resize(1100, 760)
    w.show()
    qtbot.waitExposed(w)
    return w


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
