"""Opening, closing and failing one connection (RFC 29 §4.6), and its idle clock.

Owns: the :class:`~wallet.stream.config.ConnectionState` (OPEN → CLOSING → CLOSED, never
back), why the connection closed, the ConnectionClose frame still to be sent, and when the
last packet went either way (for the idle timeout and keep-alives).

Invariants:

* CLOSED is final and entered once: its ``ConnectionClosed`` event is emitted once, after a
  ``ConnectionFailed`` when the close is a failure, and every stream is closed with it;
* a ConnectionClose is queued only when we close on our own and know the peer's address; it
  is sent at most once (taken, or dropped when a reply already carries it);
* the close reason's message is at most 200 characters (it travels in a frame).
"""

from __future__ import annotations

from collections.abc import Callable

from wallet.stream.config import ConnectionState
from wallet.stream.errors import ProtocolError, RemoteProtocolError, StreamError
from wallet.stream.events import ConnectionClosed, ConnectionFailed, Event
from wallet.stream.frames import ConnectionCloseFrame, ErrorCode
from wallet.stream.path import Path
from wallet.stream.streamtable import StreamTable

__all__ = ["Lifecycle"]


class Lifecycle:
    __slots__ = (
        "_close_frame",
        "_close_reason",
        "_emit",
        "_path",
        "_streams",
        "last_activity",
        "state",
    )

    def __init__(
        self, streams: StreamTable, path: Path, emit: Callable[[Event], None], now: float
    ) -> None:
        self.state = ConnectionState.OPEN  # read freely; changed only here
        self.last_activity = now  # when the last packet went either way
        self._close_frame: ConnectionCloseFrame | None = None  # still to be sent
        self._close_reason: tuple[int, str] = (ErrorCode.NO_ERROR, "")
        self._streams = streams
        self._path = path
        self._emit = emit

    def is_closed(self) -> bool:
        return self.state is ConnectionState.CLOSED

    def touch(self, now: float) -> None:
        """A packet went either way: the idle timer restarts."""
        self.last_activity = now

    # ------------------------------------------------------------------ closing

    def begin_close(self) -> None:
        """Graceful close: streams finish sending, then ConnectionClose(NoError) (§4.6)."""
        if self.state is ConnectionState.OPEN:
            self.state = ConnectionState.CLOSING
            for stream in self._streams.by_id.values():
                stream.close()

    def finish_close(self) -> None:
        """Our ConnectionClose was answered (or will never be)."""
        self.terminate(ErrorCode.NO_ERROR, "", remote=False, send_close=False)

    def fail(self, error: StreamError) -> None:
        """Close because of ``error``, telling the peer why."""
        if self.state is ConnectionState.CLOSED:
            return
        self._emit(ConnectionFailed(error))
        code = error.code if isinstance(error, ProtocolError) else ErrorCode.INTERNAL_ERROR
        self.terminate(code, str(error), remote=False, send_close=True)

    def peer_closed(self, frame: ConnectionCloseFrame) -> None:
        """ConnectionClose from the peer; with an error code it is a failure."""
        if frame.error_code != ErrorCode.NO_ERROR and not self.is_closed():
            message = frame.error_message or "the peer closed the connection"
            self._emit(ConnectionFailed(RemoteProtocolError(message, frame.error_code)))
        self.terminate(frame.error_code, frame.error_message, remote=True, send_close=False)

    def terminate(self, code: int, message: str, *, remote: bool, send_close: bool) -> None:
        if self.state is ConnectionState.CLOSED:
            return
        self.state = ConnectionState.CLOSED
        self._close_reason = (code, message[:200])
        self._streams.close_all(code, message, remote=remote)
        if send_close and self._path.destination is not None:
            self._close_frame = ConnectionCloseFrame(*self._close_reason)
        self._emit(ConnectionClosed(code, message, remote))

    # ------------------------------------------------------------------ the ConnectionClose

    @property
    def close_reason(self) -> tuple[int, str]:
        return self._close_reason

    def take_close_frame(self) -> ConnectionCloseFrame | None:
        """The ConnectionClose still to be sent, if any (taking it means it is sent)."""
        frame, self._close_frame = self._close_frame, None
        return frame

    def close_in_reply(self) -> ConnectionCloseFrame:
        """A ConnectionClose for a reply to the peer: the peer learns why there, so no
        separate ConnectionClose packet is needed."""
        self._close_frame = None
        return ConnectionCloseFrame(*self._close_reason)
