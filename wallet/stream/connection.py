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

Incoming Prepares are handled in :mod:`wallet.stream.incoming`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction

from wallet.ilp import AmountTooLarge, CodecError, Fulfill, Prepare, Reject
from wallet.ilp.oer import U64_MAX
from wallet.stream import incoming
from wallet.stream.config import BudgetGate, ConnectionConfig, ConnectionState, Role
from wallet.stream.congestion import Congestion
from wallet.stream.crypto import RandomBytes, StreamKeys, condition_of
from wallet.stream.errors import (
    ConnectionFailedError,
    DecryptionError,
    ExchangeRateError,
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
    MoneySent,
    ReceiptReceived,
    StreamClosed,
)
from wallet.stream.frames import (
    ConnectionAssetDetailsFrame,
    ConnectionCloseFrame,
    ConnectionDataBlockedFrame,
    ConnectionMaxDataFrame,
    ConnectionMaxStreamIdFrame,
    ConnectionNewAddressFrame,
    ConnectionStreamIdBlockedFrame,
    ErrorCode,
    Frame,
    StreamCloseFrame,
    StreamDataBlockedFrame,
    StreamDataFrame,
    StreamMaxDataFrame,
    StreamMaxMoneyFrame,
    StreamMoneyBlockedFrame,
    StreamMoneyFrame,
    StreamReceiptFrame,
)
from wallet.stream.packet import StreamPacket
from wallet.stream.rate import Probe, min_destination_amount
from wallet.stream.receipts import decode_receipt
from wallet.stream.streams import Stream

__all__ = ["Connection", "ConnectionState", "OutgoingPrepare"]

# The STREAM data we put in one Prepare: ILP data is at most 32767 bytes, and over
# ILP-over-HTTP the whole packet must fit in 32767 (WIRE-NOTES §1). Leave room for a
# 1023-byte destination, the 28-byte envelope and the other frames.
MAX_DATA_PER_PACKET = 30_000
_FRAME_OVERHEAD = 24
_DEFAULT_MAX_STREAM_ID = 20  # RFC 29 §3.3: "a default max stream ID of 20"
_DEFAULT_CONNECTION_WINDOW = 65534  # what ilp-protocol-stream peers advertise by default

OutgoingPrepare = tuple[int, Prepare]
"""``(packet_id, prepare)``: send ``prepare``, then report its reply with
:meth:`Connection.receive_reply` under ``packet_id``."""


_NORMAL, _PROBE, _CLOSE = 0, 1, 2


class _InFlight:
    __slots__ = (
        "allocations",
        "amount",
        "closes",
        "condition",
        "data",
        "expires",
        "kind",
        "min_dest",
        "reserved",
        "seq",
    )

    def __init__(
        self,
        seq: int,
        kind: int,
        *,
        amount: int,
        min_dest: int,
        condition: bytes,
        expires: float,
    ) -> None:
        self.seq = seq
        self.kind = kind
        self.amount = amount
        self.min_dest = min_dest
        self.condition = condition
        self.expires = expires
        self.allocations: list[tuple[Stream, int]] = []
        self.data: list[StreamDataFrame] = []
        self.closes: list[Stream] = []
        self.reserved = 0


