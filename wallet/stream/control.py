"""Connection- and stream-limit frames from the peer, in a Prepare or in a reply.

Owns no state: :func:`apply_control_frame` tells each frame to the owner it concerns (the
streams, the connection's data flow, the path, the lifecycle). Remote limits only ever grow:
"The sending endpoint could receive the frames out of order and so they MUST ignore flow
control offsets that do not increase the window" (RFC 29 §4.4.4).
"""

from __future__ import annotations

from wallet.stream.frames import (
    ConnectionAssetDetailsFrame,
    ConnectionCloseFrame,
    ConnectionMaxDataFrame,
    ConnectionMaxStreamIdFrame,
    ConnectionNewAddressFrame,
    Frame,
    StreamCloseFrame,
    StreamMaxDataFrame,
    StreamMaxMoneyFrame,
    StreamMoneyBlockedFrame,
)
from wallet.stream.parts import Parts

__all__ = ["apply_control_frame", "apply_stream_close"]


def apply_control_frame(parts: Parts, frame: Frame) -> None:
    """Apply one limit, address, asset or close frame (others are ignored).

    Raises:
        RemoteProtocolError: conflicting asset details (§4.3.3), a bad address.
    """
    if isinstance(frame, StreamMaxMoneyFrame):
        stream = parts.streams.by_id.get(frame.stream_id)
        if stream is not None:
            stream.learn_money_limit(frame.receive_max, frame.total_received)
    elif isinstance(frame, StreamMaxDataFrame):
        stream = parts.streams.by_id.get(frame.stream_id)
        if stream is not None:
            stream.learn_data_limit(frame.max_offset)
    elif isinstance(frame, ConnectionMaxDataFrame):
        parts.flow.raise_remote_max(frame.max_offset)
    elif isinstance(frame, ConnectionAssetDetailsFrame):
        parts.path.learn_asset(frame.source_asset_code, frame.source_asset_scale)
    elif isinstance(frame, ConnectionMaxStreamIdFrame):
        parts.streams.raise_remote_max_id(frame.max_stream_id)
    elif isinstance(frame, ConnectionNewAddressFrame):
        parts.path.learn_address(frame.source_account)
    elif isinstance(frame, StreamCloseFrame):
        apply_stream_close(parts, frame)
    elif isinstance(frame, StreamMoneyBlockedFrame):
        stream = parts.streams.by_id.get(frame.stream_id)
        if stream is not None:
            stream.learn_peer_send_max(frame.send_max)
    elif isinstance(frame, ConnectionCloseFrame):
        parts.lifecycle.peer_closed(frame)


def apply_stream_close(parts: Parts, frame: StreamCloseFrame) -> None:
    """The peer closed a stream."""
    stream = parts.streams.by_id.get(frame.stream_id)
    if stream is not None and not stream.closed:
        stream.closed_by_peer()
        parts.streams.close(stream, frame.error_code, frame.error_message, remote=True)
