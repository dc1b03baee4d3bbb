"""A client and a server over a fake link and a fake clock: the behaviours RFC 29 asks for."""

from __future__ import annotations

import itertools
from dataclasses import replace
from fractions import Fraction

import pytest

from tests.unit.stream.pair import Pair, make_pair
from wallet.ilp import Fulfill, Prepare, Reject
from wallet.stream.config import ConnectionState, Outcome
from wallet.stream.connection import Connection
from wallet.stream.crypto import StreamKeys
from wallet.stream.errors import ExchangeRateError, RemoteProtocolError
from wallet.stream.events import (
    Connected,
    ConnectionClosed,
    ConnectionFailed,
    DataReceived,
    MoneyReceived,
    MoneySent,
    ReceiptReceived,
    StreamClosed,
    StreamOpened,
)
from wallet.stream.frames import ConnectionAssetDetailsFrame, ErrorCode, StreamMaxMoneyFrame
from wallet.stream.packet import StreamPacket
from wallet.stream.receipts import verify_receipt
from wallet.stream.streams import Stream

U64 = 2**64 - 1


def connected(p: Pair) -> None:
    p.run(lambda: p.client.is_connected or p.client.state is ConnectionState.CLOSED)


def stream_of(conn: Connection, stream_id: int) -> Stream:
    stream = conn.stream(stream_id)
    assert stream is not None, f"no stream {stream_id}"
    return stream


def data_of(p: Pair, side: str, stream_id: int) -> bytes:
    return b"".join(
        e.data
        for e in p.events_of(side, DataReceived)
        if isinstance(e, DataReceived) and e.stream_id == stream_id
    )


def failures(p: Pair, side: str = "client") -> list[ConnectionFailed]:
    return [e for e in p.events_of(side, ConnectionFailed) if isinstance(e, ConnectionFailed)]


# --- setup, probe, sequence ----------------------------------------------------------------


def test_probe_then_connected_same_currency() -> None:
    p = make_pair()
    connected(p)
    assert p.client.is_connected
    assert p.client.exchange_rate == 1
    assert p.client.minimum_acceptable_exchange_rate == Fraction(99, 100)
    assert (p.client.destination_asset_code, p.client.destination_asset_scale) == ("USD", 9)
    assert p.server.destination_account == "test.harness.wallet"
    assert p.events_of("client", Connected) == [Connected(Fraction(1))]
    # Five probes, sequences 1..5, none fulfilled.
    assert p.client.packets_sent == 5
    assert p.client.total_sent == 0
    assert p.server.total_received == 0


def test_cross_currency_probe_and_delivery() -> None:
    # USD/9 -> EUR/6 at 0.000792 with a 1e7 max packet (WIRE-NOTES §6.4).
    rate = Fraction(792, 1_000_000)
    p = make_pair(server_asset=("EUR", 6), rate=rate, max_packet_amount=10**7)
    connected(p)
    assert p.client.exchange_rate == rate
    assert p.client.destination_asset_code == "EUR"
    stream = p.client.create_stream()
    stream.set_send_max(10**9)
    p.run(lambda: stream.total_sent == 10**9)
    assert p.client.total_sent == 10**9
    assert p.client.max_packet_amount == 10**7
    assert p.server.total_received == 10**9 * rate  # 100 packets of exactly 7920
    assert p.client.total_delivered == p.server.total_received
    assert p.client.last_packet_exchange_rate == rate


def test_precision_failure() -> None:
    # Nothing delivers 100 units: "no packets meeting the minimum exchange precision".
    p = make_pair(rate=Fraction(1, 10**12), max_packet_amount=10**6)
    connected(p)
    (failure,) = failures(p)
    assert isinstance(failure.error, ExchangeRateError)
    assert "precision" in str(failure.error)
    assert p.client.state is ConnectionState.CLOSED


def test_minimum_exchange_rate_above_path_rate_fails() -> None:
    p = make_pair(rate=Fraction(1, 2), minimum_exchange_rate=Fraction(6, 10))
    connected(p)
    (failure,) = failures(p)
    assert isinstance(failure.error, ExchangeRateError)
    stream_attempt_total = p.client.total_sent
    assert stream_attempt_total == 0


