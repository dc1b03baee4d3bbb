"""The names of the wallet's account rows: one per network, so that switching networks never
mixes their balances, and one function that names the account a network pays from.

* ``sandbox``: the embedded play-money network. Its balance is held here, in the wallet's
  ledger (the built-in provider reserves against it).
* ``uplink:<url>``: a real connector, named by its URL without credentials, query or fragment
  as its link shows it (``btp+wss://host/p`` → ``uplink:wss://host/p``). Its money is held at the
  connector: the row's ``balance`` is not a balance anyone keeps, so it is never shown as one.

Whoever starts a network (:mod:`wallet.runtime`) and whoever looks the active account up (the
wallet UI's Account page, Overview and site popover) use :func:`account_network`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wallet.net.uplink_base import display_url

if TYPE_CHECKING:
    from wallet.net.config import UplinkSettings

__all__ = ["SANDBOX_NETWORK", "UPLINK_PREFIX", "account_network", "holds_balance_here"]

SANDBOX_NETWORK = "sandbox"
UPLINK_PREFIX = "uplink:"


def account_network(uplink: UplinkSettings | None) -> str:
    """The name of the account row that pays on this network: ``sandbox`` without an uplink,
    else ``uplink:<the connector's URL as its link displays it>``."""
    if uplink is None:
        return SANDBOX_NETWORK
    from wallet.net.config import Transport

    url = uplink.url
    if uplink.transport is Transport.BTP:
        from wallet.net.btp_uplink import websocket_url

        url = websocket_url(url)  # what BtpUplink connects to and displays
    return UPLINK_PREFIX + display_url(url)


def holds_balance_here(network: str) -> bool:
    """Whether the wallet itself holds this account's balance (the sandbox's play money), or
    it is held elsewhere (an uplink's, at the connector)."""
    return network == SANDBOX_NETWORK
