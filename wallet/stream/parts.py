"""The state owners of one connection, handed together to the functions that work on them.

h11 keeps a connection's state in one object and its readers and writers as functions that
ask it; here the state is split by owner, and :class:`Parts` is how
:class:`~wallet.stream.connection.Connection` hands those owners to its halves
(:mod:`~wallet.stream.outgoing`, :mod:`~wallet.stream.replies`,
:mod:`~wallet.stream.incoming`, :mod:`~wallet.stream.control`) without their importing it
back. It owns nothing itself: each field is an owner (or a fixed input) that keeps its own
invariants, and everyone changes it only through its methods.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from wallet.stream.config import BudgetGate, ConnectionConfig, Role
from wallet.stream.congestion import Congestion
from wallet.stream.counters import Counters
from wallet.stream.crypto import RandomBytes, StreamKeys
from wallet.stream.events import Event
from wallet.stream.flow import ConnectionFlow
from wallet.stream.inflight import PacketsInFlight
from wallet.stream.lifecycle import Lifecycle
from wallet.stream.path import Path
from wallet.stream.streamtable import StreamTable

__all__ = ["Parts"]


@dataclass(frozen=True, slots=True, eq=False)
class Parts:
    """Attributes:
    config, role, keys, random: fixed inputs; lifetime: how long our Prepares live
    (``config.expiry``).
    budget: the optional gate every money packet's reservation goes through.
    emit: appends an event for :meth:`Connection.events`.
    streams, in_flight, flow, path, congestion, lifecycle, counters: the owners.
    """

    config: ConnectionConfig
    role: Role
    keys: StreamKeys
    lifetime: timedelta
    random: RandomBytes
    budget: BudgetGate | None
    emit: Callable[[Event], None]
    streams: StreamTable
    in_flight: PacketsInFlight
    flow: ConnectionFlow
    path: Path
    congestion: Congestion
    lifecycle: Lifecycle
    counters: Counters
