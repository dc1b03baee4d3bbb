"""The owners of a STREAM connection's state: each keeps its invariants, nobody else writes it.

The shape rules (STYLE.md §8) are checked on the source: no module of ``wallet.stream`` reaches
into another object's underscored attributes, nor writes an owner's attributes from outside
its class, and the modules import each other without a cycle (``TYPE_CHECKING`` imports
included). The owners' invariants are tested on the owners themselves.
"""

from __future__ import annotations

import ast
from fractions import Fraction
from pathlib import Path as FilePath

import pytest

from wallet.ilp import Fulfill, Reject
from wallet.stream.config import ConnectionState, Outcome
from wallet.stream.crypto import condition_of
from wallet.stream.errors import ConnectionFailedError, ExchangeRateError, RemoteProtocolError
from wallet.stream.events import (
    Connected,
    ConnectionClosed,
    ConnectionFailed,
    Event,
    StreamClosed,
    StreamOpened,
)
from wallet.stream.flow import DEFAULT_CONNECTION_WINDOW, ConnectionFlow
from wallet.stream.frames import (
    ConnectionAssetDetailsFrame,
    ConnectionCloseFrame,
    ConnectionNewAddressFrame,
    ErrorCode,
)
from wallet.stream.inflight import CLOSE, NORMAL, PROBE, InFlight, PacketsInFlight
from wallet.stream.lifecycle import Lifecycle
from wallet.stream.packet import StreamPacket
from wallet.stream.path import Path
from wallet.stream.replies import classify
from wallet.stream.streams import Stream
from wallet.stream.streamtable import DEFAULT_MAX_STREAM_ID, StreamTable

STREAM_PACKAGE = FilePath(__file__).resolve().parents[3] / "wallet" / "stream"
# The owners, as ``Parts`` names them, and the module each lives in.
OWNERS = {
    "streams": "streamtable",
    "in_flight": "inflight",
    "flow": "flow",
    "path": "path",
    "lifecycle": "lifecycle",
    "counters": "counters",
    "congestion": "congestion",
}


def _ignore(event: Event) -> None:
    pass


def _assigned(tree: ast.Module) -> list[tuple[int, ast.Attribute]]:
    """Every attribute assigned to (``x.a = ...``, ``x.a += ...``, ``x.a, y = ...``)."""
    out: list[tuple[int, ast.Attribute]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        for target in targets:
            elements = target.elts if isinstance(target, ast.Tuple | ast.List) else [target]
            out.extend((node.lineno, t) for t in elements if isinstance(t, ast.Attribute))
    return out


def _modules() -> dict[str, ast.Module]:
    return {f.stem: ast.parse(f.read_text()) for f in sorted(STREAM_PACKAGE.glob("*.py"))}


# ---------------------------------------------------------------------- shape


def test_no_module_reaches_into_private_attributes_of_another_object() -> None:
    reaches = []
    for name, tree in _modules().items():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"})
            ):
                reaches.append(f"{name}.py:{node.lineno}: {ast.unparse(node)}")
    assert reaches == []


def test_owners_are_written_only_by_their_own_module() -> None:
    writes = []
    for name, tree in _modules().items():
        for line, target in _assigned(tree):
            base = target.value
            owner = (
                base.attr
                if isinstance(base, ast.Attribute)
                else base.id
                if isinstance(base, ast.Name)
                else None
            )
            if owner in OWNERS and OWNERS[owner] != name:
                writes.append(f"{name}.py:{line}: {ast.unparse(target)}")
    assert writes == []


def test_streams_are_written_only_through_their_methods() -> None:
    public = {name for name in Stream.__slots__ if not name.startswith("_")}
    writes = []
    for name, tree in _modules().items():
        if name == "streams":
            continue
        for line, target in _assigned(tree):
            if target.attr in public and not (
                isinstance(target.value, ast.Name) and target.value.id == "self"
            ):
                writes.append(f"{name}.py:{line}: {ast.unparse(target)}")
    assert writes == []


