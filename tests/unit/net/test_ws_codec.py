"""The WebSocket codec against RFC 6455's own examples, and its refusals."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallet.net import ws_codec
from wallet.net.ws_codec import (
    BINARY,
    CLOSE,
    MESSAGE_TOO_BIG,
    PING,
    PONG,
    PROTOCOL_ERROR,
    TEXT,
    FrameReader,
    HandshakeRefusedError,
    WebSocketProtocolError,
    accept_for,
    check_handshake,
    client_frame,
    close_payload,
    handshake_request,
    mask,
    parse_close,
)

# RFC 6455 section 1.3: "the server would concatenate the string "dGhlIHNhbXBsZSBub25jZQ=="
# with ... the value "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=". This value would then be echoed in the
# |Sec-WebSocket-Accept| header field."
RFC_KEY = b"dGhlIHNhbXBsZSBub25jZQ=="
RFC_ACCEPT = b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

# RFC 6455 section 5.7, "Examples" (server frames are unmasked).
HELLO_UNMASKED = bytes.fromhex("810548656c6c6f")
HELLO_FRAGMENTS = bytes.fromhex("010348656c") + bytes.fromhex("80026c6f")
PING_HELLO = bytes.fromhex("890548656c6c6f")
BINARY_256 = bytes.fromhex("827e0100") + bytes(range(256))
BINARY_64K = bytes.fromhex("827f0000000000010000") + bytes(65536)


def server_frame(opcode: int, payload: bytes, *, fin: bool = True, first_bits: int = 0) -> bytes:
    n = len(payload)
    first = (0x80 if fin else 0) | first_bits | opcode
    if n < 126:
        return bytes([first, n]) + payload
    if n < 1 << 16:
        return struct.pack("!BBH", first, 126, n) + payload
    return struct.pack("!BBQ", first, 127, n) + payload


def read_all(data: bytes, cuts: list[int], max_message: int = 1 << 20) -> list[tuple[int, bytes]]:
    """Feed ``data`` cut at ``cuts``: the messages, whatever the cuts."""
    reader = FrameReader(max_message)
    messages = []
    start = 0
    for cut in [*sorted(set(cuts)), len(data)]:
        messages += reader.feed(data[start:cut])
        start = cut
    return messages


def test_the_handshake_accept_is_rfc_6455s_example() -> None:
    assert accept_for(RFC_KEY) == RFC_ACCEPT
    good = {b"upgrade": b"WebSocket", b"connection": b"keep-alive, Upgrade"}
    check_handshake(101, {**good, b"sec-websocket-accept": RFC_ACCEPT}, RFC_KEY)


def test_the_handshake_request() -> None:
    request = handshake_request("example.com:8080", "/chat?x=1", RFC_KEY)
    assert request == (
        b"GET /chat?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n"
    )
    with pytest.raises(ValueError, match="forbidden"):
        handshake_request("example.com", "/a b", RFC_KEY)
    with pytest.raises(ValueError, match="forbidden"):
        handshake_request("example.com\r\nX: y", "/", RFC_KEY)


@pytest.mark.parametrize(
    ("status", "headers", "complaint"),
    [
        (401, {}, "HTTP 401"),
        (200, {}, "HTTP 200"),
        (101, {b"connection": b"upgrade", b"sec-websocket-accept": RFC_ACCEPT}, "upgrade to"),
        (101, {b"upgrade": b"websocket", b"sec-websocket-accept": RFC_ACCEPT}, "connection"),
        (101, {b"upgrade": b"websocket", b"connection": b"upgrade"}, "Accept"),
        (
            101,
            {
                b"upgrade": b"websocket",
                b"connection": b"upgrade",
                b"sec-websocket-accept": RFC_ACCEPT,
                b"sec-websocket-extensions": b"permessage-deflate",
            },
            "extension",
        ),
    ],
)
def test_a_handshake_answer_that_is_not_ours_is_refused(
    status: int, headers: dict[bytes, bytes], complaint: str
) -> None:
    with pytest.raises((HandshakeRefusedError, WebSocketProtocolError), match=complaint) as info:
        check_handshake(status, headers, RFC_KEY)
    if status != 101:
        assert isinstance(info.value, HandshakeRefusedError) and info.value.status == status


def test_a_masked_frame_is_rfc_6455s_example() -> None:
    # Section 5.7: "A single-frame masked text message ... 0x81 0x85 0x37 0xfa 0x21 0x3d 0x7f
    # 0x9f 0x4d 0x51 0x58 (contains "Hello")".
    frame = client_frame(TEXT, b"Hello", key=bytes.fromhex("37fa213d"))
    assert frame == bytes.fromhex("818537fa213d7f9f4d5158")


@pytest.mark.parametrize(
    ("size", "header"),
    [
        (0, "8280"),
        (125, "82fd"),
        (126, "82fe007e"),
        (65535, "82feffff"),
        (65536, "82ff0000000000010000"),
    ],
)
def test_frame_lengths_use_the_shortest_form(size: int, header: str) -> None:
    payload = bytes(i % 251 for i in range(size))
    frame = client_frame(BINARY, payload, key=b"\x01\x02\x03\x04")
    prefix = bytes.fromhex(header)
    assert frame[: len(prefix)] == prefix
    key = frame[len(prefix) : len(prefix) + 4]
    assert mask(frame[len(prefix) + 4 :], key) == payload


def test_each_frame_gets_a_fresh_masking_key() -> None:
    keys = {client_frame(BINARY, b"x")[2:6] for _ in range(3000)}  # crosses the pool refills
    assert len(keys) > 2990  # 3,000 random 32-bit keys: a repeat or ten is chance, not reuse


@given(st.binary(max_size=300), st.binary(min_size=4, max_size=4))
def test_masking_is_bytewise_xor_and_its_own_inverse(payload: bytes, key: bytes) -> None:
    masked = mask(payload, key)
    assert masked == bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    assert mask(masked, key) == payload


def test_the_rfc_examples_read_whole_and_cut_anywhere() -> None:
    stream = HELLO_UNMASKED + HELLO_FRAGMENTS + PING_HELLO + BINARY_256 + BINARY_64K
    expected = [
        (TEXT, b"Hello"),
        (TEXT, b"Hello"),
        (PING, b"Hello"),
        (BINARY, bytes(range(256))),
        (BINARY, bytes(65536)),
    ]
    assert read_all(stream, []) == expected
    assert read_all(stream, list(range(len(stream)))) == expected  # one byte at a time


@given(
    st.lists(st.tuples(st.sampled_from([TEXT, BINARY]), st.binary(max_size=70000)), max_size=4),
    st.lists(st.integers(min_value=0, max_value=150_000), max_size=8),
    st.integers(min_value=1, max_value=5),
)
def test_fragmented_messages_arrive_whole_with_pings_between(
    messages: list[tuple[int, bytes]], cuts: list[int], pieces: int
) -> None:
    stream = b""
    expected = []
    for opcode, payload in messages:
        step = max(1, len(payload) // pieces)
        chunks = [payload[i : i + step] for i in range(0, len(payload), step)] or [b""]
        for i, chunk in enumerate(chunks):
            stream += server_frame(opcode if i == 0 else 0, chunk, fin=i == len(chunks) - 1)
            if i == 0 and len(chunks) > 1:
                # RFC 6455 5.4: "Control frames MAY be injected in the middle of a fragmented
                # message" -- and they come out first.
                stream += server_frame(PONG, b"p")
                expected.append((PONG, b"p"))
        expected.append((opcode, payload))
    assert read_all(stream, [c for c in cuts if c < len(stream)]) == expected


@pytest.mark.parametrize(
    ("frames", "complaint"),
    [
        (bytes.fromhex("818537fa213d7f9f4d5158"), "masked"),  # a client's frame
        (server_frame(BINARY, b"x", first_bits=0x40), "reserved bit"),  # RSV1: no deflate
        (server_frame(0x3, b"x"), "reserved opcode"),
        (server_frame(0xB, b""), "reserved opcode"),
        (server_frame(0, b"x"), "continuation"),
        (server_frame(BINARY, b"a", fin=False) + server_frame(TEXT, b"b"), "inside"),
        (server_frame(PING, b"x", fin=False), "control"),
        (server_frame(PING, bytes(126)), "control"),
    ],
)
def test_frames_that_break_the_rfc_fail_the_connection(frames: bytes, complaint: str) -> None:
    reader = FrameReader(1 << 20)
    before = server_frame(BINARY, b"arrived whole")
    # What came before the bad frame is kept (a BTP reply is money); nothing after it is read.
    assert reader.feed(before + frames + before) == [(BINARY, b"arrived whole")]
    assert reader.error is not None and complaint in str(reader.error)
    assert reader.error.code == PROTOCOL_ERROR
    assert reader.feed(before) == []


def test_a_message_over_the_limit_is_refused_from_its_header() -> None:
    reader = FrameReader(1000)
    assert reader.feed(server_frame(BINARY, bytes(1000))) == [(BINARY, bytes(1000))]
    assert reader.feed(bytes.fromhex("827f") + (1 << 40).to_bytes(8, "big")) == []  # no payload
    assert reader.error is not None and "too large" in str(reader.error)
    assert reader.error.code == MESSAGE_TOO_BIG
    fragmented = FrameReader(1000)
    fragmented.feed(server_frame(BINARY, bytes(600), fin=False))
    fragmented.feed(server_frame(0, bytes(600))[:4])  # 1,200 bytes in all: refused
    assert fragmented.error is not None and fragmented.error.code == MESSAGE_TOO_BIG
    within = FrameReader(1200)
    within.feed(server_frame(BINARY, bytes(600), fin=False))
    assert within.feed(server_frame(0, bytes(600))) == [(BINARY, bytes(1200))]
    assert within.error is None


def test_close_frames() -> None:
    assert close_payload(1000) == b"\x03\xe8"
    assert parse_close(close_payload(4001, "bye")) == (4001, "bye")
    assert parse_close(b"") == (None, "")
    with pytest.raises(WebSocketProtocolError, match="one-byte"):
        parse_close(b"\x03")
    with pytest.raises(WebSocketProtocolError, match="UTF-8"):
        parse_close(b"\x03\xe8\xff")
    assert ws_codec.FrameReader(10).feed(server_frame(CLOSE, b"\x03\xe8")) == [(CLOSE, b"\x03\xe8")]
