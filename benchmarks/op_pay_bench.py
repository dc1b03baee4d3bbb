"""Paying from the user's own Open Payments wallet: one outgoing payment, from the request until
the wallet says it completed, on loopback.

    .venv/bin/python benchmarks/op_pay_bench.py [--runs 20] [--amount 1000000]

Trickle: ``UserWalletClient.pay`` (one signed POST straight from the incoming payment) then
``wait_for_outgoing_payment`` (signed GETs every 10 ms) against the sandbox's wallet side over
TLS; the sandbox sends the money over STREAM from the user's account into the site's incoming
payment. The yardstick, measured in the same run on the same sandbox network: the bare money
movement — Trickle's STREAM client paying the same amount to fresh credentials of the same
incoming payment from its own account, no HTTP at all. The ratio is what asking a wallet to pay
costs over moving the money directly. Median of ``--runs``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from wallet.net.ildcp import fetch_account_config
from wallet.net.router import Router
from wallet.net.stream_client import connect
from wallet.openpayments.client import OpenPaymentsClient
from wallet.openpayments.models import Amount, Grant
from wallet.openpayments.outgoing_models import GrantLimits, PendingGrant
from wallet.openpayments.signing import ClientKey
from wallet.openpayments.transport import HttpTransport
from wallet.openpayments.user_wallet import UserWalletClient
from wallet.sandbox.network import SandboxNetwork
from wallet.sandbox.op_server import OpenPaymentsSandbox, serve_open_payments
from wallet.sandbox.tls import sandbox_certificate
from wallet.stream import ConnectionConfig

FINISH = "https://trickle.invalid/finish"


async def main(runs: int, amount: int) -> None:
    network = SandboxNetwork()
    with tempfile.TemporaryDirectory() as tmp:
        server_tls, ca_file = sandbox_certificate(Path(tmp))
        site = await serve_open_payments(network, ssl_context=server_tls, grant_wait_seconds=0)
        site.add_wallet("blog", "Blog")
        site.add_wallet("me", "Me", balance=10**15)
        key = ClientKey.generate()
        site.register_client_key("me", key.public_jwk())
        transport = HttpTransport(extra_ca_file=ca_file)
        try:
            base = OpenPaymentsClient(transport)
            user = UserWalletClient(base, key)
            me = await base.get_wallet_address(site.wallet_url("me"))
            blog = await base.get_wallet_address(site.wallet_url("blog"))
            incoming = await base.create_incoming_payment(
                blog, await base.request_incoming_payment_grant(blog)
            )
            pending = await user.request_grant(
                me, GrantLimits(debit_amount=Amount(10**15, "USD", 9))
            )
            grant = await _accept_and_wait(site, user, pending)
            receiver = site.ledger.payments[incoming.id]
            link = network.account("bare")
            account = await fetch_account_config(link)
            router = Router(link, own_address=account.client_address)
            trickle: list[float] = []
            bare: list[float] = []
            for _ in range(runs):
                start = time.perf_counter()
                payment = await user.pay(me, grant, incoming.id, Amount(amount, "USD", 9))
                await user.wait_for_outgoing_payment(
                    payment, grant, timeout=dt.timedelta(seconds=30), interval=0.01
                )
                trickle.append(time.perf_counter() - start)
                start = time.perf_counter()
                address, secret = await site.ledger.fresh_credentials(receiver)
                conn = await connect(
                    link,
                    ConnectionConfig(
                        shared_secret=secret,
                        asset_code="USD",
                        asset_scale=9,
                        source_account=account.client_address,
                        destination_account=address,
                    ),
                    router=router,
                )
                await conn.create_stream().send_total(amount)
                conn.close()
                bare.append(time.perf_counter() - start)
        finally:
            await transport.close()
            await site.close()
    mine, floor = statistics.median(trickle) * 1000, statistics.median(bare) * 1000
    print(f"one outgoing payment of {amount} (TLS, loopback, STREAM), median of {runs}:")
    print(f"  Trickle pay + wait until completed: {mine:7.2f} ms")
    print(f"  bare STREAM payment, no wallet:     {floor:7.2f} ms   (yardstick)")
    print(f"  ratio: {mine / floor:.2f}x")


async def _accept_and_wait(
    site: OpenPaymentsSandbox, user: UserWalletClient, pending: PendingGrant
) -> Grant:
    """The user accepts (straight in the sandbox's books: the page is not what is measured)."""
    interaction_id, nonce = pending.redirect_url.split("?")[0].rsplit("/", 2)[-2:]
    grant = site.ledger.interaction(interaction_id, nonce)
    assert grant is not None
    site.ledger.decide(grant, True)
    return await user.wait_for_grant(pending, timeout=dt.timedelta(seconds=10))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--amount", type=int, default=1_000_000)
    options = parser.parse_args()
    asyncio.run(main(options.runs, options.amount))
