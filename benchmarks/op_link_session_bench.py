"""A link tag paid from the user's connected Open Payments wallet: time to first money.

    .venv/bin/python benchmarks/op_link_session_bench.py [--runs 20]

Trickle: ``Payments.pay_link_tag`` with the connected wallet as the funding source, until the
first ``monetization`` event — the site's wallet address, a directed-identity grant and an
incoming payment (as every link session), the receiver's minimum learnt by quoting (the first
session to a wallet only), then a reservation in the ledger (a real wallet service and SQLite
file), one outgoing payment and its polling until the wallet says completed. Against the
sandbox's wallet side on loopback (TLS), whose outgoing payments move the money over STREAM.

The yardstick, in the same run on the same server: the same Open Payments requests done by a
bare script — ``open_payment_target`` for the site, then ``UserWalletClient.pay`` and
``wait_for_outgoing_payment`` (10 ms polls) — with no ledger, no gate, no session. The ratio is
what Trickle's payment layer adds to paying a link tag from a wallet. Median of ``--runs``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import aiohttp

from wallet.budgets import SitePolicy
from wallet.funding import Funding
from wallet.openpayments.client import OpenPaymentsClient
from wallet.openpayments.models import Amount
from wallet.openpayments.receiver import open_payment_target
from wallet.openpayments.transport import HttpTransport, tls_context
from wallet.openpayments.user_wallet import UserWalletClient
from wallet.payments import OpenPaymentsResolver, Payments
from wallet.payments.errors import LinkError, PaymentError
from wallet.payments.link_targets import LinkTarget
from wallet.payments.links import LinkPayment
from wallet.payments.op_sessions import OpLinkSession
from wallet.sandbox.network import SandboxNetwork
from wallet.sandbox.op_server import serve_open_payments
from wallet.sandbox.tls import sandbox_certificate
from wallet.secrets import MemorySecretStore
from wallet.service import WalletService

SITE = "https://bench.example"


class FirstPayment:
    def __init__(self) -> None:
        self.paid: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def on_load(self, target: LinkTarget) -> None:
        pass

    def on_error(self, error: LinkError) -> None:
        if not self.paid.done():
            self.paid.set_exception(error)

    def on_payment(self, payment: LinkPayment) -> None:
        if not self.paid.done():
            self.paid.set_result(payment.amount)

    def on_stop(self, reason: PaymentError | None) -> None:
        if not self.paid.done():
            self.paid.set_exception(reason or LinkError("stopped"))

    def on_waiting(self, words: str | None) -> None:
        pass


async def _accept(consent: str, ca_file: Path) -> None:
    """The user presses Accept on the consent page (its form POST, then the redirect)."""
    ssl = tls_context(ca_file)
    parts = urlsplit(consent)
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{parts.scheme}://{parts.netloc}{parts.path}/finish",
            data={"decision": "accept"},
            ssl=ssl,
            allow_redirects=False,
        ) as answer:
            location = answer.headers["Location"]
        async with http.get(location) as landing:
            await landing.read()


async def main(runs: int) -> None:
    network = SandboxNetwork()
    with tempfile.TemporaryDirectory() as tmp:
        server_tls, ca_file = sandbox_certificate(Path(tmp))
        site = await serve_open_payments(network, ssl_context=server_tls, grant_wait_seconds=0)
        site.add_wallet("blog", "Blog")
        site.add_wallet("me", "Me", balance=10**15)
        service = WalletService.open(Path(tmp) / "wallet", tz=ZoneInfo("UTC"))
        service.set_site_policy(SitePolicy(SITE, rate_per_hour=3_600_000_000_000))
        funding = Funding(service, MemorySecretStore(), extra_ca_file=ca_file)
        resolver = OpenPaymentsResolver(extra_ca_file=ca_file)
        transport = HttpTransport(extra_ca_file=ca_file)
        try:
            connecting = await funding.begin(site.wallet_url("me"))
            site.register_client_key("me", connecting.jwk)
            await _accept(await funding.request_grant(connecting, 10**15), Path(ca_file))
            wallet = await connecting.outcome()
            payments = Payments(
                service, asyncio.get_running_loop(), resolver=resolver, funding=funding
            )
            base = OpenPaymentsClient(transport)
            user = UserWalletClient(base, wallet.grant.key)
            me = await base.get_wallet_address(site.wallet_url("me"))
            blog = site.wallet_url("blog")
            trickle: list[float] = []
            bare: list[float] = []
            for _ in range(runs):
                await asyncio.sleep(0.05)  # accrual for the first payment
                handle = payments.document(SITE, attending=True)
                page = FirstPayment()
                start = time.perf_counter()
                session = payments.pay_link_tag(handle, blog, None, page, provider="")
                amount = await asyncio.wait_for(page.paid, 30)
                trickle.append(time.perf_counter() - start)
                handle.end()
                assert isinstance(session, OpLinkSession)
                await asyncio.wait_for(session.task, 30)
                start = time.perf_counter()
                target = await open_payment_target(base, blog, transport=transport)
                assert target.incoming_payment is not None
                payment = await user.pay(
                    me, wallet.grant, target.incoming_payment.id, Amount(amount, "USD", 9)
                )
                await user.wait_for_outgoing_payment(
                    payment, wallet.grant, timeout=dt.timedelta(seconds=30), interval=0.01
                )
                bare.append(time.perf_counter() - start)
        finally:
            await transport.close()
            await resolver.close()
            await funding.close()
            service.close()
            await site.close()
    mine, floor = statistics.median(trickle) * 1000, statistics.median(bare) * 1000
    print(f"a link tag paid from the connected wallet (TLS, loopback), median of {runs}:")
    print(f"  Trickle pay_link until the first monetization event: {mine:7.2f} ms")
    print(f"  bare requests (target, pay, poll until completed):   {floor:7.2f} ms   (yardstick)")
    print(f"  ratio: {mine / floor:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    asyncio.run(main(parser.parse_args().runs))
