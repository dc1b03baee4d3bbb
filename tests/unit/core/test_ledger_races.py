"""16 processes (not threads) race against one site budget and one global budget.

10,000 reserve/commit/release/expire attempts in all, while an observer process reads the durable
counters in a loop: spent + reserved never exceeds either limit at any observed moment, and a busy
database is never reported as "insufficient budget".
"""

from __future__ import annotations

import multiprocessing as mp
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Event
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.unit.core.ledgerkit import ASSET, SITE, configure, counters
from wallet.budgets import Reason
from wallet.ledger import Ledger, Refusal
from wallet.store import StorageBusy, open_store
from wallet.store.engine import transaction

TZ = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 11, 21, 12, tzinfo=UTC)
OTHER = "https://other.example"
PROCS = 16
ATTEMPTS = 10_000 // PROCS


@dataclass(frozen=True)
class Outcome:
    spent_site: int
    spent_other: int
    refusals: dict[str, int]
    busy: int


def _worker(path: str, seed: int, out: mp.Queue) -> None:  # type: ignore[type-arg]
    try:
        _work(path, seed, out)
    except BaseException as e:
        out.put(f"worker {seed} failed: {type(e).__name__}: {e} ({e.__cause__!r})")
        raise


def _work(path: str, seed: int, out: mp.Queue) -> None:  # type: ignore[type-arg]
    rng = random.Random(seed)
    engine = open_store(Path(path), migrate=False)
    led = Ledger(engine, TZ, flush_interval=timedelta(seconds=1))
    spent = {SITE: 0, OTHER: 0}
    refusals: dict[str, int] = {}
    busy = 0
    site = SITE if seed % 2 == 0 else OTHER
    now = T0
    for _ in range(ATTEMPTS):
        now += timedelta(milliseconds=10)
        try:
            r = led.reserve(
                site=site,
                provider="p",
                asset=ASSET,
                amount=rng.randint(1, 20),
                now=now,
                min_amount=1,
                lease_size=rng.choice([50, 100, 200]),
            )
        except StorageBusy:
            busy += 1
            continue
        if isinstance(r, Refusal):
            refusals[r.reason.value] = refusals.get(r.reason.value, 0) + 1
            continue
        roll = rng.random()
        if roll < 0.7:
            led.commit(r, now)
            spent[site] += r.amount
        elif roll < 0.9:
            led.release(r, now)
        else:
            led.expire(r, now)
            spent[site] += r.amount
        if rng.random() < 0.01:
            led.settle(now)
    led.close(now)
    engine.dispose()
    out.put(Outcome(spent[SITE], spent[OTHER], refusals, busy))


def _observer(
    path: str, site_cap: int, global_cap: int, stop: Event, out: mp.Queue[tuple[int, int]]
) -> None:
    engine = open_store(Path(path), migrate=False)
    seen = bad = 0
    while not stop.is_set():
        site_total, glob = counters(engine)
        seen += 1
        if site_total > site_cap or glob > global_cap:
            bad += 1
        time.sleep(0.002)  # sample, leave the CPU to the workers
    engine.dispose()
    out.put((seen, bad))


def _race(db_path: Path, site_cap: int, global_cap: int) -> tuple[list[Outcome], int]:
    engine = open_store(db_path)
    configure(engine, T0, site_total=site_cap, global_month=global_cap)
    with transaction(engine) as conn:  # the other site: no cap of its own
        conn.exec_driver_sql("DELETE FROM site_policy WHERE site != ?", (SITE,))
    engine.dispose()
    ctx = mp.get_context("fork")
    out: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    obs_out: mp.Queue[tuple[int, int]] = ctx.Queue()
    stop = ctx.Event()
    observer = ctx.Process(
        target=_observer, args=(str(db_path), site_cap, global_cap, stop, obs_out)
    )
    observer.start()
    workers = [ctx.Process(target=_worker, args=(str(db_path), i, out)) for i in range(PROCS)]
    try:
        for w in workers:
            w.start()
        # Generous: 16 processes doing fsync'd writes on a loaded 2-core machine.
        results = [out.get(timeout=600) for _ in workers]
        for w in workers:
            w.join(timeout=30)
    finally:
        stop.set()
        for w in workers:
            if w.is_alive():
                w.kill()
    seen, bad = obs_out.get(timeout=120)
    observer.join(timeout=30)
    failed = [r for r in results if isinstance(r, str)]
    assert not failed, failed
    assert seen > 10, "the observer must actually have looked"
    return results, bad


@pytest.mark.slow
def test_limits_hold_at_every_observed_moment(tmp_path: Path) -> None:
    site_cap, global_cap = 8_000, 30_000  # demand ~2 x 42,000: both bind
    db = tmp_path / "race.sqlite3"
    results, bad = _race(db, site_cap, global_cap)
    assert bad == 0
    engine = open_store(db, migrate=False)
    site_total, glob = counters(engine)
    spent_site = sum(r.spent_site for r in results)
    spent_all = spent_site + sum(r.spent_other for r in results)
    # Everyone settled: the counters are exactly what was paid (or of unknown fate).
    assert site_total == spent_site <= site_cap
    assert glob == spent_all <= global_cap
    with transaction(engine, readonly=True) as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        assert conn.exec_driver_sql("SELECT count(*) FROM lease WHERE state='open'").scalar() == 0
    reasons = {k for r in results for k in r.refusals}
    # The budgets bound (which one first depends on how the processes were scheduled), and
    # nothing else was ever given as a reason.
    assert reasons and reasons <= {Reason.TOTAL_CAP.value, Reason.GLOBAL_BUDGET.value}


@pytest.mark.slow
def test_a_busy_database_is_never_reported_as_insufficient_budget(tmp_path: Path) -> None:
    # Budgets far above the demand: any refusal would be a busy database misreported.
    results, bad = _race(tmp_path / "busy.sqlite3", 10**12, 10**12)
    assert bad == 0
    # A write that waited out its whole deadline (possible on a badly overloaded machine) is
    # reported as StorageBusy and counted in ``busy``: that is the right report. What must never
    # happen is a refusal.
    assert all(not r.refusals for r in results)
