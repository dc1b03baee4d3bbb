"""STREAM errors (h11/h2 style): what went wrong, whose fault it was, and the STREAM code.

* :class:`LocalProtocolError` — *we* (the application or driver) misused the connection:
  sending on a closed stream, opening a stream beyond our own limits, a budget that refuses.
* :class:`RemoteProtocolError` — the peer broke RFC 29 (flow control, stream ids, asset
  details, a lying fulfillment).
* :class:`ExchangeRateError` — the path's exchange rate is unusable (too imprecise, or below
  the minimum acceptable rate).
* :class:`DecryptionError` — data that does not decrypt with this connection's key.

Every protocol error carries the RFC 29 §5.4 ``code`` it closes the connection with.
"""

from __future__ import annotations

from wallet.errors import WalletError
from wallet.stream.frames import ErrorCode


class StreamError(WalletError):
    """Base of every STREAM error."""


class DecryptionError(StreamError):
    """AES-256-GCM authentication failed: wrong key, or corrupted/foreign data."""


class ProtocolError(StreamError):
    """A STREAM-level failure with the RFC 29 §5.4 error code it closes with."""

    def __init__(self, message: str, code: int = ErrorCode.PROTOCOL_VIOLATION) -> None:
        super().__init__(message)
        self.code = code

    @property
    def message(self) -> str:
        return str(self)


class LocalProtocolError(ProtocolError):
    """We (application or driver) broke the rules or asked for the impossible."""


class RemoteProtocolError(ProtocolError):
    """The peer broke the rules (RFC 29), or lied."""


class ExchangeRateError(ProtocolError):
    """The path's exchange rate is too imprecise or below the minimum acceptable rate."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ErrorCode.APPLICATION_ERROR)


class ConnectionFailedError(ProtocolError):
    """The path failed in a way retrying will not fix (final ILP reject, timeouts, idle)."""

    def __init__(self, message: str, code: int = ErrorCode.INTERNAL_ERROR) -> None:
        super().__init__(message, code)
