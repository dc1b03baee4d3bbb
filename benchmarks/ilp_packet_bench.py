"""Parse + serialize of a typical ILP Prepare per second: Trickle vs npm ilp-packet, same run.

The Prepare is what a STREAM sender emits: an amount, a 30 s expiry, a condition, a
``test.``-style destination and ~100 bytes of encrypted STREAM data.

    .venv/bin/python benchmarks/ilp_packet_bench.py [--seconds 3]

Needs the npm peers (``scripts/setup test`` installs them in tests/interop/node_modules).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from wallet.ilp import Prepare, parse_prepare

HERE = Path(__file__).resolve().parent


def typical_prepare() -> bytes:
    return Prepare(
        amount=1_000_000,
        expires_at=datetime(2026, 11, 21, 12, 0, 30, 123000, tzinfo=UTC),
        execution_condition=bytes(range(32)),
        destination="test.trickle.sandbox.demo-blog.QmSn1bY2pZ8kW3Xq",
        data=os.urandom(112),
    ).to_bytes()


def python_ops_per_s(raw: bytes, seconds: float) -> float:
    def run(n: int) -> None:
        out = b""
        for _ in range(n):
            out = parse_prepare(raw).to_bytes()
        if out != raw:
            raise AssertionError("round trip changed the bytes")

    run(2000)
    n = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        run(2000)
        n += 2000
    return n / elapsed


def node_ops_per_s(raw: bytes, seconds: float) -> float:
    out = subprocess.run(
        ["node", str(HERE / "node" / "ilp_packet_bench.js"), raw.hex(), str(seconds)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(json.loads(out.stdout)["ops_per_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    raw = typical_prepare()
    ours = python_ops_per_s(raw, args.seconds)
    theirs = node_ops_per_s(raw, args.seconds)
    print(f"Prepare of {len(raw)} bytes, parse + serialize")
    print(f"  trickle (Python)   {ours:12,.0f} ops/s")
    print(f"  ilp-packet (node)  {theirs:12,.0f} ops/s")
    print(f"  ratio              {ours / theirs:12.2f}x  (target >= 1.0x)")


if __name__ == "__main__":
    main()
