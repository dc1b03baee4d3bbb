"""Every OER, ILP packet, address, error and IL-DCP vector decodes and re-encodes byte for byte."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import load_vectors
from wallet.ilp import (
    Address,
    AmountTooLarge,
    CodecError,
    ErrorCode,
    Fulfill,
    IldcpError,
    IldcpResponse,
    InvalidAddressError,
    InvalidValueError,
    NonCanonicalError,
    OverflowCodecError,
    Prepare,
    Reader,
    Reject,
    TruncatedError,
    check_ildcp_request,
    encode_length_prefix,
    encode_var_octet_string,
    encode_var_uint,
    error_class,
    error_name,
    ildcp_request,
    is_ildcp_request,
    parse_packet,
    parse_prepare,
    parse_reply,
)

OER = load_vectors("oer.json")
PACKETS = load_vectors("ilp-packets.json")["vectors"]
ADDRESSES = load_vectors("ilp-addresses.json")
ERRORS = load_vectors("ilp-errors.json")
ILDCP = load_vectors("ildcp.json")["vectors"]


def _iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- OER ------------------------------------------------------------------------------------


@pytest.mark.parametrize("v", OER["varuint"]["valid"], ids=lambda v: v["hex"])
def test_varuint_valid(v: dict[str, Any]) -> None:
    raw = bytes.fromhex(v["hex"])
    r = Reader(raw, strict=True)
    assert r.read_var_uint() == int(v["value"])
    assert r.remaining == 0
    assert encode_var_uint(int(v["value"])) == raw


@pytest.mark.parametrize("v", OER["varuint"]["invalid"], ids=lambda v: v["hex"])
def test_varuint_invalid(v: dict[str, Any]) -> None:
    raw = bytes.fromhex(v["hex"])
    expected: type[CodecError] = {
        "00": InvalidValueError,
        "09010203040506070809": OverflowCodecError,
    }.get(v["hex"], TruncatedError)
    with pytest.raises(expected):
        Reader(raw).read_var_uint()


def test_varuint_above_u64_saturates_where_asked() -> None:
    raw = bytes.fromhex("09010203040506070809")
    assert Reader(raw).read_var_uint_saturating() == 2**64 - 1
    assert Reader(bytes.fromhex("0105")).read_var_uint_saturating() == 5


@pytest.mark.parametrize("v", OER["varuint"]["nonCanonical"], ids=lambda v: v["hex"])
def test_varuint_zero_padded_policy(v: dict[str, Any]) -> None:
    """Accepted by default, like oer-utils (the JS peers); rejected in strict mode."""
    raw = bytes.fromhex(v["hex"])
    assert Reader(raw).read_var_uint() == int(v["oerUtils"]["value"])
    with pytest.raises(NonCanonicalError):
        Reader(raw, strict=True).read_var_uint()
    assert encode_var_uint(int(v["oerUtils"]["value"])) != raw  # we write the minimal form


@pytest.mark.parametrize(
    "v", OER["varOctetString"]["lengthPrefixes"], ids=lambda v: str(v["length"])
)
def test_length_prefixes(v: dict[str, Any]) -> None:
    prefix = bytes.fromhex(v["prefixHex"])
    assert encode_length_prefix(v["length"]) == prefix
    value = bytes(v["length"])
    encoded = encode_var_octet_string(value)
    assert encoded == prefix + value
    r = Reader(encoded)
    assert r.read_var_octet_string() == value
    assert r.remaining == 0


@pytest.mark.parametrize("v", OER["varOctetString"]["valid"], ids=lambda v: v["hex"])
def test_var_octet_string_valid(v: dict[str, Any]) -> None:
    raw = bytes.fromhex(v["hex"])
    assert Reader(raw).read_var_octet_string() == bytes.fromhex(v["value"])
    assert encode_var_octet_string(bytes.fromhex(v["value"])) == raw


@pytest.mark.parametrize("v", OER["varOctetString"]["invalid"], ids=lambda v: v["hex"][:20])
def test_var_octet_string_invalid(v: dict[str, Any]) -> None:
    raw = bytes.fromhex(v["hex"])
    expected: type[CodecError] = NonCanonicalError
    if "declared length" in v["why"]:
        expected = TruncatedError
    elif "too large" in v["why"]:
        expected = OverflowCodecError
    with pytest.raises(expected):
        Reader(raw).read_var_octet_string()


@pytest.mark.parametrize("v", OER["fixedUInts"]["examples"], ids=lambda v: v["type"])
def test_fixed_uints(v: dict[str, Any]) -> None:
    size = int(v["type"][4:]) // 8
    raw = bytes.fromhex(v["hex"])
    assert Reader(raw).read_uint(size) == int(v["value"])


# --- ILP packets ------------------------------------------------------------------------------


def _packet_bytes(v: dict[str, Any]) -> bytes:
    if "hex" in v:
        return bytes.fromhex(v["hex"])
    # The 32767-byte vector gives its prefix, length and a data description.
    f = v["fields"]
    assert f["dataHex"] == "32767 bytes of 0x00"
    raw = Prepare(
        int(f["amount"]),
        _iso(f["expiresAt"]),
        bytes.fromhex(f["executionConditionHex"]),
        f["destination"],
        bytes(32767),
    ).to_bytes()
    assert raw.hex().startswith(v["hexPrefix"])
    return raw


@pytest.mark.parametrize("v", PACKETS, ids=lambda v: v["name"])
def test_packet_vectors(v: dict[str, Any]) -> None:
    raw = _packet_bytes(v)
    if "length" in v:
        assert len(raw) == int(v["length"])
    packet = parse_packet(raw)
    f = v["fields"]
    data = bytes(32767) if f["dataHex"] == "32767 bytes of 0x00" else bytes.fromhex(f["dataHex"])
    kind = int(v["type"])
    if kind == 12:
        expected: Prepare | Fulfill | Reject = Prepare(
            int(f["amount"]),
            _iso(f["expiresAt"]),
            bytes.fromhex(f["executionConditionHex"]),
            f["destination"],
            data,
        )
        assert parse_prepare(raw) == expected
    elif kind == 13:
        expected = Fulfill(bytes.fromhex(f["fulfillmentHex"]), data)
        assert parse_reply(raw) == expected
    else:
        expected = Reject(f["code"], f["triggeredBy"], f["message"], data)
        assert parse_reply(raw) == expected
    assert packet == expected
    assert expected.to_bytes() == raw


# --- addresses ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ADDRESSES["valid"])
def test_valid_addresses(text: str) -> None:
    assert Address(text) == text


@pytest.mark.parametrize("text", ADDRESSES["invalid"])
def test_invalid_addresses(text: str) -> None:
    with pytest.raises(InvalidAddressError):
        Address(text)


def test_address_length_limit() -> None:
    assert len(Address("g." + "x" * 1021)) == 1023
    with pytest.raises(InvalidAddressError):
        Address("g." + "x" * 1022)


# --- errors ---------------------------------------------------------------------------------------


def test_error_code_table_matches_ilp_packet() -> None:
    assert {c.name: c.value for c in ErrorCode} == ERRORS["codes"]
    for letter, description in ERRORS["classes"].items():
        assert description.startswith(error_class(letter + "00"))


def test_error_names() -> None:
    assert error_name("F08") == "Amount Too Large"
    assert error_name("T04") == "Insufficient Liquidity"
    assert error_name("F42") == "Final Error F42"
    assert error_class("X00") == "unknown"


def test_f08_data() -> None:
    f08 = ERRORS["f08Data"]
    raw = bytes.fromhex(f08["hex"])
    details = AmountTooLarge.from_bytes(raw)
    assert details == AmountTooLarge(int(f08["receivedAmount"]), int(f08["maximumAmount"]))
    assert details.to_bytes() == raw


# --- IL-DCP ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("v", ILDCP, ids=lambda v: v["name"])
def test_ildcp_vectors(v: dict[str, Any]) -> None:
    raw = bytes.fromhex(v["hex"])
    valid = v.get("valid", True)
    if v["kind"] == "request":
        prepare = parse_prepare(raw)
        if valid:
            check_ildcp_request(prepare)
            assert ildcp_request(_iso(v["fields"]["expiresAt"])).to_bytes() == raw
            assert is_ildcp_request(prepare)
        else:
            with pytest.raises(IldcpError):
                check_ildcp_request(prepare)
    else:
        fulfill = parse_reply(raw)
        assert isinstance(fulfill, Fulfill)
        if valid:
            f = v["fields"]
            response = IldcpResponse.from_fulfill(fulfill)
            assert response == IldcpResponse(f["clientAddress"], f["assetScale"], f["assetCode"])
            assert response.to_fulfill().to_bytes() == raw
        else:
            with pytest.raises(IldcpError):
                IldcpResponse.from_fulfill(fulfill)


def test_ildcp_response_checks_its_fields() -> None:
    with pytest.raises(IldcpError):
        IldcpResponse("nope", 9, "USD")
    with pytest.raises(IldcpError):
        IldcpResponse("test.a", 256, "USD")
    with pytest.raises(TruncatedError):
        IldcpResponse.from_data(b"\x06test.a")
    assert not is_ildcp_request(Prepare(0, datetime(2030, 1, 1, tzinfo=UTC), bytes(32), "test.a"))
