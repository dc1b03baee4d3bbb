"""One STREAM stream: its money and data state in both directions (RFC 29 §4.4).

Owns: :class:`Stream` — the handle the application holds (``set_send_max``, ``send``,
``close``, ... mirroring the spec's ``IlpStream``) and the per-stream bookkeeping the
connection reads and writes. A stream never builds packets itself; the connection collects
what each stream has to send.

Invariants:

* ``total_sent + in_flight <= send_max`` — money is reserved per packet before it leaves and
  counted as sent only when its packet is fulfilled (the connection enforces this).
* Remote limits only ever grow: "The sending endpoint could receive the frames out of order and
  so they MUST ignore flow control offsets that do not increase the window" (§4.4.4).
* Outgoing data is resent as the exact same frames: "if a sender resends data ... it MUST
  resend the exact frames — offset and data" (§5.3.11).
"""

from __future__ import annotations

import bisect

from wallet.ilp.oer import U64_MAX
from wallet.stream.errors import LocalProtocolError
from wallet.stream.frames import ErrorCode, StreamDataFrame

__all__ = ["DEFAULT_STREAM_WINDOW", "Stream"]

# ilp-protocol-stream's defaults, which peers assume before they hear our limits.
DEFAULT_STREAM_WINDOW = 16384


class Stream:
    """A bidirectional stream of money and data within a connection.

    Attributes (read-only for the application; the connection changes them only through the
    methods below "what the connection tells a stream"):
        id: the stream id (odd: client-opened, even: server-opened).
        send_max: how much (our units) the application wants sent in total.
        total_sent: how much has been sent (fulfilled) on this stream.
        in_flight: how much is reserved by packets in flight.
        receive_max: how much we are willing to receive in total.
        total_received: how much we have received (our units).
        receipt: the latest RFC 39 receipt the receiver gave us, if any.
    """

    __slots__ = (
        "_close_reported",
        "_data_blocked_sent",
        "_money_blocked_sent",
        "advertise",
        "close_code",
        "close_message",
        "close_sent",
        "closed",
        "closing",
        "data_in_flight",
        "id",
        "in_flight",
        "local_window",
        "receipt",
        "receipt_total",
        "receive_max",
        "recv_chunks",
        "recv_highest",
        "recv_offset",
        "remote_closed",
        "remote_limit_known",
        "remote_max_data",
        "remote_receive_max",
        "remote_send_max",
        "remote_total_received",
        "retransmit",
        "send_buf",
        "send_buf_start",
        "send_max",
        "send_offset",
        "total_received",
        "total_sent",
    )

    def __init__(self, stream_id: int, receive_max: int, window: int) -> None:
        self.id = stream_id
        # money, outgoing
        self.send_max = 0
        self.total_sent = 0
        self.in_flight = 0
        self.remote_receive_max = (
            U64_MAX  # unknown until told: ilp-protocol-stream assumes no limit
        )
        self.remote_total_received = 0
        self.remote_limit_known = False
        self._money_blocked_sent = -1
        # money, incoming
        self.receive_max = receive_max
        self.total_received = 0
        self.remote_send_max = 0
        # data, outgoing
        self.send_buf = bytearray()
        self.send_buf_start = 0  # stream offset of send_buf[0]
        self.send_offset = 0  # next new offset to send
        self.retransmit: list[StreamDataFrame] = []  # sorted by offset
        self.data_in_flight = 0
        self.remote_max_data = DEFAULT_STREAM_WINDOW
        self._data_blocked_sent = -1
        # data, incoming
        self.local_window = window
        self.recv_offset = 0  # next in-order offset to deliver
        self.recv_highest = 0  # highest end offset seen
        self.recv_chunks: dict[int, bytes] = {}
        # lifecycle
        self.closing = False  # application asked for a graceful close
        self.close_sent = False  # StreamClose is in a packet in flight
        self.closed = False
        self.remote_closed = False
        self.close_code: int = ErrorCode.NO_ERROR
        self.close_message = ""
        self._close_reported = False
        self.advertise = True  # our limits changed: tell the peer
        self.receipt: bytes | None = None
        self.receipt_total = -1

    def __repr__(self) -> str:
        return (
            f"Stream(id={self.id}, sent={self.total_sent}/{self.send_max}, "
            f"received={self.total_received}/{self.receive_max}, closed={self.closed})"
        )

    # --- application API (mirrors the spec's IlpStream) -------------------------------------

    @property
    def is_open(self) -> bool:
        return not self.closed and not self.closing

    def set_send_max(self, amount: int) -> None:
        """Send up to ``amount`` (our units) in total on this stream.

        Raises:
            LocalProtocolError: the stream is closed, or ``amount`` is below what is already
                sent or reserved, or not a u64.
        """
        if self.closed or self.closing:
            raise LocalProtocolError("stream is closed", ErrorCode.STREAM_STATE_ERROR)
        if not 0 <= amount <= U64_MAX:
            raise LocalProtocolError("send max must be a u64")
        if amount < self.total_sent + self.in_flight:
            raise LocalProtocolError(
                f"cannot lower send max below {self.total_sent + self.in_flight} already sent"
            )
        self.send_max = amount

    def set_receive_max(self, amount: int) -> None:
        """Accept up to ``amount`` (our units) in total; never lowers the limit (§4.4.4:
        "An endpoint MUST NOT renege on an advertisement")."""
        if not 0 <= amount <= U64_MAX:
            raise LocalProtocolError("receive max must be a u64")
        if amount > self.receive_max:
            self.receive_max = amount
            self.advertise = True

    def send(self, data: bytes) -> None:
        """Queue ``data`` to be sent in order.

        Raises:
            LocalProtocolError: the stream is closed.
        """
        if self.closed or self.closing:
            raise LocalProtocolError("stream is closed", ErrorCode.STREAM_STATE_ERROR)
        self.send_buf += data

    def close(self) -> None:
        """Graceful close: finish sending queued money and data, then StreamClose(NoError)."""
        if not self.closed:
            self.closing = True

    # --- connection-side helpers -------------------------------------------------------------

    @property
    def money_pending(self) -> int:
        """Money wanted but neither sent nor in flight."""
        return self.send_max - self.total_sent - self.in_flight

    @property
    def data_pending(self) -> bool:
        return bool(self.retransmit) or self.send_offset < self.send_buf_start + len(self.send_buf)

    @property
    def local_max_data(self) -> int:
        """The highest byte offset we accept on this stream (what we advertise)."""
        return self.recv_offset + self.local_window

    def remote_money_room(self) -> int:
        """How much more the peer will take, in *its* units (U64_MAX: no limit known)."""
        if self.remote_receive_max >= U64_MAX:
            return U64_MAX
        return max(0, self.remote_receive_max - self.remote_total_received)

    def take_data(self, budget: int) -> StreamDataFrame | None:
        """The next data frame to send, at most ``budget`` bytes (retransmissions first); it
        counts as in flight until :meth:`data_arrived` or :meth:`data_failed`."""
        if budget <= 0:
            return None
        if self.retransmit:
            frame = self.retransmit[0]
            if len(frame.data) > budget:
                return None  # exact frames only: wait for a packet with room
            del self.retransmit[0]
            self.data_in_flight += 1
            return frame
        end = self.send_buf_start + len(self.send_buf)
        limit = min(end, self.remote_max_data, self.send_offset + budget)
        if limit <= self.send_offset:
            return None
        lo = self.send_offset - self.send_buf_start
        hi = limit - self.send_buf_start
        frame = StreamDataFrame(self.id, self.send_offset, bytes(self.send_buf[lo:hi]))
        self.data_in_flight += 1
        self.send_offset = limit
        # Forget bytes that are now owned by their frames (kept for retransmission there).
        del self.send_buf[:hi]
        self.send_buf_start = limit
        return frame

    def requeue_data(self, frame: StreamDataFrame) -> None:
        bisect.insort(self.retransmit, frame, key=lambda f: f.offset)

    # --- what the connection tells a stream ---------------------------------------------------

    def reserve(self, share: int) -> None:
        """``share`` of this stream's money rides in a packet now in flight."""
        self.in_flight += share

    def settle(self, share: int, *, sent: bool) -> None:
        """The packet carrying ``share`` settled: fulfilled (``sent``), or not, and then the
        money may go again."""
        self.in_flight -= share
        if sent:
            self.total_sent += share

    def data_arrived(self) -> None:
        """A data frame of ours was in a fulfilled packet."""
        self.data_in_flight -= 1

    def data_failed(self, frame: StreamDataFrame) -> None:
        """A data frame of ours was in a packet that failed: it goes again, as it is
        (§5.3.11)."""
        self.data_in_flight -= 1
        self.requeue_data(frame)

    def close_queued(self) -> None:
        """Our StreamClose is in a packet in flight."""
        self.close_sent = True

    def close_failed(self) -> None:
        """The packet with our StreamClose failed: it goes again."""
        self.close_sent = False

    def limits_said(self) -> None:
        """The peer has been told our current limits."""
        self.advertise = False

    def credit(self, share: int) -> None:
        """``share`` arrived on this stream (in a Prepare we fulfill)."""
        self.total_received += share

    def learn_money_limit(self, receive_max: int, total_received: int) -> None:
        """StreamMaxMoney from the peer (its units): its first figure counts, later ones only
        raise it (§4.4.4); its total received only grows."""
        if not self.remote_limit_known:
            self.remote_limit_known = True
            self.remote_receive_max = receive_max
        elif receive_max > self.remote_receive_max:
            self.remote_receive_max = receive_max
        self.remote_total_received = max(self.remote_total_received, total_received)

    def learn_data_limit(self, max_offset: int) -> None:
        """StreamMaxData from the peer (only ever raises the limit)."""
        self.remote_max_data = max(self.remote_max_data, max_offset)

    def learn_peer_send_max(self, send_max: int) -> None:
        """StreamMoneyBlocked from the peer: how much it wants to send us."""
        self.remote_send_max = send_max

    def take_receipt(self, receipt: bytes, total: int) -> bool:
        """A receipt for ``total``: kept (True) if it proves more than the one we have."""
        if total <= self.receipt_total:
            return False
        self.receipt_total = total
        self.receipt = receipt
        return True

    def closed_by_peer(self) -> None:
        """The peer sent StreamClose (the stream is then closed by its table)."""
        self.remote_closed = True

    def mark_closed(self, code: int, message: str) -> None:
        """Closed now: queued data is dropped. Only the connection's stream table calls it."""
        self.closed = True
        self.close_code = code
        self.close_message = message
        self.send_buf.clear()
        self.retransmit.clear()

    def data_blocked_at(self) -> int | None:
        """The offset we want to reach if the peer's limit blocks us (once per value)."""
        end = self.send_buf_start + len(self.send_buf)
        if (
            end > self.remote_max_data
            and self.send_offset >= self.remote_max_data
            and self._data_blocked_sent != end
        ):
            self._data_blocked_sent = end
            return end
        return None

    def money_blocked(self) -> bool:
        """True once per send max that the peer's receive max blocks."""
        if self.money_pending > 0 and self._money_blocked_sent != self.send_max:
            self._money_blocked_sent = self.send_max
            return True
        return False

    def receive_data(self, offset: int, data: bytes) -> list[bytes]:
        """Reassemble in order; returns the bytes now deliverable (maybe none).

        Duplicates (a lost reply made the peer resend the exact frame) are dropped.
        """
        end = offset + len(data)
        self.recv_highest = max(self.recv_highest, end)
        if end <= self.recv_offset or not data:
            return []
        if offset > self.recv_offset:
            self.recv_chunks.setdefault(offset, data)
            return []
        out = [data[self.recv_offset - offset :]]
        self.recv_offset = end
        chunks = self.recv_chunks
        while chunks:
            nxt = chunks.pop(self.recv_offset, None)
            if nxt is None:
                for k in [k for k in chunks if k < self.recv_offset]:
                    stale = chunks.pop(k)
                    if k + len(stale) > self.recv_offset:
                        out.append(stale[self.recv_offset - k :])
                        self.recv_offset = k + len(stale)
                if self.recv_offset not in chunks:
                    break
                continue
            out.append(nxt)
            self.recv_offset += len(nxt)
        self.advertise = True
        return out
