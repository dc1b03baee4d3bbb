"""Answering Prepares (WIRE-NOTES §6.8-6.9), server credentials, and Hypothesis fuzzing."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import load_vectors
from tests.unit.stream.pair import EPOCH, make_pair, seeded
from wallet.ilp import CodecError, Fulfill, Prepare, Reject
from wallet.ilp.oer import U64_MAX, Reader
from wallet.stream.config import ConnectionConfig, ConnectionState, Role
from wallet.stream.connection import Connection
from wallet.stream.credentials import (
    generate_credentials,
    lookup_credentials,
    shared_secret_from_token,
)
from wallet.stream.crypto import StreamKeys
from wallet.stream.errors import RemoteProtocolError
from wallet.stream.events import ConnectionFailed, MoneyReceived
from wallet.stream.frames import (
    ConnectionAssetDetailsFrame,
    ConnectionCloseFrame,
    ConnectionDataBlockedFrame,
    ConnectionMaxDataFrame,
    ConnectionMaxStreamIdFrame,
    ConnectionNewAddressFrame,
    ConnectionStreamIdBlockedFrame,
    ErrorCode,
    Frame,
    StreamCloseFrame,
    StreamDataBlockedFrame,
    StreamDataFrame,
    StreamMaxDataFrame,
    StreamMaxMoneyFrame,
    StreamMoneyBlockedFrame,
    StreamMoneyFrame,
    StreamReceiptFrame,
    decode_frame,
    encode_frame,
)
from wallet.stream.packet import StreamPacket

SECRET = b"\x07" * 32
SERVER = "test.harness.receiver.abc"


def server(**options: object) -> Connection:
    settings: dict[str, object] = {"default_receive_max": U64_MAX, **options}
    config = ConnectionConfig(
        shared_secret=SECRET,
        asset_code="USD",
        asset_scale=9,
        source_account=SERVER,
        **settings,  # type: ignore[arg-type]
    )
    return Connection(config, Role.SERVER, random_bytes=seeded(3), now=0.0)


KEYS = StreamKeys(SECRET)


def prepare(
    frames: tuple[Frame, ...],
    amount: int = 0,
    *,
    sequence: int = 1,
    min_amount: int = 0,
    fulfillable: bool = True,
    packet_type: int = 12,
) -> Prepare:
    data = StreamPacket(sequence, packet_type, min_amount, frames).seal(KEYS, b"\x01" * 12)
    condition = KEYS.condition(data) if fulfillable else b"\x09" * 32
    return Prepare(amount, EPOCH + timedelta(seconds=30), condition, SERVER, data)


HELLO = (ConnectionNewAddressFrame("test.harness.wallet"), ConnectionAssetDetailsFrame("USD", 9))


def reply_packet(reply: Fulfill | Reject, type_: int) -> StreamPacket:
    packet = StreamPacket.open(KEYS, reply.data)
    assert packet.ilp_packet_type == type_
    return packet


def test_undecryptable_gets_f06() -> None:
    conn = server()
    bad = Prepare(5, EPOCH, b"\x00" * 32, SERVER, b"\x00" * 60)
    reply = conn.receive_prepare(bad, 0.0)
    assert isinstance(reply, Reject)
    assert (reply.code, reply.data) == ("F06", b"")
    assert conn.packets_received == 0  # a brand-new connection: the driver answers F02
    wrong_type = prepare(HELLO, packet_type=13)
    reply = conn.receive_prepare(wrong_type, 0.0)
    assert isinstance(reply, Reject)
    assert reply.code == "F06"


def test_probe_answered_f99_with_amount_and_details() -> None:
    conn = server()
    reply = conn.receive_prepare(prepare(HELLO, 1000, fulfillable=False, sequence=3), 0.0)
    assert isinstance(reply, Reject)
    assert reply.code == "F99"
    packet = reply_packet(reply, 14)
    assert packet.sequence == 3
    assert packet.prepare_amount == 1000
    assert ConnectionAssetDetailsFrame("USD", 9) in packet.frames
    assert ConnectionMaxStreamIdFrame(20) in packet.frames
    assert conn.destination_account == "test.harness.wallet"
    assert conn.total_received == 0


def test_money_fulfilled_and_minimum_enforced() -> None:
    conn = server(receipt_nonce=bytes(16), receipt_secret=b"\x01" * 32)
    too_little = prepare((*HELLO, StreamMoneyFrame(1, 1)), 98, min_amount=99)
    reply = conn.receive_prepare(too_little, 0.0)
    assert isinstance(reply, Reject)
    assert reply.code == "F99"
    assert reply_packet(reply, 14).prepare_amount == 98
    assert conn.total_received == 0
    ok = prepare((StreamMoneyFrame(1, 1), StreamMoneyFrame(3, 2)), 100, min_amount=99, sequence=2)
    reply = conn.receive_prepare(ok, 0.0)
    assert isinstance(reply, Fulfill)
    assert ok.is_fulfilled_by(reply.fulfillment)
    packet = reply_packet(reply, 13)
    assert packet.prepare_amount == 100
    # §5.3.8: 100 split 1:2 -> 33 and 66, remainder 1 to the lowest-numbered stream.
    assert [e for e in conn.events() if isinstance(e, MoneyReceived)] == [
        MoneyReceived(1, 34, 34),
        MoneyReceived(3, 66, 66),
    ]
    receipts = [f for f in packet.frames if isinstance(f, StreamReceiptFrame)]
    assert [r.stream_id for r in receipts] == [1, 3]


def test_receive_max_exceeded_is_f99_not_close() -> None:
    conn = server(default_receive_max=50)
    reply = conn.receive_prepare(prepare((StreamMoneyFrame(1, 1),), 60), 0.0)
    assert isinstance(reply, Reject)
    assert reply.code == "F99"
    assert StreamMaxMoneyFrame(1, 50, 0) in reply_packet(reply, 14).frames
    assert conn.state is ConnectionState.OPEN


def test_wrong_parity_stream_closes_with_protocol_violation() -> None:
    conn = server()
    reply = conn.receive_prepare(prepare((StreamMoneyFrame(2, 1),), 10), 0.0)
    assert isinstance(reply, Reject)
    frames = reply_packet(reply, 14).frames
    assert ConnectionCloseFrame(ErrorCode.PROTOCOL_VIOLATION, "") in [
        ConnectionCloseFrame(f.error_code, "")
        for f in frames
        if isinstance(f, ConnectionCloseFrame)
    ]
    assert conn.state is ConnectionState.CLOSED
    (failure,) = [e for e in conn.events() if isinstance(e, ConnectionFailed)]
    assert isinstance(failure.error, RemoteProtocolError)


def test_stream_id_above_maximum() -> None:
    conn = server()
    conn.receive_prepare(prepare((StreamDataFrame(23, 0, b"x"),)), 0.0)
    (failure,) = [e for e in conn.events() if isinstance(e, ConnectionFailed)]
    assert failure.error.code == ErrorCode.STREAM_ID_ERROR  # type: ignore[attr-defined]


def test_data_beyond_window_is_flow_control_error() -> None:
    conn = server()
    conn.receive_prepare(prepare((StreamDataFrame(1, 16_000, b"x" * 1000),)), 0.0)
    (failure,) = [e for e in conn.events() if isinstance(e, ConnectionFailed)]
    assert failure.error.code == ErrorCode.FLOW_CONTROL_ERROR  # type: ignore[attr-defined]


def test_after_close_everything_is_refused() -> None:
    conn = server()
    reply = conn.receive_prepare(prepare((ConnectionCloseFrame(1, ""),), fulfillable=False), 0.0)
    assert isinstance(reply, Reject)
    assert conn.state is ConnectionState.CLOSED
    reply = conn.receive_prepare(prepare((StreamMoneyFrame(1, 1),), 10, sequence=2), 0.0)
    assert isinstance(reply, Reject)
    assert any(isinstance(f, ConnectionCloseFrame) for f in reply_packet(reply, 14).frames)
    assert conn.total_received == 0


# --- credentials ----------------------------------------------------------------------------


def test_js_shared_secret_derivation_vector() -> None:
    v = next(
        v
        for v in load_vectors("stream-crypto.json")["vectors"]
        if "SERVER-SIDE derivation" in v["name"]
    )
    secret = shared_secret_from_token(
        bytes.fromhex(v["serverSecretHex"]), bytes.fromhex(v["tokenHex"])
    )
    assert secret.hex() == v["expectSharedSecretHex"]


def test_credentials_round_trip() -> None:
    server_secret = b"\x05" * 32
    creds = generate_credentials(
        server_secret,
        "g.trickle.receiver",
        seeded(9),
        connection_tag="site-42",
        receipt_nonce=b"\x01" * 16,
        receipt_secret=b"\x02" * 32,
    )
    assert creds.destination_account.startswith("g.trickle.receiver.")
    found = lookup_credentials(server_secret, "g.trickle.receiver", creds.destination_account)
    assert found == creds
    # Extra segments after the token are allowed (RFC 29 §4.2).
    longer = lookup_credentials(
        server_secret, "g.trickle.receiver", creds.destination_account + ".sub"
    )
    assert longer == creds
    assert lookup_credentials(b"\x06" * 32, "g.trickle.receiver", creds.destination_account) is None
    assert (
        lookup_credentials(server_secret, "g.trickle.receiver", "g.trickle.receiver.AAAA") is None
    )
    assert lookup_credentials(server_secret, "g.other", creds.destination_account) is None
    assert "secret" not in repr(creds).lower() or "\\x" not in repr(creds)
    plain = generate_credentials(server_secret, "g.trickle.receiver", seeded(10))
    back = lookup_credentials(server_secret, "g.trickle.receiver", plain.destination_account)
    assert back is not None
    assert back.receipt_nonce is None
    assert back.connection_tag is None


# --- Hypothesis ------------------------------------------------------------------------------

u64 = st.integers(0, U64_MAX)
small = st.integers(0, 2**62)
text = st.text(max_size=20)
frames = st.one_of(
    st.builds(ConnectionCloseFrame, st.integers(0, 255), text),
    st.builds(ConnectionNewAddressFrame, text),
    st.builds(ConnectionMaxDataFrame, u64),
    st.builds(ConnectionDataBlockedFrame, u64),
    st.builds(ConnectionMaxStreamIdFrame, u64),
    st.builds(ConnectionStreamIdBlockedFrame, u64),
    st.builds(ConnectionAssetDetailsFrame, text, st.integers(0, 255)),
    st.builds(StreamCloseFrame, u64, st.integers(0, 255), text),
    st.builds(StreamMoneyFrame, u64, u64),
    st.builds(StreamMaxMoneyFrame, u64, u64, u64),
    st.builds(StreamMoneyBlockedFrame, u64, u64, u64),
    st.builds(StreamDataFrame, u64, u64, st.binary(max_size=300)),
    st.builds(StreamMaxDataFrame, u64, u64),
    st.builds(StreamDataBlockedFrame, u64, u64),
    st.builds(StreamReceiptFrame, u64, st.binary(max_size=80)),
)
packets = st.builds(
    StreamPacket, u64, st.sampled_from([12, 13, 14]), u64, st.lists(frames, max_size=6).map(tuple)
)


@given(packets)
def test_packet_round_trip(packet: StreamPacket) -> None:
    raw = packet.to_bytes()
    assert StreamPacket.from_bytes(raw) == packet
    assert StreamPacket.from_bytes(raw + b"\x00\x00junk") == packet  # junk ignored (§5.2)
    for frame in packet.frames:
        encoded = encode_frame(frame)
        assert decode_frame(encoded[0], _contents(encoded)) == frame


def _contents(encoded: bytes) -> bytes:
    return Reader(encoded, 1).read_var_octet_string()


@given(st.binary(max_size=200))
def test_random_bytes_only_codec_errors(data: bytes) -> None:
    with contextlib.suppress(CodecError):
        StreamPacket.from_bytes(data)


@given(st.binary(min_size=1, max_size=200))
def test_random_frames_only_codec_errors(data: bytes) -> None:
    with contextlib.suppress(CodecError):
        decode_frame(data[0], data[1:])


@settings(max_examples=50)
@given(st.lists(frames, max_size=5), st.integers(0, 10**6), st.booleans())
def test_arbitrary_authentic_prepares_never_raise(
    fs: list[Frame], amount: int, fulfillable: bool
) -> None:
    conn = server()
    reply = conn.receive_prepare(prepare(tuple(fs), amount, fulfillable=fulfillable), 0.0)
    assert isinstance(reply, Fulfill | Reject)
    conn.events()
    assert conn.packets_to_send(1.0, EPOCH) is not None


@settings(max_examples=50)
@given(st.binary(max_size=300))
def test_garbage_replies_never_raise(data: bytes) -> None:
    p = make_pair()
    out = p.client.packets_to_send(0.0, EPOCH)
    for packet_id, _ in out:
        p.client.receive_reply(packet_id, Reject("F99", "", "", data), 0.0)
    p.client.events()


def test_empty_connection_new_address_means_a_sender_that_cannot_receive() -> None:
    # @interledger/pay's asset probe announces ConnectionNewAddress(""); ilp-protocol-stream's
    # server accepts it (RFC 29 §4.3.1: clients "may not be capable of receiving").
    conn = server()
    hello = (ConnectionNewAddressFrame(""), ConnectionAssetDetailsFrame("USD", 9))
    reply = conn.receive_prepare(prepare(hello, 1000, fulfillable=False), 0.0)
    assert isinstance(reply, Reject)
    assert reply.code == "F99"
    packet = reply_packet(reply, 14)
    assert ConnectionAssetDetailsFrame("USD", 9) in packet.frames
    assert not any(isinstance(f, ConnectionCloseFrame) for f in packet.frames)
    assert conn.state is ConnectionState.OPEN
    assert conn.destination_account is None  # nowhere to send: nothing is ever sent back
    paid = conn.receive_prepare(prepare((StreamMoneyFrame(1, 1),), 500, sequence=2), 0.0)
    assert isinstance(paid, Fulfill)
    assert conn.total_received == 500
    conn.close()
    assert conn.packets_to_send(1.0, EPOCH) == []
    # An address that is not empty is still checked.
    bad = (ConnectionNewAddressFrame("not an address"),)
    reply = server().receive_prepare(prepare(bad, fulfillable=False), 0.0)
    assert isinstance(reply, Reject)
    assert any(isinstance(f, ConnectionCloseFrame) for f in reply_packet(reply, 14).frames)
