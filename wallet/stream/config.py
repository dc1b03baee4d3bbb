"""Connection configuration, roles and the budget hook.

Owns: :class:`Role`, :class:`ConnectionConfig` (every tunable in one frozen value) and the
:class:`BudgetGate` protocol through which the browser's budget approves each packet's source
amount before it leaves and learns its fate.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import Protocol

__all__ = ["BudgetGate", "ConnectionConfig", "ConnectionState", "Outcome", "Role"]


class Role(Enum):
    """RFC 29 §2: the client initiates; the server accepts. Decides stream-id parity
    (client odd, server even — §3.3) and who probes first."""

    CLIENT = "client"
    SERVER = "server"


class ConnectionState(Enum):
    OPEN = "open"
    CLOSING = "closing"  # graceful close: draining streams, then ConnectionClose
    CLOSED = "closed"


class Outcome(Enum):
    """What became of a money-carrying packet, as far as the sender can know.

    ================  ==========================================================  ===========
    outcome           when                                                        the money
    ================  ==========================================================  ===========
    FULFILLED         a Fulfill before expiry whose ``sha256(fulfillment)`` is    spent
                      the condition
    REFUSED           a Reject before expiry carrying the receiver's own STREAM   not paid
                      reply (it decrypts with the connection's keys, has our
                      sequence and the Reject type: RFC 29 §5.2)
    REJECTED          a Reject before expiry without such a reply (a connector    unverified
                      on the path, or forged by whoever carries our packets)
    EXPIRED           no reply by the Prepare's expiry                            uncertain
    LATE              a reply that came after the Prepare's expiry                uncertain
    BAD_FULFILLMENT   a Fulfill whose fulfillment does not hash to the condition  uncertain
    LOST              the path failed after the Prepare may have left (an error,  uncertain
                      a malformed answer, the carrier gone)
    ================  ==========================================================  ===========

    Only ``REFUSED`` proves the receiver did not get the money. What an unverified or uncertain
    outcome costs is the budget's decision (``wallet.payments``), not the connection's: STREAM
    only says what it saw. Either way the connection treats every outcome but ``FULFILLED`` as
    "not sent" for its streams (it may send that money again, within ``send_max``).
    """

    FULFILLED = "fulfilled"
    REFUSED = "refused"
    REJECTED = "rejected"
    EXPIRED = "expired"
    LATE = "late"
    BAD_FULFILLMENT = "bad_fulfillment"
    LOST = "lost"

    @property
    def uncertain(self) -> bool:
        """The receiver may have been paid and nothing trustworthy says otherwise."""
        return self in _UNCERTAIN


_UNCERTAIN = frozenset({Outcome.EXPIRED, Outcome.LATE, Outcome.BAD_FULFILLMENT, Outcome.LOST})


class BudgetGate(Protocol):
    """Approves and settles the source amount of every money-carrying packet.

    The connection calls, synchronously and exactly in this order for each packet id:

    * ``reserve(packet_id, amount)`` before the Prepare is handed out. Return how much of
      ``amount`` is approved (``0``..``amount``); the packet carries at most that. ``0`` sends
      no money now (the connection tries again on the next ``packets_to_send``).
    * then exactly once ``settle(packet_id, amount, outcome, delivered)``: ``amount`` is the
      approved amount, ``outcome`` an :class:`Outcome`, ``delivered`` what the receiver's
      authentic reply says arrived (its units; 0 when there is none).

    Zero-amount packets (data, control, probes) never reach the gate.
    """

    def reserve(self, packet_id: int, amount: int) -> int: ...

    def settle(self, packet_id: int, amount: int, outcome: Outcome, delivered: int = 0) -> None: ...


@dataclass(frozen=True, slots=True)
class ConnectionConfig:
    """Everything a connection needs besides its role and randomness.

    Attributes:
        shared_secret: the 32-byte secret from SPSP / the server's credentials.
        asset_code, asset_scale: our own asset (IL-DCP), sent in ConnectionAssetDetails.
        source_account: our own ILP address; ``None`` if we cannot receive Prepares.
        destination_account: the peer's address (the client must know it; a server learns
            it from the client's ConnectionNewAddress).
        slippage: the tolerated drop from the probed rate; the minimum acceptable rate is
            ``rate * (1 - slippage)`` (WIRE-NOTES §6.2).
        minimum_exchange_rate: an absolute floor (raw units, destination per source); if the
            probed rate is below it the connection fails with an ExchangeRateError.
        max_packet_amount: a known ceiling (else learnt from F08).
        initial_window, max_window: the congestion window (packets in flight).
        expiry: seconds until a Prepare we send expires (30 s, as the JS reference).
        idle_timeout: close after this long without any packet either way (``None``: never).
        keepalive: a client with nothing to send for this long sends a zero-amount packet
            (``ConnectionMaxData`` only), so neither side closes the connection for
            inactivity while the application merely pauses, e.g. a browser tab that is
            hidden; ``None``: never (as the JS reference, whose receivers close after 60 s).
            Pings land on a grid of half this period on the monotonic clock, so many idle
            connections of one process ping together, in one wake-up; none is ever silent
            longer than ``keepalive``.
        default_receive_max: what each stream accepts before ``set_receive_max`` (0, as JS;
            a receiver that takes anything sets 2^64-1).
        connection_window, stream_window: bytes we buffer per connection / per stream.
        max_remote_streams: streams the peer may have open at once (RFC 29 §3.3 default 10,
            i.e. max stream id 20).
        receipt_nonce, receipt_secret: RFC 39 — the server adds a receipt to every Fulfill.
        connection_tag: opaque application tag (server credentials carry it).
        probe_amounts, exchange_rate_precision: the rate probe (WIRE-NOTES §6.4).
        max_packets: RFC 29 §5.1.3 "MUST close the connection once either endpoint has sent
            2^31 packets" (lowered only by tests).
    """

    shared_secret: bytes
    asset_code: str
    asset_scale: int
    source_account: str | None = None
    destination_account: str | None = None
    slippage: Fraction = Fraction(1, 100)
    minimum_exchange_rate: Fraction | None = None
    max_packet_amount: int | None = None
    initial_window: int = 4
    max_window: int = 32
    expiry: float = 30.0
    idle_timeout: float | None = 60.0
    keepalive: float | None = None
    default_receive_max: int = 0
    connection_window: int = 65534
    stream_window: int = 16384
    max_remote_streams: int = 10
    receipt_nonce: bytes | None = None
    receipt_secret: bytes | None = None
    connection_tag: str | None = None
    probe_amounts: tuple[int, ...] = (1, 1000, 1_000_000, 1_000_000_000, 1_000_000_000_000)
    exchange_rate_precision: int = 3
    max_packets: int = 2**31

    def __post_init__(self) -> None:
        # Rates and slippage are exact: accept Fraction, int, Decimal, str or float (via its
        # shortest decimal repr), store Fraction.
        object.__setattr__(self, "slippage", _exact(self.slippage))
        if not 0 <= self.slippage < 1:
            raise ValueError("slippage must be in [0, 1)")
        if self.minimum_exchange_rate is not None:
            object.__setattr__(self, "minimum_exchange_rate", _exact(self.minimum_exchange_rate))
        if not self.shared_secret:
            raise ValueError("empty shared secret")
        if not 0 <= self.asset_scale <= 255:
            raise ValueError("asset scale must be a UInt8")
        if self.keepalive is not None and self.keepalive <= 0:
            raise ValueError("keepalive must be positive")

    def __repr__(self) -> str:  # never print secrets
        return (
            f"ConnectionConfig(asset={self.asset_code}/{self.asset_scale}, "
            f"source={self.source_account!r}, destination={self.destination_account!r})"
        )


def _exact(value: Fraction | int | float | str | Decimal) -> Fraction:
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)
