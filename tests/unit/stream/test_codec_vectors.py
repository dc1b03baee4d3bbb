"""Every STREAM codec vector: RFC fixtures, interledger-rs packets, crypto, receipts."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import load_vectors
from wallet.ilp import CodecError, Prepare, parse_prepare
from wallet.stream import crypto
from wallet.stream.errors import DecryptionError
from wallet.stream.frames import (
    ConnectionAssetDetailsFrame,
    ConnectionCloseFrame,
    ConnectionDataBlockedFrame,
    ConnectionMaxDataFrame,
    ConnectionMaxStreamIdFrame,
    ConnectionNewAddressFrame,
    ConnectionStreamIdBlockedFrame,
    Frame,
    StreamCloseFrame,
    StreamDataBlockedFrame,
    StreamDataFrame,
    StreamMaxDataFrame,
    StreamMaxMoneyFrame,
    StreamMoneyBlockedFrame,
    StreamMoneyFrame,
    StreamReceiptFrame,
)
from wallet.stream.packet import StreamPacket
from wallet.stream.receipts import (
    InvalidReceiptError,
    create_receipt,
    decode_receipt,
    verify_receipt,
)


def _frame(j: dict[str, Any]) -> Frame | None:
    t = j["type"]
    if t == 1:
        return ConnectionCloseFrame(j["errorCode"], j["errorMessage"])
    if t == 2:
        return ConnectionNewAddressFrame(j["sourceAccount"])
    if t == 3:
        return ConnectionMaxDataFrame(int(j["maxOffset"]))
    if t == 4:
        return ConnectionDataBlockedFrame(int(j["maxOffset"]))
    if t == 5:
        return ConnectionMaxStreamIdFrame(int(j["maxStreamId"]))
    if t == 6:
        return ConnectionStreamIdBlockedFrame(int(j["maxStreamId"]))
    if t == 7:
        return ConnectionAssetDetailsFrame(j["sourceAssetCode"], j["sourceAssetScale"])
    if t == 16:
        return StreamCloseFrame(int(j["streamId"]), j["errorCode"], j["errorMessage"])
    if t == 17:
        return StreamMoneyFrame(int(j["streamId"]), int(j["shares"]))
    if t == 18:
        return StreamMaxMoneyFrame(
            int(j["streamId"]), int(j["receiveMax"]), int(j["totalReceived"])
        )
    if t == 19:
        return StreamMoneyBlockedFrame(int(j["streamId"]), int(j["sendMax"]), int(j["totalSent"]))
    if t == 20:
        data = bytes.fromhex(j["dataHex"]) if "dataHex" in j else base64.b64decode(j["data"])
        return StreamDataFrame(int(j["streamId"]), int(j["offset"]), data)
    if t == 21:
        return StreamMaxDataFrame(int(j["streamId"]), int(j["maxOffset"]))
    if t == 22:
        return StreamDataBlockedFrame(int(j["streamId"]), int(j["maxOffset"]))
    if t == 23:
        return StreamReceiptFrame(int(j["streamId"]), base64.b64decode(j["receipt"]))
    return None


def _packet(j: dict[str, Any]) -> StreamPacket:
    frames = tuple(f for f in (_frame(x) for x in j["frames"]) if f is not None)
    return StreamPacket(int(j["sequence"]), j["packetType"], int(j["amount"]), frames)


RFC = load_vectors("StreamPacketFixtures.json")
RFC_COPY = load_vectors("stream-packets.json")["rfcFixtures"]["vectors"]
RS = load_vectors("stream-packets.json")["interledgerRs"]
CRYPTO = load_vectors("stream-crypto.json")["vectors"]
RECEIPTS = load_vectors("stream-receipts.json")["vectors"]


def test_fixture_copies_agree() -> None:
    assert [(v["name"], v["buffer"]) for v in RFC] == [(v["name"], v["buffer"]) for v in RFC_COPY]
    assert len(RFC) == 53


@pytest.mark.parametrize("vector", RFC, ids=[v["name"] for v in RFC])
def test_rfc_fixture(vector: dict[str, Any]) -> None:
    buffer = base64.b64decode(vector["buffer"])
    expected = _packet(vector["packet"])
    assert StreamPacket.from_bytes(buffer) == expected
    if not vector.get("decode_only"):
        assert expected.to_bytes() == buffer


@pytest.mark.parametrize("vector", RS, ids=[v["name"] for v in RS])
def test_interledger_rs(vector: dict[str, Any]) -> None:
    raw = bytes.fromhex(vector["hex"])
    if vector.get("expect") == "error":
        with pytest.raises(CodecError):
            StreamPacket.from_bytes(raw)
        return
    packet = StreamPacket.from_bytes(raw)
    if "packet" in vector:
        expected = _packet(vector["packet"])
        assert packet == expected
        if all(f["type"] != 89 for f in vector["packet"]["frames"]):
            assert expected.to_bytes() == raw
        else:
            assert packet.frames == ()  # unknown frame skipped
    elif "trailing junk" in vector["name"]:
        assert packet == StreamPacket(0, 14, 0, ())
    else:  # unknown error code accepted
        assert packet.frames == (ConnectionCloseFrame(89, ""),)


def _by_name(prefix: str) -> dict[str, Any]:
    return next(v for v in CRYPTO if v["name"].startswith(prefix))


def test_key_derivation() -> None:
    v = _by_name("encryption key")
    assert crypto.encryption_key(bytes.fromhex(v["sharedSecretHex"])).hex() == v["expectHex"]
    v = _by_name("fulfillment key")
    assert crypto.fulfillment_key(bytes.fromhex(v["sharedSecretHex"])).hex() == v["expectHex"]
    v = _by_name("fulfillment = HMAC")
    fk = bytes.fromhex(v["fulfillmentKeyHex"])
    assert crypto.generate_fulfillment(fk, bytes.fromhex(v["dataHex"])).hex() == v["expectHex"]
    v = _by_name("condition = SHA-256")
    assert crypto.condition_of(bytes.fromhex(v["fulfillmentHex"])).hex() == v["expectHex"]
    v = _by_name("interledger-rs: fulfillment")
    keys = crypto.StreamKeys(bytes.fromhex(v["sharedSecretHex"]))
    assert keys.fulfillment(bytes.fromhex(v["dataHex"])).hex() == v["expectFulfillmentHex"]


def test_incoming_packet_id() -> None:
    v = _by_name("incoming packet id")
    got = crypto.incoming_packet_id(bytes.fromhex(v["sharedSecretHex"]), int(v["sequence"]))
    assert got.hex() == v["expectHex"]


def test_every_crypto_vector_is_covered() -> None:
    prefixes = (
        "encryption key",
        "fulfillment key",
        "fulfillment = HMAC",
        "condition = SHA-256",
        "decrypt known",
        "interledger-rs: fulfillment",
        "interledger-rs: encrypt",
        "generated:",
        "ilp-protocol-stream SERVER-SIDE",  # test_incoming.py
        "incoming packet id",
    )
    assert all(v["name"].startswith(prefixes) for v in CRYPTO)
    assert len(CRYPTO) == 12


def test_decrypt_known_ciphertext() -> None:
    v = _by_name("decrypt known ciphertext")
    key = bytes.fromhex(v["encryptionKeyHex"])
    assert crypto.decrypt(key, bytes.fromhex(v["ciphertextHex"])).hex() == v["plaintextHex"]
    tampered = bytearray(bytes.fromhex(v["ciphertextHex"]))
    tampered[-1] ^= 1
    with pytest.raises(DecryptionError):
        crypto.decrypt(key, bytes(tampered))
    with pytest.raises(DecryptionError):
        crypto.decrypt(key, b"short")


def test_encrypt_fixed_nonce() -> None:
    v = _by_name("interledger-rs: encrypt")
    keys = crypto.StreamKeys(bytes.fromhex(v["sharedSecretHex"]))
    out = keys.encrypt(bytes.fromhex(v["plaintextHex"]), bytes.fromhex(v["nonceHex"]))
    assert out.hex() == v["ciphertextHex"]
    assert keys.decrypt(out).hex() == v["plaintextHex"]


GENERATED = [v for v in CRYPTO if v["name"].startswith("generated:")]


@pytest.mark.parametrize("v", GENERATED, ids=[v["name"] for v in GENERATED])
def test_generated_end_to_end(v: dict[str, Any]) -> None:
    keys = crypto.StreamKeys(bytes.fromhex(v["sharedSecretHex"]))
    assert keys.encryption_key.hex() == v["encryptionKeyHex"]
    encrypted = bytes.fromhex(v["encryptedHex"])
    plaintext = keys.decrypt(encrypted)
    assert plaintext.hex() == v["plaintextHex"]
    packet = StreamPacket.from_bytes(plaintext)
    assert packet.to_bytes() == plaintext
    assert packet.seal(keys, bytes.fromhex(v["nonceHex"])) == encrypted
    fulfillment = keys.fulfillment(encrypted)
    assert fulfillment.hex() == v["fulfillmentHex"]
    assert crypto.condition_of(fulfillment).hex() == v["conditionHex"]
    if "ilpPrepareHex" in v:
        raw = bytes.fromhex(v["ilpPrepareHex"])
        prepare = parse_prepare(raw)
        assert prepare.data == encrypted
        assert StreamPacket.open(keys, prepare.data) == packet
        rebuilt = Prepare(
            amount=prepare.amount,
            expires_at=prepare.expires_at,
            execution_condition=prepare.execution_condition,
            destination=prepare.destination,
            data=packet.seal(keys, bytes.fromhex(v["nonceHex"])),
        )
        assert rebuilt.to_bytes() == raw
        assert prepare.expires_at.tzinfo is not None
        assert prepare.expires_at > datetime(2000, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("v", RECEIPTS, ids=[v["name"] for v in RECEIPTS])
def test_receipt(v: dict[str, Any]) -> None:
    nonce = bytes.fromhex(v["nonceHex"])
    secret = bytes.fromhex(v["secretHex"])
    expected = bytes.fromhex(v["receiptHex"])
    assert create_receipt(nonce, v["streamId"], int(v["totalReceived"]), secret) == expected
    receipt = verify_receipt(expected, secret)
    assert (receipt.nonce, receipt.stream_id, receipt.total_received) == (
        nonce,
        v["streamId"],
        int(v["totalReceived"]),
    )
    with pytest.raises(InvalidReceiptError):
        verify_receipt(expected, bytes(32) if secret != bytes(32) else b"\x01" * 32)
    with pytest.raises(CodecError):
        decode_receipt(expected[:-1])
    with pytest.raises(CodecError):
        decode_receipt(expected + b"\x00")
