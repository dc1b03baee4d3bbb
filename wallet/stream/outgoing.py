"""Building our Prepares: probes, closes, and which money, data and limits go in each (RFC 29
§4.4-4.5).

Owns no state: :func:`packets_to_send` asks the connection's owners what is due and builds it;
:func:`next_packet` fills one ordinary packet in phases — money by stream id order up to the
congestion controller's ceiling and the peer's limits converted at the path rate, reserved with
the budget gate (:func:`_take_money`); data up to both windows, retransmissions first
(:func:`_take_data`); the streams whose close is due (:func:`_take_closes`); and the limits we
owe the peer — then seals it (:func:`_seal`).
"""

from __future__ import annotations

import math
from datetime import datetime

from wallet.ilp import Prepare
from wallet.ilp.oer import U64_MAX
from wallet.stream.config import ConnectionState, Role
from wallet.stream.errors import ConnectionFailedError
from wallet.stream.frames import (
    ConnectionCloseFrame,
    ConnectionDataBlockedFrame,
    ConnectionMaxDataFrame,
    ConnectionMaxStreamIdFrame,
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
)
from wallet.stream.inflight import CLOSE, NORMAL, PROBE, InFlight
from wallet.stream.packet import StreamPacket
from wallet.stream.parts import Parts
from wallet.stream.rate import min_destination_amount
from wallet.stream.streams import Stream

__all__ = [
    "MAX_DATA_PER_PACKET",
    "OutgoingPrepare",
    "control_frames",
    "control_wanted",
    "keepalive_due_at",
    "next_packet",
    "packets_to_send",
]

# The STREAM data we put in one Prepare: ILP data is at most 32767 bytes, and over
# ILP-over-HTTP the whole packet must fit in 32767 (WIRE-NOTES §1). Leave room for a
# 1023-byte destination, the 28-byte envelope and the other frames.
MAX_DATA_PER_PACKET = 30_000
_FRAME_OVERHEAD = 24

OutgoingPrepare = tuple[int, Prepare]
"""``(packet_id, prepare)``: send ``prepare``, then report its reply with
:meth:`Connection.receive_reply` under ``packet_id``."""

Allocations = list[tuple[Stream, int]]


def packets_to_send(parts: Parts, now: float, wallclock: datetime) -> list[OutgoingPrepare]:
    """The Prepares to send now: a pending ConnectionClose once closed, the rate probe until
    it is done, then ordinary packets while the congestion window has room."""
    out: list[OutgoingPrepare] = []
    if parts.path.destination is None:
        return out
    lifecycle = parts.lifecycle
    in_flight = parts.in_flight
    if lifecycle.state is ConnectionState.CLOSED:
        frame = lifecycle.take_close_frame()
        if frame is not None and not in_flight.exhausted():
            out.append(_seal(parts, CLOSE, [frame], 0, now=now, wallclock=wallclock)[0])
        return out
    if in_flight.exhausted():
        # RFC 29 §5.1.3: "MUST close the connection once either endpoint has sent 2^31
        # packets".
        lifecycle.fail(ConnectionFailedError("packet limit reached (RFC 29 §5.1.3)"))
        return out
    if not parts.path.probe_done and (parts.role is Role.CLIENT or parts.streams.money_pending()):
        _probe_packets(parts, now, wallclock, out)
        return out
    if now < parts.congestion.backoff_until:
        return out
    slots = parts.congestion.slots(in_flight.normal)
    while slots > 0:
        prepared = next_packet(parts, now, wallclock)
        if prepared is None:
            break
        out.append(prepared)
        slots -= 1
    if lifecycle.state is ConnectionState.CLOSING and not in_flight and parts.streams.all_closed():
        frame = ConnectionCloseFrame(ErrorCode.NO_ERROR, "")
        out.append(_seal(parts, CLOSE, [frame], 0, now=now, wallclock=wallclock)[0])
    return out


