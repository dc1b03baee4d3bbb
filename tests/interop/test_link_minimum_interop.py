"""The minimum a receiver takes is learnt against @interledger/stream-receiver (Rafiki's own
STREAM receiver, npm), never guessed; packets are then whole multiples of it.

The path in front of the receiver holds one unit of every packet back, as Rafiki's rounding
does ("if we send 1 unit, we will still get 0 as the expected delivery amount ... we always need
to send at least 2 units", interledger/rafiki#3480): a one-unit packet reaches the receiver as
0, which it fulfils without counting anything. Trickle starts at one unit (the least there is),
sees that packet deliver nothing, and from then on sends 2, 4, ... units, never 1; the dust is
paid once per receiver, not once per page load (web-monetization-extension#976/#1071). The
receiver's own total = Trickle's history = the sum the page is told.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.interop.op_peers import NodeReceiverBackend
from tests.interop.test_link_session_interop import Page, _run
from tests.op_support import op_sandbox
from wallet.budgets import SitePolicy
from wallet.ilp import Fulfill, Prepare, Reject
from wallet.net.link import Link
from wallet.payments import PAGE_CONNECTION_TEMPLATE, OpenPaymentsResolver, Payments
from wallet.service import WalletService

pytestmark = pytest.mark.interop
SITE = "https://blog.example"
RATE = 36_000  # units an hour: ten a second, so pay accrues one unit at a time


class HoldsOneUnitBack:
    """The receiver behind a path that keeps one unit of every packet (rafiki#3480)."""

    def __init__(self, receiver: NodeReceiverBackend) -> None:
        self.receiver = receiver

    async def credentials(self, payment_tag: str) -> tuple[str, bytes]:
        return await self.receiver.credentials(payment_tag)

    async def handle(self, prepare: Prepare) -> Fulfill | Reject:
        return await self.receiver.handle(replace(prepare, amount=max(0, prepare.amount - 1)))


async def pay_until(payments: Payments, handle_site: str, href: str, link: Link, n: int) -> Page:
    page = Page()
    handle = payments.document(handle_site, attending=True)
    session = payments.pay_link(handle, href, link, page, provider="trickle:builtin")
    while len(page.payments) < n:
        await asyncio.sleep(0.05)
    session.stop()
    await asyncio.wait_for(asyncio.shield(session.task), 10)
    return page


def test_the_minimum_is_learnt_from_rafikis_receiver_and_no_dust_is_paid_twice(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        with NodeReceiverBackend.start("test.sandbox.op") as node:
            path = HoldsOneUnitBack(node)

            def backend(_: Link, address: str) -> HoldsOneUnitBack:
                return path

            service = WalletService.open(tmp_path / "wallet", tz=ZoneInfo("UTC"))
            service.set_site_policy(SitePolicy(SITE, rate_per_hour=RATE))
            try:
                async with op_sandbox(tmp_path, backend=backend) as sandbox:
                    resolver = OpenPaymentsResolver(extra_ca_file=sandbox.ca_file)
                    payments = Payments(
                        service,
                        asyncio.get_running_loop(),
                        pace=0.05,
                        template=PAGE_CONNECTION_TEMPLATE,
                        resolver=resolver,
                    )
                    href = sandbox.wallet("alice")
                    try:
                        first = await pay_until(
                            payments, SITE, href, sandbox.network.account("you1"), 4
                        )
                        service.flush()
                        sent1 = sum(t.sent for t in service.site_totals(site=SITE))
                        delivered1 = sum(t.delivered for t in service.site_totals(site=SITE))
                        # Learnt: 2 units. One packet of 1 unit delivered nothing (the dust);
                        # every later packet is a multiple of 2 and delivers all but one unit.
                        assert payments.minimums.of(href).minimum == 2
                        assert all(p.amount > 0 for p in first.payments)
                        assert sent1 == 1 + delivered1 + len(first.payments)
                        # A reload pays no dust again: the minimum is known.
                        second = await pay_until(
                            payments, SITE, href, sandbox.network.account("you2"), 4
                        )
                        service.flush()
                        sent = sum(t.sent for t in service.site_totals(site=SITE))
                        delivered = sum(t.delivered for t in service.site_totals(site=SITE))
                        assert sent - sent1 == (delivered - delivered1) + len(second.payments)
                        own = await asyncio.to_thread(node.totals)
                        told = sum(p.amount for p in first.payments + second.payments)
                        assert sum(own.values()) == delivered == told
                    finally:
                        await resolver.close()
                        await node.aclose()
            finally:
                service.close()

    asyncio.run(_run(main()))
