"""BTP 2.0 frames (RFC 23), sans-IO: bytes in, frames out, and back. No sockets here.

RFC 23: "One binary WebSocket message = one BTP packet": ``type UInt8 | requestId UInt32 |
var-octet-string(packet-specific data | protocolData)``. Types: 1 Response, 2 Error, 6 Message,
7 Transfer ("3, 4, 5: not used"). ``protocolData`` is ``VarUInt count`` then, per entry,
``protocolName IA5String (var-string) | contentType UInt8 | data var-octet-string``.

Invariants: parsing is strict — the contents must be consumed exactly and nothing may follow
them (RFC 23: "An unreadable BTP packet is one which is structurally invalid ... no response
should be sent"); every failure is a :class:`~wallet.ilp.CodecError` subclass. Frames are frozen
dataclasses; an ``auth_token`` entry's data never appears in ``repr``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from typing import Final

from wallet.ilp import (
    U32_MAX,
    InvalidValueError,
    Reader,
    TrailingBytesError,
    TruncatedError,
    UnknownTypeError,
    encode_length_prefix,
    encode_var_octet_string,
    encode_var_uint,
)

__all__ = [
    "AUTH",
    "AUTH_TOKEN",
    "AUTH_USERNAME",
    "ILP",
    "BtpError",
    "BtpType",
    "ContentType",
    "Frame",
    "Message",
    "ProtocolData",
    "Response",
    "Transfer",
    "auth_message",
    "fast_ilp_response",
    "format_triggered_at",
    "ilp_message",
    "ilp_response",
    "parse_frame",
]

ILP: Final = "ilp"
AUTH: Final = "auth"
AUTH_USERNAME: Final = "auth_username"
AUTH_TOKEN: Final = "auth_token"  # noqa: S105 (a protocol name, not a secret)
_HIDDEN_ENTRIES: Final = frozenset({AUTH_TOKEN})


class BtpType(IntEnum):
    """RFC 23 "BTP Type IDs"."""

    RESPONSE = 1
    ERROR = 2
    MESSAGE = 6
    TRANSFER = 7


class ContentType(IntEnum):
    """RFC 23 ``ContentType``: applicationOctetString (0), textPlainUtf8 (1), applicationJson (2).

    Other values (up to 255) are allowed on the wire and kept as plain ints.
    """

    OCTET_STREAM = 0
    TEXT_PLAIN_UTF8 = 1
    APPLICATION_JSON = 2


@dataclass(frozen=True, slots=True)
class ProtocolData:
    """One sub-protocol entry. The first entry of a frame is its primary sub-protocol."""

    name: str
    content_type: int
    data: bytes

    def __post_init__(self) -> None:
        if not self.name.isascii():
            raise InvalidValueError(f"protocolName must be IA5 (ASCII): {self.name!r}")
        if not 0 <= self.content_type <= 0xFF:
            raise InvalidValueError(f"contentType must be a UInt8, got {self.content_type}")

    def __repr__(self) -> str:
        shown = "<hidden>" if self.name in _HIDDEN_ENTRIES else repr(self.data)
        return f"ProtocolData({self.name!r}, {self.content_type}, {shown})"


def _check_request_id(request_id: int) -> None:
    if not 0 <= request_id <= U32_MAX:
        raise InvalidValueError(f"requestId must be a UInt32, got {request_id}")


def _encode_protocol_data(entries: tuple[ProtocolData, ...]) -> bytes:
    parts = [encode_var_uint(len(entries))]
    for entry in entries:
        parts.append(encode_var_octet_string(entry.name.encode("ascii")))
        parts.append(bytes((entry.content_type,)))
        parts.append(encode_var_octet_string(entry.data))
    return b"".join(parts)


def _frame(frame_type: int, request_id: int, contents: bytes) -> bytes:
    _check_request_id(request_id)
    n = len(contents)
    prefix = bytes((n,)) if n < 0x80 else encode_length_prefix(n)
    return bytes((frame_type,)) + request_id.to_bytes(4, "big") + prefix + contents


def _find(entries: tuple[ProtocolData, ...], name: str) -> bytes | None:
    for entry in entries:
        if entry.name == name:
            return entry.data
    return None


@dataclass(frozen=True, slots=True)
class Message:
    """RFC 23 ``Message``: a request carrying only protocol data (ILP under ``ilp``)."""

    request_id: int
    protocol_data: tuple[ProtocolData, ...] = ()

    def __post_init__(self) -> None:
        _check_request_id(self.request_id)

    def get(self, name: str) -> bytes | None:
        """The data of the first entry called ``name``, or ``None``."""
        return _find(self.protocol_data, name)

    def to_bytes(self) -> bytes:
        return _frame(BtpType.MESSAGE, self.request_id, _encode_protocol_data(self.protocol_data))


@dataclass(frozen=True, slots=True)
class Response:
    """RFC 23 ``Response``: the success answer to a Message or Transfer (same requestId)."""

    request_id: int
    protocol_data: tuple[ProtocolData, ...] = ()

    def __post_init__(self) -> None:
        _check_request_id(self.request_id)

    def get(self, name: str) -> bytes | None:
        return _find(self.protocol_data, name)

    def to_bytes(self) -> bytes:
        return _frame(BtpType.RESPONSE, self.request_id, _encode_protocol_data(self.protocol_data))


@dataclass(frozen=True, slots=True)
class BtpError:
    """RFC 23 ``Error``: ``code IA5String (SIZE (3)) | name | triggeredAt GeneralizedTime |
    data OCTET STRING | protocolData``. ``triggered_at`` is kept as the string on the wire
    (ilp-plugin-btp sends ``YYYYMMDDHHmmss.SSSZ``)."""

    request_id: int
    code: str
    name: str
    triggered_at: str
    data: bytes = b""
    protocol_data: tuple[ProtocolData, ...] = ()

    def __post_init__(self) -> None:
        _check_request_id(self.request_id)
        if len(self.code) != 3 or not self.code.isascii():
            raise InvalidValueError(f"BTP error code must be 3 ASCII characters: {self.code!r}")
        if not self.name.isascii() or not self.triggered_at.isascii():
            raise InvalidValueError("BTP error name and triggeredAt must be ASCII")

    def get(self, name: str) -> bytes | None:
        return _find(self.protocol_data, name)

    def to_bytes(self) -> bytes:
        contents = b"".join(
            (
                self.code.encode("ascii"),
                encode_var_octet_string(self.name.encode("ascii")),
                encode_var_octet_string(self.triggered_at.encode("ascii")),
                encode_var_octet_string(self.data),
                _encode_protocol_data(self.protocol_data),
            )
        )
        return _frame(BtpType.ERROR, self.request_id, contents)


@dataclass(frozen=True, slots=True)
class Transfer:
    """RFC 23 ``Transfer``: ``amount UInt64 | protocolData`` (settlement; unused by Trickle)."""

    request_id: int
    amount: int
    protocol_data: tuple[ProtocolData, ...] = field(default=())

    def __post_init__(self) -> None:
        _check_request_id(self.request_id)
        if not 0 <= self.amount < 1 << 64:
            raise InvalidValueError(f"amount must be a UInt64, got {self.amount}")

    def get(self, name: str) -> bytes | None:
        return _find(self.protocol_data, name)

    def to_bytes(self) -> bytes:
        contents = self.amount.to_bytes(8, "big") + _encode_protocol_data(self.protocol_data)
        return _frame(BtpType.TRANSFER, self.request_id, contents)


Frame = Message | Response | BtpError | Transfer


def _read_protocol_data(r: Reader) -> tuple[ProtocolData, ...]:
    count = r.read_var_uint("protocolData count")
    # Each entry takes at least 3 bytes; refuse counts the input cannot hold before looping.
    if count * 3 > r.remaining:
        raise TruncatedError(f"protocolData count {count} does not fit in {r.remaining} bytes")
    entries = []
    for _ in range(count):
        name = r.read_var_ascii("protocolName")
        content_type = r.read_uint8("contentType")
        data = r.read_var_octet_string("protocol data")
        entries.append(ProtocolData(name, content_type, data))
    return tuple(entries)


def parse_frame(data: bytes) -> Frame:
    """Parse one BTP packet (one WebSocket binary message).

    Raises:
        TruncatedError, NonCanonicalError, OverflowCodecError, TrailingBytesError,
        InvalidValueError: structurally invalid bytes.
        UnknownTypeError: a type other than 1, 2, 6, 7.
    """
    data = bytes(data)
    outer = Reader(data)
    frame_type = outer.read_uint8("BTP type")
    request_id = outer.read_uint32("requestId")
    contents = outer.read_var_octet_string("BTP contents")
    if outer.remaining:
        raise TrailingBytesError(f"{outer.remaining} bytes after the BTP packet at {outer.pos}")
    r = Reader(contents)
    frame: Frame
    if frame_type == BtpType.MESSAGE:
        frame = Message(request_id, _read_protocol_data(r))
    elif frame_type == BtpType.RESPONSE:
        frame = Response(request_id, _read_protocol_data(r))
    elif frame_type == BtpType.ERROR:
        code = r.read_octets(3, "error code")
        if not code.isascii():
            raise InvalidValueError(f"BTP error code is not ASCII: {code!r}")
        name = r.read_var_ascii("error name")
        triggered_at = r.read_var_ascii("triggeredAt")
        err_data = r.read_var_octet_string("error data")
        frame = BtpError(
            request_id, code.decode("ascii"), name, triggered_at, err_data, _read_protocol_data(r)
        )
    elif frame_type == BtpType.TRANSFER:
        amount = r.read_uint64("amount")
        frame = Transfer(request_id, amount, _read_protocol_data(r))
    else:
        raise UnknownTypeError(f"unknown BTP packet type {frame_type}")
    if r.remaining:
        raise TrailingBytesError(f"{r.remaining} bytes after the BTP fields at offset {r.pos}")
    return frame


def format_triggered_at(when: datetime) -> str:
    """GeneralizedTime as ilp-plugin-btp writes it: ``YYYYMMDDHHmmss.SSSZ`` (UTC)."""
    when = when.astimezone(UTC)
    return when.strftime("%Y%m%d%H%M%S.") + f"{when.microsecond // 1000:03d}Z"


def auth_message(request_id: int, username: str, token: str) -> Message:
    """RFC 23 "Authentication": the first Message on a new socket. Its "primary protocolData
    entry MUST have name 'auth', content type MIME_APPLICATION_OCTET_STREAM, and empty data,
    and among the secondary entries, there MUST be a UTF-8 'auth_token' entry"."""
    return Message(
        request_id,
        (
            ProtocolData(AUTH, ContentType.OCTET_STREAM, b""),
            ProtocolData(AUTH_USERNAME, ContentType.TEXT_PLAIN_UTF8, username.encode("utf-8")),
            ProtocolData(AUTH_TOKEN, ContentType.TEXT_PLAIN_UTF8, token.encode("utf-8")),
        ),
    )


