"""A link session's own requests pass Rafiki's checks (the node checker: the signature and
Content-Digest with @interledger/http-signature-utils, the request with @interledger/openapi
against the official OpenAPI files), the grant's cancel included, which the session sends after
its first packet rather than before it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.interop.op_peers import CheckerSlot, RequestChecker
from tests.unit.payments.test_links import SITE, Seen, world

pytestmark = pytest.mark.interop


def test_a_link_sessions_requests_pass_rafikis_checks(tmp_path: Path) -> None:
    async def main() -> RequestChecker:
        slot = CheckerSlot()
        async with world(tmp_path, middlewares=(slot.middleware,)) as w:
            with RequestChecker.start(w.sandbox.server, ["alice"]) as checker:
                slot.checker = checker
                paying = w.pay(SITE, w.sandbox.wallet("alice"), Seen())
                await paying.seen.until(lambda: len(paying.seen.payments) >= 3)
                paying.session.stop()
                await paying.stopped()
                assert paying.seen.errors == [] and paying.seen.stops == [None]
                assert all(g.revoked for g in w.sandbox.server.ledger.grants.values())
                return checker

    checker = asyncio.run(main())
    assert checker.refused() == []
    assert [v["operation"] for v in checker.verdicts] == [
        "wallet GET /",
        "auth POST /",
        "resource POST /incoming-payments",
        "auth DELETE /continue/{id}",
    ]
