"""STREAM frames (RFC 29 §5.3): the 14 RFC frames plus StreamReceipt (RFC 39), and their codec.

Owns: :class:`FrameType` and :class:`ErrorCode` (wire codes), one frozen slotted dataclass per
frame, ``encode_frame`` / ``decode_frame``.

Rules implemented here:

* "Each frame is encoded with its 1-byte type and length prefix. Implementations MUST ignore
  frames with unknown types." — :func:`decode_frame` returns ``None`` for an unknown type.
* RFC 29 §5.1.4: "When decoding a StreamMaxMoney frame, if the receiveMax is too large to fit in
  a UInt64, decode receiveMax as MaxUInt64" (and the same for StreamMoneyBlocked.sendMax).
* Error codes are a UInt8; unknown codes are accepted (kept as plain ``int``).
* Bytes after a frame's known fields (inside its length-prefixed contents) are ignored, so a
  future version may extend a frame.

Frames do not validate ILP addresses: the connection does when it uses one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar

from wallet.ilp.errors import InvalidValueError, OverflowCodecError, TruncatedError
from wallet.ilp.oer import U64_MAX, Reader, encode_var_octet_string, encode_var_uint

__all__ = [
    "ConnectionAssetDetailsFrame",
    "ConnectionCloseFrame",
    "ConnectionDataBlockedFrame",
    "ConnectionMaxDataFrame",
    "ConnectionMaxStreamIdFrame",
    "ConnectionNewAddressFrame",
    "ConnectionStreamIdBlockedFrame",
    "ErrorCode",
    "Frame",
    "FrameType",
    "StreamCloseFrame",
    "StreamDataBlockedFrame",
    "StreamDataFrame",
    "StreamMaxDataFrame",
    "StreamMaxMoneyFrame",
    "StreamMoneyBlockedFrame",
    "StreamMoneyFrame",
    "StreamReceiptFrame",
    "decode_frame",
    "encode_frame",
    "read_var_uint_at",
]


class FrameType(IntEnum):
    """RFC 29 §5.3 frame type ids (and RFC 39's StreamReceipt)."""

    CONNECTION_CLOSE = 0x01
    CONNECTION_NEW_ADDRESS = 0x02
    CONNECTION_MAX_DATA = 0x03
    CONNECTION_DATA_BLOCKED = 0x04
    CONNECTION_MAX_STREAM_ID = 0x05
    CONNECTION_STREAM_ID_BLOCKED = 0x06
    CONNECTION_ASSET_DETAILS = 0x07
    STREAM_CLOSE = 0x10
    STREAM_MONEY = 0x11
    STREAM_MAX_MONEY = 0x12
    STREAM_MONEY_BLOCKED = 0x13
    STREAM_DATA = 0x14
    STREAM_MAX_DATA = 0x15
    STREAM_DATA_BLOCKED = 0x16
    STREAM_RECEIPT = 0x17


class ErrorCode(IntEnum):
    """RFC 29 §5.4 error codes. Frames carry a plain ``int``: unknown codes are accepted."""

    NO_ERROR = 0x01
    INTERNAL_ERROR = 0x02
    ENDPOINT_BUSY = 0x03
    FLOW_CONTROL_ERROR = 0x04
    STREAM_ID_ERROR = 0x05
    STREAM_STATE_ERROR = 0x06
    FRAME_FORMAT_ERROR = 0x07
    PROTOCOL_VIOLATION = 0x08
    APPLICATION_ERROR = 0x09


def _vu(value: int) -> bytes:
    """encode_var_uint, inlined for speed (the per-packet path)."""
    if 0 <= value < 0x100:
        return bytes((1, value))
    if value < 0 or value > U64_MAX:
        return encode_var_uint(value)  # raises InvalidValueError
    size = (value.bit_length() + 7) >> 3
    return bytes((size,)) + value.to_bytes(size, "big")


def read_var_uint_at(data: bytes, pos: int, what: str) -> tuple[int, int]:
    """A VarUInt at ``pos``: ``(value, next_pos)``. Reader.read_var_uint, inlined for speed.

    Raises:
        CodecError: truncated, zero-length, or longer than 8 bytes.
    """
    end = len(data)
    if pos >= end:
        raise TruncatedError(f"{what}: needs 1 byte at offset {pos}, only 0 left")
    n = data[pos]
    if n == 1:
        if pos + 1 >= end:
            raise TruncatedError(f"{what}: needs 1 byte at offset {pos + 1}, only 0 left")
        return data[pos + 1], pos + 2
    if n == 0:
        raise InvalidValueError(f"{what}: VarUInt of length 0 at offset {pos}")
    if n > 8:
        raise OverflowCodecError(f"{what}: VarUInt of {n} bytes at offset {pos}")
    stop = pos + 1 + n
    if stop > end:
        raise TruncatedError(f"{what}: needs {n} bytes at offset {pos + 1}")
    return int.from_bytes(data[pos + 1 : stop], "big"), stop


def _u8(value: int, what: str) -> bytes:
    if not 0 <= value <= 0xFF:
        raise InvalidValueError(f"{what} must be a UInt8, got {value}")
    return bytes((value,))


def _vs(value: str) -> bytes:
    return encode_var_octet_string(value.encode("utf-8"))


@dataclass(frozen=True, slots=True)
class ConnectionCloseFrame:
    """0x01 — RFC 29 §5.3.1."""

    TYPE: ClassVar[FrameType] = FrameType.CONNECTION_CLOSE
    error_code: int
    error_message: str = ""

    def contents(self) -> bytes:
        return _u8(self.error_code, "error code") + _vs(self.error_message)


@dataclass(frozen=True, slots=True)
class ConnectionNewAddressFrame:
    """0x02 — RFC 29 §5.3.2: "New ILP address of the endpoint that sent the frame"."""

    TYPE: ClassVar[FrameType] = FrameType.CONNECTION_NEW_ADDRESS
    source_account: str

    def contents(self) -> bytes:
        return _vs(self.source_account)


@dataclass(frozen=True, slots=True)
class ConnectionMaxDataFrame:
    """0x03 — RFC 29 §5.3.3: total bytes the endpoint is willing to receive."""

    TYPE: ClassVar[FrameType] = FrameType.CONNECTION_MAX_DATA
    max_offset: int

    def contents(self) -> bytes:
        return _vu(self.max_offset)


@dataclass(frozen=True, slots=True)
class ConnectionDataBlockedFrame:
    """0x04 — RFC 29 §5.3.4: total bytes the endpoint wants to send."""

    TYPE: ClassVar[FrameType] = FrameType.CONNECTION_DATA_BLOCKED
    max_offset: int

    def contents(self) -> bytes:
        return _vu(self.max_offset)


@dataclass(frozen=True, slots=True)
class ConnectionMaxStreamIdFrame:
    """0x05 — RFC 29 §5.3.5: the maximum stream id the endpoint is willing to accept."""

    TYPE: ClassVar[FrameType] = FrameType.CONNECTION_MAX_STREAM_ID
    max_stream_id: int

    def contents(self) -> bytes:
        return _vu(self.max_stream_id)


@dataclass(frozen=True, slots=True)
class ConnectionStreamIdBlockedFrame:
    """0x06 — RFC 29 §5.3.6: the maximum stream id the endpoint wishes to open."""

    TYPE: ClassVar[FrameType] = FrameType.CONNECTION_STREAM_ID_BLOCKED
    max_stream_id: int

    def contents(self) -> bytes:
        return _vu(self.max_stream_id)


@dataclass(frozen=True, slots=True)
class ConnectionAssetDetailsFrame:
    """0x07 — RFC 29 §5.3.14: "MUST NOT change during the lifetime of a Connection"."""

    TYPE: ClassVar[FrameType] = FrameType.CONNECTION_ASSET_DETAILS
    source_asset_code: str
    source_asset_scale: int

    def contents(self) -> bytes:
        return _vs(self.source_asset_code) + _u8(self.source_asset_scale, "asset scale")


@dataclass(frozen=True, slots=True)
class StreamCloseFrame:
    """0x10 — RFC 29 §5.3.7."""

    TYPE: ClassVar[FrameType] = FrameType.STREAM_CLOSE
    stream_id: int
    error_code: int
    error_message: str = ""

    def contents(self) -> bytes:
        return _vu(self.stream_id) + _u8(self.error_code, "error code") + _vs(self.error_message)


@dataclass(frozen=True, slots=True)
class StreamMoneyFrame:
    """0x11 — RFC 29 §5.3.8: "Proportion of the ILP Prepare amount destined for the stream"."""

    TYPE: ClassVar[FrameType] = FrameType.STREAM_MONEY
    stream_id: int
    shares: int

    def contents(self) -> bytes:
        return _vu(self.stream_id) + _vu(self.shares)


@dataclass(frozen=True, slots=True)
class StreamMaxMoneyFrame:
    """0x12 — RFC 29 §5.3.9: amounts in the units of the endpoint sending the frame."""

    TYPE: ClassVar[FrameType] = FrameType.STREAM_MAX_MONEY
    stream_id: int
    receive_max: int
    total_received: int

    def contents(self) -> bytes:
        return _vu(self.stream_id) + _vu(self.receive_max) + _vu(self.total_received)


@dataclass(frozen=True, slots=True)
class StreamMoneyBlockedFrame:
    """0x13 — RFC 29 §5.3.10."""

    TYPE: ClassVar[FrameType] = FrameType.STREAM_MONEY_BLOCKED
    stream_id: int
    send_max: int
    total_sent: int

    def contents(self) -> bytes:
        return _vu(self.stream_id) + _vu(self.send_max) + _vu(self.total_sent)


@dataclass(frozen=True, slots=True)
class StreamDataFrame:
    """0x14 — RFC 29 §5.3.11: "Fragments ... MUST NOT ever overlap with one another"."""

    TYPE: ClassVar[FrameType] = FrameType.STREAM_DATA
    stream_id: int
    offset: int
    data: bytes

    def contents(self) -> bytes:
        return b"".join((_vu(self.stream_id), _vu(self.offset), encode_var_octet_string(self.data)))


@dataclass(frozen=True, slots=True)
class StreamMaxDataFrame:
    """0x15 — RFC 29 §5.3.12: total bytes the endpoint is willing to receive on this stream."""

    TYPE: ClassVar[FrameType] = FrameType.STREAM_MAX_DATA
    stream_id: int
    max_offset: int

    def contents(self) -> bytes:
        return _vu(self.stream_id) + _vu(self.max_offset)


@dataclass(frozen=True, slots=True)
class StreamDataBlockedFrame:
    """0x16 — RFC 29 §5.3.13."""

    TYPE: ClassVar[FrameType] = FrameType.STREAM_DATA_BLOCKED
    stream_id: int
    max_offset: int

    def contents(self) -> bytes:
        return _vu(self.stream_id) + _vu(self.max_offset)


@dataclass(frozen=True, slots=True)
class StreamReceiptFrame:
    """0x17 — RFC 39: the receiver's latest receipt for a stream (58 bytes, opaque here)."""

    TYPE: ClassVar[FrameType] = FrameType.STREAM_RECEIPT
    stream_id: int
    receipt: bytes

    def contents(self) -> bytes:
        return _vu(self.stream_id) + encode_var_octet_string(self.receipt)


Frame = (
    ConnectionCloseFrame
    | ConnectionNewAddressFrame
    | ConnectionMaxDataFrame
    | ConnectionDataBlockedFrame
    | ConnectionMaxStreamIdFrame
    | ConnectionStreamIdBlockedFrame
    | ConnectionAssetDetailsFrame
    | StreamCloseFrame
    | StreamMoneyFrame
    | StreamMaxMoneyFrame
    | StreamMoneyBlockedFrame
    | StreamDataFrame
    | StreamMaxDataFrame
    | StreamDataBlockedFrame
    | StreamReceiptFrame
)


def encode_frame(frame: Frame) -> bytes:
    """``type UInt8 | var-octet-string(contents)``.

    Raises:
        InvalidValueError: a field is out of range (negative, above u64, UInt8 > 255).
    """
    contents = frame.contents()
    n = len(contents)
    if n < 0x80:
        return bytes((frame.TYPE, n)) + contents
    return bytes((frame.TYPE,)) + encode_var_octet_string(contents)


def decode_frame(frame_type: int, contents: bytes) -> Frame | None:
    """One frame from its type and contents; ``None`` for an unknown type (to be skipped).

    Raises:
        CodecError: the contents do not parse as that frame type.
    """
    t = frame_type
    # Fast paths for the frames in every money packet and reply.
    if t == 0x11:
        stream_id, pos = read_var_uint_at(contents, 0, "streamId")
        return StreamMoneyFrame(stream_id, read_var_uint_at(contents, pos, "shares")[0])
    if t == 0x15:
        stream_id, pos = read_var_uint_at(contents, 0, "streamId")
        return StreamMaxDataFrame(stream_id, read_var_uint_at(contents, pos, "maxOffset")[0])
    if t == 0x03:
        return ConnectionMaxDataFrame(read_var_uint_at(contents, 0, "maxOffset")[0])
    n = len(contents)
    if t == 0x12 and n > 1 and 1 + contents[0] < n and contents[1 + contents[0]] <= 8:
        # StreamMaxMoney whose receiveMax fits in 64 bits (else: the saturating path below).
        stream_id, pos = read_var_uint_at(contents, 0, "streamId")
        receive_max, pos = read_var_uint_at(contents, pos, "receiveMax")
        total, _ = read_var_uint_at(contents, pos, "totalReceived")
        return StreamMaxMoneyFrame(stream_id, receive_max, total)
    r = Reader(contents)
    if t == 0x14:
        return StreamDataFrame(
            r.read_var_uint("streamId"), r.read_var_uint("offset"), r.read_var_octet_string("data")
        )
    if t == 0x12:
        return StreamMaxMoneyFrame(
            r.read_var_uint("streamId"),
            r.read_var_uint_saturating("receiveMax"),
            r.read_var_uint("totalReceived"),
        )
    if t == 0x01:
        return ConnectionCloseFrame(r.read_uint8("errorCode"), r.read_var_string("errorMessage"))
    if t == 0x02:
        return ConnectionNewAddressFrame(r.read_var_string("sourceAccount"))
    if t == 0x04:
        return ConnectionDataBlockedFrame(r.read_var_uint("maxOffset"))
    if t == 0x05:
        return ConnectionMaxStreamIdFrame(r.read_var_uint("maxStreamId"))
    if t == 0x06:
        return ConnectionStreamIdBlockedFrame(r.read_var_uint("maxStreamId"))
    if t == 0x07:
        return ConnectionAssetDetailsFrame(
            r.read_var_string("sourceAssetCode"), r.read_uint8("sourceAssetScale")
        )
    if t == 0x10:
        return StreamCloseFrame(
            r.read_var_uint("streamId"), r.read_uint8("errorCode"), r.read_var_string("message")
        )
    if t == 0x13:
        return StreamMoneyBlockedFrame(
            r.read_var_uint("streamId"),
            r.read_var_uint_saturating("sendMax"),
            r.read_var_uint("totalSent"),
        )
    if t == 0x16:
        return StreamDataBlockedFrame(r.read_var_uint("streamId"), r.read_var_uint("maxOffset"))
    if t == 0x17:
        return StreamReceiptFrame(r.read_var_uint("streamId"), r.read_var_octet_string("receipt"))
    return None
