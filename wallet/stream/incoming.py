"""Answering the peer's Prepares: the receiving half of a connection (RFC 29, WIRE-NOTES §6.8-6.9).

Owns no state: :func:`handle_prepare` — decrypt, apply the frames, credit money and data, and
build the Fulfill or Reject — asks the connection's owners (:class:`~wallet.stream.parts.Parts`)
and changes them through their methods.

Decisions (WIRE-NOTES §6.9, as ilp-protocol-stream answers):

* data that does not decrypt, or a STREAM packet not of type Prepare → **F06**, empty data
  (§4.2: "MUST be rejected with F06: Unexpected Payment"). A *server* that cannot even find
  the connection (unknown destination token) answers F02 itself: that is the driver's call.
* the condition does not match (a probe, a close), too little arrived for the STREAM
  ``prepareAmount``, a stream's receive max would be exceeded, money for a closed stream →
  **F99** whose data is an encrypted STREAM Reject (type 14, same sequence,
  ``prepareAmount`` = the amount that arrived) with our limits;
* otherwise **Fulfill** with ``fulfillment = hmac(fulfillment_key, data)`` and an encrypted
  STREAM packet (type 13) carrying our limits and, when enabled, a receipt per stream.

Control frames (limits, asset details, addresses) are applied even when the Prepare is then
rejected: they are authenticated. Money and data are applied only if we fulfill — the sender
re-sends the exact data frames of a rejected Prepare (§5.3.11).
"""

from __future__ import annotations

from collections.abc import Iterable

from wallet.ilp import CodecError, Fulfill, Prepare, Reject
from wallet.stream.config import ConnectionState, Role
from wallet.stream.control import apply_control_frame, apply_stream_close
from wallet.stream.errors import DecryptionError, RemoteProtocolError, StreamError
from wallet.stream.events import DataReceived, MoneyReceived
from wallet.stream.frames import (
    ConnectionAssetDetailsFrame,
    ConnectionMaxDataFrame,
    ConnectionMaxStreamIdFrame,
    ConnectionNewAddressFrame,
    ErrorCode,
    Frame,
    StreamCloseFrame,
    StreamDataFrame,
    StreamMaxDataFrame,
    StreamMaxMoneyFrame,
    StreamMoneyFrame,
    StreamReceiptFrame,
)
from wallet.stream.packet import StreamPacket
from wallet.stream.parts import Parts
from wallet.stream.receipts import create_receipt
from wallet.stream.streams import Stream

__all__ = ["handle_prepare"]

_F06 = Reject("F06", "", "", b"")


class _Refuse(Exception):
    """Reject this Prepare with F99 (the connection stays up)."""


