"""BTP 2.0 frame codec against tests/vectors/btp.json (btp-packet's own test vectors, frames
generated with btp-packet, and interledger-rs's must-fail inputs)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import load_vectors
from wallet.ilp import CodecError, UnknownTypeError
from wallet.net.btp_codec import (
    BtpError,
    BtpType,
    Message,
    ProtocolData,
    Response,
    Transfer,
    auth_message,
    fast_ilp_response,
    format_triggered_at,
    ilp_message,
    ilp_response,
    parse_frame,
)

VECTORS = load_vectors("btp.json")


def _entries(vector: dict[str, Any]) -> tuple[ProtocolData, ...]:
    return tuple(
        ProtocolData(e["protocolName"], e["contentType"], bytes.fromhex(e["dataHex"]))
        for e in vector["protocolData"]
    )


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"][:40])
def test_vector_round_trip(vector: dict[str, Any]) -> None:
    raw = bytes.fromhex(vector["hex"])
    frame = parse_frame(raw)
    assert frame.request_id == vector["requestId"]
    assert int(BtpType[type(frame).__name__.upper().replace("BTPERROR", "ERROR")]) == vector["type"]
    assert frame.protocol_data == _entries(vector)
    if isinstance(frame, BtpError):
        err = vector["error"]
        assert (frame.code, frame.name, frame.triggered_at) == (
            err["code"],
            err["name"],
            err["triggeredAt"],
        )
        assert frame.data == bytes.fromhex(err["dataHex"])
    if isinstance(frame, Transfer):
        assert frame.amount == int(vector["amount"])
    assert frame.to_bytes() == raw


@pytest.mark.parametrize("hex_input", VECTORS["mustFailToParse"]["hex"])
def test_must_fail(hex_input: str) -> None:
    with pytest.raises(CodecError):
        parse_frame(bytes.fromhex(hex_input))


def test_auth_message_matches_vector() -> None:
    vector = next(v for v in VECTORS["vectors"] if "auth MESSAGE" in v["name"])
    frame = auth_message(vector["requestId"], "alice", "alice-token")
    assert frame.to_bytes() == bytes.fromhex(vector["hex"])


def test_auth_token_hidden_from_repr() -> None:
    frame = auth_message(1, "alice", "super-secret-token")
    assert "super-secret-token" not in repr(frame)
    assert "alice" in repr(frame)


def test_ilp_message_matches_vector() -> None:
    vector = next(v for v in VECTORS["vectors"] if "IL-DCP request" in v["name"])
    packet = bytes.fromhex(vector["protocolData"][0]["dataHex"])
    assert ilp_message(vector["requestId"], packet) == bytes.fromhex(vector["hex"])
    frame = parse_frame(ilp_message(7, packet))
    assert isinstance(frame, Message)
    assert frame.get("ilp") == packet
    assert frame.get("nope") is None
    response = parse_frame(ilp_response(0xFFFFFFFF, packet))
    assert isinstance(response, Response)
    assert response.request_id == 0xFFFFFFFF
    assert response.get("ilp") == packet


def test_long_contents_use_long_length_prefix() -> None:
    packet = bytes(40000)
    raw = ilp_message(5, packet)
    assert raw[5] == 0x82
    frame = parse_frame(raw)
    assert isinstance(frame, Message)
    assert frame.get("ilp") == packet


def test_unknown_type() -> None:
    raw = bytearray(Message(1).to_bytes())
    raw[0] = 3
    with pytest.raises(UnknownTypeError):
        parse_frame(bytes(raw))


def test_trailing_bytes_after_frame() -> None:
    with pytest.raises(CodecError):
        parse_frame(Message(1).to_bytes() + b"\x00")


def test_invalid_values_refused_on_build() -> None:
    with pytest.raises(CodecError):
        Message(1 << 32)
    with pytest.raises(CodecError):
        BtpError(1, "F0", "x", "y")
    with pytest.raises(CodecError):
        Transfer(1, -1)
    with pytest.raises(CodecError):
        ProtocolData("ilp", 256, b"")
    with pytest.raises(CodecError):
        ProtocolData("é", 0, b"")


def test_error_non_ascii_code_refused() -> None:
    raw = bytearray(BtpError(1, "F00", "NotAcceptedError", "x").to_bytes())
    raw[6] = 0xFF
    with pytest.raises(CodecError):
        parse_frame(bytes(raw))


def test_triggered_at_format() -> None:
    when = datetime(2017, 8, 28, 18, 32, 0, 5000, tzinfo=UTC)
    assert format_triggered_at(when) == "20170828183200.005Z"


_entry = st.builds(
    ProtocolData,
    st.text(alphabet=st.characters(max_codepoint=127), max_size=20),
    st.integers(0, 255),
    st.binary(max_size=300),
)
_entries_st = st.lists(_entry, max_size=4).map(tuple)
_rid = st.integers(0, 0xFFFFFFFF)
_frames = st.one_of(
    st.builds(Message, _rid, _entries_st),
    st.builds(Response, _rid, _entries_st),
    st.builds(Transfer, _rid, st.integers(0, (1 << 64) - 1), _entries_st),
    st.builds(
        BtpError,
        _rid,
        st.text(alphabet="FTR0123456789", min_size=3, max_size=3),
        st.text(alphabet=st.characters(max_codepoint=127), max_size=30),
        st.just("20170828183200.000Z"),
        st.binary(max_size=100),
        _entries_st,
    ),
)


@given(_frames)
def test_round_trip_property(frame: Message | Response | Transfer | BtpError) -> None:
    assert parse_frame(frame.to_bytes()) == frame


@given(st.binary(max_size=64))
def test_garbage_never_escapes_as_other_errors(data: bytes) -> None:
    with contextlib.suppress(CodecError):
        parse_frame(data)


@given(st.integers(0, 0xFFFFFFFF), st.binary(max_size=40_000))
def test_fast_ilp_response_agrees_with_parser(request_id: int, packet: bytes) -> None:
    raw = ilp_response(request_id, packet)
    assert fast_ilp_response(raw) == (request_id, packet)
    frame = parse_frame(raw)
    assert isinstance(frame, Response)
    assert (frame.request_id, frame.get("ilp")) == (request_id, packet)


@given(_frames)
def test_fast_ilp_response_only_takes_single_ilp_responses(frame: Any) -> None:
    raw = frame.to_bytes()
    fast = fast_ilp_response(raw)
    if fast is not None:
        assert isinstance(frame, Response)
        assert len(frame.protocol_data) == 1
        assert frame.protocol_data[0] == ProtocolData("ilp", 0, fast[1])


@given(st.binary(max_size=64))
def test_fast_ilp_response_on_garbage(data: bytes) -> None:
    fast = fast_ilp_response(data)
    if fast is not None:
        frame = parse_frame(data)
        assert isinstance(frame, Response) and frame.get("ilp") == fast[1]


def test_fast_ilp_response_declines_other_shapes() -> None:
    two = Response(5, (ProtocolData("ilp", 0, b"x"), ProtocolData("foo", 0, b"")))
    assert fast_ilp_response(two.to_bytes()) is None
    assert fast_ilp_response(ilp_message(5, b"x")) is None
    raw = bytearray(ilp_response(5, b"x"))
    assert fast_ilp_response(bytes(raw) + b"\x00") is None
    long_form = bytes(raw[:5]) + b"\x81\x0a" + bytes(raw[6:])  # non-canonical length prefix
    assert fast_ilp_response(long_form) is None
    with pytest.raises(CodecError):
        parse_frame(long_form)
