"""Starts the network side of the app: the sandbox (default) or a real uplink, and the provider.

* **Sandbox**: an in-process network (:mod:`wallet.sandbox`), the demo sites on loopback, and
  the user's account ``test.sandbox.you`` with a play-money balance of 100 USD (scale 9) held
  in the wallet's ledger — the provider reserves against it, and the user can top it up.
* **Uplink**: a real connector over ILP-over-HTTP or BTP (token from the secret store); IL-DCP
  says who we are. The money is held at the connector, so no local balance is checked; the
  budgets still are.

Each network has its own account row (``sandbox`` / ``uplink:<url>``), so switching never
mixes their balances, and history records the provider (and thereby the network) that paid.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from wallet.budgets import Asset
from wallet.net.config import UplinkSettings, open_uplink
from wallet.net.ildcp import fetch_account_config
from wallet.provider import BuiltInProvider
from wallet.sandbox import DemoSites, SandboxNetwork, start_demo_sites
from wallet.secrets import SecretStore
from wallet.service import WalletService
from wallet.store.errors import StorageError

SANDBOX_NETWORK = "sandbox"
SANDBOX_START_BALANCE = 100 * 10**9  # 100 USD at scale 9, play money
SANDBOX_ASSET = Asset("USD", 9)

__all__ = [
    "SANDBOX_NETWORK",
    "NetworkRuntime",
    "group_commits",
    "start_sandbox",
    "start_uplink",
]

log = logging.getLogger(__name__)


@dataclass
class NetworkRuntime:
    """What is running: the provider and, on the sandbox, the demo sites."""

    provider: BuiltInProvider
    demo: DemoSites | None = None

    async def close(self) -> None:
        if self.demo is not None:
            await self.demo.close()
        await self.provider.close()


async def start_sandbox(service: WalletService) -> NetworkRuntime:
    """The embedded play-money network, its demo sites, and the user's sandbox account."""
    network = SandboxNetwork(asset_code=SANDBOX_ASSET.code, asset_scale=SANDBOX_ASSET.scale)
    demo = await start_demo_sites(network)
    link = network.account("you")
    account = await fetch_account_config(link)
    info = service.account(SANDBOX_NETWORK)
    if info is None or info.address != account.client_address:
        balance = SANDBOX_START_BALANCE if info is None else info.balance
        info = service.set_account(SANDBOX_NETWORK, account.client_address, SANDBOX_ASSET, balance)
    provider = BuiltInProvider(link, account, account_id=info.id, network=SANDBOX_NETWORK)
    return NetworkRuntime(provider, demo)


async def start_uplink(
    service: WalletService, settings: UplinkSettings, store: SecretStore
) -> NetworkRuntime:
    """A real connector. Raises the uplink's named errors (auth, unreachable, TLS, ...)."""
    uplink, account = await open_uplink(settings, store)
    network = f"uplink:{uplink.display_url}"
    asset = Asset(account.asset_code, account.asset_scale)
    info = service.account(network)
    if info is None or info.address != account.client_address or info.asset != asset:
        service.set_account(network, account.client_address, asset, 0)
    # The balance lives at the connector: no local balance check (account_id None).
    provider = BuiltInProvider(uplink, account, account_id=None, network=network)
    return NetworkRuntime(provider)


async def group_commits(service: WalletService, every: float = 1.0) -> None:
    """Runs for the app's life: the ledger's group commit also happens between packets, so
    history is current shortly after the last payment and idle leases go back on time."""
    while True:
        await asyncio.sleep(every)
        try:
            service.flush_if_due()
        except StorageError as e:  # busy or failing disk: the next round tries again
            log.warning("group commit: %s", e)
