"""A fake STREAM side for the page-API shape tests (NOT a STREAM implementation).

``FakeConnectionFactory`` satisfies ``ui.webmonetization.protocols.ConnectionFactory`` just
enough to exercise every field, event and method the page sees, through the real bridge. The
real money tests arrive with the STREAM driver. All methods run on the wallet loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ui.webmonetization.protocols import (
    ConnectionGate,
    ConnectionListener,
    Fields,
    StreamListener,
)
from wallet.budgets import Asset, Reason
from wallet.ledger import Refusal, Reservation
from wallet.net.link import Link


class FakeBudgetExceeded(Exception):
    js_name = "BudgetExceededError"


class FakeStream:
    def __init__(self, conn: FakeConnection, stream_id: int) -> None:
        self.conn = conn
        self.id = stream_id
        self.receive_max = 0
        self.send_max = 0
        self.total_received = 0
        self.total_sent = 0
        self.open = True
        self.listener: StreamListener | None = None
        self.sent_data: list[bytes] = []

    def fields(self) -> Fields:
        return {
            "id": str(self.id),
            "receiveMax": str(self.receive_max),
            "sendMax": str(self.send_max),
            "totalReceived": str(self.total_received),
            "totalSent": str(self.total_sent),
            "open": self.open,
        }

    def set_listener(self, listener: StreamListener) -> None:
        self.listener = listener

    async def set_receive_max(self, amount: int) -> None:
        self.receive_max = amount

    async def receive_total(self, amount: int, timeout: float | None) -> None:
        self.receive_max = amount
        got = amount - self.total_received
        self.total_received = amount
        self.conn.total_received += got
        assert self.listener is not None
        self.listener.on_money(got)

    async def set_send_max(self, amount: int) -> None:
        self.send_max = amount

    async def send_total(self, amount: int, timeout: float | None) -> None:
        if amount > self.conn.cap:
            raise FakeBudgetExceeded("the spending limit for this site is reached")
        self.send_max = amount
        delta = amount - self.total_sent
        self.total_sent = amount
        self.conn.total_sent += delta
        self.conn.total_delivered += delta * 2
        assert self.listener is not None
        self.listener.on_outgoing_money(delta)

    async def send(self, data: bytes) -> None:
        self.sent_data.append(data)
        assert self.listener is not None
        self.listener.on_data(data[::-1])  # the "other side" answers with the bytes reversed

    async def close(self) -> None:
        self.open = False
        assert self.listener is not None
        self.listener.on_close()


@dataclass
class FakeConnection:
    gate: ConnectionGate
    link: Link
    cap: int = 1000
    total_sent: int = 0
    total_delivered: int = 0
    total_received: int = 0
    closed: bool = False
    listener: ConnectionListener | None = None
    streams: list[FakeStream] = field(default_factory=list)
    next_id: int = 1

    def fields(self) -> Fields:
        return {
            "connectionTag": "tag-1",
            "lastPacketExchangeRate": 2.0,
            "minimumAcceptableExchangeRate": 1.5,
            "totalDelivered": str(self.total_delivered),
            "totalSent": str(self.total_sent),
            "totalReceived": str(self.total_received),
            "sourceAssetCode": "XRP",
            "sourceAssetScale": 9,
            "destinationAssetCode": "USD",
            "destinationAssetScale": "2",
            "closed": self.closed,
        }

    def set_listener(self, listener: ConnectionListener) -> None:
        self.listener = listener

    def create_stream(self) -> FakeStream:
        stream = FakeStream(self, self.next_id)
        self.next_id += 2
        self.streams.append(stream)
        return stream

    def remote_stream(self) -> FakeStream:
        stream = FakeStream(self, 2)
        self.streams.append(stream)
        assert self.listener is not None
        self.listener.on_stream(stream)
        return stream

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.listener is not None:
            self.listener.on_close()


@dataclass
class FakeConnectionFactory:
    opened: list[FakeConnection] = field(default_factory=list)
    hold: asyncio.Event | None = None  # when set, open() waits for it
    args: list[tuple[str, bytes]] = field(default_factory=list)

    async def open(
        self, destination_account: str, shared_secret: bytes, link: Link, gate: ConnectionGate
    ) -> Any:
        self.args.append((destination_account, shared_secret))
        conn = FakeConnection(gate, link)
        self.opened.append(conn)
        if self.hold is not None:
            await self.hold.wait()
        return conn


@dataclass
class FakeBudget:
    """A ``BudgetGate`` with ``allowance`` source units, then a cap (tests only)."""

    allowance: int = 10**9
    reserved: list[Reservation] = field(default_factory=list)
    committed: list[Reservation] = field(default_factory=list)
    released: list[Reservation] = field(default_factory=list)
    active: dict[str, bool] = field(default_factory=dict)
    site_listeners: list[Callable[[str | None], None]] = field(default_factory=list)

    def reserve(
        self,
        site: str,
        provider: str,
        asset: Asset,
        amount: int,
        *,
        min_amount: int | None = None,
        account_id: int | None = None,
        connection: str = "",
    ) -> Reservation | Refusal:
        if self.allowance <= 0:
            return Refusal(Reason.DAY_CAP, 0)
        got = min(amount, self.allowance)
        self.allowance -= got
        res = Reservation(
            id=len(self.reserved) + 1,
            site=site,
            provider=provider,
            asset=asset,
            amount=got,
            connection=connection,
            lease_id=0,
            owner="fake-budget",
        )
        self.reserved.append(res)
        return res

    def commit(
        self, res: Reservation, *, delivered: int = 0, dest_asset: Asset | None = None
    ) -> None:
        self.committed.append(res)

    def release(self, res: Reservation) -> None:
        self.allowance += res.amount
        self.released.append(res)

    def expire(self, res: Reservation) -> None:
        self.committed.append(res)

    def set_site_active(self, site: str, active: bool) -> None:
        self.active[site] = active
        if active:
            for listener in self.site_listeners:
                listener(site)
