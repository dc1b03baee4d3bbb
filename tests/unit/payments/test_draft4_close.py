"""Closing a page's draft-4 connection (the tab closed, the page navigated, ``close()``) sends
no more money and waits for no timer: a real STREAM connection over the sandbox network to a
real STREAM receiver, paid through a real wallet service and SQLite file, on an event loop
whose clock only the test moves. While the page's stream still wants money the accrual has not
allowed yet, ``close()`` completes without the clock moving at all (a wait for the close
timeout, or for more accrual, would need it to); afterwards nothing more is sent however much
time passes, and the receiver's count = Trickle's history, nothing left uncertain."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest

from tests.unit.manual_loop import ManualLoop, WallClock
from wallet.budgets import SitePolicy
from wallet.net.stream_api import IlpConnection, IlpStream
from wallet.net.stream_server import StreamServer
from wallet.payments import PAGE_CONNECTION_TEMPLATE, Payments
from wallet.sandbox import SandboxNetwork
from wallet.service import WalletService

SITE = "https://echo.example"
PROVIDER = "trickle://wallet/handler"
RATE = 3_600_000_000  # 1,000,000 units a second of viewing
STEPS = 5000  # loop iterations without the clock moving (the close takes a few dozen)
T = TypeVar("T")


@pytest.fixture
def loop() -> Iterator[ManualLoop]:
    loop = ManualLoop()
    yield loop
    loop.close()


def without_the_clock(loop: ManualLoop, work: Coroutine[Any, Any, T]) -> T:
    """Run ``work`` to its end with the loop's clock standing still; fail if it needs a timer
    (then it would never end here)."""
    task = loop.create_task(work)
    for _ in range(STEPS):
        if task.done():
            return task.result()
        loop.run_due()
    task.cancel()
    loop.run_due()
    raise AssertionError("it waits for a timer: it never ends while the clock stands")


class Receiver:
    """The site's STREAM receiver on the sandbox network, counting what arrives."""

    def __init__(self, network: SandboxNetwork) -> None:
        self.received = 0
        self.server = StreamServer(
            network.account("echo"),
            base_address=f"{network.address}.echo",
            asset_code=network.asset_code,
            asset_scale=network.asset_scale,
            on_connection=self._connection,
        )

    def _connection(self, conn: IlpConnection) -> None:
        conn.on("stream", self._stream)

    def _stream(self, stream: IlpStream) -> None:
        stream.on("money", self._money)

    def _money(self, amount: int) -> None:
        self.received += amount


def test_closing_sends_nothing_more_and_waits_for_no_timer(
    loop: ManualLoop, tmp_path: Path
) -> None:
    asyncio.set_event_loop(loop)
    wall = WallClock()
    service = WalletService.open(tmp_path, tz=ZoneInfo("UTC"), clock=wall)
    try:
        service.set_site_policy(SitePolicy(SITE, rate_per_hour=RATE))
        network = SandboxNetwork()
        receiver = Receiver(network)
        payments = Payments(service, loop, pace=0.0, template=PAGE_CONNECTION_TEMPLATE)
        handle = payments.document(SITE, attending=True)
        loop.run_due()
        issued = receiver.server.credentials()
        conn = without_the_clock(
            loop,
            payments.monetize(
                handle,
                issued.destination_account,
                issued.shared_secret,
                network.account("you"),
                provider=PROVIDER,
            ),
        )
        stream = conn.create_stream()
        wall.now += timedelta(seconds=3)  # three seconds of viewing: 3,000,000 units accrue
        without_the_clock(loop, stream.set_send_max(10**12))  # the page wants far more
        for _ in range(50):
            loop.run_due()
        sent = int(stream.fields()["totalSent"])
        assert 0 < sent < 10**12  # it sent what accrued, and waits for more

        without_the_clock(loop, conn.close())

        assert conn.fields()["closed"] is True
        assert int(stream.fields()["totalSent"]) == sent == receiver.received
        # However long the page stays open afterwards, nothing more goes.
        wall.now += timedelta(hours=1)
        loop.now += 3600
        for _ in range(20):
            loop.run_due()
        assert int(stream.fields()["totalSent"]) == sent == receiver.received
        service.flush()
        (totals,) = service.site_totals(site=SITE)
        assert (totals.sent, totals.delivered, totals.unresolved) == (sent, sent, 0)
    finally:
        service.close()
        asyncio.set_event_loop(None)
