"""ILPv4 packets (RFC 27): Prepare, Fulfill and Reject, and their byte encoding.

Envelope (RFC 27 §"Packet Format"): ``type UInt8 | var-octet-string(content)``, types 12
(Prepare), 13 (Fulfill), 14 (Reject).

* Prepare: ``amount UInt64 | expiresAt 17 ASCII "YYYYMMDDHHmmssSSS" (UTC) |
  executionCondition 32 bytes | destination var-string (address) | data var-octet-string``
* Fulfill: ``fulfillment 32 bytes | data var-octet-string``
* Reject: ``code 3 ASCII | triggeredBy var-string | message var-string (UTF-8) |
  data var-octet-string``

"The data field ... MUST NOT exceed 32767 bytes." Packets are immutable; parsing validates
everything that serialising needs, so ``parse_packet(b).to_bytes() == b`` for every valid ``b``.
Parsers raise only :class:`~wallet.ilp.errors.CodecError` subclasses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum

from wallet.ilp.address import is_valid_address
from wallet.ilp.errors import (
    InvalidAddressError,
    InvalidValueError,
    TrailingBytesError,
    TruncatedError,
    UnknownTypeError,
)
from wallet.ilp.oer import U64_MAX, Reader, encode_length_prefix

MAX_DATA_LENGTH = 32767
CONDITION_LENGTH = 32
_TIMESTAMP_LENGTH = 17

__all__ = [
    "MAX_DATA_LENGTH",
    "Fulfill",
    "Packet",
    "PacketType",
    "Prepare",
    "Reject",
    "format_expiry",
    "parse_expiry",
    "parse_packet",
    "parse_prepare",
    "parse_reply",
]


class PacketType(IntEnum):
    PREPARE = 12
    FULFILL = 13
    REJECT = 14


def format_expiry(when: datetime) -> str:
    """``YYYYMMDDHHmmssSSS`` in UTC (RFC 27: "fixed-length ... no time zone designator")."""
    if when.tzinfo is None:
        raise InvalidValueError("expiry must be a timezone-aware datetime")
    u = when.astimezone(UTC)
    return (
        f"{u.year:04d}{u.month:02d}{u.day:02d}{u.hour:02d}{u.minute:02d}{u.second:02d}"
        f"{u.microsecond // 1000:03d}"
    )


def parse_expiry(text: bytes | str) -> datetime:
    """The inverse of :func:`format_expiry`.

    Raises:
        InvalidValueError: not 17 ASCII digits forming a real date and time.
    """
    raw = text.encode("ascii", "replace") if isinstance(text, str) else text
    if len(raw) != _TIMESTAMP_LENGTH or not raw.isdigit():
        raise InvalidValueError(f"expiresAt must be 17 digits YYYYMMDDHHmmssSSS, got {raw!r}")
    try:
        return datetime(
            int(raw[0:4]),
            int(raw[4:6]),
            int(raw[6:8]),
            int(raw[8:10]),
            int(raw[10:12]),
            int(raw[12:14]),
            int(raw[14:17]) * 1000,
            tzinfo=UTC,
        )
    except ValueError as e:
        raise InvalidValueError(f"expiresAt is not a valid time: {raw!r}") from e


def _envelope(packet_type: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes((packet_type, n)) + content
    return bytes((packet_type,)) + encode_length_prefix(n) + content


def _prefixed(value: bytes) -> bytes:
    n = len(value)
    if n < 0x80:
        return bytes((n,)) + value
    return encode_length_prefix(n) + value


def _check_data(data: bytes) -> None:
    if len(data) > MAX_DATA_LENGTH:
        raise InvalidValueError(f"data is {len(data)} bytes; the limit is {MAX_DATA_LENGTH}")


@dataclass(frozen=True, slots=True)
class Prepare:
    """An ILP Prepare: a conditional offer of ``amount`` until ``expires_at``."""

    amount: int
    expires_at: datetime
    execution_condition: bytes
    destination: str
    data: bytes = b""

    def __post_init__(self) -> None:
        if not 0 <= self.amount <= U64_MAX:
            raise InvalidValueError(f"amount must be a UInt64, got {self.amount}")
        if len(self.execution_condition) != CONDITION_LENGTH:
            raise InvalidValueError("executionCondition must be 32 bytes")
        if not is_valid_address(self.destination):
            raise InvalidAddressError(f"destination is not an ILP address: {self.destination!r}")
        _check_data(self.data)
        if self.expires_at.tzinfo is None:
            raise InvalidValueError("expires_at must be timezone-aware")

    def to_bytes(self) -> bytes:
        content = b"".join(
            (
                self.amount.to_bytes(8, "big"),
                format_expiry(self.expires_at).encode("ascii"),
                self.execution_condition,
                _prefixed(self.destination.encode("ascii")),
                _prefixed(self.data),
            )
        )
        return _envelope(PacketType.PREPARE, content)

    def is_fulfilled_by(self, fulfillment: bytes) -> bool:
        """RFC 27: a Fulfill is valid only if ``sha256(fulfillment) == executionCondition``."""
        return hashlib.sha256(fulfillment).digest() == self.execution_condition


@dataclass(frozen=True, slots=True)
class Fulfill:
    """An ILP Fulfill: the preimage of the Prepare's condition."""

    fulfillment: bytes
    data: bytes = b""

    def __post_init__(self) -> None:
        if len(self.fulfillment) != CONDITION_LENGTH:
            raise InvalidValueError("fulfillment must be 32 bytes")
        _check_data(self.data)

    def to_bytes(self) -> bytes:
        return _envelope(PacketType.FULFILL, self.fulfillment + _prefixed(self.data))


