"""Two sans-IO STREAM connections joined by a fake link and a fake clock (h11's ConnectionPair).

The link plays the connector: it converts amounts at ``rate`` (floor, like ilp-connector),
answers F08 above ``max_packet_amount``, and lets a test inject rejects, drop or reorder
replies, or tamper with them. Time only moves when nothing is in transit: then the clock jumps
to the earliest deadline of either side.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import TypeVar

from wallet.ilp import AmountTooLarge, Fulfill, Prepare, Reject
from wallet.stream.config import BudgetGate, ConnectionConfig, Role
from wallet.stream.connection import Connection
from wallet.stream.credentials import generate_credentials
from wallet.stream.events import Event

EPOCH = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)
CLIENT_ADDRESS = "test.harness.wallet"
SERVER_BASE = "test.harness.receiver"

# (direction "c2s"/"s2c", prepare as it left the connector) -> a reply to short-circuit, or None
Interceptor = Callable[[str, Prepare], Fulfill | Reject | None]
# (direction, prepare, reply) -> the reply to deliver, or None to drop it
ReplyFilter = Callable[[str, Prepare, Fulfill | Reject], Fulfill | Reject | None]

E = TypeVar("E", bound=Event)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    @property
    def wall(self) -> datetime:
        return EPOCH + timedelta(seconds=self.now)


def seeded(seed: int) -> Callable[[int], bytes]:
    return random.Random(seed).randbytes


@dataclass
class Pair:
    client: Connection
    server: Connection
    clock: FakeClock
    rate: Fraction = Fraction(1)
    reverse_rate: Fraction = Fraction(1)
    max_packet_amount: int | None = None
    interceptor: Interceptor | None = None
    reply_filter: ReplyFilter | None = None
    reorder: bool = False
    client_events: list[Event] = field(default_factory=list)
    server_events: list[Event] = field(default_factory=list)
    max_in_flight: int = 0
    prepares: int = 0
    shuffle: random.Random = field(default_factory=lambda: random.Random(7))

    def _forward(self, direction: str, prepare: Prepare) -> Fulfill | Reject:
        if self.max_packet_amount is not None and prepare.amount > self.max_packet_amount:
            data = AmountTooLarge(prepare.amount, self.max_packet_amount).to_bytes()
            return Reject("F08", "test.harness", "packet size too large", data)
        rate = self.rate if direction == "c2s" else self.reverse_rate
        forwarded = replace(prepare, amount=prepare.amount * rate.numerator // rate.denominator)
        if self.interceptor is not None:
            early = self.interceptor(direction, forwarded)
            if early is not None:
                return early
        target = self.server if direction == "c2s" else self.client
        # A real connector would check the fulfillment (F05); lying-receiver tests rely on the
        # sender checking it itself.
        return target.receive_prepare(forwarded, self.clock.now)

    def step(self) -> bool:
        """Send what both sides want to send and deliver every reply. False if idle."""
        now, wall = self.clock.now, self.clock.wall
        batch: list[tuple[str, int, Prepare]] = []
        for direction, conn in (("c2s", self.client), ("s2c", self.server)):
            for packet_id, prepare in conn.packets_to_send(now, wall):
                batch.append((direction, packet_id, prepare))
            self.max_in_flight = max(self.max_in_flight, self.client.packets_in_flight)
        self.prepares += len(batch)
        replies: list[tuple[str, int, Prepare, Fulfill | Reject]] = []
        for direction, packet_id, prepare in batch:
            replies.append((direction, packet_id, prepare, self._forward(direction, prepare)))
        if self.reorder:
            self.shuffle.shuffle(replies)
        for direction, packet_id, prepare, original in replies:
            reply: Fulfill | Reject | None = original
            if self.reply_filter is not None:
                reply = self.reply_filter(direction, prepare, original)
            if reply is None:
                continue
            sender = self.client if direction == "c2s" else self.server
            sender.receive_reply(packet_id, reply, self.clock.now)
        self.client_events.extend(self.client.events())
        self.server_events.extend(self.server.events())
        return bool(batch)

    def advance(self) -> bool:
        """Jump to the earliest deadline and fire timers. False if there is none."""
        deadlines = [d for d in (self.client.next_deadline(), self.server.next_deadline()) if d]
        if not deadlines:
            return False
        self.clock.now = max(self.clock.now, min(deadlines))
        self.client.handle_timeout(self.clock.now)
        self.server.handle_timeout(self.clock.now)
        self.client_events.extend(self.client.events())
        self.server_events.extend(self.server.events())
        return True

    def run(self, until: Callable[[], bool] | None = None, max_steps: int = 10_000) -> None:
        """Step until ``until()`` holds (or, without it, until both sides are idle and no
        timer is due within the idle timeout)."""
        for _ in range(max_steps):
            if until is not None and until():
                return
            if self.step():
                continue
            if until is None:
                # Idle unless a short timer (a backoff) is due; idle and expiry timers are not.
                deadlines = [
                    d for d in (self.client.next_deadline(), self.server.next_deadline()) if d
                ]
                if not deadlines or min(deadlines) - self.clock.now > 10.0:
                    return
            if not self.advance():
                break
        if until is not None and not until():
            raise AssertionError("pair did not reach the expected state")

    def events_of(self, side: str, kind: type[E]) -> list[E]:
        events = self.client_events if side == "client" else self.server_events
        return [e for e in events if isinstance(e, kind)]


def make_pair(
    *,
    client_asset: tuple[str, int] = ("USD", 9),
    server_asset: tuple[str, int] = ("USD", 9),
    rate: Fraction = Fraction(1),
    max_packet_amount: int | None = None,
    server_receive_max: int = 2**64 - 1,
    client_receive_max: int = 2**64 - 1,
    receipts: bool = False,
    client_budget: BudgetGate | None = None,
    seed: int = 1,
    **client_options: object,
) -> Pair:
    clock = FakeClock()
    server_secret = bytes(range(32))
    nonce = bytes(16) if receipts else None
    secret = b"\x02" * 32 if receipts else None
    creds = generate_credentials(
        server_secret,
        SERVER_BASE,
        seeded(seed + 100),
        receipt_nonce=nonce,
        receipt_secret=secret,
    )
    client_config = ConnectionConfig(
        shared_secret=creds.shared_secret,
        asset_code=client_asset[0],
        asset_scale=client_asset[1],
        source_account=CLIENT_ADDRESS,
        destination_account=creds.destination_account,
        default_receive_max=client_receive_max,
        **client_options,  # type: ignore[arg-type]
    )
    client = Connection(
        client_config, Role.CLIENT, random_bytes=seeded(seed), now=0.0, budget=client_budget
    )
    server = Connection.server(
        creds,
        asset_code=server_asset[0],
        asset_scale=server_asset[1],
        random_bytes=seeded(seed + 1),
        now=0.0,
        default_receive_max=server_receive_max,
    )
    return Pair(
        client,
        server,
        clock,
        rate=rate,
        reverse_rate=1 / rate if rate else rate,
        max_packet_amount=max_packet_amount,
    )
