"""Starts the network side of the app: the sandbox (default) or a real uplink, and the provider.

* **Sandbox**: an in-process network (:mod:`wallet.sandbox`), the demo sites on loopback (and
  the sandbox's Open Payments server, whose wallet addresses the blog's link tag names), and
  the user's account ``test.sandbox.you`` with a play-money balance of 100 USD (scale 9) held
  in the wallet's ledger — the provider reserves against it, and the user can top it up.
* **Uplink**: a real connector over ILP-over-HTTP or BTP (token from the secret store); IL-DCP
  says who we are. The money is held at the connector, so no local balance is checked; the
  budgets still are.

Each network has its own account row (``sandbox`` / ``uplink:<url>``, named by
:func:`wallet.accounts.account_network`), so switching never mixes their balances, and history
records the provider (and thereby the network) that paid.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from wallet.accounts import SANDBOX_NETWORK, account_network
from wallet.budgets import Asset
from wallet.net.config import UplinkSettings, open_uplink
from wallet.net.ildcp import fetch_account_config
from wallet.provider import BuiltInProvider
from wallet.sandbox import DemoSites, SandboxNetwork, start_demo_sites
from wallet.sandbox.tls import ServedCertificate
from wallet.secrets import SecretStore
from wallet.service import WalletService
from wallet.store.errors import StorageError

SANDBOX_START_BALANCE = 100 * 10**9  # 100 USD at scale 9, play money
SANDBOX_ASSET = Asset("USD", 9)

__all__ = [
    "SANDBOX_NETWORK",
    "GroupCommits",
    "NetworkRuntime",
    "start_sandbox",
    "start_uplink",
]

log = logging.getLogger(__name__)


@dataclass
class NetworkRuntime:
    """What is running: the provider and, on the sandbox, the demo sites."""

    provider: BuiltInProvider
    demo: DemoSites | None = None

    @property
    def extra_ca_file(self) -> Path | None:
        """The CA an Open Payments client must trust besides the system's: the sandbox's own
        (its wallet addresses are https on loopback); ``None`` on an uplink."""
        return self.demo.ca_file if self.demo is not None else None

    @property
    def served_certificates(self) -> tuple[ServedCertificate, ...]:
        """The sandbox's https origins and the certificate each shows (its own CA): the browser
        accepts each there only, while the sandbox runs; none on an uplink."""
        return self.demo.served_certificates() if self.demo is not None else ()

    async def close(self) -> None:
        if self.demo is not None:
            await self.demo.close()
        await self.provider.close()


DEMO_PORTS_SETTING = "sandbox.demo_ports"


async def start_sandbox(service: WalletService) -> NetworkRuntime:
    """The embedded play-money network, its demo sites, and the user's sandbox account."""
    network = SandboxNetwork(asset_code=SANDBOX_ASSET.code, asset_scale=SANDBOX_ASSET.scale)
    saved = service.setting(DEMO_PORTS_SETTING, {})
    ports = (
        {k: v for k, v in saved.items() if isinstance(v, int)} if isinstance(saved, dict) else {}
    )
    demo = await start_demo_sites(network, ports=ports)
    demo.follow_statuses(service.statuses, asyncio.get_running_loop())
    if demo.ports() != ports:  # the demo sites' origins stay the same across restarts
        service.set_setting(DEMO_PORTS_SETTING, demo.ports())
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
    network = account_network(settings)
    asset = Asset(account.asset_code, account.asset_scale)
    info = service.account(network)
    if info is None or info.address != account.client_address or info.asset != asset:
        service.set_account(network, account.client_address, asset, 0)
    # The balance lives at the connector: no local balance check (account_id None).
    provider = BuiltInProvider(uplink, account, account_id=None, network=network)
    return NetworkRuntime(provider)


class GroupCommits:
    """The ledger's group commit when no packet does it: after the last payment, so history is
    current and idle leases go back on time.

    A packet that resolves after the period commits the group itself, so this timer is armed
    only while the ledger holds something, at the ledger's due time plus ``grace``, and moves
    whenever a packet's own commit moves that time: while a page streams it never fires, and an
    idle app never wakes for it (on a virtual machine each wake-up of an idle core costs
    milliseconds of CPU, more than the work). Follows the service's ``ledger_listeners``;
    changes from another thread re-arm it through the loop.
    """

    def __init__(
        self, service: WalletService, loop: asyncio.AbstractEventLoop, *, grace: float = 1.0
    ) -> None:
        self._service = service
        self._loop = loop
        self._grace = grace
        self._timer: asyncio.TimerHandle | None = None
        service.ledger_listeners.append(self.poke)

    @property
    def armed_at(self) -> float | None:
        """The loop time the timer fires at, if armed."""
        return None if self._timer is None else self._timer.when()

    def poke(self) -> None:
        """The ledger changed: re-arm for its new due time (any thread)."""
        try:
            on_loop = asyncio.get_running_loop() is self._loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            self._arm()
        else:
            self._loop.call_soon_threadsafe(self._arm)

    def close(self) -> None:
        if self.poke in self._service.ledger_listeners:
            self._service.ledger_listeners.remove(self.poke)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self) -> None:
        due = self._service.flush_due_in()
        if due is None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            return
        when = self._loop.time() + due + self._grace
        if self._timer is not None:
            if abs(self._timer.when() - when) < self._grace / 2:
                return  # already armed for this due time
            self._timer.cancel()
        self._timer = self._loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self._timer = None
        try:
            self._service.flush_if_due()
        except StorageError as e:  # busy or failing disk: the next round tries again
            log.warning("group commit: %s", e)
        self._arm()
