"""Ledger throughput: reserve+commit cycles per second with ``synchronous=FULL``.

    .venv/bin/python benchmarks/ledger_bench.py [--packets 20000] [--procs 4]

Runs on a real SQLite file in a temporary directory (WAL, synchronous=FULL, as the app does),
with real wall-clock time (leases renew and history is group-committed once a second).

Prints, each with its ratio to the yardstick (>= 1,000 cycles/s):

* ``ledger``: one process, the service's lease size (one minute of the default rate of pay,
  0.60 USD/h -> 10,000,000 units at USD scale 9) and 10,000-unit packets: one lease transaction
  per 1,000 packets plus one group commit per second — the crash guarantees hold (see
  ``wallet/ledger.py``);
* ``service``: the same through ``WalletService.reserve/commit`` (accrual, events);
* ``N processes``: N processes at once on one database, cycles/s summed;
* ``fsync per packet``: lease size = one packet, i.e. what a transaction per packet would give
  — the reason for leases.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from wallet.budgets import USD9, GlobalPolicy, SitePolicy
from wallet.ledger import Ledger, Reservation
from wallet.service import WalletService
from wallet.store import open_store
from wallet.store.engine import transaction
from wallet.store.repo import save_global_policy, set_policy

TZ = ZoneInfo("Europe/Berlin")
YARDSTICK = 1_000.0
PACKET = 10_000  # 0.00001 USD
LEASE = 10_000_000  # one minute of 0.60 USD/h


def _setup(path: Path) -> None:
    engine = open_store(path)
    with transaction(engine) as conn:
        save_global_policy(conn, GlobalPolicy(monthly_budget=None))
        for i in range(64):
            set_policy(
                conn, SitePolicy(f"https://s{i}.example", cap_month=10**15), datetime.now(UTC)
            )
    engine.dispose()


def _cycles(path: Path, n: int, lease: int, site: str = "https://s0.example") -> float:
    engine = open_store(path, migrate=False)
    led = Ledger(engine, TZ)
    t0 = time.perf_counter()
    for _ in range(n):
        now = datetime.now(UTC)
        r = led.reserve(
            site=site, provider="p", asset=USD9, amount=PACKET, now=now, lease_size=lease
        )
        assert isinstance(r, Reservation), r
        led.commit(r, now, delivered=PACKET)
    led.close(datetime.now(UTC))
    dt = time.perf_counter() - t0
    engine.dispose()
    return n / dt


def _service_cycles(path: Path, n: int) -> float:
    engine = open_store(path, migrate=False)
    fake = [datetime.now(UTC)]
    svc = WalletService(engine, tz=TZ, clock=lambda: fake[0])
    svc.set_global_policy(GlobalPolicy(max_backlog=timedelta(days=365)))
    site = "https://s1.example"
    svc.set_site_active(site, True)
    fake[0] += timedelta(days=30)  # plenty accrued
    t0 = time.perf_counter()
    for _ in range(n):
        fake[0] = datetime.now(UTC) + timedelta(days=30)
        r = svc.reserve(site, "p", USD9, PACKET)
        assert isinstance(r, Reservation), r
        svc.commit(r, delivered=PACKET)
    svc.close()
    return n / (time.perf_counter() - t0)


def _proc(path: str, n: int, i: int, out: mp.Queue) -> None:  # type: ignore[type-arg]
    out.put(_cycles(Path(path), n, LEASE, site=f"https://s{i % 64}.example"))


def _multi(path: Path, n: int, procs: int) -> float:
    ctx = mp.get_context("fork")
    out: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    ps = [ctx.Process(target=_proc, args=(str(path), n // procs, i, out)) for i in range(procs)]
    t0 = time.perf_counter()
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    dt = time.perf_counter() - t0
    for _ in ps:
        out.get()
    return (n // procs) * procs / dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--packets", type=int, default=20_000)
    ap.add_argument("--procs", type=int, default=4)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "bench.sqlite3"
        _setup(db)
        rows = [
            ("ledger (lease = 1 min of pay)", _cycles(db, args.packets, LEASE)),
            ("service (accrual + events)", _service_cycles(db, args.packets)),
            (f"{args.procs} processes (summed)", _multi(db, args.packets, args.procs)),
            ("fsync per packet (no lease)", _cycles(db, max(200, args.packets // 50), PACKET)),
        ]
    print("reserve+commit cycles/s, synchronous=FULL, WAL; yardstick >= 1,000/s")
    for name, rate in rows:
        print(f"  {name:34s} {rate:12,.0f}/s   ratio {rate / YARDSTICK:8.2f}x")


if __name__ == "__main__":
    main()
