"""What the path said to ``trickle pay``'s packets, so a failure can be told in words.

Owns: :class:`PathRecorder` — a :class:`~wallet.net.link.Link` in front of the uplink that
passes every Prepare and reply through unchanged and remembers what came back: whether the
receiver ever answered with STREAM (a Fulfill, or an F99 carrying data), the last final Reject
from anyone else (F02 "no route" from the connector, F02/F06 from a receiver that did not issue
the address or cannot decrypt), and since when every packet has met a T/R-class Reject (made
up by the uplink itself: the connector is gone; or from further on: the receiver is).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from wallet.ilp import Fulfill, Prepare, Reject
from wallet.ilp.codes import error_name
from wallet.net.errors import UplinkError
from wallet.net.link import IncomingHandler, Link


def _advice_texts(cls: type[UplinkError]) -> set[str]:
    texts = {f". {cls.ADVICE}"} if cls.ADVICE else set()
    for sub in cls.__subclasses__():
        texts |= _advice_texts(sub)
    return texts


_ADVICE = _advice_texts(UplinkError)


def without_advice(text: str) -> str:
    """An uplink error's words without the advice meant for the browser ("Trickle keeps
    trying", ...): a command that gives up says so itself."""
    for advice in _ADVICE:
        if text.endswith(advice):
            return text[: -len(advice)]
    return text


@dataclass(frozen=True, slots=True)
class RejectSeen:
    """A Reject as the sender saw it (never carries packet data)."""

    code: str
    triggered_by: str
    message: str

    def describe(self) -> str:
        by = f" from {self.triggered_by}" if self.triggered_by else ""
        text = f": {self.message}" if self.message else ""
        return f"{self.code} {error_name(self.code)}{by}{text}"


class PathRecorder:
    """Wraps ``uplink`` (whose ``own_address`` marks the Rejects it made up itself).

    ``clock`` is monotonic seconds (the loop's clock in the command).
    """

    def __init__(self, uplink: Link, own_address: str, clock: Callable[[], float]) -> None:
        self._uplink = uplink
        self._own = own_address
        self._clock = clock
        self.stream_answers = 0  # Fulfills and F99s with data: the receiver spoke STREAM
        self.final_reject: RejectSeen | None = None  # the last final Reject not from STREAM
        self.retryable: RejectSeen | None = None  # the last T/R-class Reject
        self._failing_since: float | None = None  # since when every packet met one
        self.link_error: Exception | None = None  # what the uplink raised, if it did

    async def send(self, prepare: Prepare) -> Fulfill | Reject:
        try:
            reply = await self._uplink.send(prepare)
        except Exception as e:
            # The Link contract: send raises only on misuse or what the user must act on (the
            # token refused, ...); the driver counts the packet lost, the command stops.
            self.link_error = e
            raise
        if isinstance(reply, Fulfill):
            self.stream_answers += 1
            self._failing_since = None
            return reply
        seen = RejectSeen(reply.code, reply.triggered_by, without_advice(reply.message))
        if reply.code[:1] in "TR":
            self.retryable = seen
            if self._failing_since is None:
                self._failing_since = self._clock()
            return reply
        self._failing_since = None
        if reply.code == "F99" and reply.data:
            self.stream_answers += 1
        elif reply.code[:1] == "F" and reply.code != "F08":
            self.final_reject = seen
        return reply

    def is_local(self, reject: RejectSeen) -> bool:
        """Whether our uplink made ``reject`` up itself (the connector is not answering)."""
        return reject.triggered_by in (self._own, "")

    def is_upstream(self, reject: RejectSeen) -> bool:
        """Whether our own connector (the parent of our address) made ``reject``."""
        return reject.triggered_by == self._own.rpartition(".")[0]

    def failing_for(self) -> float:
        """Seconds every packet has met a T/R-class Reject (0: the last one did not)."""
        if self._failing_since is None:
            return 0.0
        return self._clock() - self._failing_since

    def set_incoming_handler(self, handler: IncomingHandler | None) -> None:
        self._uplink.set_incoming_handler(handler)

    async def close(self) -> None:
        await self._uplink.close()
