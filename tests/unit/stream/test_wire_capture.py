"""Real ilp-protocol-stream@2.7.1 traffic (wire-captures.json) through our codec and our core.

* Every STREAM payload in the capture decrypts with the captured shared secret and decodes to
  the frames the harness recorded.
* Replaying the JS *client's* Prepares into our **server** connection: probes get F99 stating
  the amount, money and data get a Fulfill whose fulfillment is byte-identical to the JS
  receiver's, the close is answered F99, and the totals match (2500 units, 2 bytes).
* Replaying the JS *receiver's* Prepares into our **client** connection: its probes get F99
  with the amount received and its data Prepares are fulfilled (WIRE-NOTES §6.8).
"""

from __future__ import annotations

from typing import Any

from tests.conftest import load_vectors
from wallet.ilp import Fulfill, Reject, parse_prepare, parse_reply
from wallet.ilp.oer import U64_MAX
from wallet.stream import (
    Connection,
    ConnectionConfig,
    ConnectionState,
    DataReceived,
    DecryptionError,
    MoneyReceived,
    Role,
    StreamPacket,
)
from wallet.stream.crypto import StreamKeys

from .pair import seeded

CAPTURE: dict[str, Any] = next(
    c
    for c in load_vectors("wire-captures.json")["captures"]
    if c["name"].startswith("complete STREAM payment")
)
SECRET = bytes.fromhex(CAPTURE["sharedSecretHex"])
KEYS = StreamKeys(SECRET)


def _frames_json(packet: StreamPacket) -> list[int]:
    return [f.TYPE for f in packet.frames]


def test_every_payload_decodes_as_recorded() -> None:
    checked = 0
    for entry in CAPTURE["packets"]:
        prepare = parse_prepare(bytes.fromhex(entry["prepareHex"]))
        reply = parse_reply(bytes.fromhex(entry["replyHex"]))
        for data, recorded in ((prepare.data, entry["prepare"]), (reply.data, entry["reply"])):
            stream = recorded.get("stream")
            if not stream or "undecryptable" in stream:
                try:
                    StreamPacket.open(KEYS, data)
                except (DecryptionError, ValueError):
                    continue
                raise AssertionError("an undecryptable payload decrypted")
            packet = StreamPacket.open(KEYS, data)
            assert packet.sequence == int(stream["sequence"])
            assert packet.ilp_packet_type == stream["ilpPacketType"]
            assert packet.prepare_amount == int(stream["prepareAmount"])
            assert _frames_json(packet) == [f["type"] for f in stream["frames"]]
            checked += 1
    assert checked >= 30


def test_js_client_against_our_server() -> None:
    server = Connection(
        ConnectionConfig(
            shared_secret=SECRET,
            asset_code="USD",
            asset_scale=9,
            source_account=CAPTURE["destinationAccount"],
            default_receive_max=U64_MAX,
        ),
        Role.SERVER,
        random_bytes=seeded(5),
        now=0.0,
    )
    fulfilled = 0
    for entry in CAPTURE["packets"]:
        if entry["direction"] != "sender->receiver":
            continue
        prepare = parse_prepare(bytes.fromhex(entry["prepareHex"]))
        theirs = parse_reply(bytes.fromhex(entry["replyHex"]))
        stopped = isinstance(theirs, Reject) and theirs.code == "F08"
        if prepare.destination != CAPTURE["destinationAccount"] or stopped:
            continue  # IL-DCP, or stopped by the connector before the receiver
        ours = server.receive_prepare(prepare, 1.0)
        assert type(ours) is type(theirs), entry["prepare"]
        if isinstance(ours, Fulfill):
            assert isinstance(theirs, Fulfill)
            assert ours.fulfillment == theirs.fulfillment
            assert prepare.is_fulfilled_by(ours.fulfillment)
            fulfilled += 1
        else:
            assert isinstance(ours, Reject)
            assert ours.code == "F99"
        reply = StreamPacket.open(KEYS, ours.data)
        assert reply.sequence == int(entry["prepare"]["stream"]["sequence"])
        assert reply.prepare_amount == prepare.amount
    events = server.events()
    assert fulfilled == 6
    assert server.total_received == int(CAPTURE["totalDelivered"]) == 2500
    assert sum(e.amount for e in events if isinstance(e, MoneyReceived)) == 2500
    assert sum(len(e.data) for e in events if isinstance(e, DataReceived)) == 2
    assert server.destination_account == "test.harness.wallet"
    assert server.state is ConnectionState.CLOSED  # the JS client's ConnectionClose


def test_js_receiver_against_our_client() -> None:
    client = Connection(
        ConnectionConfig(
            shared_secret=SECRET,
            asset_code="USD",
            asset_scale=9,
            source_account="test.harness.wallet",
            destination_account=CAPTURE["destinationAccount"],
            default_receive_max=U64_MAX,
        ),
        Role.CLIENT,
        random_bytes=seeded(6),
        now=0.0,
    )
    client.create_stream()  # stream 1, as the JS client had opened it
    for entry in CAPTURE["packets"]:
        if entry["direction"] != "receiver->sender":
            continue
        prepare = parse_prepare(bytes.fromhex(entry["prepareHex"]))
        theirs = parse_reply(bytes.fromhex(entry["replyHex"]))
        ours = client.receive_prepare(prepare, 1.0)
        assert type(ours) is type(theirs)
        if isinstance(ours, Fulfill):
            assert isinstance(theirs, Fulfill)
            assert ours.fulfillment == theirs.fulfillment
        reply = StreamPacket.open(KEYS, ours.data)
        assert reply.prepare_amount == prepare.amount
        assert reply.ilp_packet_type == (13 if isinstance(ours, Fulfill) else 14)
    data = b"".join(e.data for e in client.events() if isinstance(e, DataReceived))
    assert len(data) == 2
    assert client.total_received == 0
