"""Connection-level data flow control, both ways (RFC 29 §4.5, ConnectionMaxData).

Owns: how far the peer lets us send (the sum over streams of data offsets it advertised with
ConnectionMaxData), how far we have sent, how much we delivered and how far the peer sent us
(which set what we advertise), and the last ConnectionDataBlocked we said.

Invariants:

* the peer's limit only grows (out-of-order ConnectionMaxData are ignored, §4.4.4), starting
  at the 65534 bytes ilp-protocol-stream peers advertise until they speak;
* ``sent_highest`` never passes the peer's limit for new bytes (retransmissions were counted
  when first sent);
* we advertise ``delivered + window`` and refuse a peer that sends beyond it (FlowControlError).
"""

from __future__ import annotations

from wallet.stream.errors import RemoteProtocolError
from wallet.stream.frames import ErrorCode

__all__ = ["DEFAULT_CONNECTION_WINDOW", "ConnectionFlow"]

DEFAULT_CONNECTION_WINDOW = 65534  # what ilp-protocol-stream peers advertise by default


class ConnectionFlow:
    """Attributes (read them freely; only this class changes them):
    sent_highest: the sum over our streams of the highest offset sent.
    delivered: the sum over the peer's streams of the bytes delivered in order.
    local_max: what we advertise in ConnectionMaxData (``delivered`` + our window).
    """

    __slots__ = (
        "_blocked_sent",
        "_highest_received",
        "_remote_known",
        "_remote_max",
        "_window",
        "delivered",
        "local_max",
        "sent_highest",
    )

    def __init__(self, window: int) -> None:
        self._window = window
        self._remote_max = DEFAULT_CONNECTION_WINDOW
        self._remote_known = False
        self.sent_highest = 0
        self.delivered = 0
        self.local_max = window
        self._highest_received = 0  # sum over streams of the highest offset received
        self._blocked_sent = -1

    # ------------------------------------------------------------------ sending

    def room(self) -> int:
        """New bytes the peer accepts now (zero or less: none)."""
        return self._remote_max - self.sent_highest

    def record_sent(self, new_bytes: int) -> None:
        self.sent_highest += new_bytes

    def raise_remote_max(self, max_offset: int) -> None:
        """ConnectionMaxData from the peer."""
        if not self._remote_known or max_offset > self._remote_max:
            self._remote_known = True
            self._remote_max = max_offset

    def blocked_at(self) -> int | None:
        """The offset for ConnectionDataBlocked when the peer's limit stops us, once per
        position (the caller checks that some stream has data to send)."""
        if self.room() <= 0 and self._blocked_sent != self.sent_highest:
            self._blocked_sent = self.sent_highest
            return self.sent_highest + 1
        return None

    # ------------------------------------------------------------------ receiving

    def check_received(self, extra: int) -> None:
        """``extra`` new bytes beyond the highest offsets seen are about to be accepted.

        Raises:
            RemoteProtocolError: FlowControlError — beyond what we advertised (§4.5).
        """
        if extra and self._highest_received + extra > self.local_max:
            raise RemoteProtocolError(
                "connection data exceeds the advertised maximum", ErrorCode.FLOW_CONTROL_ERROR
            )

    def record_received(self, delivered: int, new_highest: int) -> None:
        self.delivered += delivered
        self.local_max = self.delivered + self._window
        self._highest_received += new_highest
