"""The streams of one connection and the stream-id limits both ways (RFC 29 §3.3, §4.4.1).

Owns: the open streams by id, the ids of streams closed and forgotten, the next id we open,
the highest id the peer lets us open, the highest id we let the peer open, and whether that
limit (or our being blocked by the peer's) still has to be said. Others ask it for streams and
tell it when one closes or settles; nobody else adds or removes streams.

Invariants:

* our ids have our role's parity (client odd, server even) and grow by 2; the peer's have the
  other parity (§4.4.1) and never exceed the maximum we advertised;
* a closed stream stays in the table while money of it is in flight (``in_flight > 0``), so
  every reservation settles against it; then it is forgotten and its id remembered as closed;
* the peer's maximum stream id only grows (``ConnectionMaxStreamId`` out of order is ignored);
  ours grows by 2 each time a peer-opened stream closes, and is then advertised once.
"""

from __future__ import annotations

from collections.abc import Callable

from wallet.stream.errors import RemoteProtocolError
from wallet.stream.events import Event, StreamClosed, StreamOpened
from wallet.stream.frames import ErrorCode
from wallet.stream.streams import Stream

__all__ = ["DEFAULT_MAX_STREAM_ID", "StreamTable"]

DEFAULT_MAX_STREAM_ID = 20  # RFC 29 §3.3: "a default max stream ID of 20"


class StreamTable:
    """The streams of one connection. ``emit`` receives StreamOpened / StreamClosed.

    Attributes (read them freely; only this class changes them):
        by_id: the live streams by id.
        remote_max_id: the highest stream id the peer lets us use.
        local_max_id: the highest stream id we let the peer open (what we advertise).
        max_id_changed: ``local_max_id`` grew since we last said it.
    """

    __slots__ = (
        "_closed_ids",
        "_emit",
        "_id_blocked_sent",
        "_next_local_id",
        "by_id",
        "local_max_id",
        "max_id_changed",
        "remote_max_id",
    )

    def __init__(
        self, *, first_local_id: int, max_remote_streams: int, emit: Callable[[Event], None]
    ) -> None:
        self.by_id: dict[int, Stream] = {}
        self.remote_max_id = DEFAULT_MAX_STREAM_ID
        self.local_max_id = 2 * max_remote_streams
        self.max_id_changed = False
        self._closed_ids: set[int] = set()
        self._next_local_id = first_local_id
        self._id_blocked_sent = 0
        self._emit = emit

    # ------------------------------------------------------------------ reading

    def money_pending(self) -> bool:
        """Some open stream wants to send money it has neither sent nor reserved."""
        return any(s.money_pending > 0 and not s.closed for s in self.by_id.values())

    def data_pending(self) -> bool:
        return any(s.data_pending for s in self.by_id.values())

    def all_closed(self) -> bool:
        return all(s.closed for s in self.by_id.values())

    # ------------------------------------------------------------------ opening

    def open_local(self, receive_max: int, window: int) -> Stream:
        """A new stream of ours (client: odd ids, server: even — RFC 29 §4.4.1)."""
        stream = Stream(self._next_local_id, receive_max, window)
        self._next_local_id += 2
        self.by_id[stream.id] = stream
        return stream

    def open_remote(self, stream_id: int, receive_max: int, window: int) -> Stream | None:
        """The stream a peer's money/data frame is for, opening it if the peer may (§4.4.1).

        ``None``: a stream closed and forgotten (its frames are ignored).

        Raises:
            RemoteProtocolError: wrong parity for a new stream, or beyond our max stream id.
        """
        stream = self.by_id.get(stream_id)
        if stream is not None:
            return stream
        if stream_id in self._closed_ids:
            return None
        ours = stream_id % 2 == self._next_local_id % 2
        if ours or stream_id == 0:
            if stream_id < self._next_local_id and stream_id != 0:
                return None  # one of ours, already closed and forgotten
            # §4.4.1: "If an endpoint sends a packet for an unopened stream with the wrong
            # number, the receiving endpoint MUST close the connection with a
            # ProtocolViolationError".
            raise RemoteProtocolError(
                f"the peer used stream id {stream_id}, which it may not open",
                ErrorCode.PROTOCOL_VIOLATION,
            )
        if stream_id > self.local_max_id:
            raise RemoteProtocolError(
                f"stream id {stream_id} is above our maximum {self.local_max_id}",
                ErrorCode.STREAM_ID_ERROR,
            )
        stream = Stream(stream_id, receive_max, window)
        self.by_id[stream_id] = stream
        self._emit(StreamOpened(stream_id))
        return stream

    # ------------------------------------------------------------------ stream-id limits

    def raise_remote_max_id(self, max_stream_id: int) -> None:
        """ConnectionMaxStreamId from the peer (only ever raises the limit)."""
        self.remote_max_id = max(self.remote_max_id, max_stream_id)

    def take_max_id_change(self) -> bool:
        """Whether our maximum must be said now; saying it clears the flag."""
        changed, self.max_id_changed = self.max_id_changed, False
        return changed

    def stream_id_blocked(self) -> int | None:
        """The id we want to open if the peer's limit blocks us (§5.3.6), once per limit."""
        wanted = self._next_local_id - 2
        limit = self.remote_max_id
        if wanted > limit and self._id_blocked_sent < limit + 2:
            self._id_blocked_sent = limit + 2
            return wanted
        return None

    # ------------------------------------------------------------------ closing

    def close(self, stream: Stream, code: int, message: str, *, remote: bool) -> None:
        """Close ``stream`` now (its queued data is dropped); forget it once settled."""
        if stream.closed:
            return
        stream.mark_closed(code, message)
        self._emit(StreamClosed(stream.id, code, message, remote))
        if stream.id % 2 != self._next_local_id % 2:
            # A peer-opened stream is gone: let the peer open another (§3.3).
            self.local_max_id += 2
            self.max_id_changed = True
        self.forget_if_settled(stream)

    def close_all(self, code: int, message: str, *, remote: bool) -> None:
        for stream in list(self.by_id.values()):
            if not stream.closed:
                self.close(stream, code, message, remote=remote)

    def forget_if_settled(self, stream: Stream) -> None:
        """Forget a closed stream once nothing of it is in flight (its id stays remembered)."""
        if stream.closed and stream.in_flight == 0 and self.by_id.pop(stream.id, None) is not None:
            self._closed_ids.add(stream.id)