def test_stream_modules_import_each_other_without_a_cycle() -> None:
    graph: dict[str, set[str]] = {}
    for name, tree in _modules().items():
        if name == "__init__":
            continue  # the package re-exports everything
        deps = graph.setdefault(name, set())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module.startswith("wallet.stream."):
                    deps.add(node.module.split(".")[2])
                elif node.module == "wallet.stream":
                    deps.update(
                        a.name for a in node.names if (STREAM_PACKAGE / f"{a.name}.py").exists()
                    )
    cycles: list[list[str]] = []
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        for dep in sorted(graph.get(module, ())):
            if dep in path:
                cycles.append([*path[path.index(dep) :], dep])
            elif dep not in done:
                visit(dep, [*path, dep])
        done.add(module)

    for module in sorted(graph):
        visit(module, [module])
    assert cycles == []
    # The connection's halves get its owners as Parts and never import it back.
    for half in ("incoming", "outgoing", "replies", "control"):
        assert "connection" not in graph[half]


# ---------------------------------------------------------------------- StreamTable


def _table(events: list[Event], *, first_local_id: int = 1) -> StreamTable:
    return StreamTable(first_local_id=first_local_id, max_remote_streams=10, emit=events.append)


def test_stream_table_gives_each_role_its_parity_and_checks_the_peers() -> None:
    events: list[Event] = []
    client = _table(events)
    assert [client.open_local(0, 100).id for _ in range(3)] == [1, 3, 5]
    opened = client.open_remote(2, 0, 100)
    assert opened is not None and opened.id == 2
    assert events == [StreamOpened(2)]
    assert client.open_remote(2, 0, 100) is opened  # already open: no second event
    with pytest.raises(RemoteProtocolError) as wrong_parity:
        client.open_remote(7, 0, 100)  # odd ids are ours, and 7 was never opened
    assert wrong_parity.value.code == ErrorCode.PROTOCOL_VIOLATION
    with pytest.raises(RemoteProtocolError):
        client.open_remote(0, 0, 100)
    with pytest.raises(RemoteProtocolError) as too_high:
        client.open_remote(22, 0, 100)  # above 2 * max_remote_streams
    assert too_high.value.code == ErrorCode.STREAM_ID_ERROR
    server = _table([], first_local_id=2)
    assert server.open_local(0, 100).id == 2


def test_a_closed_stream_is_kept_while_its_money_is_in_flight_then_forgotten() -> None:
    events: list[Event] = []
    table = _table(events)
    stream = table.open_local(0, 100)
    stream.reserve(5)
    table.close(stream, ErrorCode.NO_ERROR, "", remote=False)
    assert events == [StreamClosed(1, ErrorCode.NO_ERROR, "", False)]
    assert table.by_id == {1: stream}  # its reservation must still settle against it
    table.close(stream, ErrorCode.INTERNAL_ERROR, "again", remote=True)  # closed once only
    assert len(events) == 1
    stream.settle(5, sent=False)
    table.forget_if_settled(stream)
    assert table.by_id == {}
    assert table.open_remote(1, 0, 100) is None  # its frames are ignored from now on


def test_closing_a_peer_stream_raises_our_limit_once_and_it_is_said_once() -> None:
    table = _table([])
    peer = table.open_remote(2, 0, 100)
    assert peer is not None
    assert table.local_max_id == 20
    assert not table.max_id_changed
    table.close(peer, ErrorCode.NO_ERROR, "", remote=True)
    assert table.local_max_id == 22
    assert table.take_max_id_change()
    assert not table.take_max_id_change()
    mine = table.open_local(0, 100)
    table.close(mine, ErrorCode.NO_ERROR, "", remote=False)
    assert table.local_max_id == 22  # our own streams do not raise the peer's limit


def test_the_peers_stream_limit_only_grows_and_blocking_is_said_once_per_limit() -> None:
    table = _table([])
    table.raise_remote_max_id(41)
    table.raise_remote_max_id(7)  # out of order: ignored
    assert table.remote_max_id == 41
    for _ in range(22):
        table.open_local(0, 100)  # ids 1..43: 43 is beyond the peer's 41
    assert table.stream_id_blocked() == 43
    assert table.stream_id_blocked() is None
    table.raise_remote_max_id(DEFAULT_MAX_STREAM_ID)
    assert table.stream_id_blocked() is None


# ---------------------------------------------------------------------- PacketsInFlight


def _record(seq: int, kind: int = NORMAL, expires: float = 30.0) -> InFlight:
    return InFlight(seq, kind, amount=10, min_dest=0, condition=b"\0" * 32, expires=expires)


