"""``trickle pay`` and ``trickle receive`` against the real npm peers (issue 22).

Every test compares what Trickle prints with the peer's own count: the ilp-protocol-stream
receiver's ``totals``, @interledger/pay's ``amountSent``/``amountDelivered``.

* @interledger/pay (0.4.0-alpha.9, which announces an empty ConnectionNewAddress) pays
  ``trickle receive`` over BTP, ILP-over-HTTP and cross-currency;
* ``trickle pay --data`` shows the receiver's echo every time;
* each way a payment ends has its words and exit code (pay_outcome.py documents them);
* arguments are checked before connecting, and no library log line reaches stderr;
* ``--receipts`` prints the nonce and secret that verify the receipt;
* "delivered, unconfirmed": a Fulfill lost between connector and receiver.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.interop.harness import (
    FX_PROFILE_RATES,
    Connector,
    NodeProcess,
    free_port,
    node_script,
)
from wallet.ilp import Fulfill, Reject
from wallet.ilp.packet import parse_prepare, parse_reply
from wallet.stream import verify_receipt

pytestmark = pytest.mark.interop

MAX_PACKET = 10_000_000
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Net:
    def __init__(self, connector: Connector, ports: dict[str, int]) -> None:
        self.connector = connector
        self.ports = ports

    def btp(self, name: str) -> str:
        """A BTP uplink URL for account ``name`` (token ``<name>-token`` given separately)."""
        return f"btp+ws://127.0.0.1:{self.connector.account(name)['port']}/"

    def btp_with_token(self, name: str) -> str:
        return f"btp+ws://:{name}-token@127.0.0.1:{self.connector.account(name)['port']}"

    def uplink_args(self, transport: str, name: str) -> tuple[list[str], str]:
        """``trickle`` arguments for account ``name`` (``name`` + "btp" over BTP), and its token."""
        if transport == "btp":
            return ["--uplink", self.btp(name + "btp")], f"{name}btp-token"
        url = self.connector.url(name)
        return ["--uplink", url, "--listen-port", str(self.ports[name])], f"{name}-token"


def _accounts(receiver_asset: tuple[str, int]) -> tuple[dict[str, Any], dict[str, int]]:
    ports = {n: free_port() for n in ("wallet", "ours", "jsrecv", "payer", "lossy")}
    accounts: dict[str, Any] = {}
    code, scale = receiver_asset
    for name, asset in (("wallet", ("USD", 9)), ("ours", receiver_asset), ("payer", ("USD", 9))):
        accounts[name] = {
            "transport": "http",
            "token": f"{name}-token",
            "outgoingUrl": f"http://127.0.0.1:{ports[name]}/ilp",
            "maxPacketAmount": MAX_PACKET,
            "assetCode": asset[0],
            "assetScale": asset[1],
        }
        accounts[name + "btp"] = {
            "transport": "btp",
            "token": f"{name}btp-token",
            "maxPacketAmount": MAX_PACKET,
            "assetCode": asset[0],
            "assetScale": asset[1],
        }
    # The JS receiver; "lossy" reaches the same kind of receiver through a proxy that loses a
    # Fulfill (the test of "delivered, unconfirmed").
    for name in ("jsrecv", "lossy"):
        accounts[name] = {
            "transport": "http",
            "token": f"{name}-token",
            "outgoingUrl": f"http://127.0.0.1:{ports[name]}/",
            "assetCode": code,
            "assetScale": scale,
        }
    return accounts, ports


@pytest.fixture(scope="module")
def net() -> Iterator[Net]:
    accounts, ports = _accounts(("USD", 9))
    with Connector.start({"address": "test.harness", "accounts": accounts}) as connector:
        yield Net(connector, ports)


@pytest.fixture(scope="module")
def fx_net() -> Iterator[Net]:
    accounts, ports = _accounts(("EUR", 6))
    config = {"address": "test.harness", "accounts": accounts, "rates": FX_PROFILE_RATES}
    with Connector.start(config) as connector:
        yield Net(connector, ports)


# ---------------------------------------------------------------------------- helpers


def trickle(*args: str, token: str | None = None, timeout: float = 120) -> Any:
    env = {k: v for k, v in os.environ.items() if k != "TRICKLE_UPLINK_TOKEN"}
    if token is not None:
        env["TRICKLE_UPLINK_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=timeout,
        check=False,
    )


def pay_json(*args: str, token: str | None = None) -> tuple[int, dict[str, Any], str]:
    done = trickle("pay", "--json", *args, token=token)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout), done.stderr


def trickle_receive(net: Net, transport: str, *extra: str) -> NodeProcess:
    """``trickle receive --json`` as a harness process (its JSON lines, ``ready`` first)."""
    uplink, token = net.uplink_args(transport, "ours")
    proc = NodeProcess(
        "trickle-receive",
        ["receive", "--json", *uplink, "--spsp-port", str(free_port()), *extra],
        env={"TRICKLE_UPLINK_TOKEN": token},
        command=[sys.executable, "-m", "ui.cli"],
    )
    proc.ready = proc.wait_for("ready")
    return proc


def js_receiver(net: Net, *extra: str, account: str = "jsrecv", port: int | None = None) -> Any:
    args = ["--uplink", net.connector.url(account), "--token", f"{account}-token"]
    args += ["--incoming-port", str(port or net.ports[account]), *extra]
    return node_script("stream_receiver.js", *args)


def js_total(receiver: NodeProcess) -> int:
    receiver.command("totals")
    return int(receiver.wait_for("totals")["total"])


def pay_to(receiver: NodeProcess) -> list[str]:
    creds = receiver.ready
    return ["--destination", creds["destinationAccount"], "--shared-secret", creds["sharedSecret"]]


def interledger_pay(net: Net, transport: str, *args: str) -> dict[str, Any]:
    """@interledger/pay from the ``payer`` account; its ``done`` line."""
    if transport == "btp":
        uplink = ["--uplink", net.btp_with_token("payerbtp")]
    else:
        uplink = ["--uplink", net.connector.url("payer"), "--token", "payer-token"]
        uplink += ["--incoming-port", str(net.ports["payer"])]
    with node_script("pay_sender.js", *uplink, *args) as sender:
        return sender.wait_for("done", timeout=90)


# ---------------------------------------------------------------------------- item 1


@pytest.mark.parametrize("transport", ["btp", "http"])
def test_interledger_pay_pays_trickle_receive(net: Net, transport: str) -> None:
    receiver = trickle_receive(net, transport)
    try:
        done = interledger_pay(
            net, transport, "--spsp", receiver.ready["spsp"], "--amount", "1000000000"
        )
        assert done.get("error") is None, done
        assert done["amountSent"] == done["amountDelivered"] == "1000000000"
        close = receiver.wait_for("close", timeout=30)
        # Trickle's own count, and the close cause it prints (pay closes the connection).
        assert close["totalReceived"] == "1000000000"
        assert (close["closedBy"], close["closeName"]) == ("sender", "NoError")
        money = [line for line in receiver.seen if line["event"] == "money"]
        assert sum(int(line["amount"]) for line in money) == 1_000_000_000
    finally:
        receiver.stop()


def test_interledger_pay_cross_currency(fx_net: Net) -> None:
    receiver = trickle_receive(fx_net, "btp")
    try:
        assert (receiver.ready["assetCode"], receiver.ready["assetScale"]) == ("EUR", 6)
        prices = json.dumps({"USD": 1, "EUR": FX_PROFILE_RATES["EUR"]})
        done = interledger_pay(
            fx_net,
            "http",
            "--spsp",
            receiver.ready["spsp"],
            "--amount",
            "1000000000",
            "--prices",
            prices,
        )
        assert done.get("error") is None, done
        assert done["amountSent"] == "1000000000"
        assert done["amountDelivered"] == "792000"  # 100 packets of 1e7 deliver 7920 each
        close = receiver.wait_for("close", timeout=30)
        assert close["totalReceived"] == done["amountDelivered"]
    finally:
        receiver.stop()


# ---------------------------------------------------------------------------- item 2


@pytest.mark.parametrize("transport", ["btp", "http"])
def test_pay_data_waits_for_the_echo(net: Net, transport: str) -> None:
    uplink, token = net.uplink_args(transport, "wallet")
    with js_receiver(net, "--echo", "--quiet") as receiver:
        for attempt in range(3):
            text = f"hello {attempt} from trickle"
            code, out, err = pay_json(
                *pay_to(receiver), "--amount", "50000000", "--data", text, *uplink, token=token
            )
            assert code == 0, err
            assert out["dataReceived"] == text
            assert out["amountSent"] == out["amountDelivered"] == "50000000"
        assert js_total(receiver) == 150_000_000
        received = [line for line in receiver.seen if line["event"] == "data"]
        assert len(received) == 3


# ---------------------------------------------------------------------------- item 3


@pytest.mark.parametrize(
    ("how", "words"),
    [
        ("stream-end", "the receiver ended the stream (NoError)"),
        ("stream-destroy", "the receiver closed the stream (ApplicationError: 'enough')"),
        ("conn-end", "the receiver ended the connection (NoError)"),
        # ilp-protocol-stream closes a destroyed connection with InternalError, whatever the error.
        ("conn-destroy", "the receiver closed the connection (InternalError: 'shop closed')"),
    ],
)
def test_the_receiver_stops_the_payment(net: Net, how: str, words: str) -> None:
    uplink, token = net.uplink_args("btp", "wallet")
    with js_receiver(net, "--quiet", "--stop-at", "30000000", "--stop", how) as receiver:
        code, out, err = pay_json(*pay_to(receiver), "--amount", "500000000", *uplink, token=token)
        assert code == 5, err
        assert out["cause"] == words
        assert f"trickle: {words}" in err
        assert 30_000_000 <= int(out["amountSent"]) < 500_000_000
        # Packets the receiver took as it stopped may never be answered, nor reported in a later
        # StreamMaxMoney: Trickle's count is a floor, short by at most what was in flight then.
        known = int(out["amountDelivered"]) + int(out["amountUnconfirmed"])
        in_flight = int(out["amountSent"]) - int(out["amountDelivered"])
        assert int(out["amountDelivered"]) <= js_total(receiver)
        assert known <= js_total(receiver) <= known + max(in_flight, 0) + 20 * MAX_PACKET


def test_receive_max_is_reported_at_once(net: Net) -> None:
    uplink, token = net.uplink_args("http", "wallet")
    with js_receiver(net, "--quiet", "--receive-max", "25000000") as receiver:
        code, out, err = pay_json(
            *pay_to(receiver), "--amount", "100000000", "--timeout", "600", *uplink, token=token
        )
        assert code == 5, err
        assert out["cause"] == (
            "the receiver's receiveMax for stream 1 is reached: it accepts at most "
            "25000000 USD and has received 25000000"
        )
        assert out["amountDelivered"] == "25000000"
        assert js_total(receiver) == 25_000_000
        assert out["seconds"] < 600  # not the timeout: it stopped when the stream could not move


def test_the_receiver_exits(net: Net) -> None:
    uplink, token = net.uplink_args("btp", "wallet")
    with js_receiver(net, "--stop-at", "20000000", "--stop", "exit") as receiver:
        code, out, err = pay_json(
            *pay_to(receiver), "--amount", "500000000", "--give-up-after", "2", *uplink, token=token
        )
        stopping = receiver.wait_for("stopping")
    assert code == 4, err
    # ilp-connector answers the packets it can no longer deliver with F02.
    assert out["cause"].startswith(
        "the connector did not forward the packets: F02 Unreachable from test.harness: "
        "failed to send packet: request to http://127.0.0.1:"
    )
    # The receiver's last count (printed as it exited, inside the packet that reached the
    # stop amount, whose Fulfill therefore never left) against ours.
    delivered = int(out["amountDelivered"])
    assert delivered < int(stopping["total"]) <= delivered + MAX_PACKET


@pytest.mark.parametrize("transport", ["btp", "http"])
def test_connector_down_at_the_start(transport: str) -> None:
    port = free_port()  # nothing listens there
    url = f"btp+ws://127.0.0.1:{port}/" if transport == "btp" else f"http://127.0.0.1:{port}/"
    extra = ["--listen-port", str(free_port())] if transport == "http" else []
    secret = base64.b64encode(bytes(32)).decode()
    code, out, err = pay_json(
        *["--destination", "test.harness.x", "--shared-secret", secret, "--amount", "5"],
        *["--uplink", url, *extra, "--give-up-after", "1"],
        token="t",
    )
    assert code == 3, err
    shown = url.removeprefix("btp+")  # the uplink names the WebSocket it could not open
    assert out["cause"].startswith(f"Cannot reach the connector at {shown}")
    assert out["cause"].endswith("; gave up after 1 s")
    assert "IL-DCP" not in err and "child account" not in err and "keeps trying" not in err
    assert out["amountSent"] == out["amountDelivered"] == "0"


@contextmanager
def slow_payment(*extra: str) -> Iterator[tuple[Connector, NodeProcess, subprocess.Popen[str]]]:
    """``trickle pay --json`` of 9e8 in packets of 1e5 to a JS receiver on a connector of its
    own, started and under way (the receiver has seen money): time to kill or interrupt."""
    accounts, ports = _accounts(("USD", 9))
    accounts["walletbtp"]["maxPacketAmount"] = 100_000
    with Connector.start({"address": "test.harness", "accounts": accounts}) as connector:
        uplink, token = Net(connector, ports).uplink_args("btp", "wallet")
        with js_receiver(Net(connector, ports)) as receiver:
            proc = subprocess.Popen(
                [
                    *(sys.executable, "-m", "ui.cli", "pay", "--json", *pay_to(receiver)),
                    *("--amount", "900000000", *uplink, *extra),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=REPO,
                env={**os.environ, "TRICKLE_UPLINK_TOKEN": token},
            )
            try:
                receiver.wait_for("money", timeout=60)
                yield connector, receiver, proc
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()


def test_connector_gone_mid_payment() -> None:
    with slow_payment("--give-up-after", "2") as (connector, receiver, proc):
        connector.kill()
        out, err = proc.communicate(timeout=120)
        received = js_total(receiver)
    assert proc.returncode == 3, err
    outcome = json.loads(out)
    assert outcome["cause"].startswith("the connector at btp+ws://127.0.0.1:")
    assert "stopped answering" in outcome["cause"]
    assert "keeps trying" not in outcome["cause"]
    # No library log line on stderr: only the outcome's one line.
    assert err.strip().splitlines() == [f"trickle: {outcome['cause']}"]
    delivered = int(outcome["amountDelivered"])
    # What the receiver counted is what Trickle saw fulfilled, plus at most the packets whose
    # Fulfills died with the connector (money whose fate Trickle cannot know).
    assert delivered <= received <= delivered + 20 * 100_000
    assert delivered < 900_000_000


def test_interrupted_payment_closes_and_reports() -> None:
    with slow_payment() as (_, receiver, proc):
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        close = receiver.wait_for("connection_close", timeout=30)
    assert proc.returncode == 130, err
    outcome = json.loads(out)
    assert outcome["cause"] == "interrupted (SIGINT) before the whole amount was sent"
    assert err == f"trickle: {outcome['cause']}\n"
    # Closed gracefully: every packet settled, so the receiver's count is exactly ours.
    assert 0 < int(outcome["amountDelivered"]) < 900_000_000
    assert close["totalReceived"] == outcome["amountDelivered"]
    assert outcome["amountUnconfirmed"] == "0"


@pytest.mark.parametrize(
    ("destination", "words"),
    [
        ("unissued", "the receiver did not accept the packets: F02 Unreachable from "),
        ("wrong-secret", "the receiver did not accept the packets: F02 Unreachable from "),
        ("no-route", "the connector did not forward the packets: F02 Unreachable from "),
    ],
)
def test_final_rejects_are_named(net: Net, destination: str, words: str) -> None:
    uplink, token = net.uplink_args("btp", "wallet")
    with js_receiver(net, "--quiet") as receiver:
        creds = receiver.ready
        address, secret = creds["destinationAccount"], creds["sharedSecret"]
        if destination == "unissued":
            address = address[:-4] + "AAAA"
        elif destination == "wrong-secret":
            secret = base64.b64encode(b"\x01" * 32).decode()
        else:
            address = "g.nowhere.at.all"
        code, out, err = pay_json(
            *["--destination", address, "--shared-secret", secret, "--amount", "1000"],
            *uplink,
            token=token,
        )
        assert code == 4, err
        assert out["cause"].startswith(words)
        assert "minimum exchange precision" not in out["cause"]
        assert out["amountSent"] == "0"
        assert js_total(receiver) == 0


def test_exchange_rate_below_minimum(fx_net: Net) -> None:
    uplink, token = fx_net.uplink_args("btp", "wallet")
    with js_receiver(fx_net, "--quiet") as receiver:
        code, out, err = pay_json(
            *pay_to(receiver), "--amount", "1000000000", "--min-rate", "0.001", *uplink, token=token
        )
        assert code == 6, err
        assert out["cause"] == "probed exchange rate 0.000792 is below the minimum 0.001"
        assert out["amountSent"] == "0"
        assert js_total(receiver) == 0


def test_timeout(net: Net) -> None:
    uplink, token = net.uplink_args("btp", "wallet")
    with js_receiver(net, "--quiet") as receiver:
        receiver.proc.send_signal(signal.SIGSTOP)  # alive, but answers nothing
        try:
            code, out, err = pay_json(
                *pay_to(receiver), "--amount", "1000", "--timeout", "2", *uplink, token=token
            )
        finally:
            receiver.proc.send_signal(signal.SIGCONT)
        assert code == 7, err
        assert out["cause"] == "the payment did not finish within 2 s"
        assert js_total(receiver) == int(out["amountDelivered"]) == 0


# ---------------------------------------------------------------------------- item 4


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--amount", str(2**64)], "--amount: too large: at most 18,446,744,073,709,551,615"),
        (["--amount", "0"], "--amount: must be at least 1"),
        (["--amount", "1,5"], "--amount: '1,5' is not an amount"),
        (["--amount", "5", "--slippage", "x"], "--slippage must be a number"),
        (["--amount", "5", "--receipt-nonce", "AAAA"], "--receipt-nonce must be 16 bytes"),
    ],
)
def test_arguments_are_checked_before_connecting(args: list[str], words: str) -> None:
    # The uplink is a port where nothing listens: a connection attempt would say so instead.
    uplink = f"btp+ws://127.0.0.1:{free_port()}/"
    done = trickle("pay", "$wallet.example/alice", *args, "--uplink", uplink, token="t")
    assert done.returncode == 2
    assert done.stderr.startswith(f"trickle: {words}")
    assert "connector" not in done.stderr and done.stdout == ""


# ---------------------------------------------------------------------------- item 5, 6


@pytest.mark.parametrize("given", [False, True])
def test_receipts_print_what_verifies_them(net: Net, given: bool) -> None:
    receiver = trickle_receive(net, "http")
    uplink, token = net.uplink_args("btp", "wallet")
    nonce, secret = os.urandom(16), os.urandom(32)
    given_args = ["--receipt-nonce", base64.b64encode(nonce).decode()]
    given_args += ["--receipt-secret", base64.b64encode(secret).decode()]
    asked = given_args if given else ["--receipts"]
    try:
        code, out, err = pay_json(
            receiver.ready["spsp"], "--amount", "70000000", *asked, *uplink, token=token
        )
        assert code == 0, err
        if given:
            assert base64.b64decode(out["receiptNonce"]) == nonce
            assert base64.b64decode(out["receiptSecret"]) == secret
        verified = verify_receipt(
            base64.b64decode(out["receipt"]), base64.b64decode(out["receiptSecret"])
        )
        assert verified.nonce == base64.b64decode(out["receiptNonce"])
        assert verified.total_received == 70_000_000
        close = receiver.wait_for("close", timeout=30)
        assert close["totalReceived"] == out["amountDelivered"] == "70000000"
    finally:
        receiver.stop()


def test_pay_and_receive_in_words(net: Net) -> None:
    """Without --json: the outcome for people, and the receiver's totals and close cause."""
    uplink, token = net.uplink_args("btp", "ours")
    spsp_port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "receive", *uplink, "--spsp-port", str(spsp_port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "TRICKLE_UPLINK_TOKEN": token},
    )
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline()
        assert ready.startswith("receiving at test.harness.oursbtp in USD (scale 9); SPSP at ")
        wallet, wtoken = net.uplink_args("http", "wallet")
        done = trickle(
            "pay", f"http://127.0.0.1:{spsp_port}/", "--amount", "1234", *wallet, token=wtoken
        )
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert lines[0] == "paid: sent 1234 of 1234"
        assert "  delivered              1234 USD (scale 9)" in lines
        assert done.stderr == ""
        said = [proc.stdout.readline().rstrip("\n") for _ in range(3)]
        assert said[0].startswith("connection 1 opened (test.harness.oursbtp.")
        assert said[1] == (
            "connection 1 stream 1 closed by the sender (NoError): received 1234 USD (scale 9)"
        )
        assert said[2].startswith(
            "connection 1 closed by the sender (NoError): received 1234 USD (scale 9) in "
        )
        assert said[2].endswith("packets (all connections: 1234)")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)
    assert proc.returncode == 0


