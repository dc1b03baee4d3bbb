"""The app's group-commit timer follows the ledger's due time: it is armed only while the
ledger holds something, never fires while a page streams (each packet's own commit does the
work), and writes the last payments to history soon after streaming stops."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from tests.unit.manual_loop import ManualLoop, WallClock
from wallet.budgets import Asset, SitePolicy
from wallet.ledger import Reservation
from wallet.runtime import GroupCommits
from wallet.service import WalletService
from wallet.store import open_store
from wallet.store.engine import database_path, transaction
from wallet.store.history import totals_by_site

SITE = "https://blog.example"
USD = Asset("USD", 9)
GRACE = 1.0


@pytest.fixture
def loop() -> Iterator[ManualLoop]:
    loop = ManualLoop()
    yield loop
    loop.close()


def _written(engine: Engine) -> int:
    """What history says was sent, read as another process would (no flush first)."""
    with transaction(engine, readonly=True) as conn:
        return sum(t.sent for t in totals_by_site(conn))


def _paying_service(tmp_path: Path, wall: WallClock) -> WalletService:
    service = WalletService.open(tmp_path, tz=ZoneInfo("UTC"), clock=wall)
    service.set_site_policy(SitePolicy(SITE, rate_per_hour=3_600_000_000))
    service.set_site_active(SITE, True)
    return service


def _pay_one(service: WalletService) -> None:
    res = service.reserve(SITE, "p", USD, 1_000_000, connection="c")
    assert isinstance(res, Reservation)
    service.commit(res, delivered=res.amount)


def _step(loop: ManualLoop, wall: WallClock, seconds: float) -> None:
    loop.now += seconds
    wall.now += timedelta(seconds=seconds)
    loop.run_due()


def test_the_timer_follows_the_ledger_and_never_fires_while_a_page_streams(
    tmp_path: Path, loop: ManualLoop
) -> None:
    wall = WallClock()
    service = _paying_service(tmp_path, wall)
    outside = open_store(database_path(tmp_path), migrate=False)
    commits = GroupCommits(service, loop, grace=GRACE)
    fired = 0
    flush_if_due = service.flush_if_due

    def counting_flush() -> bool:
        nonlocal fired
        fired += 1
        return flush_if_due()

    service.flush_if_due = counting_flush  # type: ignore[method-assign]
    armed = commits.armed_at  # a local: mypy would keep commits.armed_at narrowed to None
    assert armed is None  # nothing open: an idle app has no timer

    # A page streams one packet a second for 12 s (on the loop, as the app's packets do).
    for _ in range(12):
        _step(loop, wall, 1.0)
        loop.call_soon(_pay_one, service)
        loop.run_due()
        armed = commits.armed_at
        assert armed is not None and armed > loop.now + 1.0  # the next packet comes first
    assert fired == 0
    written = _written(outside)
    assert 0 < written < 12_000_000  # packets committed the groups themselves ...

    # ... and when the page stops, the timer writes the rest at the due time plus grace.
    armed = commits.armed_at
    assert armed is not None
    _step(loop, wall, armed - loop.now - 0.01)
    assert fired == 0 and _written(outside) == written
    _step(loop, wall, 0.01)
    assert fired == 1 and _written(outside) == 12_000_000

    # Idle leases go back after their ttl; then nothing is open and the timer is gone.
    for _ in range(20):
        if commits.armed_at is None:
            break
        _step(loop, wall, commits.armed_at - loop.now)
    assert commits.armed_at is None
    assert fired <= 1 + 30 // 5 + 1  # one round per period until the lease went back
    commits.close()
    outside.dispose()
    service.close()


def test_a_change_from_another_thread_arms_the_timer_through_the_loop(
    tmp_path: Path, loop: ManualLoop
) -> None:
    wall = WallClock()
    service = _paying_service(tmp_path, wall)
    commits = GroupCommits(service, loop, grace=GRACE)
    wall.now += timedelta(seconds=2)
    worker = threading.Thread(target=_pay_one, args=(service,))
    worker.start()
    worker.join()
    assert commits.armed_at is None  # not touched from the other thread ...
    loop.run_due()
    assert commits.armed_at == pytest.approx(5.0 + GRACE)  # ... but by the loop, at once
    commits.close()
    assert commits.armed_at is None
    service.close()
