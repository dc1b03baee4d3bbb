"""Schema migrations, run programmatically (no ``alembic.ini``).

Owns: bringing a database to the schema revision this code expects. The migration scripts live
in ``wallet/store/migrations`` inside the package, so they install with pip.

Invariants:
- An upgrade runs in one ``BEGIN IMMEDIATE`` transaction (SQLite DDL is transactional): a crash
  mid-migration leaves the previous revision intact, never a half-migrated file.
- A database newer than this code (unknown revision) is refused, not touched.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc

from wallet.store.engine import read_only, wrap_db_error
from wallet.store.errors import SchemaError, StorageError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise SchemaError("no migrations found")
    return head


def known_revisions() -> list[str]:
    """Every known revision, oldest first."""
    script = ScriptDirectory.from_config(_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def current_revision(engine: Engine) -> str | None:
    """The database's revision (None for an empty database).

    Raises:
        StorageError: the database cannot be read.
    """
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(read_only(conn)).get_current_revision()
    except sa_exc.SQLAlchemyError as e:
        raise wrap_db_error(e) from e


def _run(engine: Engine, direction: str, revision: str) -> None:
    cfg = _config()
    try:
        with engine.connect() as conn:
            cfg.attributes["connection"] = conn
            if direction == "up":
                command.upgrade(cfg, revision)
            else:
                command.downgrade(cfg, revision)
    except CommandError as e:
        raise SchemaError(f"migration failed: {e}") from e
    except sa_exc.SQLAlchemyError as e:
        raise wrap_db_error(e) from e


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` (default: the newest).

    Raises:
        SchemaError: the database has a revision this code does not know.
        StorageError: the migration failed (the database keeps its previous revision).
    """
    current = current_revision(engine)
    if current is not None and current not in known_revisions():
        raise SchemaError(
            f"the profile database has schema revision {current!r}, newer than this Trickle"
        )
    _run(engine, "up", revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Downgrade to ``revision`` (``"base"`` empties the schema). Loses data of newer tables.

    Raises:
        StorageError: the migration failed (the database keeps its previous revision).
    """
    _run(engine, "down", revision)


__all__ = [
    "MIGRATIONS_DIR",
    "SchemaError",
    "StorageError",
    "current_revision",
    "downgrade",
    "head_revision",
    "known_revisions",
    "upgrade",
]
