"""The built-in provider on the sandbox, gated by the real wallet service (SQLite ledger):
the demo site receives exactly what the ledger committed, the balance moves by exactly that,
and a per-site cap stops payment at the cap."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from wallet.budgets import Asset, SitePolicy
from wallet.ledger import Refusal, Reservation
from wallet.net.router import Router
from wallet.net.spsp import query
from wallet.net.stream_client import connect
from wallet.provider import BUILTIN_HANDLER_URI
from wallet.reports import HistoryReader
from wallet.runtime import SANDBOX_NETWORK, SANDBOX_START_BALANCE, GroupCommits, start_sandbox
from wallet.service import WalletService
from wallet.store import open_store
from wallet.store.engine import database_path
from wallet.stream import ConnectionConfig, Outcome


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class ServiceGate:
    """A wallet.stream.BudgetGate straight over the service (as wallet.payments.PacketGate,
    without pacing)."""

    def __init__(self, service: WalletService, site: str, asset: Asset, account_id: int) -> None:
        self.service, self.site, self.asset, self.account_id = service, site, asset, account_id
        self.reservations: dict[int, Reservation] = {}
        self.refusals: list[Refusal] = []

    def reserve(self, packet_id: int, amount: int) -> int:
        got = self.service.reserve(
            self.site,
            BUILTIN_HANDLER_URI,
            self.asset,
            amount,
            min_amount=1,
            account_id=self.account_id,
        )
        if isinstance(got, Refusal):
            self.refusals.append(got)
            return 0
        self.reservations[packet_id] = got
        return got.amount

    def settle(self, packet_id: int, amount: int, outcome: Outcome, delivered: int = 0) -> None:
        res = self.reservations.pop(packet_id)
        if outcome is Outcome.FULFILLED:
            self.service.commit(res, delivered=delivered)
        else:
            self.service.release(res)


def test_provider_pays_demo_site_within_cap_and_balance(tmp_path: Path) -> None:
    clock = Clock()
    service = WalletService.open(tmp_path, tz=ZoneInfo("Europe/Berlin"), clock=clock)

    async def main() -> None:
        runtime = await start_sandbox(service)
        provider = runtime.provider
        assert runtime.demo is not None
        site = runtime.demo.url("blog").rstrip("/")
        cap = 2_000_000
        service.set_site_policy(SitePolicy(site, rate_per_hour=3_600_000_000, cap_total=cap))
        service.set_site_active(site, True)
        clock.now += timedelta(seconds=10)  # 10 s of visible time at 1e6/s accrues 1e7 > cap

        link = provider.link()
        answer = await query(runtime.demo.url("blog") + ".well-known/pay")
        account = service.account(SANDBOX_NETWORK)
        assert account is not None and account.balance == SANDBOX_START_BALANCE
        from wallet.net.ildcp import fetch_account_config

        own = await fetch_account_config(link)
        assert own.client_address.startswith("test.sandbox.you.")  # under the account's own
        gate = ServiceGate(service, site, Asset("USD", 9), account.id)
        conn = await connect(
            link,
            ConnectionConfig(
                shared_secret=answer.shared_secret,
                asset_code="USD",
                asset_scale=9,
                source_account=own.client_address,
                destination_account=answer.destination_account,
            ),
            router=Router(link, own_address=own.client_address),
            budget=gate,
        )
        stream = conn.create_stream()
        stream.set_send_max(10_000_000)
        async with asyncio.timeout(10):
            while not gate.refusals or conn.core.packets_in_flight:
                await asyncio.sleep(0.01)
        assert stream.total_sent == cap  # stopped exactly at the cap
        async with asyncio.timeout(5):
            while runtime.demo.sites["blog"].received < cap:
                await asyncio.sleep(0.01)
        assert runtime.demo.sites["blog"].received == cap
        conn.destroy()
        await asyncio.wait_for(conn.closed, 5)
        # No packet will come to trigger the group commit: the app's background task does it
        # once the period has passed, so history is current without waiting for one.
        # (Read as another process would: the service itself writes pending payments first.)
        outside = HistoryReader(open_store(database_path(tmp_path), migrate=False))
        commits = GroupCommits(service, asyncio.get_running_loop(), grace=0.01)
        commits.poke()
        await asyncio.sleep(0.05)
        assert outside.count() == 0  # the period (5 s of the injected clock) is not over
        clock.now += timedelta(seconds=5)
        commits.poke()  # (the loop's clock did not move with the injected one: re-arm)
        async with asyncio.timeout(5):
            while outside.count() == 0:
                await asyncio.sleep(0.01)
        commits.close()
        outside.engine.dispose()
        totals = {t.site: t for t in service.site_totals()}
        assert totals[site].sent == cap
        service.close()  # settles leases: unused reservations return to the balance
        reopened = WalletService.open(tmp_path, tz=ZoneInfo("Europe/Berlin"), clock=clock)
        after = reopened.account(SANDBOX_NETWORK)
        assert after is not None and after.balance == SANDBOX_START_BALANCE - cap
        reopened.close()
        await runtime.close()

    asyncio.run(main())


def test_demo_sites_keep_their_origins_across_restarts(tmp_path: Path) -> None:
    """Their settings and history no longer split on every restart (issue 20, item 8)."""
    service = WalletService.open(tmp_path, tz=ZoneInfo("Europe/Berlin"))

    async def urls() -> dict[str, str]:
        runtime = await start_sandbox(service)
        try:
            assert runtime.demo is not None
            return {key: runtime.demo.url(key) for key in runtime.demo.sites}
        finally:
            await runtime.close()

    try:
        first = asyncio.run(urls())
        second = asyncio.run(urls())
        assert first == second and set(first) == {"blog", "echo"}
        # A port taken by something else meanwhile: that site moves, the others stay.
        blog_port = int(first["blog"].rsplit(":", 1)[1].rstrip("/"))
        with socket.socket() as squatter:
            squatter.bind(("127.0.0.1", blog_port))
            squatter.listen()
            third = asyncio.run(urls())
        assert third["echo"] == first["echo"] and third["blog"] != first["blog"]
    finally:
        service.close()