def test_packets_in_flight_take_sequences_in_order_and_settle_once() -> None:
    packets = PacketsInFlight(max_packets=3)
    assert packets.next_seq == 1
    packets.add(_record(1))
    packets.add(_record(2, PROBE, expires=10.0))
    packets.add(_record(3, CLOSE, expires=20.0))
    assert packets.exhausted()
    assert (len(packets), packets.normal) == (3, 1)
    assert packets.earliest_expiry() == 10.0
    assert [r.seq for r in packets.expired(20.0)] == [2, 3]
    first = packets.pop(1)
    assert first is not None and first.seq == 1
    assert packets.pop(1) is None  # a second reply for the same packet settles nothing
    assert (len(packets), packets.normal) == (2, 0)
    with pytest.raises(AssertionError):
        packets.add(_record(7))  # not the next sequence


# ---------------------------------------------------------------------- ConnectionFlow


def test_connection_flow_limits_grow_only_and_blocking_is_said_once_per_offset() -> None:
    flow = ConnectionFlow(window=1000)
    assert flow.room() == DEFAULT_CONNECTION_WINDOW
    flow.raise_remote_max(100)  # the first figure the peer gives counts, even if lower
    flow.raise_remote_max(50)
    assert flow.room() == 100
    flow.record_sent(100)
    assert flow.blocked_at() == 101
    assert flow.blocked_at() is None
    flow.raise_remote_max(150)
    flow.record_sent(50)
    assert flow.blocked_at() == 151


def test_connection_flow_refuses_data_beyond_what_we_advertised() -> None:
    flow = ConnectionFlow(window=1000)
    assert flow.local_max == 1000
    flow.check_received(1000)
    with pytest.raises(RemoteProtocolError) as too_much:
        flow.check_received(1001)
    assert too_much.value.code == ErrorCode.FLOW_CONTROL_ERROR
    flow.record_received(delivered=400, new_highest=600)
    assert flow.local_max == 1400
    flow.check_received(800)
    with pytest.raises(RemoteProtocolError):
        flow.check_received(801)


# ---------------------------------------------------------------------- Path


def test_path_learns_the_peer_once_and_announces_us_until_it_answers() -> None:
    from wallet.stream.config import ConnectionConfig

    events: list[Event] = []
    path = Path(None, events.append)
    config = ConnectionConfig(
        shared_secret=b"\1" * 32, asset_code="USD", asset_scale=9, source_account="test.us"
    )
    assert path.announce_frames(config) == [
        ConnectionNewAddressFrame("test.us"),
        ConnectionAssetDetailsFrame("USD", 9),
    ]
    path.learn_address("")  # a sender that cannot receive (RFC 29 §4.3.1)
    path.learn_address("test.peer")
    with pytest.raises(RemoteProtocolError):
        path.learn_address("not an address")
    path.learn_address("")
    assert path.destination == "test.peer"
    path.learn_asset("EUR", 2)
    path.learn_asset("EUR", 2)
    with pytest.raises(RemoteProtocolError):
        path.learn_asset("EUR", 3)  # §4.3.3
    assert path.remote_asset == ("EUR", 2)
    path.peer_answered()
    assert path.announce_frames(config) == []
    path.connect(None)
    path.connect(Fraction(1))
    assert events == [Connected(None)]


def test_path_finishes_its_probe_once_with_a_rate_and_a_minimum() -> None:
    path = Path("test.peer", _ignore)
    assert path.finish_probe(None, Fraction(1, 100)) == (None, None)  # no probe yet
    probe = path.start_probe((1000,), 10_000, 3)
    assert path.start_probe((5,), 10_000, 3) is probe
    probe.next_amounts()
    assert path.finish_probe(None, Fraction(1, 100)) == (None, None)  # still in flight
    probe.delivered(1000, 2000)
    assert path.finish_probe(Fraction(1), Fraction(1, 100)) == (Fraction(2), None)
    assert (path.rate, path.min_rate, path.probe_done) == (Fraction(2), Fraction(198, 100), True)
    assert path.finish_probe(Fraction(1), Fraction(1, 100)) == (None, None)  # once