def _probe_packets(
    parts: Parts, now: float, wallclock: datetime, out: list[OutgoingPrepare]
) -> None:
    """The rate probe's unfulfillable packets (WIRE-NOTES §6.4), outside any backoff."""
    config = parts.config
    probe = parts.path.start_probe(
        config.probe_amounts, parts.congestion.packet_cap, config.exchange_rate_precision
    )
    if now < parts.congestion.backoff_until:
        return
    for amount in probe.next_amounts():
        if parts.in_flight.exhausted():
            break
        frames = parts.path.announce_frames(config)
        out.append(_seal(parts, PROBE, frames, amount, now=now, wallclock=wallclock)[0])


def keepalive_due_at(parts: Parts) -> float | None:
    """When an idle client next pings (``config.keepalive``), if it does."""
    keepalive = parts.config.keepalive
    if (
        keepalive is None
        or parts.role is not Role.CLIENT
        or parts.lifecycle.state is not ConnectionState.OPEN
        or parts.in_flight
        or parts.path.destination is None
    ):
        return None
    # The latest point of the shared grid (keepalive / 2) within ``keepalive`` of the
    # last packet: connections that went quiet at different times ping together.
    grid = keepalive / 2
    return math.floor((parts.lifecycle.last_activity + keepalive) / grid) * grid


# ---------------------------------------------------------------------- one ordinary packet


def next_packet(parts: Parts, now: float, wallclock: datetime) -> OutgoingPrepare | None:
    """Fill, reserve and seal the next ordinary packet; ``None`` if there is nothing to say."""
    if parts.in_flight.exhausted():
        return None
    max_id = parts.streams.remote_max_id
    notices: list[Frame] = []  # what blocks us (the peer's limits), or a keep-alive
    amount, allocations = _take_money(parts, max_id, notices)
    data = _take_data(parts, max_id, notices)
    closes = _take_closes(parts, max_id)
    wanted_id = parts.streams.stream_id_blocked()
    if wanted_id is not None:
        # Streams we cannot open yet (§5.3.6).
        notices.append(ConnectionStreamIdBlockedFrame(wanted_id))
    if not (amount or data or closes or notices or control_wanted(parts)):
        ping = keepalive_due_at(parts)
        if ping is None or now < ping:
            return None
        # Keep-alive: nothing to say, but a zero-amount packet stops both sides' idle timers
        # (ilp-protocol-stream bumps its idle timer on every authentic Prepare).
        notices.append(ConnectionMaxDataFrame(parts.flow.local_max))
    path = parts.path
    frames = [] if path.answered else path.announce_frames(parts.config)
    frames.extend(notices)
    frames.extend(control_frames(parts))
    for stream, share in allocations:
        frames.append(StreamMoneyFrame(stream.id, share))
    frames.extend(data)
    for stream in closes:
        frames.append(StreamCloseFrame(stream.id, stream.close_code, stream.close_message))
    min_rate = path.min_rate
    min_dest = min_destination_amount(amount, min_rate) if amount and min_rate is not None else 0
    out, rec = _seal(parts, NORMAL, frames, amount, now=now, wallclock=wallclock, min_dest=min_dest)
    rec.allocations = allocations
    rec.data = data
    rec.closes = closes
    rec.reserved = amount if parts.budget is not None else 0
    for stream, share in allocations:
        stream.reserve(share)
    return out


def _take_money(parts: Parts, max_id: int, blocked: list[Frame]) -> tuple[int, Allocations]:
    """Money: fill the packet from streams in id order (§4.4.2), within the packet ceiling,
    the peer's limits and what the budget gate approves. Returns the amount and its shares."""
    rate = parts.path.rate
    if rate is None or rate <= 0:
        return 0, []
    cap = parts.congestion.packet_cap
    amount = 0
    allocations: Allocations = []
    for stream in parts.streams.by_id.values():
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
                    blocked.append(
                        StreamMoneyBlockedFrame(stream.id, stream.send_max, stream.total_sent)
                    )
                pending = room_src
                if pending <= 0:
                    continue
        take = min(pending, cap - amount)
        if take <= 0:
            break
        allocations.append((stream, take))
        amount += take
    budget = parts.budget
    if amount and budget is not None:
        approved = max(0, min(amount, budget.reserve(parts.in_flight.next_seq, amount)))
        if approved < amount:
            allocations = _trim(allocations, approved)
            amount = approved
    return amount, allocations


