"""STREAM receipts (RFC 39): proof from a receiver of the total received on a stream.

``version UInt8 (=1) | nonce 16 bytes | streamId UInt8 | totalReceived UInt64 |
HMAC-SHA256(secret, the 26 bytes before)`` — always 58 bytes. The stream id is a UInt8, so
streams above 255 cannot carry receipts.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from wallet.ilp.errors import InvalidValueError, TrailingBytesError, TruncatedError
from wallet.stream.errors import StreamError

__all__ = [
    "RECEIPT_LENGTH",
    "InvalidReceiptError",
    "Receipt",
    "create_receipt",
    "decode_receipt",
    "verify_receipt",
]

RECEIPT_VERSION = 1
RECEIPT_LENGTH = 58
_BODY = 26


class InvalidReceiptError(StreamError):
    """A receipt whose HMAC does not verify with the receipt secret."""


@dataclass(frozen=True, slots=True)
class Receipt:
    nonce: bytes
    stream_id: int
    total_received: int
    hmac: bytes


def create_receipt(nonce: bytes, stream_id: int, total_received: int, secret: bytes) -> bytes:
    """The 58-byte receipt (RFC 39 "Specification").

    Raises:
        InvalidValueError: nonce not 16 bytes, stream id above 255, amount out of u64.
    """
    if len(nonce) != 16:
        raise InvalidValueError("receipt nonce must be 16 bytes")
    if not 0 <= stream_id <= 0xFF:
        raise InvalidValueError(f"stream id {stream_id} does not fit a receipt's UInt8")
    if not 0 <= total_received <= 0xFFFF_FFFF_FFFF_FFFF:
        raise InvalidValueError("receipt amount out of range")
    body = b"".join(
        (bytes((RECEIPT_VERSION,)), nonce, bytes((stream_id,)), total_received.to_bytes(8, "big"))
    )
    return body + hmac.digest(secret, body, "sha256")


def decode_receipt(data: bytes) -> Receipt:
    """Parse without verifying.

    Raises:
        CodecError: wrong length or version.
    """
    if len(data) < RECEIPT_LENGTH:
        raise TruncatedError(f"receipt of {len(data)} bytes, expected {RECEIPT_LENGTH}")
    if len(data) > RECEIPT_LENGTH:
        raise TrailingBytesError(f"receipt of {len(data)} bytes, expected {RECEIPT_LENGTH}")
    if data[0] != RECEIPT_VERSION:
        raise InvalidValueError(f"unsupported receipt version {data[0]}")
    return Receipt(data[1:17], data[17], int.from_bytes(data[18:26], "big"), data[26:])


def verify_receipt(data: bytes, secret: bytes) -> Receipt:
    """Parse and check the HMAC (RFC 39: "The Receipt contents produce an HMAC ... identical").

    Staleness and "amount greater than any other receipt" are the verifier's policy.

    Raises:
        CodecError: malformed.
        InvalidReceiptError: the HMAC does not verify.
    """
    receipt = decode_receipt(data)
    if not hmac.compare_digest(hmac.digest(secret, data[:_BODY], "sha256"), receipt.hmac):
        raise InvalidReceiptError("receipt HMAC does not verify")
    return receipt
