"""Storage: the profile's SQLite database (models, migrations, repositories, history).

Use :func:`open_store` to get a migrated engine; everything else takes that engine or a
connection from :func:`wallet.store.engine.transaction`.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from wallet.store.engine import (
    BUSY_TIMEOUT_MS,
    create_db_engine,
    database_path,
    default_profile_dir,
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

    Raises:
        StorageError: the file cannot be opened, is damaged, or a migration failed.
    """
    engine = create_db_engine(path, busy_timeout_ms=busy_timeout_ms)
    if migrate:
        try:
            upgrade(engine)
        except BaseException:
            engine.dispose()
            raise
    return engine


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
