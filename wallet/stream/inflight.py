"""Our Prepares in flight: their sequence numbers and what each one reserved.

Owns: :class:`PacketsInFlight` — the next sequence number and the record (:class:`InFlight`)
of every Prepare handed out and not yet settled; how many of them are ordinary packets (the
congestion window counts those, not probes or closes).

Invariants:

* "Clients and Servers track their own outgoing packet sequence numbers and increment the
  Sequence for each ILP Prepare they send" (RFC 29 §5.2): it starts at 1, every Prepare takes
  the next one, and the packet id handed to the driver *is* the sequence;
* a record is removed exactly once (its reply, its expiry or its loss), so every reservation
  it holds settles exactly once;
* ``normal`` is the number of records of kind ``NORMAL``;
* ``next_seq - 1`` is the number of Prepares sent.
"""

from __future__ import annotations

from wallet.stream.frames import StreamDataFrame
from wallet.stream.streams import Stream

__all__ = ["CLOSE", "NORMAL", "PROBE", "InFlight", "PacketsInFlight"]

NORMAL, PROBE, CLOSE = 0, 1, 2  # what a packet in flight is for


class InFlight:
    """One Prepare we sent and have not settled: its money reservations per stream, its data
    frames (re-queued as-is if it fails), the streams it closes, and how to verify it."""

    __slots__ = (
        "allocations",
        "amount",
        "closes",
        "condition",
        "data",
        "expires",
        "kind",
        "min_dest",
        "reserved",
        "seq",
    )

    def __init__(
        self,
        seq: int,
        kind: int,
        *,
        amount: int,
        min_dest: int,
        condition: bytes,
        expires: float,
    ) -> None:
        self.seq = seq
        self.kind = kind
        self.amount = amount
        self.min_dest = min_dest
        self.condition = condition
        self.expires = expires
        self.allocations: list[tuple[Stream, int]] = []
        self.data: list[StreamDataFrame] = []
        self.closes: list[Stream] = []
        self.reserved = 0


class PacketsInFlight:
    """Attributes (read them freely; only this class changes them):
    next_seq: the sequence the next Prepare takes (``next_seq - 1`` Prepares were sent).
    normal: how many of the records are ordinary packets.
    max_packets: RFC 29 §5.1.3's 2^31 (lowered only by tests).
    """

    __slots__ = ("_records", "max_packets", "next_seq", "normal")

    def __init__(self, max_packets: int) -> None:
        self.max_packets = max_packets
        self.next_seq = 1
        self.normal = 0
        self._records: dict[int, InFlight] = {}

    def exhausted(self) -> bool:
        """RFC 29 §5.1.3: "MUST close the connection once either endpoint has sent 2^31
        packets"."""
        return self.next_seq > self.max_packets

    def add(self, record: InFlight) -> None:
        """Hand out the next sequence (``record.seq`` must be it)."""
        assert record.seq == self.next_seq
        self.next_seq += 1
        self._records[record.seq] = record
        if record.kind == NORMAL:
            self.normal += 1

    def pop(self, seq: int) -> InFlight | None:
        """The record of ``seq``, removed; ``None`` if it is unknown or already settled."""
        record = self._records.pop(seq, None)
        if record is not None and record.kind == NORMAL:
            self.normal -= 1
        return record

    def __len__(self) -> int:
        return len(self._records)

    def earliest_expiry(self) -> float | None:
        return min((r.expires for r in self._records.values()), default=None)

    def expired(self, now: float) -> list[InFlight]:
        """The records whose Prepare expired by ``now``, in the order they were sent."""
        return [r for r in self._records.values() if r.expires <= now]
