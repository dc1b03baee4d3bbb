"""Routes Prepares that arrive on one link to whoever owns their destination address.

Several STREAM connections (a client's, a server's) share one uplink; each owns an address
(``<account>.<connection>``) and everything under it (RFC 29 §4.2: the receiver "MAY append
additional segments"). The longest registered prefix wins; an address nobody owns is answered
``F02 Unreachable``, as a connector would.
"""

from __future__ import annotations

from wallet.ilp import ErrorCode, Fulfill, Prepare, Reject
from wallet.net.link import IncomingHandler, Link

__all__ = ["Router"]


class Router:
    """Installs itself as ``link``'s incoming handler and dispatches by address prefix."""

    def __init__(self, link: Link, *, own_address: str = "") -> None:
        self.link = link
        self.own_address = own_address
        self._routes: dict[str, IncomingHandler] = {}
        link.set_incoming_handler(self.handle)

    def add(self, address: str, handler: IncomingHandler) -> None:
        """Send Prepares for ``address`` and everything under it to ``handler``."""
        self._routes[address] = handler

    def remove(self, address: str) -> None:
        self._routes.pop(address, None)

    def __len__(self) -> int:
        return len(self._routes)

    def lookup(self, destination: str) -> IncomingHandler | None:
        """The handler for ``destination``: the longest registered prefix, or ``None``."""
        routes = self._routes
        address = destination
        while True:
            handler = routes.get(address)
            if handler is not None:
                return handler
            cut = address.rfind(".")
            if cut < 0:
                return None
            address = address[:cut]

    async def handle(self, prepare: Prepare) -> Fulfill | Reject:
        handler = self.lookup(prepare.destination)
        if handler is None:
            return Reject(ErrorCode.F02_UNREACHABLE, self.own_address, "no such connection", b"")
        return await handler(prepare)
