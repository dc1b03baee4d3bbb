"""The SPSP fallback of a ``<link rel="monetization">`` session, paid to the npm
``ilp-protocol-stream`` receiver through ``ilp-connector``: an https URL that answers SPSP
instead of wallet JSON is paid over STREAM, with no
``incomingPayment`` in the page's events; a per-site cap stops it exactly at the cap, and the
receiver's own total = Trickle's history = the sum of what the page is told."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web

from tests.certs import self_signed
from tests.interop.harness import Connector, NodeProcess, free_port, node_script
from tests.interop.test_link_session_interop import Page, _run
from wallet.budgets import Asset, SitePolicy
from wallet.net.btp_uplink import BtpUplink
from wallet.payments import PAGE_CONNECTION_TEMPLATE, OpenPaymentsResolver, Payments
from wallet.secrets import Secret
from wallet.service import WalletService
from wallet.store.payees import PayeeKind

pytestmark = pytest.mark.interop
SITE = "https://spsp-blog.example"
CAP = 3_456_789


@pytest.fixture(scope="module")
def connector() -> Iterator[tuple[Connector, int]]:
    port = free_port()
    config: dict[str, Any] = {
        "address": "test.harness",
        "accounts": {
            "payer": {"transport": "btp", "token": "payer-token", "maxPacketAmount": 400_000},
            "jsrecv": {
                "transport": "http",
                "token": "jsrecv-token",
                "outgoingUrl": f"http://127.0.0.1:{port}/",
            },
        },
    }
    with Connector.start(config) as started:
        yield started, port


def js_receiver(connector: Connector, port: int) -> Any:
    args = ["--uplink", connector.url("jsrecv"), "--token", "jsrecv-token"]
    return node_script("stream_receiver.js", *args, "--incoming-port", str(port), "--quiet")


async def serve_spsp(tmp: Path, receiver: NodeProcess) -> tuple[web.AppRunner, int]:
    """An SPSP endpoint on https://127.0.0.1 (test CA) handing out the receiver's credentials."""

    def fresh() -> dict[str, Any]:
        receiver.command("new")
        return receiver.wait_for("credentials")

    async def spsp(request: web.Request) -> web.Response:
        creds = await asyncio.to_thread(fresh)
        body = {
            "destination_account": creds["destinationAccount"],
            "shared_secret": creds["sharedSecret"],
        }
        return web.Response(text=json.dumps(body), content_type="application/spsp4+json")

    app = web.Application()
    app.router.add_get("/pay", spsp)
    runner = web.AppRunner(app)
    await runner.setup()
    tls, _ = self_signed(tmp)
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
    await site.start()
    port = runner.addresses[0][1]
    return runner, int(port)


def test_the_spsp_fallback_pays_ilp_protocol_stream_up_to_the_cap(
    connector: tuple[Connector, int], tmp_path: Path
) -> None:
    conn, port = connector
    with js_receiver(conn, port) as receiver:

        async def main() -> None:
            runner, spsp_port = await serve_spsp(tmp_path, receiver)
            service = WalletService.open(tmp_path / "wallet", tz=ZoneInfo("UTC"))
            service.set_site_policy(
                SitePolicy(SITE, rate_per_hour=3_600_000_000_000, cap_total=CAP)
            )
            resolver = OpenPaymentsResolver(extra_ca_file=tmp_path / "cert.pem")
            uplink = BtpUplink(conn.url("payer"), Secret("payer-token"), backoff_cap=0.5)
            try:
                await uplink.connect()
                payments = Payments(
                    service,
                    asyncio.get_running_loop(),
                    pace=0.02,
                    template=PAGE_CONNECTION_TEMPLATE,
                    resolver=resolver,
                )
                href = f"https://127.0.0.1:{spsp_port}/pay"  # answers SPSP, not wallet JSON
                page = Page()
                handle = payments.document(SITE, attending=True)
                session = payments.pay_link(handle, href, uplink, page, provider="trickle:builtin")
                async with asyncio.timeout(60):  # the cap holds it (it does not end)
                    while not session.held:
                        await asyncio.sleep(0.05)
                assert not page.stopped.done()
                (target,) = page.loads
                assert target.incoming_payment is None and target.wallet_name is None
                assert len(page.payments) >= 9  # packets of at most 400 000
                assert all(p.event_fields()["incomingPayment"] is None for p in page.payments)
                assert {p.asset for p in page.payments} == {Asset("USD", 9)}
                service.flush()
                history = sum(t.delivered for t in service.site_totals(site=SITE))
                told = sum(p.amount for p in page.payments)
                receiver.command("totals")
                own = int((await asyncio.to_thread(receiver.wait_for, "totals"))["total"])
                assert own == history == told == CAP
                payee = service.latest_payee(SITE)
                assert payee is not None and payee.kind is PayeeKind.STREAM
                assert payee.href == href and payee.wallet_address is None
                assert payee.incoming_payment is None
                session.stop()
                assert await asyncio.wait_for(page.stopped, 60) is None
            finally:
                await resolver.close()
                await uplink.close()
                service.close()
                await runner.cleanup()

        asyncio.run(_run(main()))