def test_slippage_breach_refuses_packet_and_fails() -> None:
    p = make_pair(slippage=Fraction(1, 100))
    connected(p)
    stream = p.client.create_stream()
    stream.set_send_max(10_000)
    p.rate = Fraction(95, 100)  # the path got 5% worse
    p.run(lambda: p.client.state is ConnectionState.CLOSED)
    (failure,) = failures(p)
    assert isinstance(failure.error, ExchangeRateError)
    assert p.client.total_sent == 0
    assert p.server.total_received == 0  # the receiver refused (F99): too little arrived


# --- money and data -------------------------------------------------------------------------


def test_money_and_data_both_ways_on_several_streams() -> None:
    p = make_pair()
    a, b, c = (p.client.create_stream() for _ in range(3))
    assert (a.id, b.id, c.id) == (1, 3, 5)
    a.set_send_max(3000)
    b.set_send_max(5000)
    c.send(b"x" * 40_000)  # more than one packet and more than the default windows
    a.send(b"hello")
    p.run(
        lambda: (
            b.total_sent == 5000 and a.total_sent == 3000 and len(data_of(p, "server", 5)) == 40_000
        )
    )
    assert [e.stream_id for e in p.events_of("server", StreamOpened)] == [1, 3, 5]
    assert data_of(p, "server", 1) == b"hello"
    assert data_of(p, "server", 5) == b"x" * 40_000
    assert stream_of(p.server, 1).total_received == 3000
    assert stream_of(p.server, 3).total_received == 5000
    # The server answers on the client's stream and opens its own (even) one.
    reply = stream_of(p.server, 1)
    reply.send(b"world")
    reply.set_send_max(700)
    own = p.server.create_stream()
    assert own.id == 2
    own.set_send_max(300)
    own.send(bytes(range(256)) * 10)
    p.run(
        lambda: (
            own.total_sent == 300
            and reply.total_sent == 700
            and len(data_of(p, "client", 2)) == 2560
        )
    )
    assert data_of(p, "client", 1) == b"world"
    assert data_of(p, "client", 2) == bytes(range(256)) * 10
    assert p.client.total_received == 1000
    assert p.server.total_sent == 1000
    assert p.client.total_sent == 8000
    assert p.server.total_received == 8000
    assert p.events_of("client", StreamOpened) == [StreamOpened(2)]


def test_money_flow_control_and_blocked() -> None:
    p = make_pair(server_receive_max=500)
    connected(p)
    stream = p.client.create_stream()
    stream.set_send_max(2000)
    p.run()  # runs until idle: the receiver's limit blocks the rest
    assert stream.total_sent == 500
    assert stream_of(p.server, 1).total_received == 500
    assert stream_of(p.server, 1).remote_send_max == 2000  # learnt from StreamMoneyBlocked
    stream_of(p.server, 1).set_receive_max(1500)
    p.run()
    assert stream.total_sent == 1500
    assert stream_of(p.server, 1).total_received == 1500


def test_data_flow_control_windows() -> None:
    p = make_pair()
    streams = [p.client.create_stream() for _ in range(4)]
    payloads = [bytes([i]) * 40_000 for i in range(4)]  # 160 kB > 16 kB/stream, 64 kB/connection
    for stream, payload in zip(streams, payloads, strict=True):
        stream.send(payload)
    peak = 0

    def watch() -> bool:
        nonlocal peak
        for stream in streams:
            server_side = p.server.stream(stream.id)
            if server_side is not None:
                # Never beyond what the receiver advertised (default 16384 before it spoke).
                assert stream.send_offset <= max(server_side.local_max_data, 16384)
        peak = max(peak, p.client._data_sent_highest - p.server._data_delivered)
        return all(len(data_of(p, "server", s.id)) == 40_000 for s in streams)

    p.run(watch)
    for stream, payload in zip(streams, payloads, strict=True):
        assert data_of(p, "server", stream.id) == payload
    assert peak <= 65534
    assert not failures(p, "server")


