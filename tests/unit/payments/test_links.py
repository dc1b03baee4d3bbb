"""Link-element sessions of the payment layer, against the sandbox's Open Payments server (TLS
with a test CA, every exchange checked against the official OpenAPI files) and a real STREAM
receiver behind its ILP account, paid from a sandbox account through a real wallet service and
SQLite file: the money the receiver counts = the incoming payment's ``receivedAmount`` =
Trickle's history = the sum of what the page would be told; caps, attention, the document's
end, renewal and every way an href can fail."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.typedefs import Handler

from tests.certs import self_signed
from tests.op_support import OpSandbox, op_sandbox
from wallet.budgets import Asset, SitePolicy
from wallet.openpayments.models import Amount
from wallet.payments import (
    PAGE_CONNECTION_TEMPLATE,
    DocumentHandle,
    GrantDeniedError,
    InsecureWalletAddressError,
    LinkError,
    NotAWalletAddressError,
    Payments,
    WalletAddressNotFoundError,
    WalletTimeoutError,
    WalletUnreachableError,
)
from wallet.payments.errors import PaymentError
from wallet.payments.link_targets import LinkTarget, OpenPaymentsResolver
from wallet.payments.links import LinkPayment, LinkSession
from wallet.sandbox.op_ledger import StreamServerBackend
from wallet.service import WalletService

SITE = "https://blog.example"
PROVIDER = "trickle:builtin"
FAST = 3_600_000_000_000  # 1e9 units a second
WAIT = 20.0  # seconds before a test that waits for something fails


@dataclass
class Seen:
    """What the page would be told about one link."""

    loads: list[LinkTarget] = field(default_factory=list)
    errors: list[LinkError] = field(default_factory=list)
    payments: list[LinkPayment] = field(default_factory=list)
    stops: list[PaymentError | None] = field(default_factory=list)
    waiting: list[str | None] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def on_load(self, target: LinkTarget) -> None:
        self.loads.append(target)
        self.changed.set()

    def on_error(self, error: LinkError) -> None:
        self.errors.append(error)
        self.changed.set()

    def on_payment(self, payment: LinkPayment) -> None:
        self.payments.append(payment)
        self.changed.set()

    def on_stop(self, reason: PaymentError | None) -> None:
        self.stops.append(reason)
        self.changed.set()

    def on_waiting(self, words: str | None) -> None:
        self.waiting.append(words)
        self.changed.set()

    async def until(self, condition: Callable[[], bool]) -> None:
        async def wait() -> None:
            while not condition():
                self.changed.clear()
                with contextlib.suppress(TimeoutError):  # also for state beside the events
                    await asyncio.wait_for(self.changed.wait(), 0.05)

        await asyncio.wait_for(wait(), WAIT)

    @property
    def sent(self) -> int:
        return sum(p.amount for p in self.payments)


@dataclass
class World:
    sandbox: OpSandbox
    service: WalletService
    payments: Payments
    resolver: OpenPaymentsResolver
    names: list[str] = field(default_factory=list)

    def pay(self, handle_site: str, href: str, seen: Seen, *, attending: bool = True) -> Paying:
        handle = self.payments.document(handle_site, attending=attending)
        name = f"payer{len(self.names)}"
        self.names.append(name)
        session = self.payments.pay_link(
            handle, href, self.sandbox.network.account(name), seen, provider=PROVIDER
        )
        return Paying(handle, session, seen)

    def history(self, site: str = SITE) -> tuple[int, int, int]:
        """(sent, delivered, unresolved) of ``site`` in history."""
        self.service.flush()
        totals = self.service.site_totals(site=site)
        return (
            sum(t.sent for t in totals),
            sum(t.delivered for t in totals),
            sum(t.unresolved for t in totals),
        )

    def received_in_all(self) -> tuple[int, int, int]:
        """(the STREAM receiver's own count, the sum of every incoming payment's
        receivedAmount, how many incoming payments there are), over the whole test."""
        backend = self.sandbox.server.ledger.backend
        assert isinstance(backend, StreamServerBackend)
        incoming = self.sandbox.server.ledger.payments
        return (
            sum(backend.received.values()),
            sum(p.received for p in incoming.values()),
            len(incoming),
        )

    def received(self, target: LinkTarget) -> tuple[int, int]:
        """(the STREAM receiver's own count, the incoming payment's receivedAmount)."""
        assert target.incoming_payment is not None
        backend = self.sandbox.server.ledger.backend
        assert isinstance(backend, StreamServerBackend)
        tag = target.incoming_payment.rsplit("/", 1)[-1]
        ledger = self.sandbox.server.ledger.payments[target.incoming_payment]
        return backend.received.get(tag, 0), ledger.received


@dataclass
class Paying:
    handle: DocumentHandle
    session: LinkSession
    seen: Seen

    async def stopped(self) -> None:
        await asyncio.wait_for(asyncio.shield(self.session.task), WAIT)


@asynccontextmanager
async def world(
    tmp: Path,
    *,
    policy: SitePolicy | None = None,
    pace: float = 0.02,
    clock: Callable[[], dt.datetime] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    middlewares: tuple[object, ...] = (),
    timeout: float = 10.0,
    check_openapi: bool = True,
    wallet_clock: Callable[[], dt.datetime] | None = None,
) -> AsyncIterator[World]:
    async with op_sandbox(
        tmp, clock=clock, middlewares=middlewares, check_openapi=check_openapi
    ) as sandbox:
        if wallet_clock is None:
            service = WalletService.open(tmp / "wallet", tz=ZoneInfo("UTC"))
        else:  # the wallet's own clock (its days and months), injected
            service = WalletService.open(
                tmp / "wallet", tz=ZoneInfo("UTC"), clock=wallet_clock, monotonic=time.monotonic
            )
        service.set_site_policy(policy or SitePolicy(SITE, rate_per_hour=FAST))
        resolver = OpenPaymentsResolver(extra_ca_file=sandbox.ca_file, clock=clock, timeout=timeout)
        payments = Payments(
            service,
            asyncio.get_running_loop(),
            pace=pace,
            template=PAGE_CONNECTION_TEMPLATE,
            resolver=resolver,
            sleep=sleep,
        )
        try:
            yield World(sandbox, service, payments, resolver)
        finally:
            await resolver.close()
            service.close()


def run(main: Callable[[], Coroutine[object, object, None]]) -> None:
    asyncio.run(main())


def test_a_link_is_paid_and_every_count_agrees(tmp_path: Path) -> None:
    async def main() -> None:
        async with world(tmp_path) as w:
            href = w.sandbox.wallet("alice")
            paying = w.pay(SITE, href, Seen())
            seen = paying.seen
            await seen.until(lambda: len(seen.payments) >= 5)
            (target,) = seen.loads
            assert target.incoming_payment is not None
            assert target.wallet_name == "Alice's sandbox wallet"
            assert target.wallet_asset == Asset("USD", 9)
            paying.session.stop()
            await paying.stopped()
            assert seen.stops == [None] and seen.errors == []
            first = seen.payments[0]
            assert first.href == href and first.incoming_payment == target.incoming_payment
            assert first.event_fields()["amountSent"] == {
                "currency": "USD",
                "value": f"{first.amount / 1e9:.9f}",
            }
            assert first.event_fields()["receipt"] is None
            own, ledger = w.received(target)
            sent, delivered, unresolved = w.history()
            assert own == ledger == delivered == seen.sent > 0
            assert sent == delivered and unresolved == 0
            async with w.sandbox.client() as (client, _):
                public = await client.get_public_received_amount(target.incoming_payment)
            assert public == Amount(seen.sent, "USD", 9)
            # Every grant was cancelled once its incoming payment was made.
            assert all(g.revoked for g in w.sandbox.server.ledger.grants.values())

    run(main)


def test_a_site_cap_holds_the_session_exactly_at_the_cap(tmp_path: Path) -> None:
    cap = 123_456

    async def main() -> None:
        async with world(tmp_path, policy=SitePolicy(SITE, rate_per_hour=FAST, cap_total=cap)) as w:
            paying = w.pay(SITE, w.sandbox.wallet("alice"), Seen())
            seen = paying.seen
            await seen.until(lambda: paying.session.held)
            own, ledger = w.received(seen.loads[0])
            assert own == ledger == seen.sent == w.history()[1] == cap
            # Held, not ended: the page was told nothing, and the session ends with a stop.
            assert seen.stops == [] and seen.errors == []
            paying.session.stop()
            await paying.stopped()
            assert seen.stops == [None]

    run(main)


def test_nothing_is_paid_while_the_document_is_not_attended(tmp_path: Path) -> None:
    async def main() -> None:
        async with world(tmp_path) as w:
            paying = w.pay(SITE, w.sandbox.wallet("alice"), Seen(), attending=False)
            doc = paying.session._doc
            await paying.seen.until(lambda: bool(doc.gates))  # connected, ready to pay
            await asyncio.sleep(0.3)  # fifteen pace periods in which nothing may be paid
            assert paying.seen.payments == []
            assert w.history() == (0, 0, 0)
            paying.handle.set_attending(True)
            await paying.seen.until(lambda: len(paying.seen.payments) >= 2)
            paying.handle.set_attending(False)
            await asyncio.sleep(0.1)
            settled = len(paying.seen.payments)
            await asyncio.sleep(0.3)
            assert len(paying.seen.payments) == settled
            paying.handle.end()
            await paying.stopped()
            assert paying.seen.stops == [None]

    run(main)


def test_the_documents_end_ends_its_sessions(tmp_path: Path) -> None:
    async def main() -> None:
        async with world(tmp_path) as w:
            paying = w.pay(SITE, w.sandbox.wallet("alice"), Seen())
            await paying.seen.until(lambda: len(paying.seen.payments) >= 1)
            paying.handle.end()
            await paying.stopped()
            assert paying.seen.stops == [None]
            own, _ = w.received(paying.seen.loads[0])
            assert own == paying.seen.sent == w.history()[1]

    run(main)


def enough(seen: Seen) -> bool:
    return len(seen.payments) >= 10


def test_a_pages_links_share_the_sites_rate_evenly(tmp_path: Path) -> None:
    pace = 0.05
    rate = 1_000_000  # units a second

    async def main() -> None:
        policy = SitePolicy(SITE, rate_per_hour=rate * 3600)
        async with world(tmp_path, pace=pace, policy=policy) as w:
            handle = w.payments.document(SITE, attending=False)
            seen = {name: Seen() for name in ("alice", "bob")}
            sessions = [
                w.payments.pay_link(
                    handle,
                    w.sandbox.wallet(name),
                    w.sandbox.network.account(f"payer-{name}"),
                    seen[name],
                    provider=PROVIDER,
                )
                for name in seen
            ]
            alice = seen["alice"]
            await alice.until(lambda: len(handle.document.gates) == 2)  # both ready
            handle.set_attending(True)
            for s in seen.values():
                await s.until(partial(enough, s))
            handle.set_attending(False)
            handle.end()
            for session in sessions:
                await asyncio.wait_for(session.task, WAIT)
            a, b = (s for s in seen.values())
            counts = (len(a.payments), len(b.payments))
            assert abs(counts[0] - counts[1]) <= 1, counts  # turns alternate
            # Each packet takes what accrued since the previous one (~pace/2 of pay): even,
            # but for how late the loop ran each turn on a busy machine.
            assert min(a.sent, b.sent) >= (a.sent + b.sent) // 4, (a.sent, b.sent)
            assert a.sent + b.sent == w.history()[1]

    run(main)


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def test_the_incoming_payment_is_renewed_before_it_expires(tmp_path: Path) -> None:
    clock = Clock()
    asked: list[float] = []
    release = asyncio.Event()

    async def sleep(seconds: float) -> None:
        asked.append(seconds)
        await release.wait()
        release.clear()

    async def main() -> None:
        async with world(tmp_path, clock=clock, sleep=sleep) as w:
            paying = w.pay(SITE, w.sandbox.wallet("alice"), Seen())
            seen = paying.seen
            await seen.until(lambda: len(seen.payments) >= 2)
            assert asked == [pytest.approx(540.0, abs=0.01)]  # ten minutes, less one (ms)
            first = seen.loads[0]
            clock.now += dt.timedelta(minutes=9)
            release.set()
            await seen.until(lambda: seen.payments[-1].incoming_payment != first.incoming_payment)
            second = seen.payments[-1].incoming_payment
            assert second is not None
            paying.session.stop()
            await paying.stopped()
            old_own, old_ledger = w.received(first)
            ledger = w.sandbox.server.ledger.payments
            new_ledger = ledger[second].received
            assert old_own == old_ledger
            assert old_ledger + new_ledger == seen.sent == w.history()[1]
            assert seen.stops == [None] and len(seen.loads) == 1

    run(main)


# -- hrefs that cannot be paid ----------------------------------------------------------


@asynccontextmanager
async def https_server(tmp: Path, handler: Callable[[web.Request], object]) -> AsyncIterator[str]:
    """A TLS server on loopback with the same test CA as the sandbox (``tmp/cert.pem``)."""
    server_tls, _ = self_signed(tmp)
    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)  # type: ignore[arg-type]
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_tls)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def failure_of(w: World, href: str) -> LinkError:
    paying = w.pay(SITE, href, Seen())
    await paying.stopped()
    assert paying.seen.loads == [] and paying.seen.payments == []
    assert paying.seen.stops == []
    (error,) = paying.seen.errors
    assert str(error).startswith("This site is not being paid: ")
    assert w.history() == (0, 0, 0)
    return error


def test_hrefs_that_are_not_wallet_addresses_get_a_named_error(tmp_path: Path) -> None:
    @web.middleware
    async def pages(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Pages beside the wallet addresses, on the same https origin."""
        if request.path == "/html":
            return web.Response(text="<html>hello</html>", content_type="text/html")
        if request.path == "/shapeless":
            return web.json_response({"id": "https://x.example/a", "assetCode": "USD"})
        return await handler(request)

    async def main() -> None:
        # (the OpenAPI check is off: these URLs are not Open Payments endpoints)
        async with world(tmp_path, middlewares=(pages,), check_openapi=False) as w:
            missing = await failure_of(w, w.sandbox.wallet("nobody"))  # the server's own 404
            assert isinstance(missing, WalletAddressNotFoundError)
            assert "HTTP 404" in str(missing)
            html = await failure_of(w, w.sandbox.wallet("html"))
            assert isinstance(html, NotAWalletAddressError)
            assert "is not a wallet address" in str(html)
            shapeless = await failure_of(w, w.sandbox.wallet("shapeless"))
            assert isinstance(shapeless, NotAWalletAddressError)
            insecure = await failure_of(w, "http://127.0.0.1:1/alice")
            assert isinstance(insecure, InsecureWalletAddressError)
            assert "not a secure https: URL" in str(insecure)
            # nothing listens on :443: the page gets `error` at once, the receiver is backed off
            unreachable = w.pay(SITE, "$127.0.0.1/nobody", Seen())
            await unreachable.seen.until(lambda: bool(unreachable.seen.waiting))
            (pointer,) = unreachable.seen.errors
            assert isinstance(pointer, WalletUnreachableError)
            assert "cannot be reached" in str(pointer)
            assert unreachable.seen.waiting == [
                "The wallet at 127.0.0.1/nobody cannot be reached; trying again in 30 seconds."
            ]
            unreachable.session.stop()
            await unreachable.stopped()
            not_pointer = await failure_of(w, "$ not a pointer")
            assert isinstance(not_pointer, NotAWalletAddressError)

    run(main)


