"""The STREAM packet (RFC 29 §5.2) and its encrypted form.

Owns: :class:`StreamPacket`, its codec, and sealing/opening with a connection's keys.

``version UInt8 (=1) | ilpPacketType UInt8 | sequence VarUInt | prepareAmount VarUInt |
frames SEQUENCE OF Frame | junk``

* "Junk Data — Extra bytes that MUST be ignored": bytes after the declared frames are ignored.
* Unknown frame types are skipped (RFC 29 §5.3); a *known* frame whose contents do not parse
  makes the whole packet invalid (interledger-rs; ilp-protocol-stream would drop just the frame).
* ``prepare_amount``: in a Prepare, the minimum the receiver should accept; in a Fulfill or
  Reject, the amount that arrived (RFC 29 §5.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from wallet.ilp.errors import InvalidValueError, TruncatedError
from wallet.ilp.oer import U64_MAX, Reader, encode_var_uint
from wallet.stream.crypto import StreamKeys
from wallet.stream.frames import Frame, decode_frame, encode_frame, read_var_uint_at

__all__ = ["STREAM_VERSION", "IlpPacketType", "StreamPacket"]

STREAM_VERSION = 1


class IlpPacketType(IntEnum):
    """RFC 29 §5.2: the ILPv4 packet type a STREAM packet MUST be sent in."""

    PREPARE = 12
    FULFILL = 13
    REJECT = 14


def _vu(value: int) -> bytes:
    if 0 <= value < 0x100:
        return bytes((1, value))
    if value < 0 or value > U64_MAX:
        return encode_var_uint(value)  # raises InvalidValueError
    size = (value.bit_length() + 7) >> 3
    return bytes((size,)) + value.to_bytes(size, "big")


@dataclass(frozen=True, slots=True)
class StreamPacket:
    """A decrypted STREAM packet."""

    sequence: int
    ilp_packet_type: int
    prepare_amount: int
    frames: tuple[Frame, ...] = ()

    def to_bytes(self) -> bytes:
        """The plaintext encoding.

        Raises:
            InvalidValueError: a field is out of range.
        """
        if self.ilp_packet_type not in (12, 13, 14):
            raise InvalidValueError(f"ILP packet type {self.ilp_packet_type}")
        parts = [
            bytes((STREAM_VERSION, self.ilp_packet_type)),
            _vu(self.sequence),
            _vu(self.prepare_amount),
            _vu(len(self.frames)),
        ]
        parts.extend(encode_frame(f) for f in self.frames)
        return b"".join(parts)

    @classmethod
    def from_bytes(cls, data: bytes) -> StreamPacket:
        """Parse a plaintext STREAM packet.

        Raises:
            CodecError: truncated, bad version or packet type, or a known frame that does not
                parse. Nothing else escapes.
        """
        n = len(data)
        if n < 2:
            raise TruncatedError(f"STREAM packet of {n} bytes")
        version = data[0]
        if version != STREAM_VERSION:
            raise InvalidValueError(f"unsupported STREAM version {version}")
        packet_type = data[1]
        if packet_type not in (12, 13, 14):
            raise InvalidValueError(f"invalid ILP packet type {packet_type}")
        sequence, pos = read_var_uint_at(data, 2, "sequence")
        amount, pos = read_var_uint_at(data, pos, "prepareAmount")
        count, pos = read_var_uint_at(data, pos, "frame count")
        frames: list[Frame] = []
        append = frames.append
        for _ in range(count):
            if pos + 1 >= n:
                raise TruncatedError(f"frame at offset {pos}: packet ends")
            frame_type = data[pos]
            length = data[pos + 1]
            if length < 0x80:
                start = pos + 2
            else:
                r = Reader(data, pos + 1)
                length = r.read_length_prefix("frame length")
                start = r.pos
            pos = start + length
            if pos > n:
                raise TruncatedError(f"frame contents at offset {start}: needs {length} bytes")
            frame = decode_frame(frame_type, data[start:pos])
            if frame is not None:
                append(frame)
        return cls(sequence, packet_type, amount, tuple(frames))

    def seal(self, keys: StreamKeys, nonce: bytes) -> bytes:
        """Encode and encrypt (RFC 29 §5.1) with a fresh 12-byte ``nonce``."""
        return keys.encrypt(self.to_bytes(), nonce)

    @classmethod
    def open(cls, keys: StreamKeys, data: bytes) -> StreamPacket:
        """Decrypt and parse.

        Raises:
            DecryptionError: the data does not decrypt with these keys.
            CodecError: it decrypts but does not parse.
        """
        return cls.from_bytes(keys.decrypt(data))