def test_f08_shrinks_packets() -> None:
    p = make_pair(max_packet_amount=1000)
    stream = p.client.create_stream()
    stream.set_send_max(10_500)
    p.run(lambda: stream.total_sent == 10_500)
    assert p.client.max_packet_amount == 1000
    assert p.server.total_received == 10_500
    assert p.client.packets_fulfilled == 11


def test_t04_backoff_and_shrink() -> None:
    p = make_pair()
    connected(p)
    rejected: list[float] = []

    def t04(direction: str, prepare: Prepare) -> Reject | None:
        if direction == "c2s" and prepare.amount > 600:
            rejected.append(p.clock.now)
            return Reject("T04", "test.harness", "insufficient liquidity")
        return None

    p.interceptor = t04
    stream = p.client.create_stream()
    stream.set_send_max(5000)
    start = p.clock.now
    p.run(lambda: stream.total_sent == 5000)
    assert p.server.total_received == 5000
    assert len(rejected) >= 2
    assert p.clock.now - start >= 0.1  # backed off at least once
    assert p.client.max_packet_amount <= 5000


def test_t_class_exponential_backoff() -> None:
    p = make_pair()
    connected(p)
    times: list[float] = []

    def t01(direction: str, prepare: Prepare) -> Reject | None:
        if direction == "c2s" and prepare.amount and len(times) < 4:
            times.append(p.clock.now)
            return Reject("T01", "test.harness", "peer unreachable")
        return None

    p.interceptor = t01
    stream = p.client.create_stream()
    stream.set_send_max(100)
    p.run(lambda: stream.total_sent == 100)
    gaps = [round(b - a, 3) for a, b in itertools.pairwise(times)]
    assert gaps == [0.1, 0.2, 0.4]
    assert p.client.window >= 1


def test_congestion_window_more_than_one_in_flight() -> None:
    p = make_pair(max_packet_amount=1000)
    stream = p.client.create_stream()
    stream.set_send_max(1_000_000)
    p.run(lambda: stream.total_sent == 1_000_000)
    assert p.max_in_flight > 4
    assert p.server.total_received == 1_000_000
    assert sum(e.amount for e in p.events_of("client", MoneySent)) == 1_000_000


# --- loss, reordering, lying peers ---------------------------------------------------------


def test_lost_and_out_of_order_replies() -> None:
    p = make_pair(max_packet_amount=100)
    connected(p)
    p.reorder = True
    dropped: list[int] = []

    def lose_some(
        direction: str, prepare: Prepare, reply: Fulfill | Reject
    ) -> Fulfill | Reject | None:
        if direction == "c2s" and prepare.amount and len(dropped) < 3 and p.prepares % 3 == 0:
            dropped.append(prepare.amount)
            return None
        return reply

    p.reply_filter = lose_some
    stream = p.client.create_stream()
    stream.set_send_max(5000)
    payload = bytes(range(256)) * 100
    stream.send(payload)
    p.run(lambda: stream.total_sent == 5000 and len(data_of(p, "server", 1)) >= len(payload))
    assert dropped
    # Lost Fulfills were not counted as sent: the money went out again.
    assert p.client.total_sent == 5000
    assert p.server.total_received == 5000 + sum(dropped)
    # Data arrived exactly once, in order, despite resends.
    assert data_of(p, "server", 1) == payload


def _retamper(p: Pair, packet_fn: object) -> None:
    keys = StreamKeys(p.client.config.shared_secret)

    def tamper(direction: str, prepare: Prepare, reply: Fulfill | Reject) -> Fulfill | Reject:
        if direction != "c2s" or not reply.data:
            return reply
        packet = StreamPacket.open(keys, reply.data)
        packet = packet_fn(packet)  # type: ignore[operator]
        data = packet.seal(keys, b"\x00" * 12)
        return replace(reply, data=data)

    p.reply_filter = tamper


