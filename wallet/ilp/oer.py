"""Canonical OER (RFC 30) as ILP, STREAM, IL-DCP and BTP use it.

Owns: fixed-size big-endian unsigned integers, VarUInt, and variable-length octet strings.

Decisions:

* Length prefixes must be canonical. RFC 30: "the length determinant ... shall be encoded in
  the minimum number of octets". ``0x80`` (indefinite) and long forms of short lengths raise
  :class:`NonCanonicalError`, as the JS reader (oer-utils) does.
* Zero-padded VarUInts (``02 00 01`` for 1) are **accepted on read** by default, as oer-utils
  and non-strict interledger-rs do, so Trickle never refuses a packet the reference peers would
  accept. ``Reader(strict=True)`` rejects them with :class:`NonCanonicalError`. Writers always
  emit the minimal form.
* VarUInts longer than 8 bytes are an :class:`OverflowCodecError`, except through
  :meth:`Reader.read_var_uint_saturating`, which RFC 29 needs ("values above u64 MUST saturate").
"""

from __future__ import annotations

from wallet.ilp.errors import (
    InvalidValueError,
    NonCanonicalError,
    OverflowCodecError,
    TruncatedError,
)

U8_MAX = 0xFF
U16_MAX = 0xFFFF
U32_MAX = 0xFFFF_FFFF
U64_MAX = 0xFFFF_FFFF_FFFF_FFFF

__all__ = [
    "U8_MAX",
    "U16_MAX",
    "U32_MAX",
    "U64_MAX",
    "Reader",
    "Writer",
    "encode_length_prefix",
    "encode_var_octet_string",
    "encode_var_uint",
]


def encode_length_prefix(length: int) -> bytes:
    """The canonical OER length determinant for ``length`` bytes."""
    if length < 0x80:
        return bytes((length,))
    size = (length.bit_length() + 7) // 8
    return bytes((0x80 | size,)) + length.to_bytes(size, "big")


def encode_var_octet_string(value: bytes) -> bytes:
    """A length-prefixed octet string."""
    n = len(value)
    if n < 0x80:
        return bytes((n,)) + value
    return encode_length_prefix(n) + value


def encode_var_uint(value: int) -> bytes:
    """A VarUInt: one length byte (1..8), then the minimal big-endian bytes.

    Raises:
        InvalidValueError: the value is negative or above 2^64-1.
    """
    if value < 0 or value > U64_MAX:
        raise InvalidValueError(f"VarUInt out of range: {value}")
    size = (value.bit_length() + 7) // 8 or 1
    return bytes((size,)) + value.to_bytes(size, "big")


