"""Who a link pays, and a receiver that cannot be reached: against the sandbox's Open Payments
server (TLS, OpenAPI-checked) and a real wallet service on a SQLite file.

* history rows (and the payee table behind them) name the wallet address, its ``publicName``
  and asset, and the incoming payment;
* a receiver the user's ILP path has no route to (F02) is backed off — 30 s, 1, 2, 4, 8
  minutes — the listener is told in words each time, and after six failures the session stops
  trying; a new document for the same receiver continues the back-off instead of starting over.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path

from tests.unit.payments.test_links import SITE, Seen, run, world
from wallet.budgets import Asset, SitePolicy
from wallet.payments import ReceiverUnreachableError
from wallet.payments.backoff import LONGEST_WAIT
from wallet.reports import HistoryFilter
from wallet.sandbox.network import SandboxNetwork
from wallet.store.payees import PayeeKind


def test_history_rows_carry_the_wallet_address_its_name_asset_and_incoming_payment(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        async with world(tmp_path) as w:
            href = w.sandbox.wallet("alice")
            paying = w.pay(SITE, href, Seen())
            await paying.seen.until(lambda: len(paying.seen.payments) >= 3)
            paying.session.stop()
            await paying.stopped()
            (target,) = paying.seen.loads
            w.service.flush()
            rows = w.service.history_reader().page(0, 50, flt=HistoryFilter(site=SITE))
            assert rows and all(row.payee is not None for row in rows)
            payee = rows[0].payee
            assert payee is not None
            assert payee.kind is PayeeKind.STREAM
            assert payee.public_name == "Alice's sandbox wallet"
            assert payee.wallet_address == href and payee.href == href
            assert payee.asset == Asset("USD", 9)
            assert payee.incoming_payment == target.incoming_payment
            assert payee.describe() == f"Alice's sandbox wallet ({href.removeprefix('https://')})"
            latest = w.service.latest_payee(SITE)
            assert latest is not None and latest.incoming_payment == target.incoming_payment
            (total,) = w.service.payee_totals(site=SITE)
            assert total.delivered == paying.seen.sent == w.history()[1]
            assert total.source_asset == Asset("USD", 9)

    run(main)


def test_an_unreachable_receiver_is_backed_off_reported_in_words_and_given_up(
    tmp_path: Path,
) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # the injected clock: no real waiting
        waits.append(seconds)
        await asyncio.sleep(0)

    async def main() -> None:
        async with world(tmp_path, sleep=sleep) as w:
            href = w.sandbox.wallet("alice")
            nowhere = SandboxNetwork().account("lost")  # a path with no route to the receiver
            handle = w.payments.document(SITE, attending=True)
            seen = Seen()
            session = w.payments.pay_link(handle, href, nowhere, seen, provider="trickle:builtin")
            await asyncio.wait_for(asyncio.shield(session.task), 20)
            assert waits == [30.0, 60.0, 120.0, 240.0, 480.0]
            who = f"Alice's sandbox wallet's wallet ({href.removeprefix('https://')})"
            assert seen.waiting == [
                f"{who} cannot be reached; trying again in 30 seconds.",
                f"{who} cannot be reached; trying again in 1 minute.",
                f"{who} cannot be reached; trying again in 2 minutes.",
                f"{who} cannot be reached; trying again in 4 minutes.",
                f"{who} cannot be reached; trying again in 8 minutes.",
            ]
            # The wallet address resolved, so the link loaded once; the session then stopped
            # trying, and says so; nothing was paid.
            assert len(seen.loads) == 1 and seen.errors == [] and seen.payments == []
            (reason,) = seen.stops
            assert isinstance(reason, ReceiverUnreachableError)
            assert str(reason) == (
                f"{who} cannot be reached; Trickle stopped trying after 6 attempts "
                "(reload the page to try again later)."
            )
            assert w.history() == (0, 0, 0)
            # A reload does not start over: it waits out the longest back-off first.
            waits.clear()
            again = Seen()
            reload = w.payments.pay_link(
                w.payments.document(SITE, attending=True),
                href,
                SandboxNetwork().account("lost"),
                again,
                provider="trickle:builtin",
            )
            await asyncio.wait_for(asyncio.shield(reload.task), 20)
            assert len(waits) == 1 and LONGEST_WAIT - 5 < waits[0] <= LONGEST_WAIT
            assert again.waiting[0] == f"{who} cannot be reached; trying again in 30 minutes."
            assert isinstance(again.stops[0], ReceiverUnreachableError)

    run(main)


def test_nothing_is_paid_on_page_load_before_pay_has_accrued(tmp_path: Path) -> None:
    """Three links on a page, connected, at a rate that accrues one unit in 100 s: nothing is
    paid, not one minimum per link (web-monetization-extension#976)."""

    async def main() -> None:
        async with world(tmp_path, policy=SitePolicy(SITE, rate_per_hour=36)) as w:
            handle = w.payments.document(SITE, attending=True)
            pages = [Seen() for _ in range(3)]
            sessions = [
                w.payments.pay_link(
                    handle,
                    w.sandbox.wallet(name),
                    w.sandbox.network.account(f"p{i}"),
                    seen,
                    provider="trickle:builtin",
                )
                for i, (name, seen) in enumerate(zip(("alice", "bob", "alice"), pages, strict=True))
            ]
            async with asyncio.timeout(20):
                while any(s.target is None for s in sessions):
                    await asyncio.sleep(0.02)
            await asyncio.sleep(0.5)  # 25 pace periods of 0.02 s, every link connected
            assert all(seen.payments == [] for seen in pages)
            assert w.history() == (0, 0, 0)
            handle.end()
            for session in sessions:
                await asyncio.wait_for(asyncio.shield(session.task), 10)

    run(main)


def test_a_pages_sessions_are_forgotten_when_they_end(tmp_path: Path) -> None:
    async def main() -> None:
        async with world(tmp_path) as w:
            paying = w.pay(SITE, w.sandbox.wallet("alice"), Seen())
            await paying.seen.until(lambda: len(paying.seen.payments) >= 1)
            assert w.payments.link_sessions(SITE) == [paying.session]
            paying.handle.end()
            await paying.stopped()
            assert w.payments.link_sessions(SITE, attended_only=False) == []
            assert len(w.payments._sessions) == 0  # nothing keeps the document alive

    run(main)


class Front:
    """A TCP front on a port of its own before the sandbox's https origin: down until
    :meth:`up` (connections refused: the wallet's server cannot be reached), then forwarding."""

    def __init__(self, origin: str) -> None:
        host_port = origin.removeprefix("https://")
        self.host, port = host_port.split(":")
        self.target_port = int(port)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()  # free again: nothing listens there until up()
        self.server: asyncio.Server | None = None

    async def up(self) -> None:
        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            writer.close()

        async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.target_port)
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

        self.server = await asyncio.start_server(forward, "127.0.0.1", self.port)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()