def test_lying_receiver_bad_fulfillment() -> None:
    budget = Budget(limit=10**6)
    p = make_pair(client_budget=budget)
    connected(p)

    def lie(direction: str, prepare: Prepare, reply: Fulfill | Reject) -> Fulfill | Reject:
        if isinstance(reply, Fulfill):
            return Fulfill(b"\x00" * 32, reply.data)
        return reply

    p.reply_filter = lie
    stream = p.client.create_stream()
    stream.set_send_max(1000)
    p.run(lambda: p.client.state is ConnectionState.CLOSED)
    assert p.client.total_sent == 0
    assert stream.total_sent == 0
    (failure,) = failures(p)
    assert isinstance(failure.error, RemoteProtocolError)
    assert budget.committed == 0
    assert budget.reserved == {}
    assert [kind for kind, _, _ in budget.log] == ["reserve", "release"]


def test_lying_receiver_inflated_amounts() -> None:
    p = make_pair()
    connected(p)

    def inflate(packet: StreamPacket) -> StreamPacket:
        frames = tuple(
            StreamMaxMoneyFrame(f.stream_id, f.receive_max, f.total_received * 1000)
            if isinstance(f, StreamMaxMoneyFrame)
            else f
            for f in packet.frames
        )
        return replace(packet, prepare_amount=packet.prepare_amount * 1000, frames=frames)

    _retamper(p, inflate)
    stream = p.client.create_stream()
    stream.set_send_max(1000)
    p.run()
    assert p.client.total_sent == 1000  # our units: only what was fulfilled
    assert stream.total_sent == 1000
    assert p.client.total_delivered == 1000 * 1000  # their claim, kept apart


def test_lying_receiver_changes_asset_details() -> None:
    p = make_pair()
    connected(p)

    def switch(packet: StreamPacket) -> StreamPacket:
        return replace(packet, frames=(*packet.frames, ConnectionAssetDetailsFrame("XRP", 6)))

    _retamper(p, switch)
    stream = p.client.create_stream()
    stream.set_send_max(1000)
    p.run(lambda: p.client.state is ConnectionState.CLOSED)
    (failure,) = failures(p)
    assert isinstance(failure.error, RemoteProtocolError)
    assert failure.error.code == ErrorCode.PROTOCOL_VIOLATION
    # The Fulfill itself was valid: that money really left, and is counted exactly once; no
    # more is sent after the conflict.
    assert p.client.total_sent == stream.total_sent == p.server.total_received == 1000
    assert stream.in_flight == 0


# --- closing ---------------------------------------------------------------------------------


def test_client_closes_gracefully_after_sending() -> None:
    p = make_pair()
    stream = p.client.create_stream()
    stream.set_send_max(1000)
    stream.send(b"bye")
    p.client.close()
    p.run(lambda: p.client.state is ConnectionState.CLOSED)
    assert stream.total_sent == 1000
    assert data_of(p, "server", 1) == b"bye"
    assert p.events_of("client", ConnectionClosed) == [
        ConnectionClosed(ErrorCode.NO_ERROR, "", remote=False)
    ]
    p.run()
    assert p.server.state is ConnectionState.CLOSED
    assert p.events_of("server", ConnectionClosed) == [
        ConnectionClosed(ErrorCode.NO_ERROR, "", remote=True)
    ]
    assert StreamClosed(1, ErrorCode.NO_ERROR, "", remote=True) in p.server_events
    assert not failures(p)


def test_server_closes() -> None:
    p = make_pair()
    stream = p.client.create_stream()
    stream.set_send_max(100)
    p.run(lambda: stream.total_sent == 100)
    p.server.close()
    p.run(lambda: p.client.state is ConnectionState.CLOSED)
    assert p.events_of("client", ConnectionClosed) == [
        ConnectionClosed(ErrorCode.NO_ERROR, "", remote=True)
    ]
    assert p.server.state is ConnectionState.CLOSED


def test_stream_close_from_server() -> None:
    p = make_pair()
    stream = p.client.create_stream()
    stream.set_send_max(100)
    p.run(lambda: stream.total_sent == 100)
    stream_of(p.server, 1).close()
    p.run()
    assert StreamClosed(1, ErrorCode.NO_ERROR, "", remote=True) in p.client_events
    assert not stream.is_open
    assert p.client.is_open


def test_destroy_with_error_reaches_peer() -> None:
    p = make_pair()
    connected(p)
    p.client.destroy(ErrorCode.APPLICATION_ERROR, "user left")
    p.run()
    assert p.events_of("server", ConnectionClosed) == [
        ConnectionClosed(ErrorCode.APPLICATION_ERROR, "user left", remote=True)
    ]