class Reader:
    """Reads OER values from a byte string, tracking the position for error messages.

    Every failure raises a :class:`~wallet.ilp.errors.CodecError` subclass that names what was
    being read and at which offset.
    """

    __slots__ = ("data", "pos", "strict")

    def __init__(self, data: bytes, pos: int = 0, *, strict: bool = False) -> None:
        self.data = data
        self.pos = pos
        self.strict = strict

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos

    def _take(self, n: int, what: str) -> bytes:
        start = self.pos
        end = start + n
        if end > len(self.data):
            raise TruncatedError(
                f"{what}: needs {n} bytes at offset {start}, only {len(self.data) - start} left"
            )
        self.pos = end
        return self.data[start:end]

    def read_octets(self, n: int, what: str = "octets") -> bytes:
        """Exactly ``n`` raw bytes."""
        return self._take(n, what)

    def read_uint(self, size: int, what: str = "UInt") -> int:
        return int.from_bytes(self._take(size, what), "big")

    def read_uint8(self, what: str = "UInt8") -> int:
        pos = self.pos
        if pos >= len(self.data):
            raise TruncatedError(f"{what}: needs 1 byte at offset {pos}, only 0 left")
        self.pos = pos + 1
        return self.data[pos]

    def read_uint16(self, what: str = "UInt16") -> int:
        return self.read_uint(2, what)

    def read_uint32(self, what: str = "UInt32") -> int:
        return self.read_uint(4, what)

    def read_uint64(self, what: str = "UInt64") -> int:
        return self.read_uint(8, what)

    def _var_uint_bytes(self, what: str, *, limit: int | None) -> bytes:
        at = self.pos
        size = self.read_uint8(what)
        if size == 0:
            raise InvalidValueError(f"{what}: VarUInt of length 0 at offset {at}")
        if limit is not None and size > limit:
            raise OverflowCodecError(
                f"{what}: VarUInt of {size} bytes at offset {at} does not fit in 64 bits"
            )
        raw = self._take(size, what)
        if self.strict and size > 1 and raw[0] == 0:
            raise NonCanonicalError(f"{what}: zero-padded VarUInt at offset {at}")
        return raw

    def read_var_uint(self, what: str = "VarUInt") -> int:
        """A VarUInt of at most 8 bytes.

        Raises:
            OverflowCodecError: more than 8 bytes.
        """
        return int.from_bytes(self._var_uint_bytes(what, limit=8), "big")

    def read_var_uint_saturating(self, what: str = "VarUInt") -> int:
        """A VarUInt of any length, clamped to 2^64-1 (RFC 29 StreamMaxMoney/MoneyBlocked)."""
        value = int.from_bytes(self._var_uint_bytes(what, limit=None), "big")
        return value if value <= U64_MAX else U64_MAX

    def read_length_prefix(self, what: str = "length") -> int:
        at = self.pos
        first = self.read_uint8(what)
        if first < 0x80:
            return first
        size = first & 0x7F
        if size == 0:
            raise NonCanonicalError(f"{what}: indefinite length prefix 0x80 at offset {at}")
        if size > 8:
            raise OverflowCodecError(f"{what}: length-of-length {size} at offset {at} too large")
        length = int.from_bytes(self._take(size, what), "big")
        if length < 0x80 or (length.bit_length() + 7) // 8 != size:
            raise NonCanonicalError(
                f"{what}: length {length} encoded in {size} bytes at offset {at} is not canonical"
            )
        return length

    def read_var_octet_string(self, what: str = "var-octet-string") -> bytes:
        data = self.data
        pos = self.pos
        # Fast path: the short form, the overwhelmingly common case.
        if pos < len(data) and data[pos] < 0x80:
            n = data[pos]
            end = pos + 1 + n
            if end > len(data):
                raise TruncatedError(
                    f"{what}: needs {n} bytes at offset {pos + 1}, only {len(data) - pos - 1} left"
                )
            self.pos = end
            return data[pos + 1 : end]
        return self._take(self.read_length_prefix(what), what)

    def read_var_string(self, what: str = "var-string") -> str:
        """A length-prefixed UTF-8 string."""
        at = self.pos
        raw = self.read_var_octet_string(what)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise InvalidValueError(f"{what}: invalid UTF-8 at offset {at}") from e

    def read_var_ascii(self, what: str = "var-string") -> str:
        """A length-prefixed ASCII string."""
        at = self.pos
        raw = self.read_var_octet_string(what)
        if not raw.isascii():
            raise InvalidValueError(f"{what}: non-ASCII bytes at offset {at}")
        return raw.decode("ascii")


class Writer:
    """Accumulates OER values; :meth:`getvalue` returns the bytes."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write_octets(self, value: bytes) -> None:
        self._parts.append(value)

    def write_uint(self, value: int, size: int) -> None:
        if value < 0 or value.bit_length() > size * 8:
            raise InvalidValueError(f"UInt{size * 8} out of range: {value}")
        self._parts.append(value.to_bytes(size, "big"))

    def write_uint8(self, value: int) -> None:
        self.write_uint(value, 1)

    def write_uint16(self, value: int) -> None:
        self.write_uint(value, 2)

    def write_uint32(self, value: int) -> None:
        self.write_uint(value, 4)

    def write_uint64(self, value: int) -> None:
        self.write_uint(value, 8)

    def write_var_uint(self, value: int) -> None:
        self._parts.append(encode_var_uint(value))

    def write_var_octet_string(self, value: bytes) -> None:
        self._parts.append(encode_var_octet_string(value))

    def write_var_string(self, value: str) -> None:
        self._parts.append(encode_var_octet_string(value.encode("utf-8")))

    def getvalue(self) -> bytes:
        return b"".join(self._parts)
