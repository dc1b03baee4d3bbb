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
    CodecError,
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
    return _expiry_bytes(when).decode("ascii")


def _expiry_bytes(when: datetime) -> bytes:
    if when.tzinfo is not UTC:
        if when.tzinfo is None:
            raise InvalidValueError("expiry must be a timezone-aware datetime")
        when = when.astimezone(UTC)
    # One integer, printed with 17 digits: faster than formatting seven fields.
    stamp = (
        ((((when.year * 100 + when.month) * 100 + when.day) * 100 + when.hour) * 100 + when.minute)
        * 100_000
        + when.second * 1000
        + when.microsecond // 1000
    )
    return b"%017d" % stamp


def parse_expiry(text: bytes | str) -> datetime:
    """The inverse of :func:`format_expiry`.

    Raises:
        InvalidValueError: not 17 ASCII digits forming a real date and time.
    """
    raw = text.encode("ascii", "replace") if isinstance(text, str) else text
    if len(raw) != _TIMESTAMP_LENGTH or not raw.isdigit():
        raise InvalidValueError(f"expiresAt must be 17 digits YYYYMMDDHHmmssSSS, got {raw!r}")
    n, millis = divmod(int(raw), 1000)
    n, second = divmod(n, 100)
    n, minute = divmod(n, 100)
    n, hour = divmod(n, 100)
    n, day = divmod(n, 100)
    year, month = divmod(n, 100)
    try:
        return datetime(year, month, day, hour, minute, second, millis * 1000, UTC)
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
                _expiry_bytes(self.expires_at),
                self.execution_condition,
                _prefixed(self.destination.encode("ascii")),
                _prefixed(self.data),
            )
        )
        n = len(content)
        if n < 0x80:
            return b"\x0c" + bytes((n,)) + content
        return b"\x0c" + encode_length_prefix(n) + content

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

# Slot setters that build a parsed (already validated) Prepare without the frozen dataclass's
# per-field object.__setattr__ and without validating twice: the per-packet hot path.
_new = object.__new__
_set_amount = Prepare.__dict__["amount"].__set__
_set_expires_at = Prepare.__dict__["expires_at"].__set__
_set_condition = Prepare.__dict__["execution_condition"].__set__
_set_destination = Prepare.__dict__["destination"].__set__
_set_prepare_data = Prepare.__dict__["data"].__set__


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
    if not is_valid_address(destination):
        raise InvalidAddressError(f"destination is not an ILP address: {destination[:64]!r}")
    payload = r.read_var_octet_string("data")
    _finish(r)
    if len(payload) > MAX_DATA_LENGTH:
        raise InvalidValueError(f"data is {len(payload)} bytes; the limit is {MAX_DATA_LENGTH}")
    # Every field is checked above, so skip __post_init__'s second round of checks.
    prepare: Prepare = _new(Prepare)
    _set_amount(prepare, amount)
    _set_expires_at(prepare, expires_at)
    _set_condition(prepare, condition)
    _set_destination(prepare, destination)
    _set_prepare_data(prepare, payload)
    return prepare


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


def parse_packet(data: bytes | bytearray | memoryview) -> Packet:
    """Parse any ILP packet.

    Raises:
        CodecError: (a subclass naming the problem) when ``data`` is not a valid packet.
    """
    data = bytes(data)  # also a bytearray or memoryview, read once
    if data[:1] == b"\x0c":
        return parse_prepare(data)
    packet_type, r = _content(data)
    read = _READERS.get(packet_type)
    if read is None:
        raise UnknownTypeError(f"unknown ILP packet type {packet_type}")
    return read(r)


def parse_prepare(data: bytes | bytearray | memoryview) -> Prepare:
    """Parse bytes that must be a Prepare.

    Raises:
        UnknownTypeError: another packet type.
        CodecError: invalid bytes.
    """
    data = bytes(data)
    prepare = _parse_prepare_fast(data)
    if prepare is not None:
        return prepare
    packet_type, r = _content(data)
    if packet_type != PacketType.PREPARE:
        raise UnknownTypeError(f"expected an ILP Prepare (12), got type {packet_type}")
    return _read_prepare(r)


def _short_or_two_byte_length(data: bytes, pos: int) -> tuple[int, int]:
    """(length, position after the prefix) for canonical prefixes of up to 2 length bytes.

    Returns ``(-1, pos)`` for anything else, so the caller falls back to the full reader.
    """
    first = data[pos]
    if first < 0x80:
        return first, pos + 1
    if first == 0x81 and data[pos + 1] >= 0x80:
        return data[pos + 1], pos + 2
    if first == 0x82 and data[pos + 1]:
        return (data[pos + 1] << 8) | data[pos + 2], pos + 3
    return -1, pos


def _parse_prepare_fast(data: bytes) -> Prepare | None:
    """The common, valid Prepare without the general reader's bookkeeping.

    Returns ``None`` for anything unusual (including every invalid input); the caller then
    parses with the general reader, which raises the precise error. Both paths accept exactly
    the same valid packets and build equal values.
    """
    try:
        if data[0] != PacketType.PREPARE:
            return None
        length, pos = _short_or_two_byte_length(data, 1)
        if length < 0 or pos + length != len(data):
            return None
        stamp = data[pos + 8 : pos + 25]
        if not stamp.isdigit():
            return None
        dest_length = data[pos + 57]
        if dest_length >= 0x80:
            return None
        at = pos + 58 + dest_length
        destination = data[pos + 58 : at].decode("ascii")
        payload_length, at = _short_or_two_byte_length(data, at)
        if (
            payload_length < 0
            or at + payload_length != len(data)
            or payload_length > MAX_DATA_LENGTH
            or not is_valid_address(destination)
        ):
            return None
        expires_at = parse_expiry(stamp)
    except (IndexError, UnicodeDecodeError, CodecError):
        return None
    prepare: Prepare = _new(Prepare)
    _set_amount(prepare, int.from_bytes(data[pos : pos + 8], "big"))
    _set_expires_at(prepare, expires_at)
    _set_condition(prepare, data[pos + 25 : pos + 57])
    _set_destination(prepare, destination)
    _set_prepare_data(prepare, data[at:])
    return prepare


def parse_reply(data: bytes | bytearray | memoryview) -> Fulfill | Reject:
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
