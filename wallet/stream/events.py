"""Events a :class:`~wallet.stream.connection.Connection` hands out (h11 ``_events`` style).

Frozen, slotted, no cross-links: each carries ids and numbers only. Amounts are ``int`` in the
units of the endpoint they are named for (``MoneySent``: ours; ``MoneyReceived``: ours too —
what arrived at us).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from wallet.stream.errors import StreamError

__all__ = [
    "Connected",
    "ConnectionClosed",
    "ConnectionFailed",
    "DataReceived",
    "Event",
    "MoneyReceived",
    "MoneySent",
    "ReceiptReceived",
    "StreamClosed",
    "StreamOpened",
]


@dataclass(frozen=True, slots=True)
class Connected:
    """The connection is usable: the client's rate probe is done, or a server saw its first
    authentic packet. ``exchange_rate`` is destination units per source unit, if measured."""

    exchange_rate: Fraction | None


@dataclass(frozen=True, slots=True)
class StreamOpened:
    """The peer opened ``stream_id`` (RFC 29 §4.4.1)."""

    stream_id: int


@dataclass(frozen=True, slots=True)
class MoneySent:
    """``amount`` (our units) on ``stream_id`` was fulfilled, with a verified fulfillment,
    before expiry, in packet ``packet_id``. ``total_sent`` is the stream's new total."""

    stream_id: int
    amount: int
    total_sent: int
    packet_id: int


@dataclass(frozen=True, slots=True)
class MoneyReceived:
    """``amount`` (our units) arrived on ``stream_id``; we fulfilled it."""

    stream_id: int
    amount: int
    total_received: int


@dataclass(frozen=True, slots=True)
class DataReceived:
    """The next in-order bytes of ``stream_id``."""

    stream_id: int
    data: bytes


@dataclass(frozen=True, slots=True)
class ReceiptReceived:
    """A newer RFC 39 receipt for ``stream_id`` (opaque 58 bytes; the verifier checks it)."""

    stream_id: int
    receipt: bytes
    total_received: int


@dataclass(frozen=True, slots=True)
class StreamClosed:
    """``stream_id`` is closed; ``remote`` says whether the peer closed it."""

    stream_id: int
    error_code: int
    message: str
    remote: bool


@dataclass(frozen=True, slots=True)
class ConnectionFailed:
    """The connection failed (named so as not to shadow the builtin ``ConnectionError``);
    a :class:`ConnectionClosed` follows."""

    error: StreamError


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    """The connection is closed. No new packets will be produced; replies to packets still in
    flight are still accepted (and settle their reservations)."""

    error_code: int
    message: str
    remote: bool


Event = (
    Connected
    | StreamOpened
    | MoneySent
    | MoneyReceived
    | DataReceived
    | ReceiptReceived
    | StreamClosed
    | ConnectionFailed
    | ConnectionClosed
)