class Connection:
    """One STREAM connection. See :mod:`wallet.stream` for how a driver uses it."""

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
        self._in_flight: dict[int, _InFlight] = {}
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
        return deadline

    def handle_timeout(self, now: float) -> None:
        """Expire packets whose reply never came (as a lost R00) and enforce the idle timeout."""
        self._now = now
        expired = [rec for rec in self._in_flight.values() if rec.expires <= now]
        for rec in expired:
            self._pop(rec.seq)
            if rec.kind == _PROBE:
                self._on_probe_reply(rec, None, None, now)
            else:
                self._on_failed(rec, now, congestion=True)
        timeout = self.config.idle_timeout
        if (
            timeout is not None
            and self.state is not ConnectionState.CLOSED
            and now - self._last_activity >= timeout
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
                    out.append(self._emit(_CLOSE, [frame], 0, now, wallclock))
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
                    out.append(self._emit(_PROBE, self._announce_frames(), amount, now, wallclock))
            return out
        if now < self._congestion.backoff_until:
            return out
        slots = self._congestion.slots(self._normal_in_flight)
        while slots > 0:
            prepared = self._next_packet(now, wallclock)
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
            out.append(self._emit(_CLOSE, [frame], 0, now, wallclock))
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

    def _next_packet(self, now: float, wallclock: datetime) -> OutgoingPrepare | None:
        seq = self._next_seq
        if seq > self.config.max_packets:
            return None
        frames: list[Frame] = []
        substantive = False
        rate = self._rate
        cap = self._congestion.packet_cap
        amount = 0
        allocations: list[tuple[Stream, int]] = []
        max_id = self._remote_max_stream_id
        # Money: fill the packet from streams in id order (§4.4.2).
        if rate is not None and rate > 0:
            for stream in self._streams.values():
                if stream.closed or stream.id > max_id:
                    continue
                pending = stream.money_pending
                if pending <= 0:
                    continue
                room = stream.remote_money_room()
                if room != U64_MAX:
                    # Their limit is in their units: convert with the path rate (§4.4.4).
                    room_src = room * rate.denominator // rate.numerator - stream.in_flight
                    if room_src < pending:
                        if stream.money_blocked():
                            frames.append(
                                StreamMoneyBlockedFrame(
                                    stream.id, stream.send_max, stream.total_sent
                                )
                            )
                            substantive = True
                        pending = room_src
                        if pending <= 0:
                            continue
                take = min(pending, cap - amount)
                if take <= 0:
                    break
                allocations.append((stream, take))
                amount += take
            if amount and self._budget is not None:
                approved = max(0, min(amount, self._budget.reserve(seq, amount)))
                if approved < amount:
                    allocations = _trim(allocations, approved)
                    amount = approved
        # Data: retransmissions first, then new bytes, within both windows (§4.4.4, §4.5).
        data_frames: list[StreamDataFrame] = []
        budget = MAX_DATA_PER_PACKET
        conn_room = self._remote_max_data - self._data_sent_highest
        for stream in self._streams.values():
            if stream.closed or stream.id > max_id or not stream.data_pending:
                continue
            while budget > _FRAME_OVERHEAD:
                highest = stream.send_offset
                limit = budget - _FRAME_OVERHEAD
                if not stream.retransmit:
                    limit = min(limit, conn_room)
                frame = stream.take_data(limit)
                if frame is None:
                    break
                new_bytes = stream.send_offset - highest
                conn_room -= new_bytes
                self._data_sent_highest += new_bytes
                budget -= len(frame.data) + _FRAME_OVERHEAD
                stream.data_in_flight += 1
                data_frames.append(frame)
            blocked_at = stream.data_blocked_at()
            if blocked_at is not None:
                frames.append(StreamDataBlockedFrame(stream.id, blocked_at))
                substantive = True
        if (
            conn_room <= 0
            and self._data_blocked_sent != self._data_sent_highest
            and any(s.data_pending for s in self._streams.values())
        ):
            self._data_blocked_sent = self._data_sent_highest
            frames.append(ConnectionDataBlockedFrame(self._data_sent_highest + 1))
            substantive = True
        # Closes: once a closing stream has nothing left to send or settle (§4.4.5).
        closes: list[Stream] = []
        for stream in self._streams.values():
            if (
                stream.closing
                and not stream.closed
                and not stream.close_sent
                and stream.id <= max_id
                and stream.money_pending <= 0
                and stream.in_flight == 0
                and not stream.data_pending
                and stream.data_in_flight == 0
            ):
                stream.close_sent = True
                closes.append(stream)
        # Streams we cannot open yet (§5.3.6).
        if self._next_local_id - 2 > max_id and self._stream_id_blocked_sent < max_id + 2:
            self._stream_id_blocked_sent = max_id + 2
            frames.append(ConnectionStreamIdBlockedFrame(self._next_local_id - 2))
            substantive = True
        control = self._control_wanted()
        if not (amount or data_frames or closes or substantive or control):
            return None
        frames[:0] = self._announce_frames()
        frames.extend(self._control_frames())
        for stream, share in allocations:
            frames.append(StreamMoneyFrame(stream.id, share))
        frames.extend(data_frames)
        for stream in closes:
            frames.append(StreamCloseFrame(stream.id, stream.close_code, stream.close_message))
        min_dest = 0
        if amount and self._min_rate is not None:
            min_dest = min_destination_amount(amount, self._min_rate)
        out = self._emit(_NORMAL, frames, amount, now, wallclock, min_dest=min_dest)
        rec = self._in_flight[seq]
        rec.allocations = allocations
        rec.data = data_frames
        rec.closes = closes
        rec.reserved = amount if self._budget is not None else 0
        for stream, share in allocations:
            stream.in_flight += share
        return out

    def _control_wanted(self) -> bool:
        if self._advertise_max_stream_id:
            return True
        return any(s.advertise and not s.closed for s in self._streams.values())

    def _control_frames(self) -> list[Frame]:
        frames: list[Frame] = []
        if self._advertise_max_stream_id:
            self._advertise_max_stream_id = False
            frames.append(ConnectionMaxStreamIdFrame(self._local_max_stream_id))
            frames.append(ConnectionMaxDataFrame(self._local_max_data))
        for stream in self._streams.values():
            if stream.advertise and not stream.closed:
                stream.advertise = False
                frames.append(
                    StreamMaxMoneyFrame(stream.id, stream.receive_max, stream.total_received)
                )
                frames.append(StreamMaxDataFrame(stream.id, stream.local_max_data))
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
        if kind == _NORMAL:
            # RFC 29 §6.2: condition = sha256(hmac(hmac_key, data)).
            condition = self._keys.condition(data)
            self._normal_in_flight += 1
        else:
            # §6.1: probes and ConnectionClose must not be fulfillable.
            condition = self._random(32)
        prepare = Prepare(amount, wallclock + self._expiry, condition, self._destination, data)
        self._in_flight[seq] = _InFlight(
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
        sends: failures become events.
        """
        self._now = now
        rec = self._pop(packet_id)
        if rec is None:
            return
        self._last_activity = now
        is_fulfill = isinstance(reply, Fulfill)
        packet = self._open_reply(rec, reply.data, 13 if is_fulfill else 14)
        if packet is not None:
            if not self._peer_answered:
                self._peer_answered = True
            try:
                self._apply_reply_frames(packet.frames, is_fulfill)
            except StreamError as e:
                self._release(rec)
                self._fail(e)
                return
        if rec.kind == _CLOSE:
            self._release(rec)
            self._finish_close()
            return
        if rec.kind == _PROBE:
            self._on_probe_reply(rec, reply, packet, now)
            return
        if isinstance(reply, Fulfill):
            # The one place money becomes "sent": a verified fulfillment, before expiry.
            if now < rec.expires and condition_of(reply.fulfillment) == rec.condition:
                self._on_fulfilled(rec, packet)
            else:
                self._release(rec)
                self._fail(
                    RemoteProtocolError(
                        "fulfillment does not match the condition or came after expiry"
                    )
                )
            return
        self._on_rejected(rec, reply, packet, now)

    def _pop(self, packet_id: int) -> _InFlight | None:
        rec = self._in_flight.pop(packet_id, None)
        if rec is not None and rec.kind == _NORMAL:
            self._normal_in_flight -= 1
        return rec

    def _open_reply(self, rec: _InFlight, data: bytes, expected_type: int) -> StreamPacket | None:
        if not data:
            return None
        try:
            packet = StreamPacket.open(self._keys, data)
        except (DecryptionError, CodecError):
            return None
        # §5.2: "A sender MUST discard a STREAM packet in which the Sequence does not match",
        # and "Endpoints MUST discard STREAM packets that comes in on the wrong ILP Packet Type".
        if packet.sequence != rec.seq or packet.ilp_packet_type != expected_type:
            return None
        return packet

    def _on_fulfilled(self, rec: _InFlight, packet: StreamPacket | None) -> None:
        self.packets_fulfilled += 1
        self._consecutive_rejects = 0
        if self._budget is not None and rec.reserved:
            self._budget.commit(rec.seq, rec.reserved)
        if rec.amount:
            self.total_sent += rec.amount
            self._congestion.on_fulfill(rec.amount)
            if packet is not None:
                # The receiver's claim, in its units: statistics only.
                self.total_delivered += packet.prepare_amount
                self.last_packet_exchange_rate = Fraction(packet.prepare_amount, rec.amount)
        else:
            self._congestion.on_fulfill(0)
        for stream, share in rec.allocations:
            stream.in_flight -= share
            stream.total_sent += share
            self._events.append(MoneySent(stream.id, share, stream.total_sent, rec.seq))
        for frame in rec.data:
            stream_ = self._streams.get(frame.stream_id)
            if stream_ is not None:
                stream_.data_in_flight -= 1
        for stream in rec.closes:
            self._close_stream(stream, stream.close_code, stream.close_message, remote=False)

    def _release(self, rec: _InFlight) -> None:
        if self._budget is not None and rec.reserved:
            self._budget.release(rec.seq, rec.reserved)
            rec.reserved = 0
        for stream, share in rec.allocations:
            stream.in_flight -= share
        rec.allocations = []

    def _on_failed(self, rec: _InFlight, now: float, *, congestion: bool) -> None:
        """Undo a packet that did not go through: money back, data and closes re-queued."""
        self.packets_rejected += 1
        self._release(rec)
        if rec.kind == _CLOSE:
            self._finish_close()
            return
        for frame in rec.data:
            stream = self._streams.get(frame.stream_id)
            if stream is not None and not stream.closed:
                stream.data_in_flight -= 1
                stream.requeue_data(frame)
        for stream in rec.closes:
            stream.close_sent = False
        if congestion:
            self._congestion.on_congestion(now)

    def _on_rejected(
        self, rec: _InFlight, reject: Reject, packet: StreamPacket | None, now: float
    ) -> None:
        code = reject.code
        self._consecutive_rejects += 1
        if code == "F08":
            # WIRE-NOTES §6.5: lower the ceiling to floor(sent * maximum / received).
            try:
                new_max = AmountTooLarge.from_bytes(reject.data).max_packet_for(rec.amount)
            except CodecError:
                new_max = rec.amount // 2
            if new_max >= rec.amount:
                new_max = rec.amount - 1
            self._congestion.on_too_large(new_max)
            self._on_failed(rec, now, congestion=False)
            if self._congestion.packet_cap <= 0:
                self._fail(ConnectionFailedError("F08: the path takes no money"))
            return
        if code[:1] in "TR":
            if code == "T04":
                self._congestion.on_congestion(now, liquidity_amount=rec.amount)
                self._on_failed(rec, now, congestion=False)
            else:
                self._on_failed(rec, now, congestion=True)
            return
        if code == "F99" and packet is not None:
            arrived = packet.prepare_amount
            self._on_failed(rec, now, congestion=False)
            if rec.amount and arrived < rec.min_dest:
                # Slippage breach: the receiver refused because too little arrived.
                self.last_packet_exchange_rate = Fraction(arrived, rec.amount)
                self._fail(
                    ExchangeRateError(
                        f"exchange rate dropped below the minimum acceptable rate: "
                        f"{arrived} arrived for {rec.amount} sent, {rec.min_dest} required"
                    )
                )
            elif self._consecutive_rejects > 20:
                self._fail(ConnectionFailedError("the receiver keeps rejecting packets (F99)"))
            # Otherwise (flow control, a closed stream): the reply's frames carry the limits
            # the next packet will respect; retry at once.
            return
        # Any other final error: retrying will not help (F02 unreachable, F06, ...).
        self._on_failed(rec, now, congestion=False)
        self._fail(ConnectionFailedError(f"packet rejected: {code} {reject.message}".strip()))

    # ------------------------------------------------------------------ probing

    def _on_probe_reply(
        self,
        rec: _InFlight,
        reply: Fulfill | Reject | None,
        packet: StreamPacket | None,
        now: float,
    ) -> None:
        """A probe's outcome; ``reply`` is ``None`` when it expired unanswered."""
        probe = self._probe
        assert probe is not None
        self.packets_rejected += 1
        if reply is None:
            probe.retry(rec.amount * 2 // 3)
            self._congestion.on_congestion(now)
        elif isinstance(reply, Reject) and reply.code == "F08":
            try:
                new_max = AmountTooLarge.from_bytes(reply.data).max_packet_for(rec.amount)
            except CodecError:
                new_max = rec.amount // 2
            new_max = min(new_max, rec.amount - 1)
            self._congestion.on_too_large(new_max)
            probe.retry(new_max)
        elif isinstance(reply, Reject) and reply.code[:1] in "TR":
            probe.retry(rec.amount * 2 // 3)
            self._congestion.on_congestion(now)
        elif isinstance(reply, Reject) and packet is not None:
            probe.delivered(rec.amount, packet.prepare_amount)
        else:
            probe.failed()
        self._maybe_finish_probe()

    def _maybe_finish_probe(self) -> None:
        probe = self._probe
        if probe is None or not probe.done or self._probe_done:
            return
        self._probe_done = True
        rate = probe.rate
        if rate is None:
            self._fail(
                ExchangeRateError(
                    "Unable to establish connection, no packets meeting the minimum exchange "
                    f"precision of {probe.precision} digits made it through the path."
                )
            )
            return
        self._rate = rate
        self.last_packet_exchange_rate = rate
        minimum = self.config.minimum_exchange_rate
        if minimum is not None and rate < minimum:
            self._fail(
                ExchangeRateError(
                    f"probed exchange rate {float(rate):.6g} is below the minimum "
                    f"{float(minimum):.6g}"
                )
            )
            return
        floor = rate * (1 - self.config.slippage)
        self._min_rate = floor if minimum is None else max(floor, minimum)
        # The path may be cheaper than the packet size we probed with: start there.
        self._congestion.backoff_until = 0.0
        self._set_connected(rate)

    def _set_connected(self, rate: Fraction | None) -> None:
        if not self._connected:
            self._connected = True
            self._events.append(Connected(rate))

    # ------------------------------------------------------------------ frames from the peer

    def _apply_reply_frames(self, frames: tuple[Frame, ...], is_fulfill: bool) -> None:
        """Frames in an authentic reply. Raises: StreamError (the connection must fail)."""
        for frame in frames:
            if isinstance(frame, StreamReceiptFrame):
                if is_fulfill:
                    self._on_receipt(frame)
            else:
                self.apply_control_frame(frame)

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
            self._terminate(frame.error_code, frame.error_message, remote=True, send_close=False)

    def _on_receipt(self, frame: StreamReceiptFrame) -> None:
        stream = self._streams.get(frame.stream_id)
        if stream is None:
            return
        try:
            total = decode_receipt(frame.receipt).total_received
        except CodecError:
            return
        if total > stream.receipt_total:
            stream.receipt_total = total
            stream.receipt = frame.receipt
            self._events.append(ReceiptReceived(stream.id, frame.receipt, total))

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
            del self._streams[stream.id]
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


def _trim(allocations: list[tuple[Stream, int]], total: int) -> list[tuple[Stream, int]]:
    """Keep at most ``total`` of the allocations, in order."""
    out: list[tuple[Stream, int]] = []
    for stream, share in allocations:
        if total <= 0:
            break
        take = min(share, total)
        out.append((stream, take))
        total -= take
    return out
