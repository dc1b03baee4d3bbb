"""STREAM against ilp-protocol-stream, through ilp-connector, over ILP-over-HTTP and BTP.

(a) our client pays an ilp-protocol-stream server 1e9 units in >= 100 packets (the connector's
    maxPacketAmount forces it); the server's own count matches; echoed data comes back;
    receipts verify.
(b) an ilp-protocol-stream client pays our server: money and data arrive, totals match.
(c) cross-currency USD/9 -> EUR/6: the probe finds the rate, deliveries match it, and a
    minimum rate above it fails the payment with a clear error.
(d) keep-alive: a paused client's pings hold an ilp-protocol-stream connection open past the
    server's idle timeout; without them the server closes it.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import pytest

from tests.interop.conftest import run
from tests.interop.harness import Connector, free_port, node_script
from wallet.net.btp_uplink import BtpUplink
from wallet.net.http_uplink import HttpUplink
from wallet.net.ildcp import fetch_account_config
from wallet.net.router import Router
from wallet.net.stream_api import IlpConnection, IlpStream
from wallet.net.stream_client import connect
from wallet.net.stream_server import StreamServer
from wallet.secrets import Secret
from wallet.stream import ConnectionConfig, ExchangeRateError, verify_receipt

pytestmark = pytest.mark.interop

MAX_PACKET = 10_000_000
FX_RATES = {"USD": 1, "EUR": 1 / 0.792}  # WIRE-NOTES §5: USD/9 -> EUR/6 at 0.000792


class Net:
    def __init__(self, connector: Connector, ports: dict[str, int]) -> None:
        self.connector = connector
        self.ports = ports

    def uplink(self, transport: str, account: str) -> HttpUplink | BtpUplink:
        name = account if transport == "http" else account + "btp"
        token = Secret(f"{name}-token")
        if transport == "http":
            return HttpUplink(self.connector.url(name), token, listen_port=self.ports[name])
        return BtpUplink(self.connector.url(name), token, backoff_cap=0.5)

    def btp_url(self, name: str) -> str:
        return f"btp+ws://:{name}-token@127.0.0.1:{self.connector.account(name)['port']}"


def _config(
    rates: dict[str, float] | None = None, receiver_asset: tuple[str, int] = ("USD", 9)
) -> tuple[dict[str, Any], dict[str, int]]:
    ports = {n: free_port() for n in ("wallet", "ours", "jsrecv")}
    code, scale = receiver_asset
    accounts: dict[str, Any] = {}
    for name in ("wallet", "ours"):
        accounts[name] = {
            "transport": "http",
            "token": f"{name}-token",
            "outgoingUrl": f"http://127.0.0.1:{ports[name]}/ilp",
            "maxPacketAmount": MAX_PACKET,
        }
        accounts[name + "btp"] = {
            "transport": "btp",
            "token": f"{name}btp-token",
            "maxPacketAmount": MAX_PACKET,
        }
    accounts["jsrecv"] = {
        "transport": "http",
        "token": "jsrecv-token",
        "outgoingUrl": f"http://127.0.0.1:{ports['jsrecv']}/",
        "assetCode": code,
        "assetScale": scale,
    }
    accounts["jssend"] = {
        "transport": "btp",
        "token": "jssend-token",
        "maxPacketAmount": MAX_PACKET,
    }
    config: dict[str, Any] = {"address": "test.harness", "accounts": accounts}
    if rates:
        config["rates"] = rates
    return config, ports


@pytest.fixture(scope="module")
def net() -> Iterator[Net]:
    config, ports = _config()
    with Connector.start(config) as connector:
        yield Net(connector, ports)


@pytest.fixture(scope="module")
def fx_net() -> Iterator[Net]:
    config, ports = _config(FX_RATES, ("EUR", 6))
    with Connector.start(config) as connector:
        yield Net(connector, ports)


def _js_receiver(net: Net, *extra: str) -> Any:
    args = ["--uplink", net.connector.url("jsrecv"), "--token", "jsrecv-token"]
    args += ["--incoming-port", str(net.ports["jsrecv"]), "--quiet", *extra]
    return node_script("stream_receiver.js", *args)


async def _client(
    net: Net, transport: str, destination: str, secret: bytes, **config: Any
) -> tuple[IlpConnection, HttpUplink | BtpUplink]:
    uplink = net.uplink(transport, "wallet")
    await uplink.connect()
    account = await fetch_account_config(uplink)
    router = Router(uplink, own_address=account.client_address)
    conn = await connect(
        uplink,
        ConnectionConfig(
            shared_secret=secret,
            asset_code=account.asset_code,
            asset_scale=account.asset_scale,
            source_account=account.client_address,
            destination_account=destination,
            **config,
        ),
        router=router,
    )
    return conn, uplink


@pytest.mark.parametrize("transport", ["http", "btp"])
def test_we_pay_an_ilp_protocol_stream_server(net: Net, transport: str) -> None:
    with _js_receiver(net, "--echo", "--receipts") as receiver:
        creds = receiver.ready
        secret = base64.b64decode(creds["sharedSecret"])

        async def main() -> tuple[int, int, bytes, bytes | None, int]:
            conn, uplink = await _client(net, transport, creds["destinationAccount"], secret)
            try:
                stream = conn.create_stream()
                echoed: list[bytes] = []
                stream.on("data", echoed.append)
                stream.send(b"trickle says hi")
                await stream.send_total(1_000_000_000)
                async with asyncio.timeout(20):
                    while b"".join(echoed) != b"trickle says hi":
                        await asyncio.sleep(0.01)
                packets = conn.core.packets_fulfilled
                conn.close()
                await asyncio.wait_for(conn.closed, 10)
                return (
                    conn.total_sent,
                    conn.total_delivered,
                    b"".join(echoed),
                    stream.receipt,
                    packets,
                )
            finally:
                await uplink.close()

        sent, delivered, echoed, receipt, packets = run(main())
        assert sent == 1_000_000_000
        assert delivered == 1_000_000_000
        assert packets >= 100
        assert echoed == b"trickle says hi"
        receiver.command("totals")
        assert receiver.wait_for("totals")["total"] == "1000000000"
        assert receipt is not None
        verified = verify_receipt(receipt, base64.b64decode(creds["receiptSecret"]))
        assert verified.total_received == 1_000_000_000
        assert verified.nonce == base64.b64decode(creds["receiptNonce"])


@pytest.mark.parametrize("keepalive", [0.25, None])
def test_keepalive_holds_a_paused_connection_open(net: Net, keepalive: float | None) -> None:
    # The JS server's idle timer runs on its own clock, so this test waits in real time: the
    # server closes idle connections after 1 s; we stay paused for 3 s.
    with _js_receiver(net, "--idle-timeout", "1000") as receiver:
        creds = receiver.ready
        secret = base64.b64decode(creds["sharedSecret"])

        async def main() -> int:
            conn, uplink = await _client(
                net, "btp", creds["destinationAccount"], secret, keepalive=keepalive
            )
            try:
                stream = conn.create_stream()
                await stream.send_total(1000)
                await asyncio.sleep(3.0)  # paused (e.g. the tab is hidden)
                if keepalive is None:
                    return conn.total_sent
                await stream.send_total(2000)
                total = conn.total_sent
                conn.close()
                await asyncio.wait_for(conn.closed, 10)
                return total
            finally:
                await uplink.close()

        sent = run(main())
        closes = [line for line in receiver.seen if line.get("event") == "connection_close"]
        if keepalive is None:
            # Control: without pings the server gave up on us.
            assert sent == 1000
            if not closes:
                closes.append(receiver.wait_for("connection_close", timeout=5))
            assert closes[0]["totalReceived"] == "1000"
            return
        assert sent == 2000
        if not closes:
            closes.append(receiver.wait_for("connection_close", timeout=10))
        # One close, our graceful one at the end, after all the money.
        assert [c["totalReceived"] for c in closes] == ["2000"]


@pytest.mark.parametrize("transport", ["http", "btp"])
def test_ilp_protocol_stream_client_pays_our_server(net: Net, transport: str) -> None:
    async def main() -> None:
        uplink = net.uplink(transport, "ours")
        await uplink.connect()
        account = await fetch_account_config(uplink)
        accepted: list[IlpConnection] = []
        data: list[bytes] = []

        def on_connection(conn: IlpConnection) -> None:
            accepted.append(conn)

            def on_stream(stream: IlpStream) -> None:
                def echo(chunk: bytes) -> None:
                    data.append(chunk)
                    stream.send(chunk)

                stream.on("data", echo)

            conn.on("stream", on_stream)

        server = StreamServer(
            uplink,
            base_address=account.client_address,
            asset_code=account.asset_code,
            asset_scale=account.asset_scale,
            on_connection=on_connection,
        )
        issued = server.credentials()
        args = ["--uplink", net.btp_url("jssend"), "--destination", issued.destination_account]
        args += ["--shared-secret", base64.b64encode(issued.shared_secret).decode()]
        args += ["--amount", "250000000", "--data", "paid by javascript", "--expect-data", "18"]
        try:
            done = await asyncio.to_thread(_run_sender, args)
            assert done["totalSent"] == "250000000"
            assert done["totalDelivered"] == "250000000"
            assert done["dataReceived"] == 18  # our echo arrived at the JS client
            assert b"".join(data) == b"paid by javascript"
            assert sum(conn.total_received for conn in accepted) == 250_000_000
        finally:
            await server.aclose()
            await uplink.close()

    run(main())


def _run_sender(args: list[str]) -> dict[str, Any]:
    with node_script("stream_sender.js", *args, ready="connected") as sender:
        return sender.wait_for("done", timeout=60)


@pytest.mark.parametrize("transport", ["http", "btp"])
def test_cross_currency_probe_and_slippage(fx_net: Net, transport: str) -> None:
    with _js_receiver(fx_net) as receiver:
        creds = receiver.ready
        secret = base64.b64decode(creds["sharedSecret"])

        async def pay() -> tuple[Fraction | None, int, int, str | None, int | None]:
            conn, uplink = await _client(fx_net, transport, creds["destinationAccount"], secret)
            try:
                stream = conn.create_stream()
                await stream.send_total(1_000_000_000)
                conn.close()
                await asyncio.wait_for(conn.closed, 10)
                return (
                    conn.core.exchange_rate,
                    conn.total_sent,
                    conn.total_delivered,
                    conn.destination_asset_code,
                    conn.destination_asset_scale,
                )
            finally:
                await uplink.close()

        rate, sent, delivered, code, scale = run(pay())
        assert (code, scale) == ("EUR", 6)
        assert rate is not None and abs(float(rate) - 0.000792) < 0.000792 * 0.001
        assert sent == 1_000_000_000
        assert delivered == 792_000  # every 1e7 packet delivers floor(1e7 * 0.000792) = 7920
        receiver.command("totals")
        assert receiver.wait_for("totals")["total"] == "792000"

        async def demand_too_much() -> None:
            conn, uplink = await _client(
                fx_net,
                transport,
                creds["destinationAccount"],
                secret,
                minimum_exchange_rate=Fraction(1, 1000),  # 0.001 > 0.000792
            )
            await uplink.close()
            raise AssertionError(f"connected at {conn.core.exchange_rate}")

        with pytest.raises(ExchangeRateError):
            run(demand_too_much())


def _trickle(*args: str, **kwargs: Any) -> Any:
    import subprocess
    import sys

    return subprocess.Popen(
        [sys.executable, "-m", "ui.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def test_trickle_pay_command(net: Net) -> None:
    import json

    with _js_receiver(net, "--receipts") as receiver:
        creds = receiver.ready
        uplink = f"btp+ws://127.0.0.1:{net.connector.account('walletbtp')['port']}/"
        proc = _trickle(
            "pay",
            "-",
            "--json",
            "--amount",
            "300000000",
            "--destination",
            creds["destinationAccount"],
            "--shared-secret",
            creds["sharedSecret"],
            "--uplink",
            uplink,
            env={**__import__("os").environ, "TRICKLE_UPLINK_TOKEN": "walletbtp-token"},
        )
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        result = json.loads(out)
        assert result["amountSent"] == result["amountDelivered"] == "300000000"
        assert result["packets"] >= 30
        verify_receipt(
            base64.b64decode(result["receipt"]), base64.b64decode(creds["receiptSecret"])
        )
        receiver.command("totals")
        assert receiver.wait_for("totals")["total"] == "300000000"
        assert "walletbtp-token" not in out + err

    bad = _trickle(
        "pay",
        "-",
        "--amount",
        "1",
        "--destination",
        "test.x",
        "--shared-secret",
        "AAAA",
        "--uplink",
        uplink,
    )
    out, err = bad.communicate(timeout=30)
    assert bad.returncode != 0 and "32 bytes" in err and "Traceback" not in err


def test_trickle_receive_command(net: Net) -> None:
    import json

    spsp_port = free_port()
    proc = _trickle(
        "receive",
        "--json",
        "--uplink",
        f"http://127.0.0.1:{net.connector.account('ours')['port']}/",
        "--listen-port",
        str(net.ports["ours"]),
        "--spsp-port",
        str(spsp_port),
        env={**__import__("os").environ, "TRICKLE_UPLINK_TOKEN": "ours-token"},
    )
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        assert ready["event"] == "ready" and ready["address"] == "test.harness.ours"
        answer = run(__import__("wallet.net.spsp", fromlist=["query"]).query(ready["spsp"]))
        args = ["--uplink", net.btp_url("jssend"), "--destination", answer.destination_account]
        args += ["--shared-secret", base64.b64encode(answer.shared_secret).decode()]
        args += ["--amount", "70000000", "--data", "hi"]
        done = _run_sender(args)
        assert done["totalDelivered"] == "70000000"
        events: list[dict[str, Any]] = []
        while not events or events[-1]["event"] != "close":
            events.append(json.loads(proc.stdout.readline()))
        money = [e for e in events if e["event"] == "money"]
        assert money[-1]["total"] == "70000000"
        assert sum(int(e["amount"]) for e in money) == 70_000_000
        assert [base64.b64decode(e["data"]) for e in events if e["event"] == "data"] == [b"hi"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
