"""The outcome table of :class:`wallet.stream.Outcome`, row by row: what the connection tells its
budget gate about each money packet, from what came back (or did not)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from tests.unit.stream.pair import Pair, make_pair
from wallet.ilp import Fulfill, Prepare, Reject
from wallet.stream import Outcome


class Recorder:
    """A gate that approves everything and records each settlement."""

    def __init__(self) -> None:
        self.open: dict[int, int] = {}
        self.settled: list[tuple[int, Outcome, int]] = []

    def reserve(self, packet_id: int, amount: int) -> int:
        assert packet_id not in self.open
        self.open[packet_id] = amount
        return amount

    def settle(self, packet_id: int, amount: int, outcome: Outcome, delivered: int = 0) -> None:
        assert self.open.pop(packet_id) == amount  # exactly once, with the approved amount
        self.settled.append((amount, outcome, delivered))

    def outcomes(self) -> list[Outcome]:
        return [outcome for _, outcome, _ in self.settled]


Filter = Callable[[str, Prepare, Fulfill | Reject], Fulfill | Reject | None]


def _pay_once(gate: Recorder, reply_filter: Filter, *, wait_settled: bool = False) -> Pair:
    """Connect, send 100 units; the first money packet's reply goes through ``reply_filter``."""
    p = make_pair(client_budget=gate)
    first = True

    def filtered(
        direction: str, prepare: Prepare, reply: Fulfill | Reject
    ) -> Fulfill | Reject | None:
        nonlocal first
        if direction == "c2s" and prepare.amount and p.client.is_connected and first:
            first = False
            return reply_filter(direction, prepare, reply)
        return reply

    p.reply_filter = filtered
    p.run(lambda: p.client.is_connected)
    stream = p.client.create_stream()
    stream.set_send_max(100)
    p.run(lambda: bool(gate.settled)) if wait_settled else p.run()
    return p


def test_verified_fulfill_is_fulfilled_with_what_the_receiver_says_arrived() -> None:
    gate = Recorder()
    _pay_once(gate, lambda _d, _p, reply: reply)
    assert gate.settled == [(100, Outcome.FULFILLED, 100)]
    assert not Outcome.FULFILLED.uncertain


def test_receivers_authentic_reject_is_refused() -> None:
    """The receiver itself refuses (F99 with its STREAM reply): certainly not paid."""
    gate = Recorder()
    p = make_pair(client_budget=gate, server_receive_max=40)
    p.run(lambda: p.client.is_connected)
    stream = p.client.create_stream()
    stream.set_send_max(100)
    p.run()
    assert Outcome.REFUSED in gate.outcomes()
    assert not Outcome.REFUSED.uncertain
    # what was refused was sent again within the receiver's limit, never more
    assert (
        p.server.total_received
        == 40
        == sum(a for a, o, _ in gate.settled if o is Outcome.FULFILLED)
    )


def test_reject_without_the_receivers_reply_is_unverified() -> None:
    """A Reject a connector (or whoever carries our packets) made up: the money may be gone."""
    gate = Recorder()
    _pay_once(gate, lambda _d, _p, _r: Reject("T04", "test.harness", "liquidity", b""))
    assert gate.outcomes()[0] is Outcome.REJECTED
    assert not Outcome.REJECTED.uncertain  # unverified, not uncertain: the gate bounds it


def test_receivers_fulfill_data_moved_into_a_reject_is_unverified() -> None:
    """A carrier that kept the Fulfill and forwarded a Reject with the receiver's reply: the
    reply is of the Fulfill type (RFC 29 §5.2), so it does not authenticate the Reject."""
    gate = Recorder()

    def swap(_d: str, _p: Prepare, reply: Fulfill | Reject) -> Reject:
        assert isinstance(reply, Fulfill)
        return Reject("F99", "test.harness", "", reply.data)

    p = _pay_once(gate, swap)
    assert gate.outcomes()[0] is Outcome.REJECTED
    # the receiver has the money although we saw a Reject: the gate must count it
    assert p.server.total_received == 100


def test_no_reply_by_expiry_is_expired() -> None:
    gate = Recorder()
    _pay_once(gate, lambda _d, _p, _r: None, wait_settled=True)
    assert gate.outcomes()[0] is Outcome.EXPIRED
    assert Outcome.EXPIRED.uncertain


def test_reply_after_expiry_is_late() -> None:
    gate = Recorder()
    p = make_pair(client_budget=gate)
    p.run(lambda: p.client.is_connected)
    stream = p.client.create_stream()
    stream.set_send_max(100)
    [(packet_id, prepare)] = p.client.packets_to_send(p.clock.now, p.clock.wall)
    reply = p.server.receive_prepare(prepare, p.clock.now)
    late = p.client.config.expiry + 1  # the reply arrives before the timer fired
    p.client.receive_reply(packet_id, reply, late)
    assert gate.settled[0][:2] == (100, Outcome.LATE)
    assert Outcome.LATE.uncertain


def test_fulfillment_not_matching_the_condition_is_bad_fulfillment() -> None:
    gate = Recorder()

    def forge(_d: str, _p: Prepare, reply: Fulfill | Reject) -> Fulfill:
        assert isinstance(reply, Fulfill)
        return replace(reply, fulfillment=bytes(32))

    p = _pay_once(gate, forge)
    assert gate.outcomes()[0] is Outcome.BAD_FULFILLMENT
    assert Outcome.BAD_FULFILLMENT.uncertain
    assert not p.client.is_open  # a lying path ends the connection


def test_carrier_failing_after_the_prepare_left_is_lost() -> None:
    gate = Recorder()
    p = make_pair(client_budget=gate)
    p.run(lambda: p.client.is_connected)
    stream = p.client.create_stream()
    stream.set_send_max(100)
    [(packet_id, _prepare)] = p.client.packets_to_send(p.clock.now, p.clock.wall)
    p.client.packet_lost(packet_id, p.clock.now)
    assert gate.settled == [(100, Outcome.LOST, 0)]
    assert Outcome.LOST.uncertain
    p.client.packet_lost(packet_id, p.clock.now)  # twice, or for an unknown id: ignored
    assert len(gate.settled) == 1
