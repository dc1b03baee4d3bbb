"""The sandbox network and demo sites, paid by our own STREAM client (no browser)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import aiohttp

from wallet.ilp import ErrorCode, Fulfill, IldcpResponse, Prepare, Reject, ildcp_request
from wallet.net import spsp
from wallet.net.ildcp import fetch_account_config
from wallet.net.router import Router
from wallet.net.stream_client import connect
from wallet.sandbox import SandboxNetwork, start_demo_sites
from wallet.stream import ConnectionConfig


def test_ildcp_routing_and_ilp_rules() -> None:
    async def main() -> None:
        net = SandboxNetwork()
        alice = net.account("alice", max_packet_amount=1000)
        bob = net.account("bob")
        soon = datetime.now(UTC) + timedelta(seconds=10)
        reply = await alice.send(ildcp_request(soon))
        assert isinstance(reply, Fulfill)
        assert IldcpResponse.from_fulfill(reply) == IldcpResponse("test.sandbox.alice", 9, "USD")
        assert (await fetch_account_config(bob)).client_address == "test.sandbox.bob"

        async def bob_fulfills(prepare: Prepare) -> Fulfill | Reject:
            return Fulfill(b"\x07" * 32) if prepare.amount != 13 else Fulfill(bytes(32))

        bob.set_incoming_handler(bob_fulfills)
        import hashlib

        condition = hashlib.sha256(b"\x07" * 32).digest()
        ok = await alice.send(Prepare(10, soon, condition, "test.sandbox.bob.conn"))
        assert isinstance(ok, Fulfill)
        wrong = await alice.send(Prepare(13, soon, condition, "test.sandbox.bob"))
        assert isinstance(wrong, Reject) and wrong.code == ErrorCode.F05_WRONG_CONDITION
        big = await alice.send(Prepare(5000, soon, condition, "test.sandbox.bob"))
        assert isinstance(big, Reject) and big.code == ErrorCode.F08_AMOUNT_TOO_LARGE
        for destination in ("test.sandbox.carol", "test.sandbox.alice.x", "g.elsewhere"):
            lost = await alice.send(Prepare(1, soon, condition, destination))
            assert isinstance(lost, Reject) and lost.code == ErrorCode.F02_UNREACHABLE
        late = await alice.send(
            Prepare(
                1, datetime.now(UTC) + timedelta(milliseconds=500), condition, "test.sandbox.bob"
            )
        )
        assert isinstance(late, Reject) and late.code == ErrorCode.R02_INSUFFICIENT_TIMEOUT

    asyncio.run(main())


def test_demo_sites_receive_and_show_it_live() -> None:
    async def main() -> None:
        net = SandboxNetwork()
        sites = await start_demo_sites(net)
        # A funded wallet the user can connect as their own Open Payments wallet.
        assert sites.open_payments is not None and sites.user_wallet is not None
        assert sites.user_wallet == sites.open_payments.wallet_url("you")
        assert sites.open_payments.balance("you") == 100 * 10**9
        you = net.account("you")
        account = await fetch_account_config(you)
        router = Router(you, own_address=account.client_address)
        try:
            async with aiohttp.ClientSession() as http:
                page = await (await http.get(sites.url("blog"))).text()
                assert "window.WebMonetization" not in page  # the page uses /static/demo.js
                assert "/static/demo.js" in page
                js = await http.get(sites.url("blog") + "static/demo.js")
                assert js.status == 200 and "monetize" in await js.text()
                events = await http.get(sites.url("echo") + "events")
                first = json.loads((await events.content.readline()).decode()[len("data: ") :])
                assert first["received"] == "0"
                await events.content.readline()

                answer = await spsp.query(sites.url("echo") + ".well-known/pay")
                conn = await connect(
                    you,
                    ConnectionConfig(
                        shared_secret=answer.shared_secret,
                        asset_code="USD",
                        asset_scale=9,
                        source_account=account.client_address,
                        destination_account=answer.destination_account,
                    ),
                    router=router,
                )
                stream = conn.create_stream()
                replies: list[bytes] = []
                stream.on("data", replies.append)
                stream.send(b"abc")
                await stream.send_total(123_456)
                async with asyncio.timeout(10):
                    while not replies:
                        await asyncio.sleep(0.01)
                assert replies[0].decode().startswith("echo #1: cba")
                async with asyncio.timeout(10):
                    while True:
                        line = (await events.content.readline()).decode()
                        if (
                            line.startswith("data: ")
                            and json.loads(line[6:])["received"] == "123456"
                        ):
                            break
                stats = await (await http.get(sites.url("echo") + "stats")).json()
                assert stats["received"] == "123456" and stats["messages"] == 1
                events.close()
                conn.close()
                await asyncio.wait_for(conn.closed, 5)
        finally:
            await sites.close()

    asyncio.run(main())
