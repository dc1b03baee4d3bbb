"""Answering the peer's Prepares: the receiving half of a connection (RFC 29, WIRE-NOTES §6.8-6.9).

Owns: :func:`handle_prepare` — decrypt, apply the frames, credit money and data, and build the
Fulfill or Reject. It works on a :class:`~wallet.stream.connection.Connection`'s state (this
module is that class's receiving half, split out to keep files small).

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
from typing import TYPE_CHECKING

from wallet.ilp import Address, CodecError, Fulfill, InvalidAddressError, Prepare, Reject
from wallet.stream.config import ConnectionState, Role
from wallet.stream.errors import DecryptionError, RemoteProtocolError, StreamError
from wallet.stream.events import DataReceived, MoneyReceived, StreamOpened
from wallet.stream.frames import (
    ConnectionAssetDetailsFrame,
    ConnectionCloseFrame,
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
from wallet.stream.receipts import create_receipt
from wallet.stream.streams import Stream

if TYPE_CHECKING:
    from wallet.stream.connection import Connection

__all__ = ["check_address", "handle_prepare"]

_F06 = Reject("F06", "", "", b"")


def check_address(address: str) -> None:
    """Raises: RemoteProtocolError — not an ILP address (RFC 15)."""
    try:
        Address(address)
    except InvalidAddressError as e:
        raise RemoteProtocolError(
            "ConnectionNewAddress is not an ILP address", ErrorCode.PROTOCOL_VIOLATION
        ) from e


class _Refuse(Exception):
    """Reject this Prepare with F99 (the connection stays up)."""


def handle_prepare(conn: Connection, prepare: Prepare, now: float) -> Fulfill | Reject:
    try:
        packet = StreamPacket.open(conn._keys, prepare.data)
    except (DecryptionError, CodecError):
        return _F06
    if packet.ilp_packet_type != 12:
        return _F06
    conn._last_activity = now
    conn.packets_received += 1
    if packet.sequence > conn.config.max_packets:
        conn._fail(RemoteProtocolError("the peer sent more than 2^31 packets"))
    if conn.state is ConnectionState.CLOSED:
        return _reject(conn, prepare, packet, (), close=True)
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
                stream = _stream_for(conn, frame.stream_id, touched)
                if stream is None or stream.closed:
                    refuse = True  # money for a closed stream: StreamStateError, reject
                else:
                    money[stream.id] = money.get(stream.id, 0) + frame.shares
            elif isinstance(frame, StreamDataFrame):
                stream = _stream_for(conn, frame.stream_id, touched)
                if stream is not None and not stream.closed:
                    data_frames.append(frame)
            elif isinstance(frame, StreamCloseFrame):
                stream_closes.append(frame)
            elif isinstance(frame, ConnectionNewAddressFrame | ConnectionAssetDetailsFrame):
                announce = True
                conn.apply_control_frame(frame)
            elif not isinstance(frame, StreamReceiptFrame):
                deferred.append(frame)
        # Limits after the streams they name exist: ilp-protocol-stream puts StreamMaxMoney
        # before the StreamMoney that opens the stream.
        for frame in deferred:
            conn.apply_control_frame(frame)
    except StreamError as e:
        conn._fail(e)
        return _reject(conn, prepare, packet, touched.values(), close=True)
    if conn._is_closed():  # the peer closed (ConnectionClose)
        _apply_stream_closes(conn, stream_closes)
        return _reject(conn, prepare, packet, touched.values(), close=False)
    if not conn._connected and conn.role is Role.SERVER:
        conn._set_connected(None)
    amount = prepare.amount
    try:
        if refuse:
            raise _Refuse
        # §3.4: "SHOULD NOT fulfill incoming Prepare packets with amounts less than is
        # specified in the STREAM packet".
        if amount < packet.prepare_amount:
            raise _Refuse
        shares = _split(conn, amount, money)
        _check_data(conn, data_frames)
        fulfillment = conn._keys.fulfillment(prepare.data)
        if not prepare.is_fulfilled_by(fulfillment):
            raise _Refuse  # a probe or a close: §6.1 unfulfillable on purpose
    except _Refuse:
        _apply_stream_closes(conn, stream_closes)
        return _reject(conn, prepare, packet, touched.values(), announce=announce)
    except RemoteProtocolError as e:
        conn._fail(e)
        return _reject(conn, prepare, packet, touched.values(), close=True)
    # Fulfill: credit money and data.
    events = conn._events
    receipts: list[Frame] = []
    nonce, secret = conn.config.receipt_nonce, conn.config.receipt_secret
    for stream, share in shares:
        if share == 0:
            continue
        stream.total_received += share
        conn.total_received += share
        events.append(MoneyReceived(stream.id, share, stream.total_received))
        if nonce is not None and secret is not None and stream.id <= 0xFF:
            receipt = create_receipt(nonce, stream.id, stream.total_received, secret)
            receipts.append(StreamReceiptFrame(stream.id, receipt))
    for frame in data_frames:
        stream_ = conn._streams.get(frame.stream_id)
        if stream_ is None:
            continue
        before_off, before_high = stream_.recv_offset, stream_.recv_highest
        for chunk in stream_.receive_data(frame.offset, frame.data):
            events.append(DataReceived(stream_.id, chunk))
        conn._data_delivered += stream_.recv_offset - before_off
        conn._data_highest += stream_.recv_highest - before_high
    _apply_stream_closes(conn, stream_closes)
    frames = _reply_frames(conn, touched.values(), announce)
    frames.extend(receipts)
    reply = StreamPacket(packet.sequence, 13, amount, tuple(frames))
    return Fulfill(fulfillment, reply.seal(conn._keys, conn._random(12)))


def _stream_for(conn: Connection, stream_id: int, touched: dict[int, Stream]) -> Stream | None:
    """The stream a money/data frame is for, opening it if the peer may (§4.4.1).

    Raises:
        RemoteProtocolError: wrong parity for a new stream, or beyond our max stream id.
    """
    stream = conn._streams.get(stream_id)
    if stream is None:
        if stream_id in conn._closed_ids:
            return None
        ours = stream_id % 2 == conn._next_local_id % 2
        if ours or stream_id == 0:
            if stream_id < conn._next_local_id and stream_id != 0:
                return None  # one of ours, already closed and forgotten
            # §4.4.1: "If an endpoint sends a packet for an unopened stream with the wrong
            # number, the receiving endpoint MUST close the connection with a
            # ProtocolViolationError".
            raise RemoteProtocolError(
                f"the peer used stream id {stream_id}, which it may not open",
                ErrorCode.PROTOCOL_VIOLATION,
            )
        if stream_id > conn._local_max_stream_id:
            raise RemoteProtocolError(
                f"stream id {stream_id} is above our maximum {conn._local_max_stream_id}",
                ErrorCode.STREAM_ID_ERROR,
            )
        stream = Stream(stream_id, conn.config.default_receive_max, conn.config.stream_window)
        conn._streams[stream_id] = stream
        conn._events.append(StreamOpened(stream_id))
    touched[stream_id] = stream
    return stream


def _split(conn: Connection, amount: int, money: dict[int, int]) -> list[tuple[Stream, int]]:
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
    for stream_id in sorted(money):
        share = amount * money[stream_id] // total_shares
        given += share
        out.append((conn._streams[stream_id], share))
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


def _check_data(conn: Connection, frames: list[StreamDataFrame]) -> None:
    """§4.4.4 / §4.5: "MUST close the connection with a FlowControlError if the sender violates
    the advertised stream limits".

    Raises:
        RemoteProtocolError: a stream or the connection would exceed what we advertised.
    """
    extra = 0
    for frame in frames:
        stream = conn._streams[frame.stream_id]
        end = frame.offset + len(frame.data)
        if end > stream.local_max_data:
            raise RemoteProtocolError(
                f"stream {stream.id}: data up to offset {end} exceeds {stream.local_max_data}",
                ErrorCode.FLOW_CONTROL_ERROR,
            )
        if end > stream.recv_highest:
            extra += end - stream.recv_highest
    if extra and conn._data_highest + extra > conn._local_max_data:
        raise RemoteProtocolError(
            "connection data exceeds the advertised maximum", ErrorCode.FLOW_CONTROL_ERROR
        )


def _apply_stream_closes(conn: Connection, frames: list[StreamCloseFrame]) -> None:
    for frame in frames:
        stream = conn._streams.get(frame.stream_id)
        if stream is not None and not stream.closed:
            stream.remote_closed = True
            conn._close_stream(stream, frame.error_code, frame.error_message, remote=True)


def _reply_frames(conn: Connection, touched: Iterable[Stream], announce: bool) -> list[Frame]:
    frames: list[Frame] = []
    if announce:
        frames.append(ConnectionAssetDetailsFrame(conn.config.asset_code, conn.config.asset_scale))
    frames.append(ConnectionMaxDataFrame(conn._local_max_data))
    if announce or conn._advertise_max_stream_id:
        conn._advertise_max_stream_id = False
        frames.append(ConnectionMaxStreamIdFrame(conn._local_max_stream_id))
    for stream in touched:
        if stream.closed:
            continue
        stream.advertise = False
        frames.append(StreamMaxMoneyFrame(stream.id, stream.receive_max, stream.total_received))
        frames.append(StreamMaxDataFrame(stream.id, stream.local_max_data))
    return frames


def _reject(
    conn: Connection,
    prepare: Prepare,
    packet: StreamPacket,
    touched: Iterable[Stream],
    *,
    close: bool = False,
    announce: bool = False,
) -> Reject:
    """F99 with an encrypted STREAM Reject stating the amount that arrived (§6.9)."""
    frames = _reply_frames(conn, touched, announce)
    if close:
        # The peer learns why in this reply; no separate ConnectionClose packet is needed.
        conn._close_frame = None
        frames.append(ConnectionCloseFrame(*conn._close_reason))
    reply = StreamPacket(packet.sequence, 14, prepare.amount, tuple(frames))
    return Reject(
        "F99",
        conn.config.source_account or "",
        "",
        reply.seal(conn._keys, conn._random(12)),
    )
