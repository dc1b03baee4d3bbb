"""The record of one Prepare in flight (shared by connection, outgoing and replies)."""

from __future__ import annotations

from wallet.stream.frames import StreamDataFrame
from wallet.stream.streams import Stream

__all__ = ["CLOSE", "NORMAL", "PROBE", "InFlight"]

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
