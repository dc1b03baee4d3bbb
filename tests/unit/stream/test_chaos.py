"""Random faults on the link, random work on both sides: the invariants always hold.

Faults: T-class rejects, F08 ceilings, lost replies, reordered replies, lying fulfillments.
Invariants: every budget reservation settles exactly once; the client never counts more as
sent than the receiver took (same currency, so units compare); nothing exceeds a stream's
send max; data arrives in order, exactly once, or not at all.
"""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.stream.pair import make_pair
from tests.unit.stream.test_pair import Budget, data_of
from wallet.ilp import Fulfill, Prepare, Reject
from wallet.stream.events import MoneySent


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    max_packet=st.sampled_from([None, 100, 777, 5000]),
    t_rate=st.floats(0, 0.3),
    loss_rate=st.floats(0, 0.2),
    lie_rate=st.floats(0, 0.1),
    reorder=st.booleans(),
    sends=st.lists(st.integers(1, 20_000), min_size=1, max_size=4),
    payload=st.binary(max_size=20_000),
)
def test_invariants_under_faults(
    seed: int,
    max_packet: int | None,
    t_rate: float,
    loss_rate: float,
    lie_rate: float,
    reorder: bool,
    sends: list[int],
    payload: bytes,
) -> None:
    rng = random.Random(seed)
    budget = Budget(limit=sum(sends))
    p = make_pair(max_packet_amount=max_packet, client_budget=budget, seed=seed % 1000)
    p.reorder = reorder
    p.shuffle = random.Random(seed + 1)

    def faults(direction: str, prepare: Prepare) -> Reject | None:
        if rng.random() < t_rate:
            return Reject(rng.choice(["T00", "T02", "T04", "R00"]), "test.harness", "chaos")
        return None

    def tamper(
        direction: str, prepare: Prepare, reply: Fulfill | Reject
    ) -> Fulfill | Reject | None:
        if rng.random() < loss_rate:
            return None
        if isinstance(reply, Fulfill) and rng.random() < lie_rate:
            return Fulfill(bytes(32), reply.data)
        return reply

    p.interceptor = faults
    p.reply_filter = tamper
    streams = [p.client.create_stream() for _ in sends]
    for stream, amount in zip(streams, sends, strict=True):
        stream.set_send_max(amount)
    streams[0].send(payload)
    p.run(max_steps=20_000)  # until idle
    # Let every packet in flight settle (expiry) and the idle timeout end the connection.
    for _ in range(1000):
        if not p.client.packets_in_flight and p.client.state.value == "closed":
            break
        if not p.advance():
            break
        p.run(max_steps=20_000)

    client = p.client
    assert client.packets_in_flight == 0
    assert budget.reserved == {}, "every reservation settles"
    assert budget.committed == client.total_sent
    assert client.total_sent <= p.server.total_received  # lost Fulfills: paid, not counted
    sent_events = sum(e.amount for e in p.events_of("client", MoneySent))
    assert sent_events == client.total_sent
    for stream, amount in zip(streams, sends, strict=True):
        assert stream.total_sent <= amount
        assert stream.in_flight == 0
    received = data_of(p, "server", streams[0].id)
    assert payload.startswith(received)
    if client.is_connected and not [
        e for e in p.client_events if type(e).__name__ == "ConnectionFailed"
    ]:
        assert client.total_sent == sum(sends)
        assert received == payload
