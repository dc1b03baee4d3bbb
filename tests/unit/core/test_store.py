from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from wallet.budgets import Asset, Defaults, GlobalPolicy, SitePolicy, SiteState
from wallet.errors import WalletError
from wallet.store import StorageError, open_store, repo
from wallet.store.engine import transaction, write_txn
from wallet.store.errors import IntegrityViolation, StorageBusy

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)


def test_every_connection_has_the_safe_pragmas(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
        busy_timeout = conn.exec_driver_sql("PRAGMA busy_timeout").scalar()
        assert busy_timeout is not None and busy_timeout >= 1000


def test_writes_take_the_write_lock_at_begin(engine: Engine, db_path: Path) -> None:
    other = open_store(db_path, busy_timeout_ms=50)
    try:
        with transaction(engine) as conn:
            conn.execute(text("SELECT 1"))  # BEGIN IMMEDIATE already holds the lock
            with pytest.raises(StorageBusy):
                write_txn(other, lambda c: c.execute(text("SELECT 1")), deadline_s=0.0)
            # a read-only transaction is not blocked (WAL)
            with transaction(other, readonly=True) as r:
                assert r.execute(text("SELECT 1")).scalar() == 1
    finally:
        other.dispose()


def test_errors_are_named_and_hide_parameters(engine: Engine) -> None:
    secret = "canary-param-8f3a"
    with pytest.raises(IntegrityViolation) as ei, transaction(engine) as conn:
        repo.upsert_account(
            conn, network=secret, address="g.x", asset=Asset("USD", 2), balance=1, now=NOW
        )
        repo.adjust_balance(conn, 1, -5, NOW)
    assert isinstance(ei.value, WalletError)
    chain = [ei.value, ei.value.__cause__]
    assert all(secret not in str(e) for e in chain)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError):
        open_store(bad)


def test_handlers_one_active_and_already_registered(engine: Engine) -> None:
    with transaction(engine) as conn:
        a, again = repo.add_handler(
            conn, origin="https://p.example", name="P", handler_uri="https://p.example/h", now=NOW
        )
        assert not again and a.active  # the first one becomes active
        b, again = repo.add_handler(
            conn, origin="https://q.example", name="Q", handler_uri="https://q.example/h", now=NOW
        )
        assert not again and not b.active
        _, again = repo.add_handler(
            conn, origin="https://p.example", name="P", handler_uri="https://p.example/h", now=NOW
        )
        assert again
        assert repo.activate_handler(conn, b.id)
        assert [h.active for h in repo.list_handlers(conn)] == [False, True]
        assert not repo.activate_handler(conn, 999)
    with pytest.raises(IntegrityViolation), transaction(engine) as conn:
        conn.execute(text("UPDATE handler SET active = 1"))  # the index refuses two actives
    with transaction(engine) as conn:
        assert repo.active_handler(conn) == repo.get_handler(conn, b.id)
        assert repo.remove_handler(conn, b.id)
        assert repo.active_handler(conn) is None


def test_policies_and_settings_round_trip(engine: Engine) -> None:
    p = SitePolicy("https://s.example", SiteState.PAUSED, rate_per_hour=5, cap_day=7)
    g = GlobalPolicy(budget_asset=Asset("EUR", 6), monthly_budget=99, defaults=Defaults(1, 2, 3, 4))
    with transaction(engine) as conn:
        assert repo.get_policy(conn, p.site) is None
        repo.set_policy(conn, p, NOW)
        repo.save_global_policy(conn, g)
        repo.set_setting(conn, "ui.zoom", {"level": 1.25})
    with transaction(engine, readonly=True) as conn:
        assert repo.get_policy(conn, p.site) == p
        assert repo.load_global_policy(conn) == g
        assert repo.get_setting(conn, "ui.zoom") == {"level": 1.25}
        assert repo.list_policies(conn) == [p]
    with transaction(engine) as conn:
        assert repo.delete_policy(conn, p.site)
        assert repo.get_policy(conn, p.site) is None


def test_time_round_trips_in_milliseconds() -> None:
    t = datetime(2026, 3, 29, 1, 2, 3, 456000, tzinfo=UTC)
    assert repo.from_ms(repo.to_ms(t)) == t
    with pytest.raises(StorageError):
        repo.to_ms(datetime(2026, 1, 1))
