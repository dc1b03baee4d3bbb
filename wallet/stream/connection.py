"""The sans-IO STREAM connection (RFC 29), for both roles.

Owns: the owners of one connection's state, and the public API over them. Bytes and ``now``
go in; Prepares to send, replies, events and the next deadline come out. No clock reads, no
I/O, no randomness but the injected ``random_bytes``.

Each piece of state has one owner, which keeps its invariants and is changed only through its
methods (h11's ``ConnectionState`` is the model):

* :class:`~wallet.stream.streamtable.StreamTable` — the streams and the stream-id limits;
* :class:`~wallet.stream.inflight.PacketsInFlight` — sequence numbers and the Prepares in
  flight with their money reservations (reserve → settle, exactly once);
* :class:`~wallet.stream.flow.ConnectionFlow` — connection-level data flow control;
* :class:`~wallet.stream.path.Path` — the peer's address and asset, the rate probe, the rate;
* :class:`~wallet.stream.congestion.Congestion` — the window, packet ceilings and backoff;
* :class:`~wallet.stream.lifecycle.Lifecycle` — open, closing, closed; the idle clock;
* :class:`~wallet.stream.counters.Counters` — the totals.

The functions that read and write them are in :mod:`~wallet.stream.outgoing` (building
Prepares), :mod:`~wallet.stream.replies` (settling them: every packet's ``Outcome`` is decided
there), :mod:`~wallet.stream.incoming` (answering the peer's) and
:mod:`~wallet.stream.control` (the peer's limit frames); they get the owners as one
:class:`~wallet.stream.parts.Parts` and never import this module.

Rules the connection as a whole keeps:

* Money counts as sent only on a Fulfill whose ``sha256(fulfillment) == condition``, received
  before the Prepare's expiry. Everything the receiver says (amounts arrived, totals) is in
  *its* units and never changes ``total_sent`` or any stream's ``total_sent``.
* Every money packet reserves its per-stream amounts before it leaves, so the sum of amounts
  in flight plus sent never exceeds any stream's ``send_max``; the budget gate sees the same
  reservations (reserve, then settle with its ``Outcome`` exactly once).
* Replies to packets still in flight are accepted after close, so reservations always settle.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from wallet.ilp import Fulfill, Prepare, Reject, is_valid_address
from wallet.ilp.oer import U64_MAX
from wallet.stream import incoming, outgoing, replies
from wallet.stream.config import BudgetGate, ConnectionConfig, ConnectionState, Role
from wallet.stream.congestion import Congestion
from wallet.stream.control import apply_control_frame
from wallet.stream.counters import Counters
from wallet.stream.credentials import ServerCredentials
from wallet.stream.crypto import RandomBytes, StreamKeys
from wallet.stream.errors import ConnectionFailedError, LocalProtocolError
from wallet.stream.events import Event
from wallet.stream.flow import ConnectionFlow
from wallet.stream.frames import ErrorCode, Frame
from wallet.stream.inflight import PacketsInFlight
from wallet.stream.lifecycle import Lifecycle
from wallet.stream.outgoing import OutgoingPrepare
from wallet.stream.parts import Parts
from wallet.stream.path import Path
from wallet.stream.streams import Stream
from wallet.stream.streamtable import StreamTable

__all__ = ["Connection", "ConnectionState", "OutgoingPrepare"]


class Connection:
    """One STREAM connection. See :mod:`wallet.stream` for how a driver uses it.

    Raises (constructor):
        LocalProtocolError: a client without a destination, or an address that is not an ILP
            address (RFC 15).
    """

    def __init__(
        self,
        config: ConnectionConfig,
        role: Role,
        *,
        random_bytes: RandomBytes,
        now: float,
        budget: BudgetGate | None = None,
    ) -> None:
        if role is Role.CLIENT and not config.destination_account:
            raise LocalProtocolError("a client needs the server's destination_account")
        for address in (config.destination_account, config.source_account):
            if address is not None and not is_valid_address(address):
                raise LocalProtocolError(f"not an ILP address: {address!r}")
        self.config = config
        self.role = role
        self._events: list[Event] = []
        emit = self._events.append
        streams = StreamTable(
            first_local_id=1 if role is Role.CLIENT else 2,
            max_remote_streams=config.max_remote_streams,
            emit=emit,
        )
        path = Path(config.destination_account, emit)
        self._parts = Parts(
            config=config,
            role=role,
            keys=StreamKeys(config.shared_secret),
            lifetime=timedelta(seconds=config.expiry),
            random=random_bytes,
            budget=budget,
            emit=emit,
            streams=streams,
            in_flight=PacketsInFlight(config.max_packets),
            flow=ConnectionFlow(config.connection_window),
            path=path,
            congestion=Congestion(
                config.initial_window, config.max_window, config.max_packet_amount
            ),
            lifecycle=Lifecycle(streams, path, emit, now),
            counters=Counters(),
        )
        self._now = now  # the latest ``now`` a driver gave us

    @classmethod
    def server(
        cls,
        credentials: ServerCredentials,
        *,
        asset_code: str,
        asset_scale: int,
        random_bytes: RandomBytes,
        now: float,
        budget: BudgetGate | None = None,
        **options: Any,
    ) -> Connection:
        """A server connection for credentials from :func:`lookup_credentials`.

        Accepts any amount on new streams unless ``default_receive_max`` is given. A brand-new
        server connection whose first Prepare does not decrypt (F06, ``packets_received == 0``)
        should be discarded and the Prepare answered F02 (WIRE-NOTES §6.9).
        """
        options.setdefault("default_receive_max", U64_MAX)
        config = ConnectionConfig(
            shared_secret=credentials.shared_secret,
            asset_code=asset_code,
            asset_scale=asset_scale,
            source_account=credentials.destination_account,
            receipt_nonce=credentials.receipt_nonce,
            receipt_secret=credentials.receipt_secret,
            connection_tag=credentials.connection_tag,
            **options,
        )
        return cls(config, Role.SERVER, random_bytes=random_bytes, now=now, budget=budget)

    # ------------------------------------------------------------------ public read-only state

    @property
    def state(self) -> ConnectionState:
        return self._parts.lifecycle.state

    @property
    def is_open(self) -> bool:
        return self._parts.lifecycle.state is ConnectionState.OPEN

    @property
    def is_connected(self) -> bool:
        """True once the rate probe is done (client) or the first packet arrived (server)."""
        return self._parts.path.connected

    @property
    def minimum_acceptable_exchange_rate(self) -> Fraction | None:
        return self._parts.path.min_rate

    @property
    def exchange_rate(self) -> Fraction | None:
        """The path rate the probe measured (destination units per source unit)."""
        return self._parts.path.rate

    @property
    def last_packet_exchange_rate(self) -> Fraction | None:
        """What the last packet that said showed (the receiver's claim: statistics only)."""
        return self._parts.counters.last_packet_exchange_rate

    @property
    def source_account(self) -> str | None:
        return self.config.source_account

    @property
    def destination_account(self) -> str | None:
        return self._parts.path.destination

    @property
    def source_asset_code(self) -> str:
        return self.config.asset_code

    @property
    def source_asset_scale(self) -> int:
        return self.config.asset_scale

    @property
    def destination_asset_code(self) -> str | None:
        asset = self._parts.path.remote_asset
        return asset[0] if asset else None

    @property
    def destination_asset_scale(self) -> int | None:
        asset = self._parts.path.remote_asset
        return asset[1] if asset else None

    @property
    def connection_tag(self) -> str | None:
        return self.config.connection_tag

    @property
    def packets_in_flight(self) -> int:
        return len(self._parts.in_flight)

    @property
    def window(self) -> int:
        return int(self._parts.congestion.window)

    @property
    def max_packet_amount(self) -> int:
        return self._parts.congestion.packet_cap

    @property
    def streams(self) -> dict[int, Stream]:
        return self._parts.streams.by_id

    def stream(self, stream_id: int) -> Stream | None:
        return self._parts.streams.by_id.get(stream_id)

    # totals (the spec's IlpConnection fields)

    @property
    def total_sent(self) -> int:
        """Fulfilled, in our units."""
        return self._parts.counters.total_sent

    @property
    def total_delivered(self) -> int:
        """What the receiver says arrived, in its units (statistics only)."""
        return self._parts.counters.total_delivered

    @property
    def total_received(self) -> int:
        return self._parts.counters.total_received

    @property
    def packets_sent(self) -> int:
        return self._parts.in_flight.next_seq - 1

    @property
    def packets_fulfilled(self) -> int:
        return self._parts.counters.packets_fulfilled

    @property
    def packets_rejected(self) -> int:
        return self._parts.counters.packets_rejected

    @property
    def packets_received(self) -> int:
        """Authentic Prepares from the peer."""
        return self._parts.counters.packets_received

    # Read by tests/unit/stream/test_pair.py (connection-level data flow).
    @property
    def _data_sent_highest(self) -> int:
        return self._parts.flow.sent_highest

    @property
    def _data_delivered(self) -> int:
        return self._parts.flow.delivered

    # ------------------------------------------------------------------ application API

    def create_stream(self) -> Stream:
        """Open a new local stream (client: odd ids, server: even — RFC 29 §4.4.1).

        Raises:
            LocalProtocolError: the connection is not open.
        """
        if self._parts.lifecycle.state is not ConnectionState.OPEN:
            raise LocalProtocolError("connection is closed", ErrorCode.STREAM_STATE_ERROR)
        return self._parts.streams.open_local(
            self.config.default_receive_max, self.config.stream_window
        )

    def close(self) -> None:
        """Graceful close: streams finish sending, then ConnectionClose(NoError) (§4.6)."""
        self._parts.lifecycle.begin_close()

    def destroy(self, code: int = ErrorCode.NO_ERROR, message: str = "") -> None:
        """Close now: one best-effort ConnectionClose(code, message); nothing else is sent."""
        self._parts.lifecycle.terminate(code, message, remote=False, send_close=True)

    def events(self) -> list[Event]:
        """Everything that happened since the last call, in order."""
        out = self._events.copy()
        self._events.clear()
        return out

    # ------------------------------------------------------------------ timers

    def next_deadline(self) -> float | None:
        """When :meth:`handle_timeout` must next be called (monotonic seconds), if ever."""
        parts = self._parts
        deadline: float | None = None
        if self.config.idle_timeout is not None and not parts.lifecycle.is_closed():
            deadline = parts.lifecycle.last_activity + self.config.idle_timeout
        expiry = parts.in_flight.earliest_expiry()
        if expiry is not None and (deadline is None or expiry < deadline):
            deadline = expiry
        until = parts.congestion.backoff_until
        if until > self._now and (deadline is None or until < deadline):
            deadline = until
        ping = outgoing.keepalive_due_at(parts)
        if ping is not None and (deadline is None or ping < deadline):
            deadline = ping
        return deadline

    def keepalive_due_at(self) -> float | None:
        """When an idle client next pings (``config.keepalive``), if it does."""
        return outgoing.keepalive_due_at(self._parts)

    def handle_timeout(self, now: float) -> None:
        """Expire packets whose reply never came (``Outcome.EXPIRED``) and enforce the idle
        timeout."""
        self._now = now
        replies.expire(self._parts, now)
        lifecycle = self._parts.lifecycle
        timeout = self.config.idle_timeout
        if (
            timeout is not None
            and not lifecycle.is_closed()
            and now >= lifecycle.last_activity + timeout  # the same sum as next_deadline()
        ):
            lifecycle.fail(ConnectionFailedError("Connection timed out due to inactivity"))

    # ------------------------------------------------------------------ sending

    def packets_to_send(self, now: float, wallclock: datetime) -> list[OutgoingPrepare]:
        """The Prepares to send now. ``wallclock`` (UTC-aware) sets their expiry.

        Call after anything changed (creation, ``set_send_max``, ``send``, a reply, a timeout).
        """
        self._now = now
        return outgoing.packets_to_send(self._parts, now, wallclock)

    # ------------------------------------------------------------------ replies

    def receive_reply(self, packet_id: int, reply: Fulfill | Reject, now: float) -> None:
        """The Fulfill or Reject for the Prepare handed out as ``packet_id``.

        Unknown or late ids (already expired) are ignored. Never raises for what the peer
        sends: failures become events. Accepted after close too, so every reservation settles.
        """
        self._now = now
        replies.receive_reply(self._parts, packet_id, reply, now)

    def packet_lost(self, packet_id: int, now: float) -> None:
        """The path failed after the Prepare ``packet_id`` was handed out (the carrier raised,
        answered garbage or went away): no answer will come and the receiver may have been
        paid. The budget gate settles it as ``Outcome.LOST`` (charged, never refunded)."""
        self._now = now
        replies.lose(self._parts, packet_id, now)

    # ------------------------------------------------------------------ frames from the peer

    def apply_control_frame(self, frame: Frame) -> None:
        """Connection- and stream-limit frames, from a Prepare or a reply.

        Raises:
            RemoteProtocolError: conflicting asset details (§4.3.3), a bad address.
        """
        apply_control_frame(self._parts, frame)

    # ------------------------------------------------------------------ incoming Prepares

    def receive_prepare(self, prepare: Prepare, now: float) -> Fulfill | Reject:
        """Answer a Prepare the peer sent us (WIRE-NOTES §6.8, §6.9). Never raises."""
        self._now = now
        return incoming.handle_prepare(self._parts, prepare, now)
