"""Replies to our Prepares: the sending half's accounting (RFC 29 §3.4, §3.6; WIRE-NOTES §6.4-6.5).

Owns no state: what a Fulfill or Reject (or its absence) does to the connection's owners —
settle each packet's reservations with the budget gate and its streams, re-queue its data and
closes, feed the rate probe and the congestion controller, and apply the frames of an authentic
STREAM reply.

Rules kept here:

* every packet's :class:`~wallet.stream.config.Outcome` is decided in one place,
  :func:`classify` (with :func:`expire` and :func:`lose` for the two that have no reply), as
  the table in ``Outcome``'s docstring says;
* money becomes "sent" in exactly one place, :func:`on_fulfilled`, reached only for
  ``Outcome.FULFILLED``: a Fulfill whose ``sha256(fulfillment)`` equals the condition and that
  arrived before expiry;
* a reply's STREAM packet counts only if it decrypts, has our sequence and the ILP type of the
  reply it rode in (§5.2: "A sender MUST discard a STREAM packet in which the Sequence does not
  match");
* F08 lowers the packet ceiling; T/R-class back off; F99 with an authentic reply is the
  receiver's refusal (flow control, or too little arrived: a slippage breach that fails the
  connection); any other final code fails the connection.
"""

from __future__ import annotations

from fractions import Fraction

from wallet.ilp import AmountTooLarge, CodecError, Fulfill, Reject
from wallet.stream.config import Outcome
from wallet.stream.control import apply_control_frame
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
from wallet.stream.inflight import CLOSE, PROBE, InFlight
from wallet.stream.packet import StreamPacket
from wallet.stream.parts import Parts
from wallet.stream.receipts import decode_receipt

__all__ = [
    "MAX_CONSECUTIVE_REJECTS",
    "classify",
    "expire",
    "lose",
    "receive_reply",
]

# Give up after this many rejects without a single Fulfill in between (T-class retries back off
# up to 10 s each, so this is minutes of an unusable path).
MAX_CONSECUTIVE_REJECTS = 100


# ---------------------------------------------------------------------- outcomes


def classify(
    rec: InFlight, reply: Fulfill | Reject, packet: StreamPacket | None, now: float
) -> Outcome:
    """What a reply says became of the packet ``rec`` (the table in ``Outcome``'s docstring).

    ``packet`` is the receiver's authentic STREAM reply in it, if any (:func:`open_reply`).
    Decided on the ILP packet and the clock alone: a valid Fulfill means the money left,
    whatever its STREAM payload says. Replies with no answer at all are :func:`expire` (no
    answer by expiry, ``Outcome.EXPIRED``) and :func:`lose` (the path failed,
    ``Outcome.LOST``).
    """
    if now >= rec.expires:
        # An answer after expiry proves nothing either way: the money's fate is uncertain.
        return Outcome.LATE
    if isinstance(reply, Fulfill):
        if condition_of(reply.fulfillment) == rec.condition:
            return Outcome.FULFILLED
        return Outcome.BAD_FULFILLMENT
    # Only the receiver's own authenticated reply proves it did not take the money.
    return Outcome.REFUSED if packet is not None else Outcome.REJECTED


def receive_reply(parts: Parts, packet_id: int, reply: Fulfill | Reject, now: float) -> None:
    """The Fulfill or Reject for the Prepare handed out as ``packet_id``.

    Unknown or late ids (already expired) are ignored. Never raises for what the peer
    sends: failures become events.
    """
    rec = parts.in_flight.pop(packet_id)
    if rec is None:
        return
    parts.lifecycle.touch(now)
    is_fulfill = isinstance(reply, Fulfill)
    packet = open_reply(parts, rec, reply.data, 13 if is_fulfill else 14)
    outcome = classify(rec, reply, packet, now)
    error: StreamError | None = None
    if packet is not None:
        if not parts.path.answered:
            parts.path.peer_answered()
        try:
            apply_reply_frames(parts, packet.frames)
        except StreamError as e:
            error = e
    if rec.kind == CLOSE:
        settle(parts, rec, Outcome.REFUSED if packet is not None else Outcome.REJECTED)
        parts.lifecycle.finish_close()
    elif rec.kind == PROBE:
        on_probe_reply(parts, rec, reply, packet, now)
    elif outcome is Outcome.FULFILLED:
        on_fulfilled(parts, rec, packet)
        if packet is not None:
            for frame in packet.frames:
                if isinstance(frame, StreamReceiptFrame):
                    on_receipt(parts, frame)
    elif outcome is Outcome.LATE:
        on_failed(parts, rec, now, congestion=True, outcome=outcome)
        if is_fulfill:
            error = RemoteProtocolError("the fulfillment came after the Prepare expired")
    elif outcome is Outcome.BAD_FULFILLMENT:
        on_failed(parts, rec, now, congestion=False, outcome=outcome)
        error = RemoteProtocolError("fulfillment does not match the condition")
    else:
        assert isinstance(reply, Reject)
        on_rejected(parts, rec, reply, packet, now=now, outcome=outcome)
    if error is not None:
        parts.lifecycle.fail(error)


