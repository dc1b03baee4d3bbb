"""The sans-IO STREAM connection (RFC 29), for both roles.

Owns: the whole state of one connection — sequence numbers, streams, the rate probe, packets in
flight and their money reservations, flow control both ways, closing. Bytes and ``now`` go in;
Prepares to send, replies, events and the next deadline come out. No clock reads, no I/O, no
randomness but the injected ``random_bytes``.

Rules this module keeps (the state they touch lives here and nowhere else):

* Sequence: "Clients and Servers track their own outgoing packet sequence numbers and
  increment the Sequence for each ILP Prepare they send" (§5.2); it starts at 1; the packet id
  handed to the driver *is* the sequence.
* Money counts as sent only on a Fulfill whose ``sha256(fulfillment) == condition``, received
  before the Prepare's expiry. Everything the receiver says (amounts arrived, totals) is in
  *its* units and never changes ``total_sent`` or any stream's ``total_sent``.
* Every money packet reserves its per-stream amounts before it leaves, so the sum of amounts
  in flight plus sent never exceeds any stream's ``send_max``; the budget gate sees the same
  reservations (reserve → commit | release, exactly once).
* Until the peer has answered one of our Prepares with an authentic STREAM packet, every
  Prepare carries ConnectionNewAddress (if we can receive) and ConnectionAssetDetails
  (WIRE-NOTES §6.3).
* Replies to packets still in flight are accepted after close, so reservations always settle.

Building Prepares is in :mod:`wallet.stream.outgoing`, settling their replies in
:mod:`wallet.stream.replies`, answering the peer's Prepares in :mod:`wallet.stream.incoming`.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from wallet.ilp import Fulfill, Prepare, Reject, is_valid_address
from wallet.ilp.oer import U64_MAX
from wallet.stream import incoming, outgoing, replies
from wallet.stream.config import BudgetGate, ConnectionConfig, ConnectionState, Outcome, Role
from wallet.stream.congestion import Congestion
from wallet.stream.credentials import ServerCredentials
from wallet.stream.crypto import RandomBytes, StreamKeys
from wallet.stream.errors import (
    ConnectionFailedError,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
    StreamError,
)
from wallet.stream.events import (
    Connected,
    ConnectionClosed,
    ConnectionFailed,
    Event,
    StreamClosed,
)
from wallet.stream.frames import (
    ConnectionAssetDetailsFrame,
    ConnectionCloseFrame,
    ConnectionMaxDataFrame,
    ConnectionMaxStreamIdFrame,
    ConnectionNewAddressFrame,
    ErrorCode,
    Frame,
    StreamCloseFrame,
    StreamMaxDataFrame,
    StreamMaxMoneyFrame,
    StreamMoneyBlockedFrame,
)
from wallet.stream.inflight import CLOSE, NORMAL, PROBE, InFlight
from wallet.stream.packet import StreamPacket
from wallet.stream.rate import Probe
from wallet.stream.streams import Stream

__all__ = ["Connection", "ConnectionState", "OutgoingPrepare"]

_DEFAULT_MAX_STREAM_ID = 20  # RFC 29 §3.3: "a default max stream ID of 20"
_DEFAULT_CONNECTION_WINDOW = 65534  # what ilp-protocol-stream peers advertise by default

OutgoingPrepare = tuple[int, Prepare]
"""``(packet_id, prepare)``: send ``prepare``, then report its reply with
:meth:`Connection.receive_reply` under ``packet_id``."""


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
        self._keys = StreamKeys(config.shared_secret)
        self._random = random_bytes
        self._budget = budget
        self._expiry = timedelta(seconds=config.expiry)
        self.state = ConnectionState.OPEN
        self._events: list[Event] = []
        # streams
        self._streams: dict[int, Stream] = {}
        self._closed_ids: set[int] = set()
        self._next_local_id = 1 if role is Role.CLIENT else 2
        self._remote_max_stream_id = _DEFAULT_MAX_STREAM_ID
        self._local_max_stream_id = 2 * config.max_remote_streams
        self._advertise_max_stream_id = False
        self._stream_id_blocked_sent = 0
        # packets
        self._next_seq = 1
        self._in_flight: dict[int, InFlight] = {}
        self._normal_in_flight = 0
        self._peer_answered = False
        self._destination = config.destination_account
        self._congestion = Congestion(
            config.initial_window, config.max_window, config.max_packet_amount
        )
        self._probe: Probe | None = None
        self._probe_done = False
        self._connected = False
        self._consecutive_rejects = 0
        # exchange rate
        self._remote_asset: tuple[str, int] | None = None
        self._rate: Fraction | None = None
        self._min_rate: Fraction | None = None
        self.last_packet_exchange_rate: Fraction | None = None
        # data flow control (connection level)
        self._remote_max_data = _DEFAULT_CONNECTION_WINDOW
        self._remote_max_data_known = False
        self._data_sent_highest = 0  # sum over streams of the highest offset sent
        self._data_delivered = 0  # sum over streams of bytes delivered in order
        self._data_highest = 0  # sum over streams of the highest offset received
        self._data_blocked_sent = -1
        # lifecycle
        self._last_activity = now
        self._now = now
        self._close_frame: ConnectionCloseFrame | None = None  # still to be sent
        self._close_reason: tuple[int, str] = (ErrorCode.NO_ERROR, "")
        # totals (the spec's IlpConnection fields)
        self.total_sent = 0
        self.total_delivered = 0
        self.total_received = 0
        self.packets_sent = 0
        self.packets_fulfilled = 0
        self.packets_rejected = 0
        self.packets_received = 0  # authentic Prepares from the peer

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
    def is_open(self) -> bool:
        return self.state is ConnectionState.OPEN

    @property
    def is_connected(self) -> bool:
        """True once the rate probe is done (client) or the first packet arrived (server)."""
        return self._connected

    @property
    def minimum_acceptable_exchange_rate(self) -> Fraction | None:
        return self._min_rate

    @property
    def exchange_rate(self) -> Fraction | None:
        """The path rate the probe measured (destination units per source unit)."""
        return self._rate

    @property
    def source_account(self) -> str | None:
        return self.config.source_account

    @property
    def destination_account(self) -> str | None:
        return self._destination

    @property
    def source_asset_code(self) -> str:
        return self.config.asset_code

    @property
    def source_asset_scale(self) -> int:
        return self.config.asset_scale

    @property
    def destination_asset_code(self) -> str | None:
        return self._remote_asset[0] if self._remote_asset else None

    @property
    def destination_asset_scale(self) -> int | None:
        return self._remote_asset[1] if self._remote_asset else None

    @property
    def connection_tag(self) -> str | None:
        return self.config.connection_tag

    @property
    def packets_in_flight(self) -> int:
        return len(self._in_flight)

    @property
    def window(self) -> int:
        return int(self._congestion.window)

    @property
    def max_packet_amount(self) -> int:
        return self._congestion.packet_cap

    @property
    def streams(self) -> dict[int, Stream]:
        return self._streams

    def stream(self, stream_id: int) -> Stream | None:
        return self._streams.get(stream_id)

    # ------------------------------------------------------------------ application API

    def create_stream(self) -> Stream:
        """Open a new local stream (client: odd ids, server: even — RFC 29 §4.4.1).

        Raises:
            LocalProtocolError: the connection is not open.
        """
        if self.state is not ConnectionState.OPEN:
            raise LocalProtocolError("connection is closed", ErrorCode.STREAM_STATE_ERROR)
        stream = Stream(self._next_local_id, self.config.default_receive_max, self._stream_window)
        self._next_local_id += 2
        self._streams[stream.id] = stream
        return stream

    def close(self) -> None:
        """Graceful close: streams finish sending, then ConnectionClose(NoError) (§4.6)."""
        if self.state is ConnectionState.OPEN:
            self.state = ConnectionState.CLOSING
            for stream in self._streams.values():
                stream.close()

    def destroy(self, code: int = ErrorCode.NO_ERROR, message: str = "") -> None:
        """Close now: one best-effort ConnectionClose(code, message); nothing else is sent."""
        self._terminate(code, message, remote=False, send_close=True)

    def events(self) -> list[Event]:
        """Everything that happened since the last call, in order."""
        out, self._events = self._events, []
        return out

    # ------------------------------------------------------------------ timers

    def next_deadline(self) -> float | None:
        """When :meth:`handle_timeout` must next be called (monotonic seconds), if ever."""
        deadline: float | None = None
        if self.config.idle_timeout is not None and self.state is not ConnectionState.CLOSED:
            deadline = self._last_activity + self.config.idle_timeout
        for rec in self._in_flight.values():
            if deadline is None or rec.expires < deadline:
                deadline = rec.expires
        until = self._congestion.backoff_until
        if until > self._now and (deadline is None or until < deadline):
            deadline = until
        ping = self.keepalive_due_at()
        if ping is not None and (deadline is None or ping < deadline):
            deadline = ping
        return deadline

    def keepalive_due_at(self) -> float | None:
        """When an idle client next pings (``config.keepalive``), if it does."""
        keepalive = self.config.keepalive
        if (
            keepalive is None
            or self.role is not Role.CLIENT
            or self.state is not ConnectionState.OPEN
            or self._in_flight
            or self._destination is None
        ):
            return None
        # The latest point of the shared grid (keepalive / 2) within ``keepalive`` of the
        # last packet: connections that went quiet at different times ping together.
        grid = keepalive / 2
        return math.floor((self._last_activity + keepalive) / grid) * grid

    def handle_timeout(self, now: float) -> None:
        """Expire packets whose reply never came (as a lost R00) and enforce the idle timeout."""
        self._now = now
        expired = [rec for rec in self._in_flight.values() if rec.expires <= now]
        for rec in expired:
            replies.pop(self, rec.seq)
            if rec.kind == PROBE:
                replies.on_probe_reply(self, rec, None, None, now)
            else:
                replies.on_failed(self, rec, now, congestion=True, outcome=Outcome.EXPIRED)
        timeout = self.config.idle_timeout
        if (
            timeout is not None
            and self.state is not ConnectionState.CLOSED
            and now >= self._last_activity + timeout  # the same sum as next_deadline()
        ):
            self._fail(ConnectionFailedError("Connection timed out due to inactivity"))

    # ------------------------------------------------------------------ sending

    def packets_to_send(self, now: float, wallclock: datetime) -> list[OutgoingPrepare]:
        """The Prepares to send now. ``wallclock`` (UTC-aware) sets their expiry.

        Call after anything changed (creation, ``set_send_max``, ``send``, a reply, a timeout).
        """
        self._now = now
        out: list[OutgoingPrepare] = []
        if self._destination is None:
            return out
        if self.state is ConnectionState.CLOSED:
            if self._close_frame is not None:
                frame, self._close_frame = self._close_frame, None
                if self._next_seq <= self.config.max_packets:
                    out.append(self._emit(CLOSE, [frame], 0, now, wallclock))
            return out
        if self._next_seq > self.config.max_packets:
            # RFC 29 §5.1.3: "MUST close the connection once either endpoint has sent 2^31
            # packets".
            self._fail(ConnectionFailedError("packet limit reached (RFC 29 §5.1.3)"))
            return out
        if not self._probe_done and (self.role is Role.CLIENT or self._money_pending()):
            if self._probe is None:
                self._probe = Probe(
                    self.config.probe_amounts,
                    self._congestion.packet_cap,
                    self.config.exchange_rate_precision,
                )
            if now >= self._congestion.backoff_until:
                for amount in self._probe.next_amounts():
                    if self._next_seq > self.config.max_packets:
                        break
                    out.append(self._emit(PROBE, self._announce_frames(), amount, now, wallclock))
            return out
        if now < self._congestion.backoff_until:
            return out
        slots = self._congestion.slots(self._normal_in_flight)
        while slots > 0:
            prepared = outgoing.next_packet(self, now, wallclock)
            if prepared is None:
                break
            out.append(prepared)
            slots -= 1
        if (
            self.state is ConnectionState.CLOSING
            and not self._in_flight
            and all(s.closed for s in self._streams.values())
        ):
            frame = ConnectionCloseFrame(ErrorCode.NO_ERROR, "")
            out.append(self._emit(CLOSE, [frame], 0, now, wallclock))
        return out

    @property
    def _stream_window(self) -> int:
        return self.config.stream_window

    def _money_pending(self) -> bool:
        return any(s.money_pending > 0 and not s.closed for s in self._streams.values())

    def _announce_frames(self) -> list[Frame]:
        frames: list[Frame] = []
        if not self._peer_answered:
            if self.config.source_account:
                frames.append(ConnectionNewAddressFrame(self.config.source_account))
            frames.append(
                ConnectionAssetDetailsFrame(self.config.asset_code, self.config.asset_scale)
            )
        return frames

    @property
    def _local_max_data(self) -> int:
        return self._data_delivered + self.config.connection_window

    def _emit(
        self,
        kind: int,
        frames: list[Frame],
        amount: int,
        now: float,
        wallclock: datetime,
        *,
        min_dest: int = 0,
    ) -> OutgoingPrepare:
        assert self._destination is not None
        seq = self._next_seq
        self._next_seq = seq + 1
        data = StreamPacket(seq, 12, min_dest, tuple(frames)).seal(self._keys, self._random(12))
        if kind == NORMAL:
            # RFC 29 §6.2: condition = sha256(hmac(hmac_key, data)).
            condition = self._keys.condition(data)
            self._normal_in_flight += 1
        else:
            # §6.1: probes and ConnectionClose must not be fulfillable.
            condition = self._random(32)
        prepare = Prepare(amount, wallclock + self._expiry, condition, self._destination, data)
        self._in_flight[seq] = InFlight(
            seq,
            kind,
            amount=amount,
            min_dest=min_dest,
            condition=condition,
            expires=now + self.config.expiry,
        )
        self.packets_sent += 1
        self._last_activity = now
        return (seq, prepare)

    # ------------------------------------------------------------------ replies

    def receive_reply(self, packet_id: int, reply: Fulfill | Reject, now: float) -> None:
        """The Fulfill or Reject for the Prepare handed out as ``packet_id``.

        Unknown or late ids (already expired) are ignored. Never raises for what the peer
        sends: failures become events. Accepted after close too, so every reservation settles.
        """
        self._now = now
        replies.receive_reply(self, packet_id, reply, now)

    # ------------------------------------------------------------------ probing

    def packet_lost(self, packet_id: int, now: float) -> None:
        """The path failed after the Prepare ``packet_id`` was handed out (the carrier raised,
        answered garbage or went away): no answer will come and the receiver may have been
        paid. The budget gate settles it as ``Outcome.LOST`` (charged, never refunded)."""
        replies.lose(self, packet_id, now)

    def _set_connected(self, rate: Fraction | None) -> None:
        if not self._connected:
            self._connected = True
            self._events.append(Connected(rate))

    # ------------------------------------------------------------------ frames from the peer

    def apply_control_frame(self, frame: Frame) -> None:
        """Connection- and stream-limit frames, from a Prepare or a reply.

        Raises:
            RemoteProtocolError: conflicting asset details (§4.3.3), a bad address.
        """
        if isinstance(frame, StreamMaxMoneyFrame):
            stream = self._streams.get(frame.stream_id)
            if stream is not None:
                if not stream.remote_limit_known:
                    stream.remote_limit_known = True
                    stream.remote_receive_max = frame.receive_max
                elif frame.receive_max > stream.remote_receive_max:
                    stream.remote_receive_max = frame.receive_max
                stream.remote_total_received = max(
                    stream.remote_total_received, frame.total_received
                )
        elif isinstance(frame, StreamMaxDataFrame):
            stream = self._streams.get(frame.stream_id)
            if stream is not None and frame.max_offset > stream.remote_max_data:
                stream.remote_max_data = frame.max_offset
        elif isinstance(frame, ConnectionMaxDataFrame):
            if not self._remote_max_data_known or frame.max_offset > self._remote_max_data:
                self._remote_max_data_known = True
                self._remote_max_data = frame.max_offset
        elif isinstance(frame, ConnectionAssetDetailsFrame):
            details = (frame.source_asset_code, frame.source_asset_scale)
            if self._remote_asset is None:
                self._remote_asset = details
            elif self._remote_asset != details:
                # §4.3.3: "the receiver SHOULD close the connection".
                raise RemoteProtocolError(
                    "the peer changed its asset details", ErrorCode.PROTOCOL_VIOLATION
                )
        elif isinstance(frame, ConnectionMaxStreamIdFrame):
            self._remote_max_stream_id = max(self._remote_max_stream_id, frame.max_stream_id)
        elif isinstance(frame, ConnectionNewAddressFrame):
            # RFC 29 §4.3.1: the frame "is OPTIONAL because clients may not be capable of
            # receiving ILP Prepare packets". @interledger/pay says so with an *empty* address;
            # ilp-protocol-stream's server takes that as "no address" (it never sends to it).
            if frame.source_account:
                incoming.check_address(frame.source_account)
                self._destination = frame.source_account
        elif isinstance(frame, StreamCloseFrame):
            stream = self._streams.get(frame.stream_id)
            if stream is not None and not stream.closed:
                stream.remote_closed = True
                self._close_stream(stream, frame.error_code, frame.error_message, remote=True)
        elif isinstance(frame, StreamMoneyBlockedFrame):
            stream = self._streams.get(frame.stream_id)
            if stream is not None:
                stream.remote_send_max = frame.send_max
        elif isinstance(frame, ConnectionCloseFrame):
            if frame.error_code != ErrorCode.NO_ERROR and not self._is_closed():
                message = frame.error_message or "the peer closed the connection"
                error = RemoteProtocolError(message, frame.error_code)
                self._events.append(ConnectionFailed(error))
            self._terminate(frame.error_code, frame.error_message, remote=True, send_close=False)

    # ------------------------------------------------------------------ incoming Prepares

    def receive_prepare(self, prepare: Prepare, now: float) -> Fulfill | Reject:
        """Answer a Prepare the peer sent us (WIRE-NOTES §6.8, §6.9). Never raises."""
        self._now = now
        return incoming.handle_prepare(self, prepare, now)

    # ------------------------------------------------------------------ closing

    def _close_stream(self, stream: Stream, code: int, message: str, *, remote: bool) -> None:
        if stream.closed:
            return
        stream.closed = True
        stream.close_code = code
        stream.close_message = message
        stream.send_buf.clear()
        stream.retransmit.clear()
        self._events.append(StreamClosed(stream.id, code, message, remote))
        if stream.id % 2 != self._next_local_id % 2:
            # A peer-opened stream is gone: let the peer open another (§3.3).
            self._local_max_stream_id += 2
            self._advertise_max_stream_id = True
        if stream.in_flight == 0:
            self._reap(stream)

    def _reap(self, stream: Stream) -> None:
        """Forget a closed stream once nothing of it is in flight (ids stay remembered)."""
        if self._streams.pop(stream.id, None) is not None:
            self._closed_ids.add(stream.id)

    def _is_closed(self) -> bool:
        return self.state is ConnectionState.CLOSED

    def _finish_close(self) -> None:
        if self.state is not ConnectionState.CLOSED:
            self._terminate(ErrorCode.NO_ERROR, "", remote=False, send_close=False)

    def _fail(self, error: StreamError) -> None:
        if self.state is ConnectionState.CLOSED:
            return
        self._events.append(ConnectionFailed(error))
        code = error.code if isinstance(error, ProtocolError) else ErrorCode.INTERNAL_ERROR
        self._terminate(code, str(error), remote=False, send_close=True)

    def _terminate(self, code: int, message: str, *, remote: bool, send_close: bool) -> None:
        if self.state is ConnectionState.CLOSED:
            return
        self.state = ConnectionState.CLOSED
        self._close_reason = (code, message[:200])
        for stream in list(self._streams.values()):
            if not stream.closed:
                self._close_stream(stream, code, message, remote=remote)
        if send_close and self._destination is not None:
            self._close_frame = ConnectionCloseFrame(*self._close_reason)
        self._events.append(ConnectionClosed(code, message, remote))