def test_idle_timeout() -> None:
    p = make_pair()
    connected(p)
    p.run(lambda: p.client.state is ConnectionState.CLOSED)
    assert p.clock.now >= 60
    (failure,) = failures(p)
    assert "inactivity" in str(failure.error)


def test_keepalive_holds_an_idle_connection_open_on_both_sides() -> None:
    # A paused client (a hidden tab) pings every 20 s: neither side's 60 s idle timer fires.
    p = make_pair(keepalive=20.0)
    connected(p)
    sent = p.client.packets_sent
    p.run(lambda: p.clock.now >= 600)
    assert p.client.state is ConnectionState.OPEN
    assert p.server.state is ConnectionState.OPEN
    assert not failures(p) and not failures(p, "server")
    pings = p.client.packets_sent - sent
    assert 600 // 20 - 2 <= pings <= 600 // 20  # one per keepalive interval, no more
    assert p.client.total_sent == 0 and p.server.total_received == 0
    # Money still flows after the pause.
    stream = p.client.create_stream()
    stream.set_send_max(1000)
    p.run(lambda: stream.total_sent == 1000)
    assert p.server.total_received == 1000


def test_idle_connections_ping_together_on_a_shared_grid() -> None:
    # Tabs hidden at different moments: their pings fall on the same instants (one wake-up
    # of the app for all of them), each still within 20 s of its last packet.
    dues = []
    for quiet_since in (1.0, 3.0, 7.5, 9.99):
        p = make_pair(keepalive=20.0)
        connected(p)
        p.clock.now = quiet_since  # the page's last payment, then the tab is hidden
        stream = p.client.create_stream()
        stream.set_send_max(1)
        p.run(lambda: stream.total_sent == 1)  # noqa: B023 - run() calls it at once
        assert p.clock.now == quiet_since
        due = p.client.keepalive_due_at()
        assert due is not None and quiet_since + 10 < due <= quiet_since + 20
        dues.append(due)
    assert set(dues) == {20.0}


def test_no_keepalive_from_a_client_with_work_in_flight_or_a_server() -> None:
    p = make_pair(keepalive=20.0)
    connected(p)
    assert p.server.keepalive_due_at() is None  # servers never ping
    p.client.close()
    assert p.client.keepalive_due_at() is None  # nor does a closing client


def test_keepalive_must_be_positive() -> None:
    with pytest.raises(ValueError, match="keepalive"):
        make_pair(keepalive=0.0)


def test_packet_limit() -> None:
    p = make_pair(max_packets=8, max_packet_amount=1)
    stream = p.client.create_stream()
    stream.set_send_max(100)
    p.run(lambda: p.client.state is ConnectionState.CLOSED)
    assert p.client.packets_sent <= 8
    assert "2^31" in str(failures(p)[0].error) or "limit" in str(failures(p)[0].error)


# --- receipts and the budget gate ------------------------------------------------------------


def test_receipts_latest_per_stream() -> None:
    p = make_pair(receipts=True, max_packet_amount=400)
    stream = p.client.create_stream()
    stream.set_send_max(1000)
    p.run(lambda: stream.total_sent == 1000)
    receipts = [e for e in p.events_of("client", ReceiptReceived) if isinstance(e, ReceiptReceived)]
    assert [r.total_received for r in receipts] == [400, 800, 1000]
    assert stream.receipt is not None
    verified = verify_receipt(stream.receipt, b"\x02" * 32)
    assert (verified.stream_id, verified.total_received) == (1, 1000)


class Budget:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.reserved: dict[int, int] = {}
        self.committed = 0
        self.log: list[tuple[str, int, int]] = []
        self.outcomes: list[Outcome] = []

    def reserve(self, packet_id: int, amount: int) -> int:
        room = self.limit - self.committed - sum(self.reserved.values())
        approved = max(0, min(room, amount))
        if approved:
            assert packet_id not in self.reserved
            self.reserved[packet_id] = approved
        self.log.append(("reserve", packet_id, approved))
        return approved

    def settle(self, packet_id: int, amount: int, outcome: Outcome, delivered: int = 0) -> None:
        assert self.reserved.pop(packet_id) == amount
        if outcome is Outcome.FULFILLED:
            self.committed += amount
            self.log.append(("commit", packet_id, amount))
        else:
            self.log.append(("release", packet_id, amount))
        self.outcomes.append(outcome)