def expire(parts: Parts, now: float) -> None:
    """Settle every packet whose reply did not come by its expiry (``Outcome.EXPIRED``)."""
    for rec in parts.in_flight.expired(now):
        parts.in_flight.pop(rec.seq)
        if rec.kind == PROBE:
            on_probe_reply(parts, rec, None, None, now)
        else:
            on_failed(parts, rec, now, congestion=True, outcome=Outcome.EXPIRED)


def lose(parts: Parts, packet_id: int, now: float) -> None:
    """The path failed after the Prepare handed out as ``packet_id`` may have left: no answer
    will come, and the receiver may have been paid (``Outcome.LOST``)."""
    rec = parts.in_flight.pop(packet_id)
    if rec is None:
        return
    if rec.kind == PROBE:
        on_probe_reply(parts, rec, None, None, now)
    else:
        on_failed(parts, rec, now, congestion=True, outcome=Outcome.LOST)


# ---------------------------------------------------------------------- reading a reply


def open_reply(parts: Parts, rec: InFlight, data: bytes, expected_type: int) -> StreamPacket | None:
    if not data:
        return None
    try:
        packet = StreamPacket.open(parts.keys, data)
    except (DecryptionError, CodecError):
        return None
    # §5.2: "A sender MUST discard a STREAM packet in which the Sequence does not match",
    # and "Endpoints MUST discard STREAM packets that comes in on the wrong ILP Packet Type".
    if packet.sequence != rec.seq or packet.ilp_packet_type != expected_type:
        return None
    return packet


def apply_reply_frames(parts: Parts, frames: tuple[Frame, ...]) -> None:
    """Frames in an authentic reply, except receipts. Raises: StreamError (fail the connection)."""
    for frame in frames:
        if not isinstance(frame, StreamReceiptFrame):
            apply_control_frame(parts, frame)


def on_receipt(parts: Parts, frame: StreamReceiptFrame) -> None:
    stream = parts.streams.by_id.get(frame.stream_id)
    if stream is None:
        return
    try:
        total = decode_receipt(frame.receipt).total_received
    except CodecError:
        return
    if stream.take_receipt(frame.receipt, total):
        parts.emit(ReceiptReceived(stream.id, frame.receipt, total))


# ---------------------------------------------------------------------- settling


def on_fulfilled(parts: Parts, rec: InFlight, packet: StreamPacket | None) -> None:
    """The one place money becomes "sent"."""
    # The receiver's claim of what arrived, in its units: for the history and statistics,
    # never for our own accounting.
    delivered = packet.prepare_amount if packet is not None else None
    if parts.budget is not None and rec.reserved:
        parts.budget.settle(rec.seq, rec.reserved, Outcome.FULFILLED, delivered or 0)
    parts.counters.fulfilled(rec.amount, delivered)
    parts.congestion.on_fulfill(rec.amount)
    streams = parts.streams
    for stream, share in rec.allocations:
        stream.settle(share, sent=True)
        parts.emit(MoneySent(stream.id, share, stream.total_sent, rec.seq))
        if stream.closed:
            streams.forget_if_settled(stream)
    for frame in rec.data:
        stream_ = streams.by_id.get(frame.stream_id)
        if stream_ is not None:
            stream_.data_arrived()
    for stream in rec.closes:
        streams.close(stream, stream.close_code, stream.close_message, remote=False)


def settle(parts: Parts, rec: InFlight, outcome: Outcome) -> None:
    """Tell the budget gate what became of a packet that was not fulfilled, and give its
    money back to its streams (they may send it again)."""
    if parts.budget is not None and rec.reserved:
        parts.budget.settle(rec.seq, rec.reserved, outcome)
        rec.reserved = 0
    for stream, share in rec.allocations:
        stream.settle(share, sent=False)
        if stream.closed:
            parts.streams.forget_if_settled(stream)
    rec.allocations = []


def on_failed(
    parts: Parts, rec: InFlight, now: float, *, congestion: bool, outcome: Outcome
) -> None:
    """Undo a packet that did not go through: money back to its streams, data and closes
    re-queued; the budget gate learns the ``outcome``."""
    parts.counters.failed()
    settle(parts, rec, outcome)
    if rec.kind == CLOSE:
        parts.lifecycle.finish_close()
        return
    for frame in rec.data:
        stream = parts.streams.by_id.get(frame.stream_id)
        if stream is not None and not stream.closed:
            stream.data_failed(frame)
    for stream in rec.closes:
        stream.close_failed()
    if congestion:
        parts.congestion.on_congestion(now)


