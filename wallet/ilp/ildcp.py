"""IL-DCP (RFC 31): how a child learns its ILP address and asset from its parent.

RFC 31: the request is an ILP Prepare to ``peer.config`` with amount 0, "executionCondition:
Zmh6rfhivXdsj8GLjp+OIAiXFIVu4jOzkCpZHQ1fKSU=" (the SHA-256 of 32 zero bytes) and empty data. The
response is a Fulfill with a fulfillment of 32 zero bytes and data ``address var-string |
assetScale UInt8 | assetCode var-string``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from wallet.ilp.address import is_valid_address
from wallet.ilp.errors import InvalidValueError
from wallet.ilp.oer import Reader, encode_var_octet_string
from wallet.ilp.packet import Fulfill, Prepare

ILDCP_DESTINATION = "peer.config"
ILDCP_FULFILLMENT = bytes(32)
ILDCP_CONDITION = hashlib.sha256(ILDCP_FULFILLMENT).digest()

__all__ = [
    "ILDCP_CONDITION",
    "ILDCP_DESTINATION",
    "ILDCP_FULFILLMENT",
    "IldcpError",
    "IldcpResponse",
    "check_ildcp_request",
    "ildcp_request",
    "is_ildcp_request",
]


class IldcpError(InvalidValueError):
    """A packet that claims to be IL-DCP but breaks RFC 31."""


def ildcp_request(expires_at: datetime) -> Prepare:
    """The ``peer.config`` Prepare (RFC 31 recommends expiry about 60 s out)."""
    return Prepare(0, expires_at, ILDCP_CONDITION, ILDCP_DESTINATION, b"")


def is_ildcp_request(prepare: Prepare) -> bool:
    """Whether ``prepare`` is addressed to ``peer.config``."""
    return prepare.destination == ILDCP_DESTINATION


def check_ildcp_request(prepare: Prepare) -> None:
    """Validate an incoming IL-DCP request.

    Raises:
        IldcpError: wrong destination or condition.
    """
    if prepare.destination != ILDCP_DESTINATION:
        raise IldcpError("packet is not an IL-DCP request")
    if prepare.execution_condition != ILDCP_CONDITION:
        raise IldcpError("packet does not contain the IL-DCP condition")


@dataclass(frozen=True, slots=True)
class IldcpResponse:
    """What the parent tells the child: its address and the asset amounts are in."""

    client_address: str
    asset_scale: int
    asset_code: str

    def __post_init__(self) -> None:
        if not is_valid_address(self.client_address):
            raise IldcpError(f"IL-DCP address is not valid: {self.client_address!r}")
        if not 0 <= self.asset_scale <= 255:
            raise IldcpError(f"IL-DCP asset scale must be a UInt8, got {self.asset_scale}")

    def to_data(self) -> bytes:
        return (
            encode_var_octet_string(self.client_address.encode("ascii"))
            + bytes((self.asset_scale,))
            + encode_var_octet_string(self.asset_code.encode("utf-8"))
        )

    def to_fulfill(self) -> Fulfill:
        return Fulfill(ILDCP_FULFILLMENT, self.to_data())

    @classmethod
    def from_data(cls, data: bytes) -> IldcpResponse:
        """Parse the Fulfill's data.

        Raises:
            CodecError: malformed data.
        """
        r = Reader(data)
        address = r.read_var_ascii("IL-DCP address")
        scale = r.read_uint8("IL-DCP asset scale")
        code = r.read_var_string("IL-DCP asset code")
        return cls(address, scale, code)

    @classmethod
    def from_fulfill(cls, fulfill: Fulfill) -> IldcpResponse:
        """Parse and check an IL-DCP response.

        Raises:
            IldcpError: the fulfillment is not 32 zero bytes.
            CodecError: malformed data.
        """
        if fulfill.fulfillment != ILDCP_FULFILLMENT:
            raise IldcpError("IL-DCP response does not contain the expected fulfillment")
        return cls.from_data(fulfill.data)