def _take_data(parts: Parts, max_id: int, blocked: list[Frame]) -> list[StreamDataFrame]:
    """Data: retransmissions first, then new bytes, within both windows (§4.4.4, §4.5)."""
    data: list[StreamDataFrame] = []
    room_in_packet = MAX_DATA_PER_PACKET
    flow = parts.flow
    conn_room = flow.room()
    for stream in parts.streams.by_id.values():
        if stream.closed or stream.id > max_id or not stream.data_pending:
            continue
        while room_in_packet > _FRAME_OVERHEAD:
            highest = stream.send_offset
            limit = room_in_packet - _FRAME_OVERHEAD
            if not stream.retransmit:
                limit = min(limit, conn_room)
            frame = stream.take_data(limit)
            if frame is None:
                break
            new_bytes = stream.send_offset - highest
            conn_room -= new_bytes
            flow.record_sent(new_bytes)
            room_in_packet -= len(frame.data) + _FRAME_OVERHEAD
            data.append(frame)
        blocked_at = stream.data_blocked_at()
        if blocked_at is not None:
            blocked.append(StreamDataBlockedFrame(stream.id, blocked_at))
    if conn_room <= 0 and parts.streams.data_pending():
        conn_blocked_at = flow.blocked_at()
        if conn_blocked_at is not None:
            blocked.append(ConnectionDataBlockedFrame(conn_blocked_at))
    return data


def _take_closes(parts: Parts, max_id: int) -> list[Stream]:
    """Closes: once a closing stream has nothing left to send or settle (§4.4.5)."""
    closes: list[Stream] = []
    for stream in parts.streams.by_id.values():
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
            stream.close_queued()
            closes.append(stream)
    return closes


def control_wanted(parts: Parts) -> bool:
    """Some limit of ours changed and the peer has not heard it."""
    if parts.streams.max_id_changed:
        return True
    return any(s.advertise and not s.closed for s in parts.streams.by_id.values())


def control_frames(parts: Parts) -> list[Frame]:
    """The limits of ours the peer has not heard (saying them clears the flags)."""
    frames: list[Frame] = []
    if parts.streams.max_id_changed and parts.streams.take_max_id_change():
        frames.append(ConnectionMaxStreamIdFrame(parts.streams.local_max_id))
        frames.append(ConnectionMaxDataFrame(parts.flow.local_max))
    for stream in parts.streams.by_id.values():
        if stream.advertise and not stream.closed:
            stream.limits_said()
            frames.append(StreamMaxMoneyFrame(stream.id, stream.receive_max, stream.total_received))
            frames.append(StreamMaxDataFrame(stream.id, stream.local_max_data))
    return frames


def _trim(allocations: Allocations, total: int) -> Allocations:
    """Keep at most ``total`` of the allocations, in order."""
    out: Allocations = []
    for stream, share in allocations:
        if total <= 0:
            break
        take = min(share, total)
        out.append((stream, take))
        total -= take
    return out


# ---------------------------------------------------------------------- sealing


def _seal(
    parts: Parts,
    kind: int,
    frames: list[Frame],
    amount: int,
    *,
    now: float,
    wallclock: datetime,
    min_dest: int = 0,
) -> tuple[OutgoingPrepare, InFlight]:
    """Encrypt the STREAM packet under the next sequence, record it in flight, and build its
    Prepare."""
    destination = parts.path.destination
    assert destination is not None
    seq = parts.in_flight.next_seq
    keys = parts.keys
    data = StreamPacket(seq, 12, min_dest, tuple(frames)).seal(keys, parts.random(12))
    # RFC 29 §6.2: condition = sha256(hmac(hmac_key, data)); §6.1: probes and
    # ConnectionClose must not be fulfillable.
    condition = keys.condition(data) if kind == NORMAL else parts.random(32)
    expiry = parts.config.expiry
    prepare = Prepare(amount, wallclock + parts.lifetime, condition, destination, data)
    rec = InFlight(
        seq, kind, amount=amount, min_dest=min_dest, condition=condition, expires=now + expiry
    )
    parts.in_flight.add(rec)
    parts.lifecycle.touch(now)
    return (seq, prepare), rec
