"""Packets per second of the sans-IO STREAM core: a client and a server joined in memory.

No I/O, no event loop: every packet is built, encrypted, decrypted, fulfilled, and its reply
decrypted and accounted, on both sides. Prints the pair's packets/s and the client's share of
the CPU per packet (what a real sender pays per packet besides I/O).

    .venv/bin/python benchmarks/stream_core_bench.py [packets]
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime, timedelta

from wallet.ilp import Fulfill
from wallet.stream.config import ConnectionConfig, Role
from wallet.stream.connection import Connection
from wallet.stream.credentials import generate_credentials

PACKET = 1000


def run(packets: int) -> tuple[float, float, float]:
    creds = generate_credentials(os.urandom(32), "test.bench.receiver", os.urandom)
    client = Connection(
        ConnectionConfig(
            shared_secret=creds.shared_secret,
            asset_code="USD",
            asset_scale=9,
            source_account="test.bench.wallet",
            destination_account=creds.destination_account,
            max_packet_amount=PACKET,
            max_window=32,
            idle_timeout=None,
        ),
        Role.CLIENT,
        random_bytes=os.urandom,
        now=0.0,
    )
    server = Connection(
        ConnectionConfig(
            shared_secret=creds.shared_secret,
            asset_code="USD",
            asset_scale=9,
            source_account=creds.destination_account,
            default_receive_max=2**64 - 1,
            idle_timeout=None,
        ),
        Role.SERVER,
        random_bytes=os.urandom,
        now=0.0,
    )
    epoch = datetime(2026, 1, 1, tzinfo=UTC)
    now = 0.0

    def pump() -> int:
        sent = client.packets_to_send(now, epoch + timedelta(seconds=now))
        replies = [(pid, server.receive_prepare(p, now)) for pid, p in sent]
        for pid, reply in replies:
            client.receive_reply(pid, reply, now)
        client.events()
        server.events()
        return len(sent)

    while not client.is_connected:  # the probe
        pump()
    stream = client.create_stream()
    stream.set_send_max(packets * PACKET)
    client_cpu = 0.0
    start = time.perf_counter()
    fulfilled = client.packets_fulfilled
    while stream.total_sent < packets * PACKET:
        t0 = time.perf_counter()
        sent = client.packets_to_send(now, epoch)
        t1 = time.perf_counter()
        replies = [(pid, server.receive_prepare(p, now)) for pid, p in sent]
        t2 = time.perf_counter()
        for pid, reply in replies:
            assert isinstance(reply, Fulfill)
            client.receive_reply(pid, reply, now)
        client.events()
        t3 = time.perf_counter()
        server.events()
        client_cpu += (t1 - t0) + (t3 - t2)
        now += 0.001
    elapsed = time.perf_counter() - start
    done = client.packets_fulfilled - fulfilled
    assert done == packets, done
    assert server.total_received == packets * PACKET
    return done / elapsed, client_cpu / done * 1e6, elapsed


def main() -> None:
    packets = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    run(500)  # warm up
    rate, client_us, elapsed = run(packets)
    print(f"stream core (sans-IO pair, no I/O): {packets} packets in {elapsed:.2f} s")
    print(f"  pair throughput:        {rate:,.0f} packets/s (client + server work)")
    print(f"  client CPU per packet:  {client_us:.1f} us")
    print(f"  client-only ceiling:    {1e6 / client_us:,.0f} packets/s")
    # Yardstick: ilp-protocol-stream sends at most ~700-1100 packets/s with I/O (WIRE-NOTES §6.5)
    print(f"  ratio vs JS sender's ~1100 packets/s with I/O: {rate / 1100:.1f}x (core only)")


if __name__ == "__main__":
    main()