def ilp_message(request_id: int, packet: bytes) -> bytes:
    """The bytes of a Message carrying one ILP packet: RFC 23 "ILP packets are attached under
    the protocol name ``ilp`` with content-type ``application/octet-stream``". The hot path:
    built directly, without the dataclasses."""
    return _frame(BtpType.MESSAGE, request_id, _ilp_protocol_data(packet))


def ilp_response(request_id: int, packet: bytes) -> bytes:
    """The bytes of a Response carrying one ILP packet (a Fulfill or Reject)."""
    return _frame(BtpType.RESPONSE, request_id, _ilp_protocol_data(packet))


_ILP_ENTRY_HEAD: Final = b"\x01\x01" + encode_var_octet_string(ILP.encode()) + b"\x00"


def _ilp_protocol_data(packet: bytes) -> bytes:
    return _ILP_ENTRY_HEAD + encode_var_octet_string(packet)


_ILP_RESPONSE_HEAD: Final = b"\x01\x01\x03ilp\x00"


def fast_ilp_response(data: bytes) -> tuple[int, bytes] | None:
    """``(requestId, ILP packet)`` for a Response whose only protocol data is one ``ilp`` entry
    (the reply to every ILP Message), without building frames: the per-packet hot path.

    Returns ``None`` for anything else, valid or not; :func:`parse_frame` then decides. Both
    accept exactly the same such Responses and yield the same values.
    """
    n = len(data)
    if n < 14 or data[0] != BtpType.RESPONSE:
        return None
    first = data[5]
    if first < 0x80:
        length, start = first, 6
    elif first == 0x81 and data[6] >= 0x80:
        length, start = data[6], 7
    elif first == 0x82 and data[6]:
        length, start = (data[6] << 8) | data[7], 8
    else:
        return None
    if start + length != n or data[start : start + 7] != _ILP_RESPONSE_HEAD:
        return None
    pos = start + 7
    inner = data[pos]
    if inner < 0x80:
        size, pos = inner, pos + 1
    elif inner == 0x81 and data[pos + 1] >= 0x80:
        size, pos = data[pos + 1], pos + 2
    elif inner == 0x82 and data[pos + 1]:
        size, pos = (data[pos + 1] << 8) | data[pos + 2], pos + 3
    else:
        return None
    if pos + size != n:
        return None
    return int.from_bytes(data[1:5], "big"), data[pos:]
