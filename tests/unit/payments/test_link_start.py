"""How a link session starts: it asks the payment path for its address (IL-DCP, a round trip
to the connector) while the href is still resolving, not after; and a payment path that does
not answer is backed off from, in words for the user. Against the sandbox's Open Payments
server and its ILP network (the link tests' world)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

from tests.unit.payments.test_links import PROVIDER, SITE, Seen, run, world
from wallet.ilp import ErrorCode, Fulfill, Prepare, Reject
from wallet.net.link import IncomingHandler, Link

WAIT = 20.0


@dataclass
class WatchedLink:
    """A payment path that tells when IL-DCP (a Prepare to ``peer.config``) is asked, and may
    refuse it."""

    inner: Link
    refuse_ildcp: bool = False
    asked: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, prepare: Prepare) -> Fulfill | Reject:
        if prepare.destination == "peer.config":
            self.asked.set()
            if self.refuse_ildcp:
                return Reject(ErrorCode.T01_PEER_UNREACHABLE, "", "connector down", b"")
        return await self.inner.send(prepare)

    def set_incoming_handler(self, handler: IncomingHandler | None) -> None:
        self.inner.set_incoming_handler(handler)

    async def close(self) -> None:
        await self.inner.close()


def test_the_payment_path_is_asked_while_the_wallet_address_loads(tmp_path: Path) -> None:
    links: list[WatchedLink] = []

    @web.middleware
    async def wallet_waits_for_ildcp(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "GET" and request.path.endswith("/alice") and links:
            try:  # the wallet address answers only once our address was asked for
                await asyncio.wait_for(links[0].asked.wait(), WAIT / 2)
            except TimeoutError:
                return web.Response(status=503, text="IL-DCP was not asked meanwhile")
        return await handler(request)

    async def main() -> None:
        async with world(tmp_path, middlewares=(wallet_waits_for_ildcp,)) as w:
            link = WatchedLink(w.sandbox.network.account("payer"))
            links.append(link)
            seen = Seen()
            handle = w.payments.document(SITE, attending=True)
            session = w.payments.pay_link(
                handle, w.sandbox.wallet("alice"), link, seen, provider=PROVIDER
            )
            await seen.until(lambda: bool(seen.payments or seen.errors))
            assert seen.errors == [] and seen.payments
            session.stop()
            await asyncio.wait_for(session.task, WAIT)

    run(main)


def test_a_payment_path_that_does_not_answer_is_backed_off_from(tmp_path: Path) -> None:
    async def main() -> None:
        async with world(tmp_path) as w:
            link = WatchedLink(w.sandbox.network.account("payer"), refuse_ildcp=True)
            seen = Seen()
            handle = w.payments.document(SITE, attending=True)
            session = w.payments.pay_link(
                handle, w.sandbox.wallet("alice"), link, seen, provider=PROVIDER
            )
            # The href loaded; the path's failure is one the session backs off from and
            # tells the user about (not a crash, not a hang on an answer nobody awaited).
            await seen.until(lambda: any(seen.waiting))
            assert len(seen.loads) == 1 and seen.errors == [] and seen.payments == []
            assert "trying again" in str(seen.waiting[-1])
            session.stop()
            await asyncio.wait_for(session.task, WAIT)
            assert w.history() == (0, 0, 0)

    run(main)
