"""Crash harness: SIGKILL a child at named points, 200 runs, then check what survived.

A fake peer records every Fulfill it issues in its own fsynced log before the child hears of it.
After each kill: ``PRAGMA integrity_check`` is ok, every Fulfill the peer issued is counted as
spent (site and global counters), and the balance was never refunded anything that might have
been paid. Mid-migration kills leave the old schema, and the next start migrates cleanly.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from tests.unit.core.ledgerkit import ASSET, SITE, balance, configure, counters
from wallet.ledger import Ledger, Reservation, recover
from wallet.store import open_store
from wallet.store.engine import create_db_engine, transaction
from wallet.store.migrate import current_revision, head_revision, upgrade

TZ = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 11, 21, 12, tzinfo=UTC)
INITIAL = 1_000_000
SITE_CAP, GLOBAL_CAP = 600_000, 800_000
LEDGER_POINTS = ("after_reserve", "after_left", "after_fulfill", "mid_group_commit")
RUNS_PER_POINT = 40
MIGRATION_RUNS = 40  # 4 x 40 + 40 = 200 runs


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _peer_fulfill(log: Path, amount: int) -> None:
    """The fake peer fulfils: its record is written before the sender hears about it.

    (A write survives SIGKILL of the writer — the kernel holds it — so no fsync is needed.)
    """
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{amount}\n".encode())
    finally:
        os.close(fd)


def _child(db: Path, log: Path, point: str, kill_at: int, seed: int, account_id: int) -> None:
    rng = random.Random(seed)
    engine = open_store(db, migrate=False)
    led = Ledger(engine, TZ, flush_interval=timedelta(milliseconds=100))
    statements = 0

    if point == "mid_group_commit":

        @event.listens_for(engine, "before_cursor_execute")
        def _maybe_die(*_args: object) -> None:
            nonlocal statements
            statements += 1
            if statements >= kill_at * 3 + 5:
                _die()

    now = T0
    for k in range(10_000):
        now += timedelta(milliseconds=20)
        r = led.reserve(
            site=SITE,
            provider="p",
            asset=ASSET,
            amount=rng.randint(1, 500),
            now=now,
            min_amount=1,
            account_id=account_id,
            lease_size=rng.choice([500, 2_000]),
        )
        assert isinstance(r, Reservation), r
        if point == "after_reserve" and k == kill_at:
            _die()
        # ... the Prepare leaves for the peer ...
        if point == "after_left" and k == kill_at:
            _die()
        if rng.random() < 0.75 or (point == "after_fulfill" and k == kill_at):
            _peer_fulfill(log, r.amount)
            if point == "after_fulfill" and k == kill_at:
                _die()
            led.commit(r, now, delivered=r.amount)
        else:
            led.release(r, now)


def _run_killed(fn: object) -> None:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        code = 1
        try:
            fn()  # type: ignore[operator]
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    path = tmp_path_factory.mktemp("crash") / "template.sqlite3"
    engine = open_store(path)
    acct = configure(engine, T0, site_total=SITE_CAP, global_month=GLOBAL_CAP, balance=INITIAL)
    assert acct is not None
    engine.dispose()  # the last connection closing checkpoints the WAL into the file
    assert not Path(f"{path}-wal").exists()
    return path, acct


def _check_after_crash(db: Path, log: Path, account_id: int, *, check_reuse: bool) -> None:
    engine = open_store(db, migrate=False)
    try:
        with transaction(engine, readonly=True) as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        recover(engine, T0 + timedelta(hours=3))
        fulfilled = sum(int(x) for x in log.read_text().split()) if log.exists() else 0
        site_total, glob = counters(engine)
        assert fulfilled <= site_total <= SITE_CAP
        assert fulfilled <= glob <= GLOBAL_CAP
        assert balance(engine, account_id) <= INITIAL - fulfilled  # nothing refunded if paid
        if not check_reuse:
            return
        # The ledger still works afterwards.
        led = Ledger(engine, TZ)
        r = led.reserve(
            site=SITE, provider="p", asset=ASSET, amount=1, now=T0, account_id=account_id
        )
        assert isinstance(r, Reservation)
        led.release(r, T0)
        led.close(T0)
    finally:
        engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("point", LEDGER_POINTS)
def test_kill_during_payments(point: str, template: tuple[Path, int], tmp_path: Path) -> None:
    src, account_id = template
    rng = random.Random(point)
    for run in range(RUNS_PER_POINT):
        db = tmp_path / f"run{run}.sqlite3"
        log = tmp_path / f"peer{run}.log"
        shutil.copyfile(src, db)
        kill_at = rng.randint(0, 40)
        seed = rng.randrange(2**32)
        _run_killed(lambda: _child(db, log, point, kill_at, seed, account_id))  # noqa: B023
        _check_after_crash(db, log, account_id, check_reuse=run % 10 == 0)


@pytest.mark.slow
def test_kill_mid_migration(tmp_path: Path) -> None:
    rng = random.Random(7)
    for run in range(MIGRATION_RUNS):
        db = tmp_path / f"mig{run}.sqlite3"
        # Half the runs start empty (DDL is statements 12..28), half from the revision-0001
        # fixture (statements 7..14): the kill always lands inside the migration.
        from_rev = None if run % 2 == 0 else "0001"
        if from_rev is None:
            kill_after = rng.randint(12, 28)
        else:
            shutil.copyfile(Path(__file__).parent / "fixtures" / "rev0001.sqlite3", db)
            kill_after = rng.randint(7, 14)

        def child() -> None:
            engine = create_db_engine(db)  # noqa: B023
            count = 0

            @event.listens_for(engine, "before_cursor_execute")
            def _maybe_die(*_args: object) -> None:
                nonlocal count
                count += 1
                if count >= kill_after:  # noqa: B023
                    _die()

            upgrade(engine)

        _run_killed(child)
        engine = create_db_engine(db)
        try:
            with transaction(engine, readonly=True) as conn:
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
                tables = {
                    r[0]
                    for r in conn.exec_driver_sql(
                        "SELECT name FROM sqlite_master WHERE type = 'table'"
                    )
                }
            # All or nothing: the revision it started from, untouched — never half-way.
            assert current_revision(engine) == from_rev
            if from_rev is None:
                assert tables <= {"alembic_version"}
            else:
                assert "history_day" not in tables
            upgrade(engine)
            assert current_revision(engine) == head_revision()
            if from_rev is not None:
                with transaction(engine, readonly=True) as conn:  # the old data survived
                    assert conn.exec_driver_sql("SELECT sum(sent) FROM history").scalar() == 1234
        finally:
            engine.dispose()
