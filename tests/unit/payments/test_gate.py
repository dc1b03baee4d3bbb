"""A connection's money gate, on an event loop whose clock the test moves: a page limited by
its rate of pay sends one packet per pace period, asked for exactly when the pause ends; a page
the wallet refuses "not now" is asked again when that may change, never by polling."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.unit.manual_loop import ManualLoop, WallClock
from wallet.budgets import Asset, GlobalPolicy, Reason, SitePolicy, SiteState
from wallet.payments.activity import SiteActivity
from wallet.payments.documents import Document
from wallet.payments.gate import PacketGate
from wallet.service import WalletService
from wallet.stream import Outcome

SITE = "https://blog.example"
PROVIDER = "https://provider.example/handler"
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
    doc = Document(SITE, attending=True, activity=None)
    gate = PacketGate(service, doc, loop=loop, provider=PROVIDER, pace=1.0, has_activity=False)
    gate.bind(USD, "conn")
    gate.set_waker(lambda: wakes.append(loop.now))

    wall.now += timedelta(seconds=2)
    first = gate.reserve(1, 10**12)  # wants far more than has accrued
    assert first == 2_000_000  # all that accrued, and no more
    gate.settle(1, first, Outcome.FULFILLED)

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
    gate.settle(3, second, Outcome.FULFILLED)
    service.close()


def settle(loop: ManualLoop) -> None:
    """Run what is ready, and what that schedules in turn (the wallet's listeners hop back
    onto the loop), without moving the clock."""
    for _ in range(3):
        loop.run_due()


class Page:
    """A tab of ``SITE`` with a live connection: its gate, and when it was asked to send."""

    def __init__(self, service: WalletService, loop: ManualLoop, activity: SiteActivity) -> None:
        self.wakes: list[float] = []
        self.doc = Document(SITE, attending=True, activity=activity)
        self.gate = PacketGate(service, self.doc, loop=loop, provider=PROVIDER)
        self.gate.bind(USD, "conn")
        self.gate.set_waker(lambda: self.wakes.append(loop.now))
        self.doc.add_gate(self.gate)  # counted: the site accrues while the tab is attended
        settle(loop)


@pytest.fixture
def wallet(tmp_path: Path) -> Iterator[tuple[WalletService, WallClock]]:
    wall = WallClock()
    service = WalletService.open(tmp_path, tz=ZoneInfo("UTC"), clock=wall)
    yield service, wall
    service.close()


def test_a_slow_rate_is_asked_again_when_one_unit_has_accrued(
    wallet: tuple[WalletService, WallClock], loop: ManualLoop
) -> None:
    service, wall = wallet
    service.set_site_policy(SitePolicy(SITE, rate_per_hour=90))  # one unit per 40 s
    page = Page(service, loop, SiteActivity(service, loop))

    wall.now += timedelta(seconds=10)
    loop.now = 10
    assert page.gate.reserve(1, 10) == 0
    assert page.gate.refusal is Reason.NO_ACCRUAL
    loop.now = 39.99
    settle(loop)
    assert page.wakes == []  # not every half second for 30 s
    loop.now = 40
    wall.now += timedelta(seconds=30)
    settle(loop)
    assert page.wakes == [40]
    assert page.gate.reserve(2, 10) == 1


def test_a_paused_site_is_asked_again_when_the_user_resumes_it(
    wallet: tuple[WalletService, WallClock], loop: ManualLoop
) -> None:
    service, wall = wallet
    service.set_site_policy(SitePolicy(SITE, state=SiteState.PAUSED))
    page = Page(service, loop, SiteActivity(service, loop))
    wall.now += timedelta(seconds=5)
    assert page.gate.reserve(1, 10) == 0
    assert page.gate.refusal is Reason.PAUSED
    loop.now = 600
    loop.run_due()
    assert page.wakes == []  # a paused site costs nothing while it stays paused
    service.set_site_policy(SitePolicy(SITE, rate_per_hour=3_600_000_000))
    settle(loop)
    assert page.wakes == [600]
    wall.now += timedelta(seconds=1)
    assert page.gate.reserve(2, 10**12) > 0


def test_a_global_change_wakes_every_waiting_site(
    wallet: tuple[WalletService, WallClock], loop: ManualLoop
) -> None:
    service, wall = wallet
    service.set_site_policy(SitePolicy(SITE, rate_per_hour=0))  # accrues nothing, ever
    page = Page(service, loop, SiteActivity(service, loop))
    wall.now += timedelta(seconds=5)
    assert page.gate.reserve(1, 10) == 0
    assert page.gate.refusal is Reason.NO_ACCRUAL
    loop.now = 60
    settle(loop)
    assert page.wakes == []
    service.set_global_policy(GlobalPolicy())
    settle(loop)
    assert page.wakes == [60]


def test_a_site_not_yet_active_is_asked_again_when_it_becomes_active(
    wallet: tuple[WalletService, WallClock], loop: ManualLoop
) -> None:
    service, _wall = wallet
    activity = SiteActivity(service, loop)
    doc = Document(SITE, attending=True, activity=activity)
    gate = PacketGate(service, doc, loop=loop, provider=PROVIDER)
    gate.bind(USD, "conn")
    wakes: list[float] = []
    gate.set_waker(lambda: wakes.append(loop.now))
    # The STREAM connection asks before the tab is counted (the wallet hears of it later).
    assert gate.reserve(1, 10) == 0
    assert gate.refusal is Reason.NO_ACCRUAL
    loop.now = 60
    loop.run_due()
    assert wakes == []
    doc.add_gate(gate)
    settle(loop)
    assert wakes == [60]


def test_a_refusal_with_packets_in_flight_is_asked_again_when_they_settle(
    wallet: tuple[WalletService, WallClock], loop: ManualLoop
) -> None:
    service, wall = wallet
    service.set_site_policy(SitePolicy(SITE, rate_per_hour=3_600_000_000, cap_total=1_000_000))
    page = Page(service, loop, SiteActivity(service, loop))
    wall.now += timedelta(seconds=5)
    assert page.gate.reserve(1, 1_000_000) == 1_000_000  # the whole cap, in flight
    loop.now = 2.0  # past the pace
    assert page.gate.reserve(2, 10) == 0
    assert page.gate.refusal is Reason.TOTAL_CAP
    assert not page.gate.capped.done()  # the packet in flight may still be rejected
    loop.now = 20
    loop.run_due()
    assert page.wakes == []
    page.gate.settle(1, 1_000_000, Outcome.REFUSED)  # rejected: the cap has room again
    loop.run_due()
    assert page.wakes == [20]
    assert page.gate.reserve(3, 1_000_000) == 1_000_000
    loop.now = 40
    assert page.gate.reserve(4, 10) == 0
    page.gate.settle(3, 1_000_000, Outcome.FULFILLED)  # fulfilled: now the cap is reached for good
    loop.run_due()
    assert page.wakes == [20, 40]
    assert page.gate.reserve(5, 10) == 0
    assert page.gate.capped.done()


def test_a_closed_page_stops_waiting(
    wallet: tuple[WalletService, WallClock], loop: ManualLoop
) -> None:
    service, _wall = wallet
    service.set_site_policy(SitePolicy(SITE, state=SiteState.PAUSED))
    activity = SiteActivity(service, loop)
    page = Page(service, loop, activity)
    assert page.gate.reserve(1, 10) == 0
    page.doc.end()
    loop.run_due()
    assert activity._waiting == {}  # nothing holds the gone page
    service.set_site_policy(SitePolicy(SITE))
    settle(loop)
    assert page.wakes == []
