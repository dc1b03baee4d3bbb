"""A link tag's time to first money: from ``Payments.pay_link`` to the first fulfilled packet.

    .venv/bin/python benchmarks/link_session_bench.py [--runs 20]

Trickle: a ``<link rel="monetization">`` session of the payment layer against the sandbox's
Open Payments server on loopback (TLS) — wallet address, directed-identity grant, incoming
payment, grant cancelled, IL-DCP, STREAM handshake over a sandbox account, then the first
packet through the document's budget gate (a real wallet service and SQLite file); median of
``--runs`` sessions. The yardstick, in the same run against the same server: the same requests
and STREAM set-up done by a bare script (``open_payment_target``, then Trickle's STREAM client
``connect`` with no gate, then one packet). Targets (issue 18): ratio ≤ 1.3 and ≤ 300 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from wallet.budgets import Asset, Defaults, GlobalPolicy
from wallet.net.ildcp import fetch_account_config
from wallet.net.router import Router
from wallet.net.stream_client import connect
from wallet.openpayments.client import OpenPaymentsClient
from wallet.openpayments.receiver import open_payment_target
from wallet.openpayments.transport import HttpTransport
from wallet.payments import PAGE_CONNECTION_TEMPLATE, OpenPaymentsResolver, Payments
from wallet.payments.errors import LinkError, PaymentError
from wallet.payments.link_targets import LinkTarget
from wallet.payments.links import LinkPayment
from wallet.sandbox.network import SandboxNetwork
from wallet.sandbox.op_server import serve_open_payments
from wallet.sandbox.tls import sandbox_certificate
from wallet.service import WalletService
from wallet.stream import ConnectionConfig

SITE = "https://bench.example"


class FirstPayment:
    def __init__(self) -> None:
        self.paid = asyncio.get_running_loop().create_future()

    def on_load(self, target: LinkTarget) -> None:
        pass

    def on_error(self, error: LinkError) -> None:
        if not self.paid.done():
            self.paid.set_exception(error)

    def on_payment(self, payment: LinkPayment) -> None:
        if not self.paid.done():
            self.paid.set_result(None)

    def on_stop(self, reason: PaymentError | None) -> None:
        pass

    def on_waiting(self, words: str | None) -> None:
        pass


async def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tls, ca_file = sandbox_certificate(Path(tmp))
        network = SandboxNetwork()
        server = await serve_open_payments(network, ssl_context=tls)
        url = server.add_wallet("bench", "Bench").id
        service = WalletService.open(Path(tmp) / "wallet", tz=ZoneInfo("UTC"))
        service.set_global_policy(
            GlobalPolicy(
                Asset("USD", 9), defaults=Defaults(rate_per_hour=3_600 * 10**9, cap_month=None)
            )
        )
        resolver = OpenPaymentsResolver(extra_ca_file=ca_file)
        payments = Payments(
            service,
            asyncio.get_running_loop(),
            template=PAGE_CONNECTION_TEMPLATE,
            resolver=resolver,
        )
        transport = HttpTransport(extra_ca_file=ca_file)
        client = OpenPaymentsClient(transport)
        trickle: list[float] = []
        floor: list[float] = []
        try:
            for i in range(runs):
                handle = payments.document(SITE, attending=True)
                seen = FirstPayment()
                started = time.perf_counter()
                session = payments.pay_link(
                    handle, url, network.account(f"t{i}"), seen, provider="bench"
                )
                await asyncio.wait_for(seen.paid, 10)
                trickle.append(time.perf_counter() - started)
                handle.end()
                await session.task

                started = time.perf_counter()
                target = await open_payment_target(client, url, transport=transport)
                link = network.account(f"b{i}")
                account = await fetch_account_config(link)
                conn = await connect(
                    link,
                    ConnectionConfig(
                        target.shared_secret,
                        account.asset_code,
                        account.asset_scale,
                        source_account=account.client_address,
                        destination_account=target.destination_account,
                    ),
                    router=Router(link, own_address=account.client_address),
                )
                await conn.create_stream().send_total(1000)
                floor.append(time.perf_counter() - started)
                conn.close()
                await conn.closed
        finally:
            await transport.close()
            await resolver.close()
            service.close()
            await server.close()
    ours, bare = statistics.median(trickle) * 1000, statistics.median(floor) * 1000
    print(f"link seen -> first fulfilled packet, median of {runs}:")
    print(f"  Trickle link session : {ours:7.1f} ms   (target <= 300 ms)")
    print(f"  bare script (floor)  : {bare:7.1f} ms")
    print(f"  ratio                : {ours / bare:7.2f}   (target <= 1.3)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    asyncio.run(main(parser.parse_args().runs))