# ---------------------------------------------------------------------------- item 7


class LosingProxy:
    """Between ilp-connector and a receiver's ILP-over-HTTP endpoint: forwards every packet,
    but answers the ``lose``-th fulfilled money packet with T00 — the receiver got the money,
    the sender never hears so (a connector that crashed after forwarding)."""

    def __init__(self, port: int, target: int, lose: int) -> None:
        self.port, self.target, self.lose = port, target, lose
        self.fulfilled = 0
        self.lost: list[int] = []
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LosingProxy:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with aiohttp.ClientSession() as client:

            async def forward(request: web.Request) -> web.Response:
                body = await request.read()
                headers = {k: v for k, v in request.headers.items() if k.lower() in _FORWARDED}
                url = f"http://127.0.0.1:{self.target}{request.path_qs}"
                async with client.post(url, data=body, headers=headers) as answer:
                    data = await answer.read()
                    if answer.status != 200:
                        return web.Response(status=answer.status, body=data)
                prepare = parse_prepare(body)
                if prepare.amount and isinstance(parse_reply(data), Fulfill):
                    self.fulfilled += 1
                    if self.fulfilled == self.lose:
                        self.lost.append(prepare.amount)
                        lost = Reject("T00", "test.harness.lossy", "lost on the way back")
                        data = lost.to_bytes()
                return web.Response(body=data, content_type="application/octet-stream")

            app = web.Application()
            app.router.add_post("/{tail:.*}", forward)
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            self._ready.set()
            await self._stop.wait()
            await runner.cleanup()