@dataclass(frozen=True, slots=True)
class Reject:
    """An ILP Reject. ``code`` is three ASCII characters (see :class:`ErrorCode`).

    ``triggered_by`` is the address of whoever raised it, or empty; it is kept as received
    (only required to be ASCII) so that a peer's odd value never turns a Reject into a parse
    failure.
    """

    code: str
    triggered_by: str = ""
    message: str = ""
    data: bytes = b""

    def __post_init__(self) -> None:
        if len(self.code) != 3 or not self.code.isascii():
            raise InvalidValueError(f"error code must be 3 ASCII characters, got {self.code!r}")
        if not self.triggered_by.isascii():
            raise InvalidValueError("triggeredBy must be ASCII")
        _check_data(self.data)

    def to_bytes(self) -> bytes:
        content = b"".join(
            (
                self.code.encode("ascii"),
                _prefixed(self.triggered_by.encode("ascii")),
                _prefixed(self.message.encode("utf-8")),
                _prefixed(self.data),
            )
        )
        return _envelope(PacketType.REJECT, content)


Packet = Prepare | Fulfill | Reject


def _content(data: bytes) -> tuple[int, Reader]:
    """The packet type and a reader over exactly its content."""
    if not data:
        raise TruncatedError("empty input: no ILP packet type")
    outer = Reader(data, 1)
    content = outer.read_var_octet_string("packet content")
    if outer.remaining:
        raise TrailingBytesError(
            f"{outer.remaining} bytes after the ILP packet at offset {outer.pos}"
        )
    return data[0], Reader(content)


def _read_prepare(r: Reader) -> Prepare:
    amount = r.read_uint64("amount")
    expires_at = parse_expiry(r.read_octets(_TIMESTAMP_LENGTH, "expiresAt"))
    condition = r.read_octets(CONDITION_LENGTH, "executionCondition")
    destination = r.read_var_ascii("destination")
    payload = r.read_var_octet_string("data")
    _finish(r)
    return Prepare(amount, expires_at, condition, destination, payload)


def _read_fulfill(r: Reader) -> Fulfill:
    fulfillment = r.read_octets(CONDITION_LENGTH, "fulfillment")
    payload = r.read_var_octet_string("data")
    _finish(r)
    return Fulfill(fulfillment, payload)


def _read_reject(r: Reader) -> Reject:
    code = r.read_octets(3, "code")
    if not code.isascii():
        raise InvalidValueError(f"error code is not ASCII: {code!r}")
    triggered_by = r.read_var_ascii("triggeredBy")
    message = r.read_var_string("message")
    payload = r.read_var_octet_string("data")
    _finish(r)
    return Reject(code.decode("ascii"), triggered_by, message, payload)


def _finish(r: Reader) -> None:
    if r.remaining:
        raise TrailingBytesError(f"{r.remaining} bytes after the packet's fields at {r.pos}")


_READERS: dict[int, Callable[[Reader], Packet]] = {
    PacketType.PREPARE: _read_prepare,
    PacketType.FULFILL: _read_fulfill,
    PacketType.REJECT: _read_reject,
}


def parse_packet(data: bytes) -> Packet:
    """Parse any ILP packet.

    Raises:
        CodecError: (a subclass naming the problem) when ``data`` is not a valid packet.
    """
    packet_type, r = _content(bytes(data))
    read = _READERS.get(packet_type)
    if read is None:
        raise UnknownTypeError(f"unknown ILP packet type {packet_type}")
    return read(r)


def parse_prepare(data: bytes) -> Prepare:
    """Parse bytes that must be a Prepare.

    Raises:
        UnknownTypeError: another packet type.
        CodecError: invalid bytes.
    """
    packet_type, r = _content(bytes(data))
    if packet_type != PacketType.PREPARE:
        raise UnknownTypeError(f"expected an ILP Prepare (12), got type {packet_type}")
    return _read_prepare(r)


def parse_reply(data: bytes) -> Fulfill | Reject:
    """Parse bytes that must be a Fulfill or a Reject.

    Raises:
        UnknownTypeError: another packet type.
        CodecError: invalid bytes.
    """
    packet_type, r = _content(bytes(data))
    if packet_type == PacketType.FULFILL:
        return _read_fulfill(r)
    if packet_type == PacketType.REJECT:
        return _read_reject(r)
    raise UnknownTypeError(f"expected an ILP Fulfill (13) or Reject (14), got type {packet_type}")
