"""The built-in provider: Trickle's own handler in front of the locally held account.

The browser's connections reach the network through it without a JavaScript hop. Each
connection gets a :class:`ProviderLink` (a :class:`~wallet.net.link.Link`):

* IL-DCP (``peer.config``) is answered here, RFC 31, with an address *under the account's
  own* — ``<account>.<connection>`` — so that the uplink's incoming Prepares for that
  connection find it;
* every other Prepare goes to the uplink (the sandbox network or a real connector), unchanged;
* incoming Prepares from the uplink are routed by address to the connection they are for.

Money is gated before it reaches this link: the browser's per-connection gate reserves each
packet against the site's policy, the global budget *and* this account's balance
(``account_id`` — the ledger checks all three in one transaction). The provider itself holds no
money state, so a crash loses nothing here.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

from wallet.ilp import Fulfill, IldcpResponse, Prepare, Reject, is_ildcp_request
from wallet.net.link import IncomingHandler, Link
from wallet.net.router import Router

BUILTIN_HANDLER_URI = "trickle://wallet/handler"
BUILTIN_HANDLER_NAME = "Trickle Wallet"

__all__ = ["BUILTIN_HANDLER_NAME", "BUILTIN_HANDLER_URI", "BuiltInProvider", "ProviderLink"]


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    """What the UI shows about the provider's network, in words."""

    network: str  # "sandbox" or the uplink's display URL
    address: str
    asset_code: str
    asset_scale: int
    connected: bool
    last_error: str | None = None


class ProviderLink:
    """One browser connection's link through the built-in provider."""

    def __init__(self, provider: BuiltInProvider, address: str) -> None:
        self._provider = provider
        self.address = address
        self.account_id = provider.account_id
        self._closed = False

    async def send(self, prepare: Prepare) -> Fulfill | Reject:
        if is_ildcp_request(prepare):
            account = self._provider.account
            return IldcpResponse(self.address, account.asset_scale, account.asset_code).to_fulfill()
        return await self._provider.uplink.send(prepare)

    def set_incoming_handler(self, handler: IncomingHandler | None) -> None:
        if handler is None:
            self._provider.router.remove(self.address)
        else:
            self._provider.router.add(self.address, handler)

    async def close(self) -> None:
        self._closed = True
        self._provider.router.remove(self.address)


class BuiltInProvider:
    """The local account's provider over ``uplink``; ``account`` is what IL-DCP said upstream."""

    def __init__(
        self,
        uplink: Link,
        account: IldcpResponse,
        *,
        account_id: int | None,
        network: str,
    ) -> None:
        self.uplink = uplink
        self.account = account
        self.account_id = account_id
        self.network = network
        self.router = Router(uplink, own_address=account.client_address)

    def link(self) -> ProviderLink:
        """A link for one new browser connection, at a fresh address under the account."""
        segment = base64.urlsafe_b64encode(os.urandom(9)).decode("ascii")
        return ProviderLink(self, f"{self.account.client_address}.{segment}")

    def status(self) -> ProviderStatus:
        error = getattr(self.uplink, "last_error", None)
        return ProviderStatus(
            network=self.network,
            address=self.account.client_address,
            asset_code=self.account.asset_code,
            asset_scale=self.account.asset_scale,
            connected=error is None,
            last_error=None if error is None else str(error),
        )

    async def close(self) -> None:
        await self.uplink.close()
