"""Uplinks against a real ilp-connector on loopback, over ILP-over-HTTP and BTP (issue 3)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest

from tests.interop.conftest import MAX_PACKET, TOKENS, Network, account_name, make_uplink, run
from wallet.ilp import AmountTooLarge, Fulfill, Prepare, Reject
from wallet.net.btp_uplink import BtpUplink
from wallet.net.config import UplinkSettings, open_uplink
from wallet.net.errors import UplinkAuthError
from wallet.net.http_uplink import HttpUplink
from wallet.net.ildcp import fetch_account_config
from wallet.net.link import IncomingHandler
from wallet.secrets import MemorySecretStore, Secret

pytestmark = pytest.mark.interop
TRANSPORTS = ["http", "btp"]
ZERO = bytes(32)
ZERO_CONDITION = hashlib.sha256(ZERO).digest()


def prepare_to(
    destination: str,
    amount: int = 1,
    *,
    seconds: float = 30,
    preimage: bytes = ZERO,
    data: bytes = b"",
) -> Prepare:
    return Prepare(
        amount,
        datetime.now(UTC) + timedelta(seconds=seconds),
        hashlib.sha256(preimage).digest(),
        destination,
        data,
    )


@asynccontextmanager
async def connected(
    net: Network, transport: str, role: str = "wallet", handler: IncomingHandler | None = None
) -> AsyncIterator[HttpUplink | BtpUplink]:
    uplink = make_uplink(net, transport, role)
    uplink.set_incoming_handler(handler)
    await uplink.connect()
    try:
        yield uplink
    finally:
        await uplink.close()


def preimage_handler(received: list[Prepare] | None = None) -> IncomingHandler:
    """Fulfills Prepares whose data is the preimage of their condition."""

    async def handle(prepare: Prepare) -> Fulfill | Reject:
        if received is not None:
            received.append(prepare)
        if prepare.is_fulfilled_by(prepare.data[:32]):
            return Fulfill(prepare.data[:32], b"thanks")
        return Reject("F99", "test.harness.receiver", "not for me")

    return handle


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_ildcp_returns_configured_account(network: Network, transport: str) -> None:
    async def main() -> None:
        async with connected(network, transport) as uplink:
            config = await fetch_account_config(uplink)
        assert config.client_address == f"test.harness.{account_name(transport, 'wallet')}"
        assert (config.asset_code, config.asset_scale) == ("USD", 9)

    run(main())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_unknown_address_is_f02(network: Network, transport: str) -> None:
    async def main() -> None:
        async with connected(network, transport) as uplink:
            reply = await uplink.send(prepare_to("test.nowhere.x"))
        assert isinstance(reply, Reject)
        assert reply.code == "F02"
        assert reply.triggered_by == "test.harness"

    run(main())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_over_max_packet_amount_is_f08_with_data(network: Network, transport: str) -> None:
    async def main() -> None:
        async with connected(network, transport) as uplink:
            reply = await uplink.send(prepare_to("test.harness.sink", MAX_PACKET + 1))
            ok = await uplink.send(prepare_to("test.harness.sink", MAX_PACKET))
        assert isinstance(reply, Reject)
        assert reply.code == "F08"
        too_large = AmountTooLarge.from_bytes(reply.data)
        assert (too_large.received_amount, too_large.maximum_amount) == (MAX_PACKET + 1, MAX_PACKET)
        assert isinstance(ok, Fulfill)

    run(main())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_routed_to_second_account_we_serve_is_fulfilled(network: Network, transport: str) -> None:
    async def main() -> None:
        received: list[Prepare] = []
        async with (
            connected(network, transport, "receiver", preimage_handler(received)) as receiver,
            connected(network, transport) as wallet,
        ):
            if isinstance(receiver, BtpUplink):
                await receiver.wait_connected(10)
            receiver_address = (await fetch_account_config(receiver)).client_address
            preimage = os.urandom(32)
            prepare = prepare_to(
                f"{receiver_address}.alice", 12345, preimage=preimage, data=preimage
            )
            reply = await wallet.send(prepare)
        assert isinstance(reply, Fulfill), reply
        assert reply.fulfillment == preimage
        assert reply.data == b"thanks"
        assert [p.amount for p in received] == [12345]
        assert received[0].destination == f"{receiver_address}.alice"
        # The connector forwards with at most its own expiry (now + 30 s, minus 1 s per hop).
        assert received[0].expires_at < prepare.expires_at

    run(main())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_packet_from_connector_reaches_our_handler(network: Network, transport: str) -> None:
    """The connector sends to the wallet; the handler's reply (here a Reject) comes back whole."""

    async def main() -> None:
        seen: list[Prepare] = []

        async def handler(prepare: Prepare) -> Fulfill | Reject:
            seen.append(prepare)
            return Reject("F99", "test.harness.wallet", "custom reply", b"\x01\x02\x03")

        other = "http" if transport == "btp" else "btp"
        async with (
            connected(network, transport, "wallet", handler),
            connected(network, other) as sender,
        ):
            destination = f"test.harness.{account_name(transport, 'wallet')}.page"
            reply = await sender.send(prepare_to(destination, 7, data=b"hello"))
        assert reply == Reject("F99", "test.harness.wallet", "custom reply", b"\x01\x02\x03")
        assert [(p.amount, p.data) for p in seen] == [(7, b"hello")]

    run(main())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_hundred_concurrent_prepares_resolve_correctly(network: Network, transport: str) -> None:
    async def main() -> None:
        rng = random.Random(7)

        async def slow_handler(prepare: Prepare) -> Fulfill | Reject:
            # Answer in a shuffled order, so replies overtake each other on the wire.
            await asyncio.sleep(rng.random() * 0.05)
            return Fulfill(prepare.data[:32])

        async with (
            connected(network, transport, "receiver", slow_handler) as receiver,
            connected(network, transport) as wallet,
        ):
            address = (await fetch_account_config(receiver)).client_address
            preimages = [os.urandom(32) for _ in range(100)]
            finished: list[int] = []

            async def one(i: int) -> Fulfill | Reject:
                p = preimages[i]
                reply = await wallet.send(prepare_to(f"{address}.x", i + 1, preimage=p, data=p))
                finished.append(i)
                return reply

            replies = await asyncio.gather(*(one(i) for i in range(100)))
        for preimage, reply in zip(preimages, replies, strict=True):
            assert isinstance(reply, Fulfill), reply
            assert reply.fulfillment == preimage
        assert finished != sorted(finished), "replies should have come back out of order"

    run(main())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_wrong_token_is_named_auth_error_without_retry(network: Network, transport: str) -> None:
    async def main() -> None:
        uplink = make_uplink(network, transport, token="not-the-token")
        try:
            if isinstance(uplink, BtpUplink):
                with pytest.raises(UplinkAuthError) as first:
                    await uplink.connect()
                # In the background, too, an auth refusal ends the attempts at once.
                background = make_uplink(network, transport, token="not-the-token")
                assert isinstance(background, BtpUplink)
                background.start()
                with pytest.raises(UplinkAuthError):
                    await background.wait_connected(10)
                assert background.reconnect_attempts == 0
                with pytest.raises(UplinkAuthError):
                    await background.send(prepare_to("test.harness.sink"))
                await background.close()
            else:
                await uplink.connect()
                with pytest.raises(UplinkAuthError) as first:
                    await uplink.send(prepare_to("test.harness.sink"))
                # The next send does not go out again: the same refusal is raised.
                with pytest.raises(UplinkAuthError) as second:
                    await uplink.send(prepare_to("test.harness.sink"))
                assert second.value is first.value
        finally:
            await uplink.close()
        message = str(first.value)
        assert "not-the-token" not in message and "not-the-token" not in repr(first.value)
        assert "token" in message.lower()

    run(main())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_connector_killed_mid_stream_then_back(fresh_network: Network, transport: str) -> None:
    net = fresh_network

    async def main() -> None:
        arrived = asyncio.Event()
        count = 0

        async def hold(prepare: Prepare) -> Fulfill | Reject:
            nonlocal count
            count += 1
            if count == 5:
                arrived.set()
            await asyncio.sleep(60)  # never answers in time
            return Fulfill(ZERO)

        async with (
            connected(net, transport, "receiver", hold) as receiver,
            connected(net, transport) as wallet,
        ):
            address = (await fetch_account_config(receiver)).client_address
            expiry = 20.0
            # Distinct packets: ilp-connector's deduplicate middleware merges identical ones.
            sends = [
                asyncio.create_task(wallet.send(prepare_to(f"{address}.x", i + 1, seconds=expiry)))
                for i in range(5)
            ]
            await asyncio.wait_for(arrived.wait(), 10)
            started = asyncio.get_running_loop().time()
            await asyncio.to_thread(net.connector.kill)
            replies = await asyncio.gather(*sends)
            elapsed = asyncio.get_running_loop().time() - started
            assert all(isinstance(r, Reject) and r.code.startswith("T") for r in replies), replies
            assert elapsed < expiry / 2

            await asyncio.to_thread(net.connector.restart)
            if isinstance(wallet, BtpUplink):
                await wallet.wait_connected(15)
                assert wallet.connections == 2
            reply = await wallet.send(prepare_to("test.harness.sink"))
            assert isinstance(reply, Fulfill), reply

    run(main(), timeout=90)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_open_uplink_from_settings_and_secret_store(network: Network, transport: str) -> None:
    name = account_name(transport, "wallet")
    store = MemorySecretStore({"uplink-token:interop": Secret(TOKENS[name])})
    port = network.wallet_port if transport == "http" else None
    settings = UplinkSettings.from_url(
        network.connector.url(name), profile_id="interop", listen_port=port
    )

    async def main() -> None:
        uplink, account = await open_uplink(settings, store)
        try:
            assert uplink.own_address == account.client_address == f"test.harness.{name}"
            reply = await uplink.send(prepare_to("test.nowhere.x"))
            assert isinstance(reply, Reject) and reply.code == "F02"
        finally:
            await uplink.close()

    run(main())


def _listening(port: int) -> list[str]:
    """Local addresses (hex, as in /proc/net/tcp*) listening on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                address, hex_port = fields[1].split(":")
                if fields[3] == "0A" and int(hex_port, 16) == port:
                    found.append(address)
    return found


def test_connector_listens_on_loopback_only(network: Network) -> None:
    for name in ("wallet", "walletbtp", "receiver", "receiverbtp"):
        addresses = _listening(network.connector.account(name)["port"])
        assert addresses == ["0100007F"], (name, addresses)  # 127.0.0.1, nothing else