_FORWARDED = {"authorization", "content-type", "ilp-peer-name"}


@pytest.mark.parametrize("as_json", [True, False])
def test_delivered_unconfirmed(net: Net, as_json: bool) -> None:
    uplink, token = net.uplink_args("btp", "wallet")
    target = free_port()
    with (
        LosingProxy(net.ports["lossy"], target, lose=3) as proxy,
        js_receiver(net, "--quiet", account="lossy", port=target) as receiver,
    ):
        args = [*pay_to(receiver), "--amount", "100000000", *uplink]
        if as_json:
            code, out, err = pay_json(*args, token=token)
            assert code == 0, err
            (lost,) = proxy.lost
            assert out["amountDelivered"] == "100000000"
            assert out["amountUnconfirmed"] == str(lost)
            # The receiver's own count: what Trickle saw fulfilled plus what it reports as
            # delivered, unconfirmed.
            assert js_total(receiver) == 100_000_000 + lost
        else:
            done = trickle("pay", *args, token=token)
            assert done.returncode == 0, done.stderr
            (lost,) = proxy.lost
            assert (
                f"  delivered, unconfirmed {lost} USD (scale 9) (the receiver reports more than "
                "Trickle saw fulfilled)"
            ) in done.stdout.splitlines()
            assert js_total(receiver) == 100_000_000 + lost


def test_pay_data_to_trickle_receive_echo(net: Net) -> None:
    receiver = trickle_receive(net, "http", "--echo")
    uplink, token = net.uplink_args("btp", "wallet")
    try:
        code, out, err = pay_json(
            receiver.ready["spsp"], "--amount", "5000", "--data", "ping", *uplink, token=token
        )
        assert code == 0, err
        assert out["dataReceived"] == "ping"
        data = receiver.wait_for("data")
        assert base64.b64decode(data["data"]) == b"ping"
        close = receiver.wait_for("close", timeout=30)
        assert close["totalReceived"] == out["amountDelivered"] == "5000"
    finally:
        receiver.stop()
