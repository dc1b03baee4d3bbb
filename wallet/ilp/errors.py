"""Codec errors: everything that can be wrong with bytes on the wire.

Each error says what was being read and at which offset. Nothing else escapes a parser:
``IndexError``, ``struct.error`` and ``UnicodeDecodeError`` are always wrapped.
"""

from __future__ import annotations

from wallet.errors import WalletError


class CodecError(WalletError, ValueError):
    """The bytes are not a valid encoding (or a value cannot be encoded)."""


class TruncatedError(CodecError):
    """The input ended before the value did."""


class NonCanonicalError(CodecError):
    """A valid value in a non-canonical encoding (e.g. a long-form length prefix)."""


class OverflowCodecError(CodecError):
    """A number too large for its field."""


class TrailingBytesError(CodecError):
    """Bytes left over after a complete value."""


class UnknownTypeError(CodecError):
    """A type byte that this codec does not know."""


class InvalidValueError(CodecError):
    """Well-formed bytes carrying a value the spec forbids (bad address, bad timestamp, ...)."""


class InvalidAddressError(InvalidValueError):
    """Not a valid ILP address (RFC 15)."""
