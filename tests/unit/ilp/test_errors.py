"""Each way a packet can be wrong raises the CodecError subclass that names it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from wallet.ilp import (
    AmountTooLarge,
    Fulfill,
    InvalidAddressError,
    InvalidValueError,
    OverflowCodecError,
    Prepare,
    Reader,
    Reject,
    TrailingBytesError,
    TruncatedError,
    UnknownTypeError,
    Writer,
    encode_var_uint,
    format_expiry,
    parse_expiry,
    parse_packet,
    parse_prepare,
    parse_reply,
)

WHEN = datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
PREPARE = Prepare(10, WHEN, bytes(32), "test.alice", b"hi")


def test_expiry_format_is_utc_without_zone() -> None:
    assert format_expiry(WHEN) == "20300102030405678"
    plus_two = WHEN.astimezone(timezone(timedelta(hours=2)))
    assert format_expiry(plus_two) == "20300102030405678"
    assert parse_expiry("20300102030405678") == WHEN
    with pytest.raises(InvalidValueError):
        format_expiry(datetime(2030, 1, 1))  # naive


@pytest.mark.parametrize(
    "text", ["2030010203040567", "2030010203040567Z", "20301302030405678", "+0300102030405678"]
)
def test_bad_expiry(text: str) -> None:
    with pytest.raises(InvalidValueError):
        parse_expiry(text)


def test_empty_input() -> None:
    with pytest.raises(TruncatedError):
        parse_packet(b"")


def test_unknown_type() -> None:
    with pytest.raises(UnknownTypeError):
        parse_packet(b"\x0b\x00")
    with pytest.raises(UnknownTypeError):
        parse_prepare(Fulfill(bytes(32)).to_bytes())
    with pytest.raises(UnknownTypeError):
        parse_reply(PREPARE.to_bytes())


def test_trailing_bytes() -> None:
    with pytest.raises(TrailingBytesError):
        parse_packet(PREPARE.to_bytes() + b"\x00")
    raw = PREPARE.to_bytes()
    # One more byte inside the content, after the data field.
    inner = raw[2:] + b"\x00"
    with pytest.raises(TrailingBytesError):
        parse_packet(bytes((12, len(inner))) + inner)


def test_bad_fields_in_packets() -> None:
    raw = bytearray(PREPARE.to_bytes())
    raw[2 + 8] = ord("x")  # a letter inside expiresAt
    with pytest.raises(InvalidValueError):
        parse_packet(bytes(raw))
    bad_dest = bytearray(PREPARE.to_bytes())
    at = bad_dest.index(b"test.alice")
    bad_dest[at] = ord("?")
    with pytest.raises(InvalidAddressError):
        parse_packet(bytes(bad_dest))
    non_ascii = bytearray(PREPARE.to_bytes())
    non_ascii[at] = 0xC3
    with pytest.raises(InvalidValueError):
        parse_packet(bytes(non_ascii))
    reject = bytearray(Reject("F99", "", "x").to_bytes())
    reject[2] = 0xFF
    with pytest.raises(InvalidValueError):
        parse_packet(bytes(reject))
    bad_message = bytearray(Reject("F99", "", "x").to_bytes())
    bad_message[-2] = 0xFF
    with pytest.raises(InvalidValueError):
        parse_packet(bytes(bad_message))


def test_construction_is_validated() -> None:
    with pytest.raises(InvalidValueError):
        Prepare(-1, WHEN, bytes(32), "test.a")
    with pytest.raises(InvalidValueError):
        Prepare(2**64, WHEN, bytes(32), "test.a")
    with pytest.raises(InvalidValueError):
        Prepare(1, WHEN, bytes(31), "test.a")
    with pytest.raises(InvalidAddressError):
        Prepare(1, WHEN, bytes(32), "nope")
    with pytest.raises(InvalidValueError):
        Prepare(1, WHEN, bytes(32), "test.a", bytes(32768))
    with pytest.raises(InvalidValueError):
        Prepare(1, datetime(2030, 1, 1), bytes(32), "test.a")
    with pytest.raises(InvalidValueError):
        Fulfill(bytes(33))
    with pytest.raises(InvalidValueError):
        Reject("F0")
    with pytest.raises(InvalidValueError):
        Reject("F00", "tést")


def test_condition_check() -> None:
    import hashlib

    preimage = b"\x01" * 32
    prepare = Prepare(1, WHEN, hashlib.sha256(preimage).digest(), "test.a")
    assert prepare.is_fulfilled_by(preimage)
    assert not prepare.is_fulfilled_by(bytes(32))


def test_f08_edge_cases() -> None:
    with pytest.raises(TruncatedError):
        AmountTooLarge.from_bytes(bytes(15))
    with pytest.raises(InvalidValueError):
        AmountTooLarge(2**64, 1).to_bytes()
    assert AmountTooLarge(200, 100).max_packet_for(1000) == 500
    assert AmountTooLarge(0, 100).max_packet_for(1000) == 1000


def test_reader_and_writer() -> None:
    w = Writer()
    w.write_uint8(1)
    w.write_uint16(2)
    w.write_uint32(3)
    w.write_uint64(4)
    w.write_var_uint(300)
    w.write_var_octet_string(b"ab")
    w.write_var_string("é")
    w.write_octets(b"\xff")
    raw = w.getvalue()
    r = Reader(raw)
    assert (r.read_uint8(), r.read_uint16(), r.read_uint32(), r.read_uint64()) == (1, 2, 3, 4)
    assert r.read_var_uint() == 300
    assert r.read_var_octet_string() == b"ab"
    assert r.read_var_string() == "é"
    assert r.read_octets(1) == b"\xff"
    with pytest.raises(TruncatedError):
        r.read_uint8()
    with pytest.raises(InvalidValueError):
        Writer().write_uint8(256)
    with pytest.raises(InvalidValueError):
        encode_var_uint(-1)
    with pytest.raises(InvalidValueError):
        encode_var_uint(2**64)
    with pytest.raises(OverflowCodecError):
        Reader(bytes.fromhex("890000000000000000ff")).read_var_octet_string()
    with pytest.raises(TruncatedError):
        Reader(b"\x05ab").read_var_octet_string()
    with pytest.raises(InvalidValueError):
        Reader(b"\x01\xff").read_var_ascii()


def test_length_prefix_reader() -> None:
    assert Reader(b"\x05").read_length_prefix() == 5
    assert Reader(b"\x81\x80").read_length_prefix() == 128


def test_unusual_but_valid_prepares_take_the_general_path() -> None:
    """Long destinations and 3-byte content prefixes are parsed by the general reader."""
    long_destination = Prepare(1, WHEN, bytes(32), "test." + "a" * 200, b"x")
    assert parse_packet(long_destination.to_bytes()) == long_destination
    big = Prepare(1, WHEN, bytes(32), "test.a", bytes(32767))
    assert parse_prepare(big.to_bytes()) == big
    assert parse_prepare(bytearray(big.to_bytes())) == big


def test_oversized_data_is_refused_when_parsing() -> None:
    from wallet.ilp import encode_var_octet_string

    body = PREPARE.to_bytes()[2:-3] + encode_var_octet_string(bytes(32768))
    raw = b"\x0c" + encode_var_octet_string(body)
    with pytest.raises(InvalidValueError):
        parse_prepare(raw)
    # A 4-byte length-of-length prefix is canonical but never needed: general path too.
    with pytest.raises(TruncatedError):
        parse_prepare(b"\x0c\x83\x01\x00\x00")
