"""The History view over 1,000,000 packets: open it and scroll to the last row.

    .venv/bin/python benchmarks/history_view_bench.py [--packets 1000000] [--rows 20000]

Two databases, both holding 1,000,000 packets:

* *aggregated* (what Trickle stores): packets ingested through the history module's own path
  (``wallet.store.history.record``, as the ledger's group commits do), one row per site,
  provider, hour and connection — ``--rows`` rows (default 20,000: ~50 packets a row, about a
  year of heavy browsing);
* *one row per packet* (the worst case the schema allows): 1,000,000 rows, bulk-inserted.

For each it prints the milliseconds from creating the History page to the table showing its
last row (open + ``scrollToBottom`` + paint), then the time until the per-site totals and the
chart are filled in too. Yardstick: 300 ms for open + scroll to the end.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication
from sqlalchemy import Engine, insert

from ui.wallet.context import WalletContext
from ui.wallet.network import NetworkStatus
from ui.wallet.pages.history import HistoryPage
from ui.wallet.qtevents import QtWalletEvents
from wallet.amounts import NumberStyle
from wallet.budgets import USD9
from wallet.reports import HistoryReader
from wallet.service import WalletService
from wallet.store import open_store
from wallet.store.engine import transaction
from wallet.store.history import HistoryDelta, hour_of, record
from wallet.store.models import history_table

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
YARDSTICK_MS = 300.0
SITES = [f"https://site{i:02d}.example" for i in range(40)]


def ingest_aggregated(engine: Engine, packets: int, rows: int) -> None:
    rng = random.Random(1)
    first = hour_of(NOW - timedelta(days=365))
    per_row = packets // rows
    deltas = [
        HistoryDelta(
            site=SITES[i % len(SITES)],
            provider="https://wallet.example",
            asset=USD9,
            hour=first + (i * 8760) // rows,
            connection=f"c{i % 3}",
            dest_asset=USD9,
            sent=(per_row + (1 if i < packets % rows else 0)) * 150_000,
            delivered=(per_row + (1 if i < packets % rows else 0)) * 150_000,
            packets=per_row + (1 if i < packets % rows else 0),
            unresolved=150_000 if rng.random() < 0.01 else 0,
        )
        for i in range(rows)
    ]
    with transaction(engine) as conn:
        record(conn, deltas)


def ingest_per_packet(engine: Engine, packets: int) -> None:
    rng = random.Random(2)
    first = hour_of(NOW - timedelta(days=365))
    chunk = 50_000
    for start in range(0, packets, chunk):
        batch = [
            {
                "site": SITES[i % len(SITES)],
                "provider": "https://wallet.example",
                "asset_code": "USD",
                "asset_scale": 9,
                "hour": first + (i * 8760) // packets,
                "connection": f"p{i}",
                "dest_asset_code": "USD",
                "dest_asset_scale": 9,
                "sent": rng.randint(100_000, 300_000),
                "delivered": 0,
                "packets": 1,
                "unresolved": 0,
            }
            for i in range(start, min(packets, start + chunk))
        ]
        with transaction(engine) as conn:
            conn.execute(insert(history_table), batch)


def measure(app: QApplication, profile: Path) -> tuple[float, float, int]:
    engine = open_store(profile / "trickle.sqlite3")
    service = WalletService(engine, tz=TZ, clock=lambda: NOW)
    events = QtWalletEvents(service.events)
    ctx = WalletContext(
        service=service,
        history=HistoryReader(engine),
        events=events,
        network=NetworkStatus(),
        secrets=None,
        tz=TZ,
        clock=lambda: NOW,
        style=NumberStyle(),
    )
    t0 = time.perf_counter()
    page = HistoryPage(ctx, summary_deferred=True)
    page.resize(1100, 700)
    page.show()
    page.refresh()  # the totals and the chart are deferred to the event loop
    page.view.scrollToBottom()
    page.view.viewport().repaint()  # paints the visible rows now, reading their page
    last = page.model.rowCount() - 1
    shown = page.model.index(last, 3).data()
    t1 = time.perf_counter()
    assert shown, "the last row shows nothing"
    page.wait_summary()
    t2 = time.perf_counter()
    rows = page.model.rowCount()
    page.close()
    page.deleteLater()
    app.processEvents()
    events.close()
    engine.dispose()
    return (t1 - t0) * 1000, (t2 - t0) * 1000, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--rows", type=int, default=20_000, help="aggregated rows (default 20,000)")
    args = ap.parse_args()
    app = QApplication.instance() or QApplication(["bench"])
    assert isinstance(app, QApplication)
    with tempfile.TemporaryDirectory(prefix="trickle-bench-") as tmp:
        fills: tuple[tuple[str, Callable[[Engine], None]], ...] = (
            ("aggregated", lambda e: ingest_aggregated(e, args.packets, args.rows)),
            ("one row per packet", lambda e: ingest_per_packet(e, args.packets)),
        )
        for name, fill in fills:
            profile = Path(tmp) / name.replace(" ", "-")
            profile.mkdir()
            engine = open_store(profile / "trickle.sqlite3")
            t = time.perf_counter()
            fill(engine)
            engine.dispose()
            ingest_s = time.perf_counter() - t
            measure(app, profile)  # warm the page cache of the file once, as a running app has
            table_ms, full_ms, rows = measure(app, profile)
            print(
                f"{name}: {args.packets:,} packets in {rows:,} rows (ingest {ingest_s:.1f} s): "
                f"open + scroll to the end {table_ms:.0f} ms "
                f"(yardstick {YARDSTICK_MS:.0f} ms, ratio {table_ms / YARDSTICK_MS:.2f}); "
                f"totals and chart ready at {full_ms:.0f} ms"
            )


if __name__ == "__main__":
    main()
