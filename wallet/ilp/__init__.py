"""ILPv4, OER and IL-DCP, sans-IO: bytes in, typed packets out, and back.

No asyncio, sockets or clocks here; time comes in as arguments. Every parse failure raises a
:class:`CodecError` subclass that says what was wrong and where.
"""

from __future__ import annotations

from wallet.ilp.address import MAX_ADDRESS_LENGTH, Address, is_valid_address
from wallet.ilp.codes import AmountTooLarge, ErrorCode, error_class, error_name
from wallet.ilp.errors import (
    CodecError,
    InvalidAddressError,
    InvalidValueError,
    NonCanonicalError,
    OverflowCodecError,
    TrailingBytesError,
    TruncatedError,
    UnknownTypeError,
)
from wallet.ilp.ildcp import (
    ILDCP_CONDITION,
    ILDCP_DESTINATION,
    ILDCP_FULFILLMENT,
    IldcpError,
    IldcpResponse,
    check_ildcp_request,
    ildcp_request,
    is_ildcp_request,
)
from wallet.ilp.oer import (
    U8_MAX,
    U16_MAX,
    U32_MAX,
    U64_MAX,
    Reader,
    Writer,
    encode_length_prefix,
    encode_var_octet_string,
    encode_var_uint,
)
from wallet.ilp.packet import (
    MAX_DATA_LENGTH,
    Fulfill,
    Packet,
    PacketType,
    Prepare,
    Reject,
    format_expiry,
    parse_expiry,
    parse_packet,
    parse_prepare,
    parse_reply,
)

__all__ = [
    "ILDCP_CONDITION",
    "ILDCP_DESTINATION",
    "ILDCP_FULFILLMENT",
    "MAX_ADDRESS_LENGTH",
    "MAX_DATA_LENGTH",
    "U8_MAX",
    "U16_MAX",
    "U32_MAX",
    "U64_MAX",
    "Address",
    "AmountTooLarge",
    "CodecError",
    "ErrorCode",
    "Fulfill",
    "IldcpError",
    "IldcpResponse",
    "InvalidAddressError",
    "InvalidValueError",
    "NonCanonicalError",
    "OverflowCodecError",
    "Packet",
    "PacketType",
    "Prepare",
    "Reader",
    "Reject",
    "TrailingBytesError",
    "TruncatedError",
    "UnknownTypeError",
    "Writer",
    "check_ildcp_request",
    "encode_length_prefix",
    "encode_var_octet_string",
    "encode_var_uint",
    "error_class",
    "error_name",
    "format_expiry",
    "ildcp_request",
    "is_ildcp_request",
    "is_valid_address",
    "parse_expiry",
    "parse_packet",
    "parse_prepare",
    "parse_reply",
]
