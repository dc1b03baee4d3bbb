"""STREAM throughput: our client vs the ilp-protocol-stream client, same connector, same receiver.

Each client sends 2,000 packets (2,000,000 units through a connector whose maxPacketAmount for
the sender is 1,000) to one ilp-protocol-stream receiver, over ILP-over-HTTP and over BTP,
alternating runs. Prints packets/s, the client's CPU per packet, and the ratios (targets: >= 1.5x
the JS client's packets/s, <= 0.5x its CPU per packet).

    .venv/bin/python benchmarks/stream_throughput.py [--rounds 2] [--packets 2000]

Time and CPU cover ``sendTotal`` alone, after connecting (node: ``process.cpuUsage()`` in the
sender; ours: ``time.process_time`` of this process, which also runs our uplink).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.interop.harness import Connector, free_port, node_script
from wallet.net.btp_uplink import BtpUplink
from wallet.net.http_uplink import HttpUplink
from wallet.net.ildcp import fetch_account_config
from wallet.net.router import Router
from wallet.net.stream_client import connect
from wallet.secrets import Secret
from wallet.stream import ConnectionConfig

MAX_PACKET = 1000


def network_config(ports: dict[str, int]) -> dict[str, Any]:
    accounts: dict[str, Any] = {
        "receiver": {
            "transport": "http",
            "token": "receiver-token",
            "outgoingUrl": f"http://127.0.0.1:{ports['receiver']}/",
        },
    }
    for who in ("py", "js"):
        accounts[f"{who}http"] = {
            "transport": "http",
            "token": f"{who}http-token",
            "outgoingUrl": f"http://127.0.0.1:{ports[who + 'http']}/ilp",
            "maxPacketAmount": MAX_PACKET,
        }
        accounts[f"{who}btp"] = {
            "transport": "btp",
            "token": f"{who}btp-token",
            "maxPacketAmount": MAX_PACKET,
        }
    return {"address": "test.bench", "defaults": {"rateLimit": 10_000_000}, "accounts": accounts}


async def ours(
    connector: Connector, transport: str, ports: dict[str, int], creds: dict[str, Any], amount: int
) -> tuple[float, float, int]:
    name = f"py{transport}"
    token = Secret(f"{name}-token")
    uplink: HttpUplink | BtpUplink
    if transport == "http":
        uplink = HttpUplink(connector.url(name), token, listen_port=ports[name])
    else:
        uplink = BtpUplink(connector.url(name), token)
    await uplink.connect()
    try:
        account = await fetch_account_config(uplink)
        conn = await connect(
            uplink,
            ConnectionConfig(
                shared_secret=base64.b64decode(creds["sharedSecret"]),
                asset_code=account.asset_code,
                asset_scale=account.asset_scale,
                source_account=account.client_address,
                destination_account=creds["destinationAccount"],
            ),
            router=Router(uplink, own_address=account.client_address),
        )
        stream = conn.create_stream()
        cpu0, t0 = time.process_time(), time.perf_counter()
        await stream.send_total(amount)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        packets = conn.core.packets_fulfilled
        conn.close()
        await asyncio.wait_for(conn.closed, 10)
        return elapsed, cpu, packets
    finally:
        await uplink.close()


def theirs(
    connector: Connector, transport: str, ports: dict[str, int], creds: dict[str, Any], amount: int
) -> tuple[float, float, int]:
    name = f"js{transport}"
    if transport == "http":
        uplink = [
            "--uplink",
            connector.url(name),
            "--token",
            f"{name}-token",
            "--incoming-port",
            str(ports[name]),
        ]
    else:
        uplink = ["--uplink", f"btp+ws://:{name}-token@127.0.0.1:{connector.account(name)['port']}"]
    args = [
        *uplink,
        "--destination",
        creds["destinationAccount"],
        "--shared-secret",
        creds["sharedSecret"],
        "--amount",
        str(amount),
    ]
    with node_script("stream_sender.js", *args, ready="connected") as sender:
        done = sender.wait_for("done", timeout=300)
    # sendTotal alone, as for ours: the node process's own clock and CPU counters.
    return float(done["sendMs"]) / 1000, done["sendCpuMicros"] / 1e6, amount // MAX_PACKET


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--packets", type=int, default=2000)
    args = parser.parse_args()
    amount = args.packets * MAX_PACKET
    ports = {k: free_port() for k in ("receiver", "pyhttp", "jshttp", "pybtp", "jsbtp")}
    results: dict[tuple[str, str], list[tuple[float, float, int]]] = {}
    with Connector.start(network_config(ports)) as connector:
        receiver_args = [
            "--uplink",
            connector.url("receiver"),
            "--token",
            "receiver-token",
            "--incoming-port",
            str(ports["receiver"]),
            "--quiet",
        ]
        with node_script("stream_receiver.js", *receiver_args) as receiver:
            creds = receiver.ready
            for _ in range(args.rounds):
                for transport in ("http", "btp"):
                    results.setdefault(("trickle", transport), []).append(
                        asyncio.run(ours(connector, transport, ports, creds, amount))
                    )
                    results.setdefault(("ilp-protocol-stream", transport), []).append(
                        theirs(connector, transport, ports, creds, amount)
                    )
    print(
        f"{args.packets} packets of {MAX_PACKET} units per run, {args.rounds} rounds, "
        "median of rounds"
    )
    summary: dict[tuple[str, str], tuple[float, float]] = {}
    for (who, transport), runs in sorted(results.items()):
        pps = statistics.median(packets / elapsed for elapsed, _, packets in runs)
        cpu_us = statistics.median(cpu / packets * 1e6 for _, cpu, packets in runs)
        summary[(who, transport)] = (pps, cpu_us)
        print(f"  {who:20s} {transport:4s} {pps:9,.0f} packets/s  {cpu_us:8.1f} us CPU/packet")
    for transport in ("http", "btp"):
        (py_pps, py_cpu), (js_pps, js_cpu) = (
            summary[("trickle", transport)],
            summary[("ilp-protocol-stream", transport)],
        )
        print(
            f"  {transport}: packets/s ratio {py_pps / js_pps:.2f}x (target >= 1.5x), "
            f"CPU/packet ratio {py_cpu / js_cpu:.2f}x (target <= 0.5x)"
        )


if __name__ == "__main__":
    main()
