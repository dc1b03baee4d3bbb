"""Test support for paying from a connected Open Payments wallet: the sandbox's Open Payments
server (TLS with a test CA, every exchange checked against the official OpenAPI files) with a
funded user wallet and site wallets, a real wallet service on a SQLite file, the funding
sources (:class:`wallet.funding.Funding`) with a secret store, and the payment layer paying
link tags from the connected wallet.

``connect`` goes through the whole connect flow as the user would, outside a browser: the key
is added at the wallet (the sandbox's ``register_client_key``), the consent page's Accept
button is pressed (its form POSTed), and the wallet's finish redirect followed to Trickle's
loopback listener.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import aiohttp

from tests.op_support import OpenApiCheck, op_sandbox
from tests.unit.payments.test_links import Seen as Page  # what a page is told
from wallet.budgets import SitePolicy
from wallet.funding import ConnectedWallet, Connecting, Funding
from wallet.openpayments.client import OpenPaymentsClient
from wallet.openpayments.errors import ServerRefusedError
from wallet.openpayments.models import Grant
from wallet.openpayments.transport import HttpTransport, tls_context
from wallet.openpayments.user_wallet import UserWalletClient
from wallet.payments import PAGE_CONNECTION_TEMPLATE, OpenPaymentsResolver, Payments
from wallet.sandbox.network import SandboxNetwork
from wallet.sandbox.op_server import BackendFactory, OpenPaymentsSandbox
from wallet.secrets import MemorySecretStore, SecretStore
from wallet.service import WalletService

SITE = "https://blog.example"
FAST = 3_600_000_000_000  # 1e9 units a second
WAIT = 30.0
USER_BALANCE = 10**12


class OffsetClock:
    """Now, plus an offset the test moves (token lifetimes, renewals)."""

    def __init__(self) -> None:
        self.offset = dt.timedelta(0)

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset


@dataclass
class FundingWorld:
    network: SandboxNetwork
    server: OpenPaymentsSandbox
    openapi: OpenApiCheck
    ca_file: Path
    service: WalletService
    funding: Funding
    payments: Payments
    resolver: OpenPaymentsResolver
    secrets: SecretStore
    clock: OffsetClock

    def wallet(self, name: str) -> str:
        return self.server.wallet_url(name)

    def history(self, site: str = SITE) -> tuple[int, int, int]:
        """(sent, delivered, unresolved) of ``site``."""
        self.service.flush()
        totals = self.service.site_totals(site=site)
        return (
            sum(t.sent for t in totals),
            sum(t.delivered for t in totals),
            sum(t.unresolved for t in totals),
        )

    def received(self, incoming_payment: str) -> int:
        """What the site's incoming payment received, as its wallet counts it."""
        return self.server.ledger.payments[incoming_payment].received

    def debited(self, name: str = "user", balance: int = USER_BALANCE) -> int:
        return balance - self.server.balance(name)

    async def ask(self, budget: int, address: str | None = None) -> tuple[Connecting, str]:
        """Begin connecting, add the key at the wallet, ask for the grant: the consent URL."""
        connecting = await self.funding.begin(address or self.wallet("user"))
        self.server.register_client_key("user", connecting.jwk)
        return connecting, await self.funding.request_grant(connecting, budget)

    async def connect(self, budget: int, *, address: str | None = None) -> ConnectedWallet:
        """The connect flow, as the user goes through it (see the module docstring)."""
        connecting, consent = await self.ask(budget, address)
        await self.press(consent, "accept")
        return await asyncio.wait_for(connecting.outcome(), WAIT)

    async def press(
        self, consent_url: str, decision: str, tamper: Callable[[str], str] = str
    ) -> str:
        """Press a button of the consent page; follow the wallet's redirect (through
        ``tamper``) to Trickle's listener; the page the user lands on."""
        ssl = tls_context(self.ca_file)
        async with aiohttp.ClientSession() as http:
            async with http.get(consent_url, ssl=ssl) as page:
                assert page.status == 200, await page.text()
            action = urlsplit(consent_url).path + "/finish"
            origin = "{0.scheme}://{0.netloc}".format(urlsplit(consent_url))
            async with http.post(
                origin + action, data={"decision": decision}, ssl=ssl, allow_redirects=False
            ) as answer:
                if answer.status == 200:  # a polled grant: no redirect, a page of its own
                    return await answer.text()
                assert answer.status == 303, await answer.text()
                location = answer.headers["Location"]
            async with http.get(tamper(location)) as landing:
                return await landing.text()

    async def token_refused(self, grant: Grant) -> bool:
        """Whether the wallet refuses ``grant``'s access token now."""
        transport = HttpTransport(extra_ca_file=self.ca_file)
        try:
            base = OpenPaymentsClient(transport, clock=self.clock)
            address = await base.get_wallet_address(self.wallet("user"))
            await UserWalletClient(base, grant.key).get_grant_spent_amounts(address, grant)
        except ServerRefusedError:
            return True
        finally:
            await transport.close()
        return False

    def pay(
        self, href: str, page: Page | None = None, *, site: str = SITE, attending: bool = True
    ) -> tuple[Any, Any, Page]:
        page = page or Page()
        handle = self.payments.document(site, attending=attending)
        session = self.payments.pay_link_tag(handle, href, None, page, provider="")
        return handle, session, page


@asynccontextmanager
async def funding_world(
    tmp: Path,
    *,
    policy: SitePolicy | None = None,
    pace: float = 0.05,
    sites: tuple[str, ...] = ("alice", "bob"),
    access_token_lifetime: dt.timedelta = dt.timedelta(minutes=10),
    min_send_amount: int = 1,
    grant_wait_seconds: int = 1,
    secrets: SecretStore | None = None,
    backend: BackendFactory | None = None,
    middlewares: tuple[Any, ...] = (),
    check_openapi: bool = True,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    user_balance: int = USER_BALANCE,
    finish_redirect: bool = True,
    incoming_lifetime: dt.timedelta = dt.timedelta(minutes=10),
) -> AsyncIterator[FundingWorld]:
    clock = OffsetClock()
    async with op_sandbox(
        tmp,
        backend=backend,
        clock=clock,
        wallets=sites,
        user_wallets={"user": user_balance},
        check_openapi=check_openapi,
        middlewares=middlewares,
        grant_wait_seconds=grant_wait_seconds,
        access_token_lifetime=access_token_lifetime,
        min_send_amount=min_send_amount,
    ) as sandbox:
        service = WalletService.open(tmp / "wallet", tz=ZoneInfo("UTC"))
        service.set_site_policy(policy or SitePolicy(SITE, rate_per_hour=FAST))
        store = secrets if secrets is not None else MemorySecretStore()
        funding = Funding(
            service,
            store,
            extra_ca_file=sandbox.ca_file,
            clock=clock,
            finish_redirect=finish_redirect,
        )
        resolver = OpenPaymentsResolver(
            extra_ca_file=sandbox.ca_file, clock=clock, lifetime=incoming_lifetime
        )
        payments = Payments(
            service,
            asyncio.get_running_loop(),
            pace=pace,
            template=PAGE_CONNECTION_TEMPLATE,
            resolver=resolver,
            funding=funding,
            sleep=sleep,
        )
        try:
            yield FundingWorld(
                sandbox.network,
                sandbox.server,
                sandbox.openapi,
                sandbox.ca_file,
                service,
                funding,
                payments,
                resolver,
                store,
                clock,
            )
        finally:
            await funding.close()
            await resolver.close()
            service.close()


__all__ = ["FAST", "SITE", "Connecting", "FundingWorld", "OffsetClock", "Page", "funding_world"]
