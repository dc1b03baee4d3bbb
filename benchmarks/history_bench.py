"""History: ingest 1,000,000 fulfilled packets across 200 sites, then query month-by-site totals.

    .venv/bin/python benchmarks/history_bench.py [--packets 1000000] [--sites 200] [--tabs 2]

Packets go through the real path — ``Ledger.reserve`` / ``Ledger.commit`` and its group commits
into the hourly aggregates — on a real SQLite file (WAL, synchronous=FULL). The browsing is
simulated over 30 days: ``--tabs`` tabs at a time, each viewing one site per session (5 to 60
minutes, one packet per second, one STREAM connection per session), sites chosen with a
Zipf-like preference among 200. Simulated time runs faster than real time, so the group commit
interval is 120 simulated seconds (the app uses 1 real second; the rows are the same: one per site,
provider, asset, hour and connection).

Prints the database size (yardstick <= 50 MB) and the median time of the month-by-site totals
query (``WalletService.month_totals``; yardstick <= 50 ms), each with its ratio.

``--dense`` instead measures a pathological spread that no browsing produces: the packets
scattered uniformly over 200 sites x 720 hours x 3 connections (~2.5 packets per aggregate row),
written with ``history.record`` directly — the upper end of what aggregation can save.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from wallet.budgets import USD9, Defaults, GlobalPolicy
from wallet.ledger import Ledger, Reservation
from wallet.service import WalletService
from wallet.store import open_store
from wallet.store.engine import transaction
from wallet.store.history import HistoryDelta, hour_of, record, row_count
from wallet.store.repo import save_global_policy

TZ = ZoneInfo("Europe/Berlin")
START = datetime(2026, 11, 1, 8, tzinfo=TZ).astimezone(UTC)
SIZE_MB, QUERY_MS = 50.0, 50.0


def _sessions(packets: int, sites: list[str], tabs: int, rng: random.Random):  # type: ignore[no-untyped-def]
    """Yield (time, site, connection) one packet at a time, in time order."""
    weights = [1 / (i + 1) for i in range(len(sites))]
    order = iter(sites)  # every site once first, then a Zipf-like preference

    def pick() -> str:
        return next(order, None) or rng.choices(sites, weights)[0]

    span = timedelta(days=30).total_seconds()
    per_tab = packets // tabs
    # Spread each tab's sessions evenly over the month.
    queue: list[tuple[float, int, int, str, str]] = []  # t, tab, left, site, connection
    n_conn = 0
    for tab in range(tabs):
        site = pick()
        queue.append((0.0, tab, rng.randint(300, 3600), site, f"c{n_conn}"))
        n_conn += 1
    sent = [0] * tabs
    gap = span / (per_tab / 1900 + 1)  # sessions average ~1900 packets
    while queue:
        queue.sort()
        t, tab, left, site, conn = queue.pop(0)
        yield START + timedelta(seconds=t), site, conn
        sent[tab] += 1
        if sent[tab] >= per_tab:
            continue
        if left > 1:
            queue.append((t + 1, tab, left - 1, site, conn))
        else:
            site = pick()
            n_conn += 1
            queue.append(
                (t + rng.uniform(0.2, 1.8) * gap, tab, rng.randint(300, 3600), site, f"c{n_conn}")
            )


def dense(packets: int, n_sites: int) -> None:
    rng = random.Random(1)
    sites = [f"https://site{i:03d}.example" for i in range(n_sites)]
    h0 = hour_of(START)
    agg: dict[tuple[str, int, str], int] = {}
    for _ in range(packets):
        k = (rng.choice(sites), h0 + rng.randrange(720), f"c{rng.randrange(3)}")
        agg[k] = agg.get(k, 0) + 1
    items = list(agg.items())
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "dense.sqlite3"
        engine = open_store(db)
        for i in range(0, len(items), 5_000):
            with transaction(engine) as conn:
                record(
                    conn,
                    [
                        HistoryDelta(
                            site=s,
                            provider="sandbox",
                            asset=USD9,
                            hour=h,
                            connection=c,
                            dest_asset=USD9,
                            sent=n * 10_000,
                            delivered=n * 9_900,
                            packets=n,
                        )
                        for (s, h, c), n in items[i : i + 5_000]
                    ],
                )
        engine.dispose()
        size_mb = db.stat().st_size / 1e6
        engine = open_store(db, migrate=False)
        svc = WalletService(engine, tz=TZ, clock=lambda: START + timedelta(days=15))
        times = []
        for _ in range(11):
            q0 = time.perf_counter()
            svc.month_totals()
            times.append((time.perf_counter() - q0) * 1000)
        engine.dispose()
    q_ms = statistics.median(times)
    print(f"dense (pathological): {packets:,} packets in {len(items):,} aggregate rows")
    print(f"  database size           {size_mb:8.2f} MB   (ratio {size_mb / SIZE_MB:.3f})")
    print(f"  month-by-site totals    {q_ms:8.2f} ms   (ratio {q_ms / QUERY_MS:.3f}; median of 11)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--sites", type=int, default=200)
    ap.add_argument("--tabs", type=int, default=2)
    ap.add_argument("--flush-seconds", type=float, default=120.0, help="simulated")
    ap.add_argument("--dense", action="store_true", help="the pathological spread instead")
    args = ap.parse_args()
    if args.dense:
        dense(args.packets, args.sites)
        return
    rng = random.Random(42)
    sites = [f"https://site{i:03d}.example" for i in range(args.sites)]
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "history.sqlite3"
        engine = open_store(db)
        with transaction(engine) as conn:
            save_global_policy(conn, GlobalPolicy(defaults=Defaults(cap_month=None)))
        led = Ledger(
            engine,
            TZ,
            flush_interval=timedelta(seconds=args.flush_seconds),
            lease_ttl=timedelta(minutes=5),
        )
        t0 = time.perf_counter()
        n = 0
        now = START
        for now, site, conn_id in _sessions(args.packets, sites, args.tabs, rng):
            amount = rng.randint(5_000, 20_000)
            r = led.reserve(
                site=site,
                provider="sandbox",
                asset=USD9,
                amount=amount,
                now=now,
                connection=conn_id,
                lease_size=10_000_000,
            )
            assert isinstance(r, Reservation), r
            led.commit(r, now, delivered=amount * 99 // 100)
            n += 1
        led.close(now + timedelta(minutes=10))
        ingest = time.perf_counter() - t0
        with transaction(engine, readonly=True) as conn:
            rows = row_count(conn)
        engine.dispose()  # checkpoints the WAL into the file
        size_mb = db.stat().st_size / 1e6

        engine = open_store(db, migrate=False)
        svc = WalletService(engine, tz=TZ, clock=lambda: START + timedelta(days=15))
        totals = svc.month_totals()
        times = []
        for _ in range(21):
            q0 = time.perf_counter()
            svc.month_totals()
            times.append((time.perf_counter() - q0) * 1000)
        q_ms = statistics.median(times)
        everything = svc.site_totals()
        total_packets = sum(t.packets for t in everything)
        engine.dispose()
    print(
        f"ingested {n:,} packets across {len(everything)} sites in {ingest:.1f} s "
        f"({n / ingest:,.0f} packets/s through Ledger.reserve+commit); {rows:,} history rows"
    )
    assert total_packets == n, (total_packets, n)
    print(f"  the month's totals cover {len(totals)} sites")
    print(
        f"  database size           {size_mb:8.2f} MB   (yardstick <= {SIZE_MB:.0f} MB, "
        f"ratio {size_mb / SIZE_MB:.3f})"
    )
    print(
        f"  month-by-site totals    {q_ms:8.2f} ms   (yardstick <= {QUERY_MS:.0f} ms, "
        f"ratio {q_ms / QUERY_MS:.3f}; median of 21)"
    )


if __name__ == "__main__":
    main()