def test_a_silent_wallet_times_out_with_a_named_error(tmp_path: Path) -> None:
    never = asyncio.Event()

    async def silent(request: web.Request) -> web.Response:
        await never.wait()
        return web.Response()

    async def main() -> None:
        (tmp_path / "slow").mkdir()
        async with https_server(tmp_path / "slow", silent) as origin:
            resolver = OpenPaymentsResolver(
                extra_ca_file=tmp_path / "slow" / "cert.pem", timeout=0.2
            )
            try:
                with pytest.raises(WalletTimeoutError, match="did not answer in time"):
                    await resolver.resolve(origin + "/alice")
            finally:
                await resolver.close()
                never.set()

    run(main)


def test_a_refused_grant_is_named_and_nothing_is_paid(tmp_path: Path) -> None:
    @web.middleware
    async def refuse_grants(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "POST" and request.path.startswith("/auth/"):
            return web.json_response(
                {"error": {"code": "invalid_request", "description": "no grants today"}},
                status=400,
            )
        return await handler(request)

    async def main() -> None:
        async with world(tmp_path, middlewares=(refuse_grants,)) as w:
            error = await failure_of(w, w.sandbox.wallet("alice"))
            assert isinstance(error, GrantDeniedError)
            assert "refused to let Trickle pay it" in str(error)

    run(main)


def test_a_session_whose_wallet_refuses_the_next_incoming_payment_stops_with_the_reason(
    tmp_path: Path,
) -> None:
    clock = Clock()
    release = asyncio.Event()
    refuse = {"grants": False}

    async def sleep(seconds: float) -> None:
        await release.wait()

    @web.middleware
    async def refusing(request: web.Request, handler: Handler) -> web.StreamResponse:
        if refuse["grants"] and request.method == "POST" and request.path.startswith("/auth/"):
            return web.json_response(
                {"error": {"code": "invalid_request", "description": "closed for the night"}},
                status=400,
            )
        return await handler(request)

    async def main() -> None:
        async with world(tmp_path, clock=clock, sleep=sleep, middlewares=(refusing,)) as w:
            paying = w.pay(SITE, w.sandbox.wallet("alice"), Seen())
            seen = paying.seen
            await seen.until(lambda: len(seen.payments) >= 2)
            refuse["grants"] = True
            clock.now += dt.timedelta(minutes=9)
            release.set()  # time to renew: the wallet refuses
            await paying.stopped()
            (reason,) = seen.stops
            assert isinstance(reason, GrantDeniedError)
            assert "refused to let Trickle pay it" in str(reason)
            (target,) = seen.loads
            own, ledger = w.received(target)
            assert own == ledger == seen.sent == w.history()[1]  # nothing lost on the way out

    run(main)
