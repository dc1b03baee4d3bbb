"""The path to the peer: where our Prepares go, what the peer is, and the exchange rate.

Owns: the peer's ILP address (the client's from its config, the server's learnt from
ConnectionNewAddress), the peer's asset details, the rate probe and what it measured (the
path rate and the minimum acceptable rate), whether the peer has yet answered us with an
authentic STREAM packet, and whether the connection is established.

Invariants:

* the destination, once set, is a valid ILP address (RFC 15); an empty
  ConnectionNewAddress leaves it as it is;
* the peer's asset details, once known, never change: "the receiver SHOULD close the
  connection" if they do (§4.3.3);
* the rate and the minimum rate are set once, when the probe finishes, and are exact
  :class:`~fractions.Fraction` values; the minimum is never above the rate unless the
  configured absolute floor is;
* until the peer has answered one of our Prepares with an authentic STREAM packet, every
  Prepare carries ConnectionNewAddress (if we can receive) and ConnectionAssetDetails
  (WIRE-NOTES §6.3);
* ``Connected`` is emitted exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from wallet.ilp import Address, InvalidAddressError
from wallet.stream.config import ConnectionConfig
from wallet.stream.errors import ExchangeRateError, RemoteProtocolError
from wallet.stream.events import Connected, Event
from wallet.stream.frames import (
    ConnectionAssetDetailsFrame,
    ConnectionNewAddressFrame,
    ErrorCode,
    Frame,
)
from wallet.stream.rate import Probe

__all__ = ["Path", "check_address"]


def check_address(address: str) -> None:
    """Raises: RemoteProtocolError — not an ILP address (RFC 15)."""
    try:
        Address(address)
    except InvalidAddressError as e:
        raise RemoteProtocolError(
            "ConnectionNewAddress is not an ILP address", ErrorCode.PROTOCOL_VIOLATION
        ) from e


class Path:
    """Attributes (read them freely; only this class changes them):
    destination: the peer's ILP address, if known.
    remote_asset: the peer's ``(asset code, asset scale)``, once it said.
    probe: the rate probe, once started; probe_done: it finished (whatever it found).
    rate: the path rate the probe measured (destination units per source unit).
    min_rate: the minimum acceptable rate (``rate * (1 - slippage)``, or the floor).
    connected: ``Connected`` was emitted.
    answered: the peer has answered one of our Prepares with an authentic STREAM packet.
    """

    __slots__ = (
        "_emit",
        "answered",
        "connected",
        "destination",
        "min_rate",
        "probe",
        "probe_done",
        "rate",
        "remote_asset",
    )

    def __init__(self, destination: str | None, emit: Callable[[Event], None]) -> None:
        self.destination = destination
        self.remote_asset: tuple[str, int] | None = None
        self.probe: Probe | None = None
        self.probe_done = False
        self.rate: Fraction | None = None
        self.min_rate: Fraction | None = None
        self.answered = False
        self.connected = False
        self._emit = emit

    # ------------------------------------------------------------------ the peer

    def learn_address(self, address: str) -> None:
        """ConnectionNewAddress from the peer; an empty one says it cannot receive.

        Raises:
            RemoteProtocolError: not an ILP address (and not empty).
        """
        # RFC 29 §4.3.1: the frame "is OPTIONAL because clients may not be capable of
        # receiving ILP Prepare packets". @interledger/pay says so with an *empty* address;
        # ilp-protocol-stream's server takes that as "no address" (it never sends to it).
        if address:
            check_address(address)
            self.destination = address

    def learn_asset(self, code: str, scale: int) -> None:
        """ConnectionAssetDetails from the peer.

        Raises:
            RemoteProtocolError: the peer changed its asset details (§4.3.3).
        """
        details = (code, scale)
        if self.remote_asset is None:
            self.remote_asset = details
        elif self.remote_asset != details:
            # §4.3.3: "the receiver SHOULD close the connection".
            raise RemoteProtocolError(
                "the peer changed its asset details", ErrorCode.PROTOCOL_VIOLATION
            )

    def peer_answered(self) -> None:
        """An authentic STREAM reply came back: the peer knows who we are."""
        self.answered = True

    def announce_frames(self, config: ConnectionConfig) -> list[Frame]:
        """What every Prepare carries until the peer has answered one (WIRE-NOTES §6.3)."""
        frames: list[Frame] = []
        if not self.answered:
            if config.source_account:
                frames.append(ConnectionNewAddressFrame(config.source_account))
            frames.append(ConnectionAssetDetailsFrame(config.asset_code, config.asset_scale))
        return frames

    # ------------------------------------------------------------------ establishment

    def connect(self, rate: Fraction | None) -> None:
        if not self.connected:
            self.connected = True
            self._emit(Connected(rate))

    # ------------------------------------------------------------------ the rate probe

    def start_probe(self, amounts: tuple[int, ...], max_packet: int, precision: int) -> Probe:
        if self.probe is None:
            self.probe = Probe(amounts, max_packet, precision)
        return self.probe

    def finish_probe(
        self, minimum: Fraction | None, slippage: Fraction
    ) -> tuple[Fraction | None, ExchangeRateError | None]:
        """Once every probe has settled: the measured rate, and the error that fails the
        connection if it is unusable. Does nothing (``(None, None)``) before, or twice."""
        probe = self.probe
        if probe is None or not probe.done or self.probe_done:
            return None, None
        self.probe_done = True
        rate = probe.rate
        if rate is None:
            return None, ExchangeRateError(
                "Unable to establish connection, no packets meeting the minimum exchange "
                f"precision of {probe.precision} digits made it through the path."
            )
        self.rate = rate
        if minimum is not None and rate < minimum:
            return rate, ExchangeRateError(
                f"probed exchange rate {float(rate):.6g} is below the minimum {float(minimum):.6g}"
            )
        floor = rate * (1 - slippage)
        self.min_rate = floor if minimum is None else max(floor, minimum)
        return rate, None