def test_path_probe_below_the_floor_or_imprecise_is_an_error() -> None:
    low = Path("test.peer", _ignore)
    low.start_probe((1000,), 10_000, 3).next_amounts()
    assert low.probe is not None
    low.probe.delivered(1000, 500)
    rate, error = low.finish_probe(Fraction(1), Fraction(0))
    assert rate == Fraction(1, 2) and isinstance(error, ExchangeRateError)
    assert low.min_rate is None
    imprecise = Path("test.peer", _ignore)
    imprecise.start_probe((1000,), 10_000, 3).next_amounts()
    assert imprecise.probe is not None
    imprecise.probe.delivered(1000, 99)  # fewer than 3 significant digits arrived
    rate, error = imprecise.finish_probe(None, Fraction(0))
    assert rate is None and isinstance(error, ExchangeRateError)


# ---------------------------------------------------------------------- Lifecycle


def test_lifecycle_fails_once_closing_every_stream_and_queueing_one_close() -> None:
    events: list[Event] = []
    streams = _table(events)
    stream = streams.open_local(0, 100)
    lifecycle = Lifecycle(streams, Path("test.peer", events.append), events.append, now=5.0)
    assert lifecycle.last_activity == 5.0
    lifecycle.begin_close()
    assert lifecycle.state is ConnectionState.CLOSING and stream.closing
    error = ConnectionFailedError("boom")
    lifecycle.fail(error)
    lifecycle.fail(ConnectionFailedError("again"))
    assert events == [
        ConnectionFailed(error),
        StreamClosed(1, ErrorCode.INTERNAL_ERROR, "boom", False),
        ConnectionClosed(ErrorCode.INTERNAL_ERROR, "boom", False),
    ]
    assert lifecycle.is_closed()
    assert lifecycle.take_close_frame() == ConnectionCloseFrame(ErrorCode.INTERNAL_ERROR, "boom")
    assert lifecycle.take_close_frame() is None


def test_lifecycle_sends_no_close_to_a_peer_it_cannot_reach_and_none_twice() -> None:
    events: list[Event] = []
    nowhere = Lifecycle(_table([]), Path(None, events.append), events.append, now=0.0)
    nowhere.terminate(ErrorCode.NO_ERROR, "x" * 300, remote=False, send_close=True)
    assert nowhere.take_close_frame() is None
    assert nowhere.close_reason == (ErrorCode.NO_ERROR, "x" * 200)
    peer = Lifecycle(_table([]), Path("test.peer", events.append), events.append, now=0.0)
    peer.fail(ConnectionFailedError("bad"))
    assert peer.close_in_reply() == ConnectionCloseFrame(ErrorCode.INTERNAL_ERROR, "bad")
    assert peer.take_close_frame() is None  # the reply carried it


def test_a_peer_close_with_an_error_is_a_failure_and_without_one_is_not() -> None:
    events: list[Event] = []
    failed = Lifecycle(_table([]), Path("test.peer", events.append), events.append, now=0.0)
    failed.peer_closed(ConnectionCloseFrame(ErrorCode.PROTOCOL_VIOLATION, ""))
    assert [type(e) for e in events] == [ConnectionFailed, ConnectionClosed]
    failure = events[0]
    assert isinstance(failure, ConnectionFailed)
    assert str(failure.error) == "the peer closed the connection"
    assert failed.take_close_frame() is None
    events.clear()
    fine = Lifecycle(_table([]), Path("test.peer", events.append), events.append, now=0.0)
    fine.peer_closed(ConnectionCloseFrame(ErrorCode.NO_ERROR, "bye"))
    assert events == [ConnectionClosed(ErrorCode.NO_ERROR, "bye", True)]


# ---------------------------------------------------------------------- outcomes


def test_classify_follows_the_outcome_table() -> None:
    fulfillment = b"\x11" * 32
    rec = InFlight(
        4, NORMAL, amount=10, min_dest=0, condition=condition_of(fulfillment), expires=30.0
    )
    authentic = StreamPacket(4, 14, 10, ())
    good = Fulfill(fulfillment, b"")
    bad = Fulfill(b"\x22" * 32, b"")
    reject = Reject("F99", "", "", b"")
    assert classify(rec, good, None, 29.9) is Outcome.FULFILLED
    assert classify(rec, bad, None, 29.9) is Outcome.BAD_FULFILLMENT
    assert classify(rec, reject, authentic, 29.9) is Outcome.REFUSED
    assert classify(rec, reject, None, 29.9) is Outcome.REJECTED
    for reply, packet in ((good, None), (bad, None), (reject, authentic), (reject, None)):
        assert classify(rec, reply, packet, 30.0) is Outcome.LATE
