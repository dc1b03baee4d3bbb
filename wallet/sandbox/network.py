"""An in-process connector: accounts under ``test.sandbox``, IL-DCP, routing, ILP rules.

Each account gets a :class:`~wallet.net.memory_link.MemoryLink` — the same Link interface as a
real uplink — whose other end this connector holds. It behaves like ilp-connector where the
wallet can tell: ``peer.config`` answers IL-DCP (RFC 31) with ``test.sandbox.<name>``; a
Prepare goes to the account whose address is the longest prefix of its destination, with the
expiry shortened by a second (WIRE-NOTES §5); no route, or a route back to the sender, is F02;
a Fulfill whose fulfillment does not hash to the condition becomes F05; a Prepare above an
account's ``max_packet_amount`` is F08 with its data. Amounts move 1:1 (one asset).

Play money is not kept here: the user's balance is the wallet ledger's (the built-in
provider reserves against it before a packet leaves).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from wallet.ilp import (
    AmountTooLarge,
    ErrorCode,
    Fulfill,
    IldcpResponse,
    Prepare,
    Reject,
    is_ildcp_request,
)
from wallet.net.memory_link import MemoryLink, memory_link_pair

SANDBOX_ADDRESS = "test.sandbox"
_HOP_EXPIRY = timedelta(seconds=1)

__all__ = ["SANDBOX_ADDRESS", "SandboxNetwork"]


class SandboxNetwork:
    """The sandbox's connector. ``account(name)`` plugs a participant in."""

    def __init__(
        self, *, asset_code: str = "USD", asset_scale: int = 9, address: str = SANDBOX_ADDRESS
    ) -> None:
        self.address = address
        self.asset_code = asset_code
        self.asset_scale = asset_scale
        self._accounts: dict[str, MemoryLink] = {}  # address -> our end of its link
        self._limits: dict[str, int] = {}

    def account(self, name: str, *, max_packet_amount: int | None = None) -> MemoryLink:
        """A new account ``<address>.<name>``; returns the participant's end of its link."""
        address = f"{self.address}.{name}"
        if address in self._accounts:
            raise ValueError(f"sandbox account {name!r} exists")
        theirs, ours = memory_link_pair(address, self.address)
        ours.set_incoming_handler(lambda prepare: self._forward(address, prepare))
        self._accounts[address] = ours
        if max_packet_amount is not None:
            self._limits[address] = max_packet_amount
        return theirs

    def remove(self, name: str) -> None:
        self._accounts.pop(f"{self.address}.{name}", None)

    def _route(self, destination: str) -> str | None:
        address = destination
        while address.startswith(self.address + "."):
            if address in self._accounts:
                return address
            address = address.rsplit(".", 1)[0]
        return None

    def _reject(self, code: ErrorCode, message: str, data: bytes = b"") -> Reject:
        return Reject(code, self.address, message, data)

    async def _forward(self, source: str, prepare: Prepare) -> Fulfill | Reject:
        if is_ildcp_request(prepare):
            return IldcpResponse(source, self.asset_scale, self.asset_code).to_fulfill()
        limit = self._limits.get(source)
        if limit is not None and prepare.amount > limit:
            return self._reject(
                ErrorCode.F08_AMOUNT_TOO_LARGE,
                f"packet size too large. maxAmount={limit} actualAmount={prepare.amount}",
                AmountTooLarge(prepare.amount, limit).to_bytes(),
            )
        target = self._route(prepare.destination)
        if target is None or target == source:
            return self._reject(ErrorCode.F02_UNREACHABLE, "no route found")
        expires = prepare.expires_at - _HOP_EXPIRY
        if expires <= datetime.now(UTC):
            return self._reject(ErrorCode.R02_INSUFFICIENT_TIMEOUT, "expires too soon")
        reply = await self._accounts[target].send(replace(prepare, expires_at=expires))
        if isinstance(reply, Fulfill) and not prepare.is_fulfilled_by(reply.fulfillment):
            return self._reject(ErrorCode.F05_WRONG_CONDITION, "fulfillment did not match")
        return reply