def handle_prepare(parts: Parts, prepare: Prepare, now: float) -> Fulfill | Reject:
    try:
        packet = StreamPacket.open(parts.keys, prepare.data)
    except (DecryptionError, CodecError):
        return _F06
    if packet.ilp_packet_type != 12:
        return _F06
    lifecycle = parts.lifecycle
    lifecycle.touch(now)
    parts.counters.prepare_received()
    if packet.sequence > parts.config.max_packets:
        lifecycle.fail(RemoteProtocolError("the peer sent more than 2^31 packets"))
    if lifecycle.state is ConnectionState.CLOSED:
        return _reject(parts, prepare, packet, (), close=True)
    announce = False
    money: dict[int, int] = {}
    data_frames: list[StreamDataFrame] = []
    stream_closes: list[StreamCloseFrame] = []
    touched: dict[int, Stream] = {}
    refuse = False
    deferred: list[Frame] = []
    try:
        for frame in packet.frames:
            if isinstance(frame, StreamMoneyFrame):
                stream = _stream_for(parts, frame.stream_id, touched)
                if stream is None or stream.closed:
                    refuse = True  # money for a closed stream: StreamStateError, reject
                else:
                    money[stream.id] = money.get(stream.id, 0) + frame.shares
            elif isinstance(frame, StreamDataFrame):
                stream = _stream_for(parts, frame.stream_id, touched)
                if stream is not None and not stream.closed:
                    data_frames.append(frame)
            elif isinstance(frame, StreamCloseFrame):
                stream_closes.append(frame)
            elif isinstance(frame, ConnectionNewAddressFrame | ConnectionAssetDetailsFrame):
                announce = True
                apply_control_frame(parts, frame)
            elif not isinstance(frame, StreamReceiptFrame):
                deferred.append(frame)
        # Limits after the streams they name exist: ilp-protocol-stream puts StreamMaxMoney
        # before the StreamMoney that opens the stream.
        for frame in deferred:
            apply_control_frame(parts, frame)
    except StreamError as e:
        lifecycle.fail(e)
        return _reject(parts, prepare, packet, touched.values(), close=True)
    if lifecycle.is_closed():  # the peer closed (ConnectionClose)
        _apply_stream_closes(parts, stream_closes)
        return _reject(parts, prepare, packet, touched.values(), close=False)
    if not parts.path.connected and parts.role is Role.SERVER:
        parts.path.connect(None)
    amount = prepare.amount
    try:
        if refuse:
            raise _Refuse
        # §3.4: "SHOULD NOT fulfill incoming Prepare packets with amounts less than is
        # specified in the STREAM packet".
        if amount < packet.prepare_amount:
            raise _Refuse
        shares = _split(parts, amount, money)
        _check_data(parts, data_frames)
        fulfillment = parts.keys.fulfillment(prepare.data)
        if not prepare.is_fulfilled_by(fulfillment):
            raise _Refuse  # a probe or a close: §6.1 unfulfillable on purpose
    except _Refuse:
        _apply_stream_closes(parts, stream_closes)
        return _reject(parts, prepare, packet, touched.values(), announce=announce)
    except RemoteProtocolError as e:
        lifecycle.fail(e)
        return _reject(parts, prepare, packet, touched.values(), close=True)
    receipts = _credit_money(parts, shares)
    if data_frames:
        _deliver_data(parts, data_frames)
    _apply_stream_closes(parts, stream_closes)
    frames = _reply_frames(parts, touched.values(), announce)
    frames.extend(receipts)
    reply = StreamPacket(packet.sequence, 13, amount, tuple(frames))
    return Fulfill(fulfillment, reply.seal(parts.keys, parts.random(12)))


def _credit_money(parts: Parts, shares: list[tuple[Stream, int]]) -> list[Frame]:
    """Fulfilling: credit each stream its share; the receipts to send back (RFC 39)."""
    receipts: list[Frame] = []
    nonce, secret = parts.config.receipt_nonce, parts.config.receipt_secret
    for stream, share in shares:
        if share == 0:
            continue
        stream.credit(share)
        parts.counters.received(share)
        parts.emit(MoneyReceived(stream.id, share, stream.total_received))
        if nonce is not None and secret is not None and stream.id <= 0xFF:
            receipt = create_receipt(nonce, stream.id, stream.total_received, secret)
            receipts.append(StreamReceiptFrame(stream.id, receipt))
    return receipts


def _deliver_data(parts: Parts, frames: list[StreamDataFrame]) -> None:
    """Fulfilling: reassemble the data and deliver what is now in order."""
    for frame in frames:
        stream = parts.streams.by_id.get(frame.stream_id)
        if stream is None:
            continue
        before_off, before_high = stream.recv_offset, stream.recv_highest
        for chunk in stream.receive_data(frame.offset, frame.data):
            parts.emit(DataReceived(stream.id, chunk))
        parts.flow.record_received(
            stream.recv_offset - before_off, stream.recv_highest - before_high
        )


def _stream_for(parts: Parts, stream_id: int, touched: dict[int, Stream]) -> Stream | None:
    """The stream a money/data frame is for, opening it if the peer may (§4.4.1).

    Raises:
        RemoteProtocolError: wrong parity for a new stream, or beyond our max stream id.
    """
    stream = parts.streams.by_id.get(stream_id)
    if stream is None:
        config = parts.config
        stream = parts.streams.open_remote(
            stream_id, config.default_receive_max, config.stream_window
        )
    if stream is not None:
        touched[stream_id] = stream
    return stream