def test_a_wallet_server_that_comes_back_is_paid_and_the_words_go(tmp_path: Path) -> None:
    async def main() -> None:
        fronts: list[Front] = []
        waits: list[float] = []

        async def sleep(seconds: float) -> None:  # the injected clock
            waits.append(seconds)
            if len(waits) == 1:
                await fronts[0].up()  # the back-off: the server comes back meanwhile
            else:
                await asyncio.Event().wait()  # the incoming payment's renewal: not in this test

        # (the OpenAPI check finds operations by the server's own port, not the front's)
        async with world(tmp_path, sleep=sleep, check_openapi=False) as w:
            front = Front(w.sandbox.server.origin)
            fronts.append(front)
            href = f"https://127.0.0.1:{front.port}/alice"  # the sandbox's alice, via the front
            try:
                paying = w.pay(SITE, href, Seen())
                seen = paying.seen
                await seen.until(lambda: len(seen.payments) >= 2)
                assert waits[0] == 30.0
                assert len(seen.errors) == 1  # the page got `error` when it could not load...
                assert len(seen.loads) == 1  # ...and `load` once the wallet answered
                assert seen.waiting == [
                    f"The wallet at 127.0.0.1:{front.port}/alice cannot be reached; "
                    "trying again in 30 seconds.",
                    None,  # paid again: the words are gone
                ]
                paying.session.stop()
                await paying.stopped()
            finally:
                await front.close()

    run(main)
