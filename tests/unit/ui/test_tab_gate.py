"""The per-tab gate's pacing, on an event loop whose clock the test moves: a page limited by
its rate of pay sends one packet per pace period, asked for exactly when the pause ends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.unit.manual_loop import ManualLoop, WallClock
from ui.webmonetization.monetize import TabGate
from wallet.budgets import Asset, SitePolicy
from wallet.service import WalletService

SITE = "https://blog.example"
USD = Asset("USD", 9)


@pytest.fixture
def loop() -> Iterator[ManualLoop]:
    loop = ManualLoop()
    yield loop
    loop.close()


def test_a_rate_limited_page_sends_once_per_pace_and_is_woken_when_it_ends(
    tmp_path: Path, loop: ManualLoop
) -> None:
    wall = WallClock()
    service = WalletService.open(tmp_path, tz=ZoneInfo("UTC"), clock=wall)
    service.set_site_policy(SitePolicy(SITE, rate_per_hour=3_600_000_000))  # 1e6 a second
    service.set_site_active(SITE, True)
    wakes: list[float] = []
    gate = TabGate(service, SITE, loop=loop, visible=True, pace=1.0)
    gate.bind_asset(USD, "conn")
    gate.set_waker(lambda: wakes.append(loop.now))

    wall.now += timedelta(seconds=2)
    first = gate.reserve(1, 10**12)  # wants far more than has accrued
    assert first == 2_000_000  # all that accrued, and no more
    gate.commit(1, first)

    wall.now += timedelta(seconds=0.25)
    loop.now = 0.25
    assert gate.reserve(2, 10**12) == 0  # paced: no dust packet for a quarter second's pay
    loop.now = 0.99
    loop.run_due()
    assert wakes == []  # nobody polls in between
    loop.now = 1.0
    wall.now += timedelta(seconds=0.75)
    loop.run_due()
    assert wakes == [1.0]  # asked again exactly when the pause ended
    second = gate.reserve(3, 10**12)
    assert second == 1_000_000  # one second's pay in one packet
    gate.commit(3, second)
    service.close()
