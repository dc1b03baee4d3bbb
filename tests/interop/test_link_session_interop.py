"""A ``<link rel="monetization">`` session of Trickle's payment layer pays an incoming payment
whose STREAM credentials come from @interledger/stream-receiver (Rafiki's receiver, npm) behind
the sandbox's ILP path, as in Rafiki: the receiver's own total = the incoming payment's
receivedAmount = Trickle's history = the sum of what the page is told (``amountSent``); a
per-site cap stops it exactly at the cap."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.interop.op_peers import NodeReceiverBackend
from tests.op_support import op_sandbox
from wallet.budgets import SitePolicy
from wallet.net.link import Link
from wallet.payments import PAGE_CONNECTION_TEMPLATE, OpenPaymentsResolver, Payments
from wallet.payments.errors import LinkError, PaymentError
from wallet.payments.link_targets import LinkTarget
from wallet.payments.links import LinkPayment
from wallet.service import WalletService

pytestmark = pytest.mark.interop
SITE = "https://blog.example"
CAP = 2_345_678


class Page:
    def __init__(self) -> None:
        self.loads: list[LinkTarget] = []
        self.payments: list[LinkPayment] = []
        self.stopped: asyncio.Future[PaymentError | None] = (
            asyncio.get_running_loop().create_future()
        )

    def on_load(self, target: LinkTarget) -> None:
        self.loads.append(target)

    def on_error(self, error: LinkError) -> None:
        self.stopped.set_exception(error)

    def on_payment(self, payment: LinkPayment) -> None:
        self.payments.append(payment)

    def on_stop(self, reason: PaymentError | None) -> None:
        self.stopped.set_result(reason)

    def on_waiting(self, words: str | None) -> None:
        pass


def test_a_link_session_pays_rafikis_stream_receiver_up_to_the_cap(tmp_path: Path) -> None:
    async def main() -> None:
        with NodeReceiverBackend.start("test.sandbox.op") as receiver:

            def backend(_: Link, address: str) -> NodeReceiverBackend:
                return receiver

            service = WalletService.open(tmp_path / "wallet", tz=ZoneInfo("UTC"))
            service.set_site_policy(
                SitePolicy(SITE, rate_per_hour=3_600_000_000_000, cap_total=CAP)
            )
            try:
                async with op_sandbox(tmp_path, backend=backend) as sandbox:
                    resolver = OpenPaymentsResolver(extra_ca_file=sandbox.ca_file)
                    payments = Payments(
                        service,
                        asyncio.get_running_loop(),
                        pace=0.02,
                        template=PAGE_CONNECTION_TEMPLATE,
                        resolver=resolver,
                    )
                    page = Page()
                    handle = payments.document(SITE, attending=True)
                    session = payments.pay_link(
                        handle,
                        sandbox.wallet("alice"),
                        sandbox.network.account("you", max_packet_amount=300_000),
                        page,
                        provider="trickle:builtin",
                    )
                    try:
                        async with asyncio.timeout(60):  # the cap holds it (it does not end)
                            while not session.held:
                                await asyncio.sleep(0.05)
                        assert not page.stopped.done()
                        session.stop()
                        reason = await asyncio.wait_for(page.stopped, 60)
                    finally:
                        await resolver.close()
                        await receiver.aclose()
                    assert reason is None
                    (target,) = page.loads
                    assert target.incoming_payment is not None
                    tag = target.incoming_payment.rsplit("/", 1)[-1]
                    own = await asyncio.to_thread(receiver.totals)
                    ledger = sandbox.server.ledger.payments[target.incoming_payment].received
                    service.flush()
                    history = sum(t.delivered for t in service.site_totals(site=SITE))
                    told = sum(p.amount for p in page.payments)
                    assert own == {tag: CAP}
                    assert ledger == history == told == CAP
                    assert len(page.payments) >= 8  # packets of at most 300 000
                    assert {(p.asset.code, p.asset.scale) for p in page.payments} == {("USD", 9)}
            finally:
                service.close()

    asyncio.run(_run(main()))


async def _run(coro: Any) -> Any:
    async with asyncio.timeout(120):
        return await coro
