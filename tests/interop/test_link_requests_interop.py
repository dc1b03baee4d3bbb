"""A link session's own requests pass Rafiki's checks (the node checker: the signature and
Content-Digest with @interledger/http-signature-utils, the request with @interledger/openapi
against the official OpenAPI files), the grant's cancel included, which the session sends after
its first packet rather than before it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.interop.op_peers import CheckerSlot, RequestChecker
from tests.op_support import op_sandbox
from tests.unit.payments.test_links import FAST, SITE, Seen
from wallet.budgets import SitePolicy
from wallet.payments import PAGE_CONNECTION_TEMPLATE, Payments
from wallet.payments.link_targets import OpenPaymentsResolver
from wallet.service import WalletService

pytestmark = pytest.mark.interop


def test_a_link_sessions_requests_pass_rafikis_checks(tmp_path: Path) -> None:
    async def main() -> RequestChecker:
        slot = CheckerSlot()
        service = WalletService.open(tmp_path / "wallet", tz=ZoneInfo("UTC"))
        service.set_site_policy(SitePolicy(SITE, rate_per_hour=FAST))
        try:
            async with op_sandbox(tmp_path, middlewares=(slot.middleware,)) as sandbox:
                with RequestChecker.start(sandbox.server, ["alice"]) as checker:
                    slot.checker = checker
                    resolver = OpenPaymentsResolver(extra_ca_file=sandbox.ca_file)
                    payments = Payments(
                        service,
                        asyncio.get_running_loop(),
                        pace=0.02,
                        template=PAGE_CONNECTION_TEMPLATE,
                        resolver=resolver,
                    )
                    seen = Seen()
                    session = payments.pay_link(
                        payments.document(SITE, attending=True),
                        sandbox.wallet("alice"),
                        sandbox.network.account("you"),
                        seen,
                        provider="trickle:builtin",
                    )
                    try:
                        await seen.until(lambda: len(seen.payments) >= 3)
                        session.stop()
                        await asyncio.wait_for(session.task, 60)
                    finally:
                        await resolver.close()
                    assert seen.errors == [] and seen.stops == [None]
                    assert all(g.revoked for g in sandbox.server.ledger.grants.values())
                    return checker
        finally:
            service.close()

    checker = asyncio.run(main())
    assert checker.refused() == []
    assert [v["operation"] for v in checker.verdicts] == [
        "wallet GET /",
        "auth POST /",
        "resource POST /incoming-payments",
        "auth DELETE /continue/{id}",
    ]