def on_rejected(
    parts: Parts,
    rec: InFlight,
    reject: Reject,
    packet: StreamPacket | None,
    *,
    now: float,
    outcome: Outcome,
) -> None:
    """A Reject before expiry (``outcome`` REFUSED or REJECTED): what its code tells us."""
    code = reject.code
    fail = parts.lifecycle.fail
    in_a_row = parts.counters.rejected()
    if in_a_row > MAX_CONSECUTIVE_REJECTS:
        on_failed(parts, rec, now, congestion=False, outcome=outcome)
        fail(
            ConnectionFailedError(
                f"{MAX_CONSECUTIVE_REJECTS} packets in a row rejected, last: {code} "
                f"{reject.message}".strip()
            )
        )
        return
    if code == "F08":
        # WIRE-NOTES §6.5: lower the ceiling to floor(sent * maximum / received).
        new_max = _f08_ceiling(reject, rec.amount)
        if new_max >= rec.amount:
            new_max = rec.amount - 1
        parts.congestion.on_too_large(new_max)
        on_failed(parts, rec, now, congestion=False, outcome=outcome)
        if parts.congestion.packet_cap <= 0:
            fail(ConnectionFailedError("F08: the path takes no money"))
        return
    if code[:1] in "TR":
        if code == "T04":
            parts.congestion.on_congestion(now, liquidity_amount=rec.amount)
            on_failed(parts, rec, now, congestion=False, outcome=outcome)
        else:
            on_failed(parts, rec, now, congestion=True, outcome=outcome)
        return
    if code == "F99" and packet is not None:
        arrived = packet.prepare_amount
        on_failed(parts, rec, now, congestion=False, outcome=outcome)
        if rec.amount and arrived < rec.min_dest:
            # Slippage breach: the receiver refused because too little arrived.
            parts.counters.observed_rate(Fraction(arrived, rec.amount))
            fail(
                ExchangeRateError(
                    f"exchange rate dropped below the minimum acceptable rate: "
                    f"{arrived} arrived for {rec.amount} sent, {rec.min_dest} required"
                )
            )
        elif in_a_row > 20:
            fail(ConnectionFailedError("the receiver keeps rejecting packets (F99)"))
        # Otherwise (flow control, a closed stream): the reply's frames carry the limits
        # the next packet will respect; retry at once.
        return
    # Any other final error: retrying will not help (F02 unreachable, F06, ...).
    on_failed(parts, rec, now, congestion=False, outcome=outcome)
    fail(ConnectionFailedError(f"packet rejected: {code} {reject.message}".strip()))


def _f08_ceiling(reject: Reject, amount: int) -> int:
    """WIRE-NOTES §6.5: floor(sent * maximum / received), or half if F08 says nothing."""
    try:
        return AmountTooLarge.from_bytes(reject.data).max_packet_for(amount)
    except CodecError:
        return amount // 2


# ---------------------------------------------------------------------- the rate probe


def on_probe_reply(
    parts: Parts,
    rec: InFlight,
    reply: Fulfill | Reject | None,
    packet: StreamPacket | None,
    now: float,
) -> None:
    """A probe's outcome; ``reply`` is ``None`` when it expired unanswered."""
    probe = parts.path.probe
    assert probe is not None
    parts.counters.failed()
    if reply is None:
        probe.retry(rec.amount * 2 // 3)
        parts.congestion.on_congestion(now)
    elif isinstance(reply, Reject) and reply.code == "F08":
        new_max = min(_f08_ceiling(reply, rec.amount), rec.amount - 1)
        parts.congestion.on_too_large(new_max)
        probe.retry(new_max)
    elif isinstance(reply, Reject) and reply.code[:1] in "TR":
        probe.retry(rec.amount * 2 // 3)
        parts.congestion.on_congestion(now)
    elif isinstance(reply, Reject) and packet is not None:
        probe.delivered(rec.amount, packet.prepare_amount)
    else:
        probe.failed()
    _maybe_finish_probe(parts)


def _maybe_finish_probe(parts: Parts) -> None:
    if parts.lifecycle.is_closed():
        return
    config = parts.config
    rate, error = parts.path.finish_probe(config.minimum_exchange_rate, config.slippage)
    if rate is not None:
        parts.counters.observed_rate(rate)
    if error is not None:
        parts.lifecycle.fail(error)
    elif rate is not None:
        # The path may be cheaper than the packet size we probed with: start there.
        parts.congestion.clear_backoff()
        parts.path.connect(rate)
