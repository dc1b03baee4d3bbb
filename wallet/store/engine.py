"""The SQLite engine: one file per profile, opened the same safe way every time.

Owns: where the database lives (``platformdirs.user_data_dir("trickle")`` unless a path is
given), the per-connection pragmas and the transaction discipline.

Invariants:
- Every connection runs ``journal_mode=WAL``, ``synchronous=FULL``, ``foreign_keys=ON``,
  ``secure_delete=ON`` and a busy timeout.
- pysqlite's own transaction handling is switched off (``isolation_level=None``) and every
  SQLAlchemy transaction starts with ``BEGIN IMMEDIATE``, so a write transaction takes the write
  lock before it reads anything it later depends on (no read-then-write races). Read-only work
  can ask for a plain ``BEGIN`` with :func:`read_only`.
- A profile directory it creates is 0700 and the database file 0600 whatever the umask (an
  existing file is tightened); SQLite creates the WAL and shared-memory files with the file's
  mode. The app tightens an existing profile directory (``wallet.private_files``).
- SQL parameters are hidden from error messages (``hide_parameters=True``).
- :func:`write_txn` retries while the database is busy and raises :class:`StorageBusy` after its
  deadline — never anything that a caller could mistake for "insufficient budget".
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import platformdirs
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import NullPool

from wallet.private_files import create_private_file, make_private_dir
from wallet.store.errors import (
    IntegrityViolation,
    StorageBusy,
    StorageCorrupt,
    StorageError,
)

DB_FILENAME = "trickle.sqlite3"
BUSY_TIMEOUT_MS = 5_000
_READ_ONLY = "trickle_read_only"

T = TypeVar("T")


def default_profile_dir() -> Path:
    """The default profile directory (``user_data_dir("trickle")``)."""
    return Path(platformdirs.user_data_dir("trickle", appauthor=False))


def database_path(profile_dir: Path | None = None) -> Path:
    """The database file inside ``profile_dir`` (default: :func:`default_profile_dir`)."""
    return (profile_dir or default_profile_dir()) / DB_FILENAME


def _pragmas(busy_timeout_ms: int) -> Callable[[sqlite3.Connection, object], None]:
    def on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        _on_connect(dbapi_conn, busy_timeout_ms)

    return on_connect


def _on_connect(dbapi_conn: sqlite3.Connection, busy_timeout_ms: int) -> None:
    # Switch off pysqlite's implicit BEGIN/COMMIT; SQLAlchemy's "begin" event emits our own.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    try:
        cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        # WAL is persistent in the file: only switch when needed (switching takes a lock).
        mode = cur.execute("PRAGMA journal_mode").fetchone()
        if mode is None or str(mode[0]).lower() != "wal":
            mode = cur.execute("PRAGMA journal_mode = WAL").fetchone()
        if mode is None or str(mode[0]).lower() != "wal":
            raise StorageError("the database could not be switched to WAL mode")
        cur.execute("PRAGMA synchronous = FULL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA secure_delete = ON")
    finally:
        cur.close()


def _on_begin(conn: Connection) -> None:
    if conn.get_execution_options().get(_READ_ONLY):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_db_engine(
    path: Path | None = None, *, echo: bool = False, busy_timeout_ms: int = BUSY_TIMEOUT_MS
) -> Engine:
    """Open (creating if needed) the SQLite database at ``path``.

    Args:
        path: the database file; default :func:`database_path` in the default profile.
        echo: log SQL (parameters stay hidden).
        busy_timeout_ms: how long one statement waits for another process's lock.

    Raises:
        StorageError: the directory cannot be created or the file cannot be opened.
    """
    db = path if path is not None else database_path()
    if not _is_memory(db):
        try:
            make_private_dir(db.parent, tighten_existing=False)
            create_private_file(db)  # SQLite gives the WAL and shm files the file's mode
            for companion in (_suffixed(db, "-wal"), _suffixed(db, "-shm")):
                if companion.exists():
                    create_private_file(companion)
        except OSError as e:
            raise StorageError(f"cannot create the profile database: {e.strerror}") from e
    engine = create_engine(
        f"sqlite:///{db}",
        echo=echo,
        hide_parameters=True,
        poolclass=NullPool if _is_memory(db) else None,
    )
    event.listen(engine, "connect", _pragmas(busy_timeout_ms))
    event.listen(engine, "begin", _on_begin)
    try:
        with engine.connect() as conn:
            read_only(conn).exec_driver_sql("SELECT 1")  # opens the file; takes no write lock
    except sa_exc.SQLAlchemyError as e:
        engine.dispose()
        raise wrap_db_error(e) from e
    return engine


def _suffixed(db: Path, suffix: str) -> Path:
    return db.with_name(db.name + suffix)


def _is_memory(db: Path) -> bool:
    return str(db) == ":memory:"


def read_only(conn: Connection) -> Connection:
    """``conn`` set up so that its next transaction starts with a deferred ``BEGIN``."""
    return conn.execution_options(**{_READ_ONLY: True})


def _is_busy(e: BaseException) -> bool:
    orig = getattr(e, "orig", None)
    if isinstance(orig, sqlite3.OperationalError):
        msg = str(orig).lower()
        return "locked" in msg or "busy" in msg
    return False


def wrap_db_error(e: BaseException) -> StorageError:
    """A named :class:`StorageError` for a SQLAlchemy/sqlite3 exception (no parameters)."""
    if isinstance(e, StorageError):
        return e
    if _is_busy(e):
        return StorageBusy("the database is busy (locked by another process)")
    orig = getattr(e, "orig", e)
    if isinstance(e, sa_exc.IntegrityError) or isinstance(orig, sqlite3.IntegrityError):
        return IntegrityViolation(f"a database constraint refused the write: {orig}")
    if isinstance(orig, sqlite3.DatabaseError) and (
        "malformed" in str(orig) or "not a database" in str(orig)
    ):
        return StorageCorrupt(f"the database file is damaged: {orig}")
    return StorageError(f"database error: {type(orig).__name__}: {orig}")


@contextmanager
def transaction(engine: Engine, *, readonly: bool = False) -> Iterator[Connection]:
    """One transaction (``BEGIN IMMEDIATE`` unless ``readonly``), errors wrapped.

    Raises:
        StorageError: any database failure, named (busy, integrity, corrupt, ...).
    """
    try:
        with engine.connect() as conn:
            c = read_only(conn) if readonly else conn
            with c.begin():
                yield c
    except sa_exc.SQLAlchemyError as e:
        raise wrap_db_error(e) from e
    except sqlite3.Error as e:
        raise wrap_db_error(e) from e


def write_txn(
    engine: Engine,
    fn: Callable[[Connection], T],
    *,
    deadline_s: float = 30.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Any] = time.sleep,
) -> T:
    """Run ``fn`` in one ``BEGIN IMMEDIATE`` transaction, retrying while the database is busy.

    ``fn`` must be safe to re-run (it is only re-run when the transaction did not commit).

    Raises:
        StorageBusy: still busy after ``deadline_s`` seconds.
        StorageError: any other database failure.
    """
    start = clock()
    delay = 0.001
    while True:
        try:
            with transaction(engine) as conn:
                return fn(conn)
        except StorageBusy:
            if clock() - start >= deadline_s:
                raise
            sleep(delay)
            delay = min(delay * 2, 0.05)
