"""Building our next Prepare: which money, data, closes and limits go in it (RFC 29 §4.4-4.5).

Owns: :func:`next_packet` — fill one packet from the streams (money by stream id order up to
the congestion controller's ceiling and the peer's limits converted at the path rate, data up
to both windows, retransmissions first), reserve its money (streams and budget gate), and hand
it to the connection to seal. Split out of ``connection.py`` to keep files small.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from wallet.ilp.oer import U64_MAX
from wallet.stream.frames import (
    ConnectionDataBlockedFrame,
    ConnectionMaxDataFrame,
    ConnectionMaxStreamIdFrame,
    ConnectionStreamIdBlockedFrame,
    Frame,
    StreamCloseFrame,
    StreamDataBlockedFrame,
    StreamDataFrame,
    StreamMaxDataFrame,
    StreamMaxMoneyFrame,
    StreamMoneyBlockedFrame,
    StreamMoneyFrame,
)
from wallet.stream.inflight import NORMAL
from wallet.stream.rate import min_destination_amount
from wallet.stream.streams import Stream

if TYPE_CHECKING:
    from wallet.stream.connection import Connection, OutgoingPrepare

__all__ = ["MAX_DATA_PER_PACKET", "control_frames", "control_wanted", "next_packet"]

# The STREAM data we put in one Prepare: ILP data is at most 32767 bytes, and over
# ILP-over-HTTP the whole packet must fit in 32767 (WIRE-NOTES §1). Leave room for a
# 1023-byte destination, the 28-byte envelope and the other frames.
MAX_DATA_PER_PACKET = 30_000
_FRAME_OVERHEAD = 24


def next_packet(conn: Connection, now: float, wallclock: datetime) -> OutgoingPrepare | None:
    seq = conn._next_seq
    if seq > conn.config.max_packets:
        return None
    frames: list[Frame] = []
    substantive = False
    rate = conn._rate
    cap = conn._congestion.packet_cap
    amount = 0
    allocations: list[tuple[Stream, int]] = []
    max_id = conn._remote_max_stream_id
    # Money: fill the packet from streams in id order (§4.4.2).
    if rate is not None and rate > 0:
        for stream in conn._streams.values():
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
                            StreamMoneyBlockedFrame(stream.id, stream.send_max, stream.total_sent)
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
        if amount and conn._budget is not None:
            approved = max(0, min(amount, conn._budget.reserve(seq, amount)))
            if approved < amount:
                allocations = _trim(allocations, approved)
                amount = approved
    # Data: retransmissions first, then new bytes, within both windows (§4.4.4, §4.5).
    data_frames: list[StreamDataFrame] = []
    budget = MAX_DATA_PER_PACKET
    conn_room = conn._remote_max_data - conn._data_sent_highest
    for stream in conn._streams.values():
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
            conn._data_sent_highest += new_bytes
            budget -= len(frame.data) + _FRAME_OVERHEAD
            stream.data_in_flight += 1
            data_frames.append(frame)
        blocked_at = stream.data_blocked_at()
        if blocked_at is not None:
            frames.append(StreamDataBlockedFrame(stream.id, blocked_at))
            substantive = True
    if (
        conn_room <= 0
        and conn._data_blocked_sent != conn._data_sent_highest
        and any(s.data_pending for s in conn._streams.values())
    ):
        conn._data_blocked_sent = conn._data_sent_highest
        frames.append(ConnectionDataBlockedFrame(conn._data_sent_highest + 1))
        substantive = True
    # Closes: once a closing stream has nothing left to send or settle (§4.4.5).
    closes: list[Stream] = []
    for stream in conn._streams.values():
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
    if conn._next_local_id - 2 > max_id and conn._stream_id_blocked_sent < max_id + 2:
        conn._stream_id_blocked_sent = max_id + 2
        frames.append(ConnectionStreamIdBlockedFrame(conn._next_local_id - 2))
        substantive = True
    control = control_wanted(conn)
    if not (amount or data_frames or closes or substantive or control):
        ping = conn.keepalive_due_at()
        if ping is None or now < ping:
            return None
        # Keep-alive: nothing to say, but a zero-amount packet stops both sides' idle timers
        # (ilp-protocol-stream bumps its idle timer on every authentic Prepare).
        frames.append(ConnectionMaxDataFrame(conn._local_max_data))
    frames[:0] = conn._announce_frames()
    frames.extend(control_frames(conn))
    for stream, share in allocations:
        frames.append(StreamMoneyFrame(stream.id, share))
    frames.extend(data_frames)
    for stream in closes:
        frames.append(StreamCloseFrame(stream.id, stream.close_code, stream.close_message))
    min_dest = 0
    if amount and conn._min_rate is not None:
        min_dest = min_destination_amount(amount, conn._min_rate)
    out = conn._emit(NORMAL, frames, amount, now, wallclock, min_dest=min_dest)
    rec = conn._in_flight[seq]
    rec.allocations = allocations
    rec.data = data_frames
    rec.closes = closes
    rec.reserved = amount if conn._budget is not None else 0
    for stream, share in allocations:
        stream.in_flight += share
    return out


def control_wanted(conn: Connection) -> bool:
    if conn._advertise_max_stream_id:
        return True
    return any(s.advertise and not s.closed for s in conn._streams.values())


def control_frames(conn: Connection) -> list[Frame]:
    frames: list[Frame] = []
    if conn._advertise_max_stream_id:
        conn._advertise_max_stream_id = False
        frames.append(ConnectionMaxStreamIdFrame(conn._local_max_stream_id))
        frames.append(ConnectionMaxDataFrame(conn._local_max_data))
    for stream in conn._streams.values():
        if stream.advertise and not stream.closed:
            stream.advertise = False
            frames.append(StreamMaxMoneyFrame(stream.id, stream.receive_max, stream.total_received))
            frames.append(StreamMaxDataFrame(stream.id, stream.local_max_data))
    return frames


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
