"""ILP error codes (RFC 27 §"ILP Error Codes") and the F08 reject data.

RFC 27: "F__ - Final Error ... T__ - Temporary Error ... R__ - Relative Error". Codes are three
ASCII characters; unknown codes must be accepted and are classified by their first letter.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from wallet.ilp.errors import InvalidValueError, TruncatedError

__all__ = ["AmountTooLarge", "ErrorCode", "error_class", "error_name"]


class ErrorCode(StrEnum):
    F00_BAD_REQUEST = "F00"
    F01_INVALID_PACKET = "F01"
    F02_UNREACHABLE = "F02"
    F03_INVALID_AMOUNT = "F03"
    F04_INSUFFICIENT_DESTINATION_AMOUNT = "F04"
    F05_WRONG_CONDITION = "F05"
    F06_UNEXPECTED_PAYMENT = "F06"
    F07_CANNOT_RECEIVE = "F07"
    F08_AMOUNT_TOO_LARGE = "F08"
    F99_APPLICATION_ERROR = "F99"
    T00_INTERNAL_ERROR = "T00"
    T01_PEER_UNREACHABLE = "T01"
    T02_PEER_BUSY = "T02"
    T03_CONNECTOR_BUSY = "T03"
    T04_INSUFFICIENT_LIQUIDITY = "T04"
    T05_RATE_LIMITED = "T05"
    T99_APPLICATION_ERROR = "T99"
    R00_TRANSFER_TIMED_OUT = "R00"
    R01_INSUFFICIENT_SOURCE_AMOUNT = "R01"
    R02_INSUFFICIENT_TIMEOUT = "R02"
    R99_APPLICATION_ERROR = "R99"


_NAMES = {code.value: code.name.split("_", 1)[1].replace("_", " ").title() for code in ErrorCode}
_CLASSES = {"F": "final", "T": "temporary", "R": "relative"}


def error_name(code: str) -> str:
    """A readable name for ``code`` ("Amount Too Large"); unknown codes get their class."""
    if code in _NAMES:
        return _NAMES[code]
    return f"{error_class(code).title()} Error {code}"


def error_class(code: str) -> str:
    """``"final"``, ``"temporary"``, ``"relative"`` or ``"unknown"``."""
    return _CLASSES.get(code[:1], "unknown")


@dataclass(frozen=True, slots=True)
class AmountTooLarge:
    """F08 data. RFC 27: "amount received (UInt64) | maximum amount (UInt64)"."""

    received_amount: int
    maximum_amount: int

    def to_bytes(self) -> bytes:
        try:
            return self.received_amount.to_bytes(8, "big") + self.maximum_amount.to_bytes(8, "big")
        except OverflowError as e:
            raise InvalidValueError(f"F08 amounts must be UInt64: {self}") from e

    @classmethod
    def from_bytes(cls, data: bytes) -> AmountTooLarge:
        """Parse F08 data (extra bytes after the two amounts are ignored, as in ilp-packet).

        Raises:
            TruncatedError: fewer than 16 bytes.
        """
        if len(data) < 16:
            raise TruncatedError(f"F08 data: needs 16 bytes, got {len(data)}")
        return cls(int.from_bytes(data[:8], "big"), int.from_bytes(data[8:16], "big"))

    def max_packet_for(self, sent_amount: int) -> int:
        """The largest source amount that would pass, given the ``sent_amount`` that was rejected.

        ``floor(sent * maximum / received)``; amounts are in the rejecting hop's units, so the
        ratio converts back to ours.
        """
        if self.received_amount == 0:
            return sent_amount
        return sent_amount * self.maximum_amount // self.received_amount
