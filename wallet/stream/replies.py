"""Replies to our Prepares: the sending half's accounting (RFC 29 §3.4, §3.6; WIRE-NOTES §6.4-6.5).

Owns: what a Fulfill or Reject does to a :class:`~wallet.stream.connection.Connection` — commit
or release each packet's reservations, re-queue its data and closes, feed the rate probe and the
congestion controller, and apply the frames of an authentic STREAM reply. Split out of
``connection.py`` to keep files small; it works on the connection's state.

Rules kept here:

* money becomes "sent" in exactly one place, :func:`on_fulfilled`, reached only for a Fulfill
  whose ``sha256(fulfillment)`` equals the condition and that arrived before expiry;
* a reply's STREAM packet counts only if it decrypts, has our sequence and the ILP type of the
  reply it rode in (§5.2: "A sender MUST discard a STREAM packet in which the Sequence does not
  match");
* F08 lowers the packet ceiling; T/R-class back off; F99 with an authentic reply is the
  receiver's refusal (flow control, or too little arrived: a slippage breach that fails the
  connection); any other final code fails the connection.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from wallet.ilp import AmountTooLarge, CodecError, Fulfill, Reject
from wallet.stream.config import Outcome
from wallet.stream.crypto import condition_of
from wallet.stream.errors import (
    ConnectionFailedError,
    DecryptionError,
    ExchangeRateError,
    RemoteProtocolError,
    StreamError,
)
from wallet.stream.events import MoneySent, ReceiptReceived
from wallet.stream.frames import Frame, StreamReceiptFrame
from wallet.stream.inflight import CLOSE, NORMAL, PROBE, InFlight
from wallet.stream.packet import StreamPacket
from wallet.stream.receipts import decode_receipt

if TYPE_CHECKING:
    from wallet.stream.connection import Connection

__all__ = [
    "MAX_CONSECUTIVE_REJECTS",
    "lose",
    "on_failed",
    "on_probe_reply",
    "pop",
    "receive_reply",
]

# Give up after this many rejects without a single Fulfill in between (T-class retries back off
# up to 10 s each, so this is minutes of an unusable path).
MAX_CONSECUTIVE_REJECTS = 100


def receive_reply(conn: Connection, packet_id: int, reply: Fulfill | Reject, now: float) -> None:
    """The Fulfill or Reject for the Prepare handed out as ``packet_id``.

    Unknown or late ids (already expired) are ignored. Never raises for what the peer
    sends: failures become events.
    """
    conn._now = now
    rec = pop(conn, packet_id)
    if rec is None:
        return
    conn._last_activity = now
    is_fulfill = isinstance(reply, Fulfill)
    packet = open_reply(conn, rec, reply.data, 13 if is_fulfill else 14)
    error: StreamError | None = None
    # The one place money becomes "sent": a verified fulfillment, before expiry. Decided first
    # and on the ILP packet alone: a valid Fulfill means the money left, whatever its STREAM
    # payload says (so the budget commits it even if the payload then fails the connection).
    valid = (
        isinstance(reply, Fulfill)
        and now < rec.expires
        and condition_of(reply.fulfillment) == rec.condition
    )
    if packet is not None:
        conn._peer_answered = True
        try:
            apply_reply_frames(conn, packet.frames)
        except StreamError as e:
            error = e
    if rec.kind == CLOSE:
        settle(conn, rec, Outcome.REFUSED if packet is not None else Outcome.REJECTED)
        conn._finish_close()
    elif rec.kind == PROBE:
        on_probe_reply(conn, rec, reply, packet, now)
    elif valid:
        on_fulfilled(conn, rec, packet)
        if packet is not None:
            for frame in packet.frames:
                if isinstance(frame, StreamReceiptFrame):
                    on_receipt(conn, frame)
    elif now >= rec.expires:
        # An answer after expiry proves nothing either way: the money's fate is uncertain.
        on_failed(conn, rec, now, congestion=True, outcome=Outcome.LATE)
        if isinstance(reply, Fulfill):
            error = RemoteProtocolError("the fulfillment came after the Prepare expired")
    elif isinstance(reply, Fulfill):
        on_failed(conn, rec, now, congestion=False, outcome=Outcome.BAD_FULFILLMENT)
        error = RemoteProtocolError("fulfillment does not match the condition")
    else:
        on_rejected(conn, rec, reply, packet, now)
    if error is not None:
        conn._fail(error)


def lose(conn: Connection, packet_id: int, now: float) -> None:
    """The path failed after the Prepare handed out as ``packet_id`` may have left: no answer
    will come, and the receiver may have been paid (``Outcome.LOST``)."""
    conn._now = now
    rec = pop(conn, packet_id)
    if rec is None:
        return
    if rec.kind == PROBE:
        on_probe_reply(conn, rec, None, None, now)
    else:
        on_failed(conn, rec, now, congestion=True, outcome=Outcome.LOST)


def pop(conn: Connection, packet_id: int) -> InFlight | None:
    rec = conn._in_flight.pop(packet_id, None)
    if rec is not None and rec.kind == NORMAL:
        conn._normal_in_flight -= 1
    return rec


def open_reply(
    conn: Connection, rec: InFlight, data: bytes, expected_type: int
) -> StreamPacket | None:
    if not data:
        return None
    try:
        packet = StreamPacket.open(conn._keys, data)
    except (DecryptionError, CodecError):
        return None
    # §5.2: "A sender MUST discard a STREAM packet in which the Sequence does not match",
    # and "Endpoints MUST discard STREAM packets that comes in on the wrong ILP Packet Type".
    if packet.sequence != rec.seq or packet.ilp_packet_type != expected_type:
        return None
    return packet


def on_fulfilled(conn: Connection, rec: InFlight, packet: StreamPacket | None) -> None:
    conn.packets_fulfilled += 1
    conn._consecutive_rejects = 0
    if conn._budget is not None and rec.reserved:
        # The receiver's claim of what arrived, in its units: for the history, never for
        # our own accounting.
        delivered = packet.prepare_amount if packet is not None else 0
        conn._budget.settle(rec.seq, rec.reserved, Outcome.FULFILLED, delivered)
    if rec.amount:
        conn.total_sent += rec.amount
        conn._congestion.on_fulfill(rec.amount)
        if packet is not None:
            # The receiver's claim, in its units: statistics only.
            conn.total_delivered += packet.prepare_amount
            conn.last_packet_exchange_rate = Fraction(packet.prepare_amount, rec.amount)
    else:
        conn._congestion.on_fulfill(0)
    for stream, share in rec.allocations:
        stream.in_flight -= share
        stream.total_sent += share
        conn._events.append(MoneySent(stream.id, share, stream.total_sent, rec.seq))
        if stream.closed and stream.in_flight == 0:
            conn._reap(stream)
    for frame in rec.data:
        stream_ = conn._streams.get(frame.stream_id)
        if stream_ is not None:
            stream_.data_in_flight -= 1
    for stream in rec.closes:
        conn._close_stream(stream, stream.close_code, stream.close_message, remote=False)


def settle(conn: Connection, rec: InFlight, outcome: Outcome) -> None:
    """Tell the budget gate what became of a packet that was not fulfilled, and give its
    money back to its streams (they may send it again)."""
    if conn._budget is not None and rec.reserved:
        conn._budget.settle(rec.seq, rec.reserved, outcome)
        rec.reserved = 0
    for stream, share in rec.allocations:
        stream.in_flight -= share
        if stream.closed and stream.in_flight == 0:
            conn._reap(stream)
    rec.allocations = []


def on_failed(
    conn: Connection, rec: InFlight, now: float, *, congestion: bool, outcome: Outcome
) -> None:
    """Undo a packet that did not go through: money back to its streams, data and closes
    re-queued; the budget gate learns the ``outcome``."""
    conn.packets_rejected += 1
    settle(conn, rec, outcome)
    if rec.kind == CLOSE:
        conn._finish_close()
        return
    for frame in rec.data:
        stream = conn._streams.get(frame.stream_id)
        if stream is not None and not stream.closed:
            stream.data_in_flight -= 1
            stream.requeue_data(frame)
    for stream in rec.closes:
        stream.close_sent = False
    if congestion:
        conn._congestion.on_congestion(now)


def on_rejected(
    conn: Connection, rec: InFlight, reject: Reject, packet: StreamPacket | None, now: float
) -> None:
    code = reject.code
    # Only the receiver's own authenticated reply proves it did not take the money.
    outcome = Outcome.REFUSED if packet is not None else Outcome.REJECTED
    conn._consecutive_rejects += 1
    if conn._consecutive_rejects > MAX_CONSECUTIVE_REJECTS:
        on_failed(conn, rec, now, congestion=False, outcome=outcome)
        conn._fail(
            ConnectionFailedError(
                f"{MAX_CONSECUTIVE_REJECTS} packets in a row rejected, last: {code} "
                f"{reject.message}".strip()
            )
        )
        return
    if code == "F08":
        # WIRE-NOTES §6.5: lower the ceiling to floor(sent * maximum / received).
        try:
            new_max = AmountTooLarge.from_bytes(reject.data).max_packet_for(rec.amount)
        except CodecError:
            new_max = rec.amount // 2
        if new_max >= rec.amount:
            new_max = rec.amount - 1
        conn._congestion.on_too_large(new_max)
        on_failed(conn, rec, now, congestion=False, outcome=outcome)
        if conn._congestion.packet_cap <= 0:
            conn._fail(ConnectionFailedError("F08: the path takes no money"))
        return
    if code[:1] in "TR":
        if code == "T04":
            conn._congestion.on_congestion(now, liquidity_amount=rec.amount)
            on_failed(conn, rec, now, congestion=False, outcome=outcome)
        else:
            on_failed(conn, rec, now, congestion=True, outcome=outcome)
        return
    if code == "F99" and packet is not None:
        arrived = packet.prepare_amount
        on_failed(conn, rec, now, congestion=False, outcome=outcome)
        if rec.amount and arrived < rec.min_dest:
            # Slippage breach: the receiver refused because too little arrived.
            conn.last_packet_exchange_rate = Fraction(arrived, rec.amount)
            conn._fail(
                ExchangeRateError(
                    f"exchange rate dropped below the minimum acceptable rate: "
                    f"{arrived} arrived for {rec.amount} sent, {rec.min_dest} required"
                )
            )
        elif conn._consecutive_rejects > 20:
            conn._fail(ConnectionFailedError("the receiver keeps rejecting packets (F99)"))
        # Otherwise (flow control, a closed stream): the reply's frames carry the limits
        # the next packet will respect; retry at once.
        return
    # Any other final error: retrying will not help (F02 unreachable, F06, ...).
    on_failed(conn, rec, now, congestion=False, outcome=outcome)
    conn._fail(ConnectionFailedError(f"packet rejected: {code} {reject.message}".strip()))


def on_probe_reply(
    conn: Connection,
    rec: InFlight,
    reply: Fulfill | Reject | None,
    packet: StreamPacket | None,
    now: float,
) -> None:
    """A probe's outcome; ``reply`` is ``None`` when it expired unanswered."""
    probe = conn._probe
    assert probe is not None
    conn.packets_rejected += 1
    if reply is None:
        probe.retry(rec.amount * 2 // 3)
        conn._congestion.on_congestion(now)
    elif isinstance(reply, Reject) and reply.code == "F08":
        try:
            new_max = AmountTooLarge.from_bytes(reply.data).max_packet_for(rec.amount)
        except CodecError:
            new_max = rec.amount // 2
        new_max = min(new_max, rec.amount - 1)
        conn._congestion.on_too_large(new_max)
        probe.retry(new_max)
    elif isinstance(reply, Reject) and reply.code[:1] in "TR":
        probe.retry(rec.amount * 2 // 3)
        conn._congestion.on_congestion(now)
    elif isinstance(reply, Reject) and packet is not None:
        probe.delivered(rec.amount, packet.prepare_amount)
    else:
        probe.failed()
    maybe_finish_probe(conn)


def maybe_finish_probe(conn: Connection) -> None:
    probe = conn._probe
    if probe is None or not probe.done or conn._probe_done or conn._is_closed():
        return
    conn._probe_done = True
    rate = probe.rate
    if rate is None:
        conn._fail(
            ExchangeRateError(
                "Unable to establish connection, no packets meeting the minimum exchange "
                f"precision of {probe.precision} digits made it through the path."
            )
        )
        return
    conn._rate = rate
    conn.last_packet_exchange_rate = rate
    minimum = conn.config.minimum_exchange_rate
    if minimum is not None and rate < minimum:
        conn._fail(
            ExchangeRateError(
                f"probed exchange rate {float(rate):.6g} is below the minimum {float(minimum):.6g}"
            )
        )
        return
    floor = rate * (1 - conn.config.slippage)
    conn._min_rate = floor if minimum is None else max(floor, minimum)
    # The path may be cheaper than the packet size we probed with: start there.
    conn._congestion.backoff_until = 0.0
    conn._set_connected(rate)


def apply_reply_frames(conn: Connection, frames: tuple[Frame, ...]) -> None:
    """Frames in an authentic reply, except receipts. Raises: StreamError (fail the connection)."""
    for frame in frames:
        if not isinstance(frame, StreamReceiptFrame):
            conn.apply_control_frame(frame)


def on_receipt(conn: Connection, frame: StreamReceiptFrame) -> None:
    stream = conn._streams.get(frame.stream_id)
    if stream is None:
        return
    try:
        total = decode_receipt(frame.receipt).total_received
    except CodecError:
        return
    if total > stream.receipt_total:
        stream.receipt_total = total
        stream.receipt = frame.receipt
        conn._events.append(ReceiptReceived(stream.id, frame.receipt, total))
