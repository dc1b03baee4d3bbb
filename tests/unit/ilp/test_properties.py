"""Hypothesis: every packet round-trips; random and mutated bytes raise only CodecError."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from wallet.ilp import (
    CodecError,
    Fulfill,
    Packet,
    Prepare,
    Reader,
    Reject,
    encode_var_octet_string,
    encode_var_uint,
    parse_packet,
    parse_prepare,
    parse_reply,
)

SEGMENT = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_~-",
    min_size=1,
    max_size=20,
)
SCHEME = st.sampled_from(["g", "private", "example", "peer", "self", "test", "test3", "local"])
ADDRESS = st.builds(
    lambda s, segs: ".".join([s, *segs]), SCHEME, st.lists(SEGMENT, min_size=1, max_size=6)
)
EXPIRY = st.datetimes(
    min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)
).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000, tzinfo=UTC))
DATA = st.binary(max_size=300)

PREPARES = st.builds(
    Prepare,
    amount=st.integers(0, 2**64 - 1),
    expires_at=EXPIRY,
    execution_condition=st.binary(min_size=32, max_size=32),
    destination=ADDRESS,
    data=DATA,
)
FULFILLS = st.builds(Fulfill, fulfillment=st.binary(min_size=32, max_size=32), data=DATA)
REJECTS = st.builds(
    Reject,
    code=st.text(alphabet="FTRX0123456789", min_size=3, max_size=3),
    triggered_by=st.one_of(st.just(""), ADDRESS),
    message=st.text(max_size=100),
    data=DATA,
)
PACKETS = st.one_of(PREPARES, FULFILLS, REJECTS)


@given(PACKETS)
def test_round_trip(packet: Packet) -> None:
    raw = packet.to_bytes()
    assert parse_packet(raw) == packet
    assert parse_packet(raw).to_bytes() == raw


@given(st.binary(max_size=400))
def test_random_bytes_raise_only_codec_errors(raw: bytes) -> None:
    for parse in (parse_packet, parse_prepare, parse_reply):
        with contextlib.suppress(CodecError):
            parse(raw)


@given(PACKETS, st.data())
def test_mutated_packets_raise_only_codec_errors(packet: Packet, data: st.DataObject) -> None:
    raw = bytearray(packet.to_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if op == "flip" and raw:
            i = data.draw(st.integers(0, len(raw) - 1))
            raw[i] = data.draw(st.integers(0, 255))
        elif op == "cut" and raw:
            del raw[data.draw(st.integers(0, len(raw) - 1)) :]
        else:
            raw.insert(data.draw(st.integers(0, len(raw))), data.draw(st.integers(0, 255)))
    try:
        reparsed = parse_packet(bytes(raw))
    except CodecError:
        return
    assert reparsed.to_bytes() == bytes(raw)


@given(st.integers(0, 2**64 - 1))
def test_var_uint_round_trip(value: int) -> None:
    r = Reader(encode_var_uint(value), strict=True)
    assert r.read_var_uint() == value
    assert r.remaining == 0


@given(st.binary(max_size=70000))
def test_var_octet_string_round_trip(value: bytes) -> None:
    r = Reader(encode_var_octet_string(value))
    assert r.read_var_octet_string() == value
    assert r.remaining == 0


def _reader_path(raw: bytes) -> Prepare:
    from wallet.ilp.packet import _content, _read_prepare

    packet_type, reader = _content(raw)
    assert packet_type == 12
    return _read_prepare(reader)


@given(PREPARES, st.data())
def test_fast_prepare_path_agrees_with_the_reader(packet: Prepare, data: st.DataObject) -> None:
    """The hot-path parser accepts exactly what the general reader accepts, with equal values."""
    from wallet.ilp.packet import _parse_prepare_fast

    raw = bytearray(packet.to_bytes())
    if data.draw(st.booleans()) and raw:
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    fast = _parse_prepare_fast(bytes(raw))
    try:
        slow = _reader_path(bytes(raw))
    except (CodecError, AssertionError):
        assert fast is None
        return
    assert fast is None or fast == slow
