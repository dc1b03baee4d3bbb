"""Storage: the profile's SQLite database (models, migrations, repositories, history).

Use :func:`open_store` to get a migrated engine; everything else takes that engine or a
connection from :func:`wallet.store.engine.transaction`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy import Connection, Engine

from wallet.budgets import GlobalPolicy
from wallet.guard_rails import new_profile_monthly_budget
from wallet.store import repo
from wallet.store.engine import (
    BUSY_TIMEOUT_MS,
    create_db_engine,
    database_path,
    default_profile_dir,
    write_txn,
)
from wallet.store.errors import (
    IntegrityViolation,
    SchemaError,
    StorageBusy,
    StorageCorrupt,
    StorageError,
)
from wallet.store.migrate import upgrade


def open_store(
    path: Path | None = None, *, migrate: bool = True, busy_timeout_ms: int = BUSY_TIMEOUT_MS
) -> Engine:
    """Open the database at ``path`` (default: the default profile) and bring it to head.

    A database created here (a new profile) starts with the new-profile defaults: a global
    monthly budget of 5 USD (``wallet.guard_rails``).

    Raises:
        StorageError: the file cannot be opened, is damaged, or a migration failed.
    """
    db = path if path is not None else database_path()
    new = str(db) != ":memory:" and not db.exists()
    engine = create_db_engine(db, busy_timeout_ms=busy_timeout_ms)
    if migrate:
        try:
            upgrade(engine)
            if new:
                write_txn(engine, _new_profile_defaults)
        except BaseException:
            engine.dispose()
            raise
    return engine


def _new_profile_defaults(conn: Connection) -> None:
    """A new profile starts with a global monthly budget (5 USD), never "no limit"."""
    if repo.get_setting(conn, repo.GLOBAL_POLICY_KEY) is None:
        glob = GlobalPolicy()
        budget = new_profile_monthly_budget(glob.budget_asset)
        repo.save_global_policy(conn, replace(glob, monthly_budget=budget))


__all__ = [
    "IntegrityViolation",
    "SchemaError",
    "StorageBusy",
    "StorageCorrupt",
    "StorageError",
    "database_path",
    "default_profile_dir",
    "open_store",
]
