"""The path to the peer: where our Prepares go, what the peer is, and the exchange rate.

Owns: the peer's ILP address (the client's from its config, the server's learnt from
ConnectionNewAddress), the peer's asset details, the rate probe and what it measured (the
path rate and the minimum acceptable rate), whether the peer has yet answered us with an
authentic STREAM packet, and whether the connection is established.

Invariants:

* the destination, once set, is a valid ILP address (RFC 15);
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
    __slots__ = (
        "_connected",
        "_destination",
        "_emit",
        "_min_rate",
        "_peer_answered",
        "_probe",
        "_probe_done",
        "_rate",
        "_remote_asset",
    )

    def __init__(self, destination: str | None, emit: Callable[[Event], None]) -> None:
        self._destination = destination
        self._remote_asset: tuple[str, int] | None = None
        self._probe: Probe | None = None
        self._probe_done = False
        self._rate: Fraction | None = None
        self._min_rate: Fraction | None = None
        self._peer_answered = False
        self._connected = False
        self._emit = emit

    # ------------------------------------------------------------------ the peer

    @property
    def destination(self) -> str | None:
        return self._destination

    def learn_address(self, address: str) -> None:
        """ConnectionNewAddress from the peer.

        Raises:
            RemoteProtocolError: not an ILP address.
        """
        check_address(address)
        self._destination = address

    @property
    def remote_asset(self) -> tuple[str, int] | None:
        return self._remote_asset

    def learn_asset(self, code: str, scale: int) -> None:
        """ConnectionAssetDetails from the peer.

        Raises:
            RemoteProtocolError: the peer changed its asset details (§4.3.3).
        """
        details = (code, scale)
        if self._remote_asset is None:
            self._remote_asset = details
        elif self._remote_asset != details:
            # §4.3.3: "the receiver SHOULD close the connection".
            raise RemoteProtocolError(
                "the peer changed its asset details", ErrorCode.PROTOCOL_VIOLATION
            )

    def peer_answered(self) -> None:
        """An authentic STREAM reply came back: the peer knows who we are."""
        self._peer_answered = True

    def announce_frames(self, config: ConnectionConfig) -> list[Frame]:
        """What every Prepare carries until the peer has answered one (WIRE-NOTES §6.3)."""
        frames: list[Frame] = []
        if not self._peer_answered:
            if config.source_account:
                frames.append(ConnectionNewAddressFrame(config.source_account))
            frames.append(ConnectionAssetDetailsFrame(config.asset_code, config.asset_scale))
        return frames

    # ------------------------------------------------------------------ establishment

    @property
    def connected(self) -> bool:
        return self._connected

    def connect(self, rate: Fraction | None) -> None:
        if not self._connected:
            self._connected = True
            self._emit(Connected(rate))

    # ------------------------------------------------------------------ the rate probe

    @property
    def probe_done(self) -> bool:
        return self._probe_done

    @property
    def probe(self) -> Probe | None:
        return self._probe

    def start_probe(self, amounts: tuple[int, ...], max_packet: int, precision: int) -> Probe:
        if self._probe is None:
            self._probe = Probe(amounts, max_packet, precision)
        return self._probe

    def finish_probe(
        self, minimum: Fraction | None, slippage: Fraction
    ) -> tuple[Fraction | None, ExchangeRateError | None]:
        """Once every probe has settled: the measured rate, and the error that fails the
        connection if it is unusable. Does nothing (``(None, None)``) before, or twice."""
        probe = self._probe
        if probe is None or not probe.done or self._probe_done:
            return None, None
        self._probe_done = True
        rate = probe.rate
        if rate is None:
            return None, ExchangeRateError(
                "Unable to establish connection, no packets meeting the minimum exchange "
                f"precision of {probe.precision} digits made it through the path."
            )
        self._rate = rate
        if minimum is not None and rate < minimum:
            return rate, ExchangeRateError(
                f"probed exchange rate {float(rate):.6g} is below the minimum {float(minimum):.6g}"
            )
        floor = rate * (1 - slippage)
        self._min_rate = floor if minimum is None else max(floor, minimum)
        return rate, None

    @property
    def rate(self) -> Fraction | None:
        """The path rate the probe measured (destination units per source unit)."""
        return self._rate

    @property
    def min_rate(self) -> Fraction | None:
        return self._min_rate