def test_budget_gate_caps_and_settles_every_reservation() -> None:
    budget = Budget(limit=2500)
    p = make_pair(client_budget=budget, max_packet_amount=1000)
    calls = 0

    def flaky(direction: str, prepare: Prepare) -> Reject | None:
        nonlocal calls
        if direction == "c2s" and prepare.amount and p.client.is_connected:
            calls += 1
            if calls == 2:
                return Reject("T02", "test.harness", "busy")
        return None

    p.interceptor = flaky
    stream = p.client.create_stream()
    stream.set_send_max(10_000)
    p.run()
    assert budget.committed == 2500 == p.client.total_sent == p.server.total_received
    assert budget.reserved == {}
    assert any(kind == "release" for kind, _, _ in budget.log)


def test_money_received_events_sum() -> None:
    p = make_pair(max_packet_amount=300)
    stream = p.client.create_stream()
    stream.set_send_max(1000)
    p.run(lambda: stream.total_sent == 1000)
    got = [e for e in p.events_of("server", MoneyReceived) if isinstance(e, MoneyReceived)]
    assert sum(e.amount for e in got) == 1000
    assert got[-1].total_received == 1000


# --- stream limits, probe retries, a refusing budget -------------------------------------


def test_stream_ids_beyond_peer_maximum_wait() -> None:
    p = make_pair()
    streams = [p.client.create_stream() for _ in range(11)]
    assert streams[-1].id == 21  # above the default max stream id 20 (RFC 29 §3.3)
    for stream in streams:
        stream.set_send_max(10)
    p.run()
    assert [s.total_sent for s in streams] == [10] * 10 + [0]
    assert p.server.stream(21) is None
    stream_of(p.server, 1).close()  # frees one slot: the server raises its max stream id to 22
    p.run()
    assert streams[-1].total_sent == 10
    assert p.server.stream(21) is not None
    assert not failures(p, "server")


def test_probe_retries_after_t_class() -> None:
    p = make_pair()
    hits: list[int] = []

    def busy(direction: str, prepare: Prepare) -> Reject | None:
        if direction == "c2s" and not p.client.is_connected and len(hits) < 5:
            hits.append(prepare.amount)
            return Reject("T03", "test.harness", "busy")
        return None

    p.interceptor = busy
    connected(p)
    assert p.client.is_connected
    assert p.client.exchange_rate == 1
    assert len(hits) == 5


class Refuser:
    def __init__(self) -> None:
        self.calls = 0

    def reserve(self, packet_id: int, amount: int) -> int:
        self.calls += 1
        return 0

    def settle(self, packet_id: int, amount: int, outcome: Outcome, delivered: int = 0) -> None:
        raise AssertionError("nothing was reserved")


def test_refusing_budget_sends_nothing_and_does_not_spin() -> None:
    gate = Refuser()
    p = make_pair(client_budget=gate)
    connected(p)
    stream = p.client.create_stream()
    stream.set_send_max(1000)
    stream.send(b"still flows")
    p.run()
    assert p.client.total_sent == 0
    assert p.server.total_received == 0
    assert data_of(p, "server", 1) == b"still flows"
    assert gate.calls < 20


def test_gives_up_on_a_path_that_always_says_try_again() -> None:
    p = make_pair()
    p.server.config = replace(p.server.config, idle_timeout=None)
    connected(p)
    p.interceptor = lambda direction, prepare: (
        Reject("T01", "test.harness", "unreachable") if direction == "c2s" else None
    )
    stream = p.client.create_stream()
    stream.set_send_max(1000)
    p.run(lambda: p.client.state is ConnectionState.CLOSED)
    (failure,) = failures(p)
    assert "in a row" in str(failure.error)
    assert p.client.total_sent == 0
