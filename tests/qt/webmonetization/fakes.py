"""A fake STREAM side for the page-API shape tests (NOT a STREAM implementation).

``FakePayments`` satisfies ``ui.webmonetization.protocols.PaymentSessions`` just enough to
exercise every field, event and method the page sees, through the real bridge, and records what
the bridge reports of each document. The money is tested against the real payment layer and
real receivers (test_payment.py, tests/unit/payments). All methods run on the wallet loop.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from ui.webmonetization.protocols import ConnectionListener, Fields, StreamListener
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
    document: FakeDocument
    link: Link
    provider: str
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
class FakeDocument:
    """What the bridge reported of one document (``ui.webmonetization.protocols.
    DocumentSession``): its site, whether it is attended, whether it ended."""

    site: str
    attending: bool
    ended: bool = False

    def set_attending(self, attending: bool) -> None:
        self.attending = attending

    def end(self) -> None:
        self.ended = True


@dataclass
class FakePayments:
    """A ``PaymentSessions`` that opens fake connections (page-API shape tests only; the
    money is ``wallet.payments``', tested against the real thing in test_payment.py)."""

    opened: list[FakeConnection] = field(default_factory=list)
    documents: list[FakeDocument] = field(default_factory=list)
    hold: asyncio.Event | None = None  # when set, monetize() waits for it
    args: list[tuple[str, bytes]] = field(default_factory=list)

    def document(self, site: str, *, attending: bool) -> FakeDocument:
        doc = FakeDocument(site, attending)
        self.documents.append(doc)
        return doc

    async def monetize(
        self,
        handle: FakeDocument,
        destination_account: str,
        shared_secret: bytes,
        link: Link,
        *,
        provider: str,
        account_id: int | None = None,
    ) -> Any:
        self.args.append((destination_account, shared_secret))
        conn = FakeConnection(handle, link, provider)
        self.opened.append(conn)
        if self.hold is not None:
            await self.hold.wait()
        return conn