def _split(parts: Parts, amount: int, money: dict[int, int]) -> list[tuple[Stream, int]]:
    """Divide the Prepare amount by shares (§5.3.8); refuse if a receive max would be exceeded.

    "If the Prepare amount is not divisible by the total number of shares, implementations
    SHOULD round the stream amounts down. The remainder SHOULD be allocated to the
    lowest-numbered open stream that has not reached its maximum receive amount."
    """
    if not money:
        if amount:
            raise _Refuse  # money for no stream
        return []
    total_shares = sum(money.values())
    if total_shares == 0:
        if amount:
            raise _Refuse
        return []
    out: list[tuple[Stream, int]] = []
    given = 0
    streams = parts.streams.by_id
    for stream_id in sorted(money):
        share = amount * money[stream_id] // total_shares
        given += share
        out.append((streams[stream_id], share))
    remainder = amount - given
    if remainder:
        for i, (stream, share) in enumerate(out):
            if stream.total_received + share + remainder <= stream.receive_max:
                out[i] = (stream, share + remainder)
                break
        else:
            raise _Refuse
    for stream, share in out:
        if stream.total_received + share > stream.receive_max:
            raise _Refuse  # a flow-control refusal the sender recovers from: F99
    return out


def _check_data(parts: Parts, frames: list[StreamDataFrame]) -> None:
    """§4.4.4 / §4.5: "MUST close the connection with a FlowControlError if the sender violates
    the advertised stream limits".

    Raises:
        RemoteProtocolError: a stream or the connection would exceed what we advertised.
    """
    extra = 0
    streams = parts.streams.by_id
    for frame in frames:
        stream = streams[frame.stream_id]
        end = frame.offset + len(frame.data)
        if end > stream.local_max_data:
            raise RemoteProtocolError(
                f"stream {stream.id}: data up to offset {end} exceeds {stream.local_max_data}",
                ErrorCode.FLOW_CONTROL_ERROR,
            )
        if end > stream.recv_highest:
            extra += end - stream.recv_highest
    if extra:
        parts.flow.check_received(extra)


def _apply_stream_closes(parts: Parts, frames: list[StreamCloseFrame]) -> None:
    for frame in frames:
        apply_stream_close(parts, frame)


def _reply_frames(parts: Parts, touched: Iterable[Stream], announce: bool) -> list[Frame]:
    frames: list[Frame] = []
    config = parts.config
    if announce:
        frames.append(ConnectionAssetDetailsFrame(config.asset_code, config.asset_scale))
    frames.append(ConnectionMaxDataFrame(parts.flow.local_max))
    if (parts.streams.max_id_changed and parts.streams.take_max_id_change()) or announce:
        frames.append(ConnectionMaxStreamIdFrame(parts.streams.local_max_id))
    for stream in touched:
        if stream.closed:
            continue
        stream.limits_said()
        frames.append(StreamMaxMoneyFrame(stream.id, stream.receive_max, stream.total_received))
        frames.append(StreamMaxDataFrame(stream.id, stream.local_max_data))
    return frames


def _reject(
    parts: Parts,
    prepare: Prepare,
    packet: StreamPacket,
    touched: Iterable[Stream],
    *,
    close: bool = False,
    announce: bool = False,
) -> Reject:
    """F99 with an encrypted STREAM Reject stating the amount that arrived (§6.9)."""
    frames = _reply_frames(parts, touched, announce)
    if close:
        frames.append(parts.lifecycle.close_in_reply())
    reply = StreamPacket(packet.sequence, 14, prepare.amount, tuple(frames))
    return Reject(
        "F99",
        parts.config.source_account or "",
        "",
        reply.seal(parts.keys, parts.random(12)),
    )
