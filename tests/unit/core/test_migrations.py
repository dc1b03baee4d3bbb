"""Migrations: from an empty database, from every earlier revision (fixture files), down and up."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text

from wallet.store import SchemaError, open_store
from wallet.store.engine import create_db_engine, transaction
from wallet.store.migrate import (
    current_revision,
    downgrade,
    head_revision,
    known_revisions,
    upgrade,
)
from wallet.store.models import Base

FIXTURES = Path(__file__).parent / "fixtures"


def _schema_diff(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), Base.metadata))


def _integrity(engine: Engine) -> str:
    with transaction(engine, readonly=True) as conn:
        return str(conn.exec_driver_sql("PRAGMA integrity_check").scalar())


def test_revisions_are_a_line() -> None:
    assert known_revisions() == ["0001", "0002", "0003", "0004_link_payees"]
    assert head_revision() == "0004_link_payees"


def test_upgrade_from_empty_matches_the_models(db_path: Path) -> None:
    engine = create_db_engine(db_path)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert _schema_diff(engine) == []
    assert _integrity(engine) == "ok"
    engine.dispose()


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("rev*.sqlite3")))
def test_upgrade_from_every_earlier_revision_keeps_the_data(fixture: str, tmp_path: Path) -> None:
    db = tmp_path / fixture
    shutil.copyfile(FIXTURES / fixture, db)
    engine = create_db_engine(db)
    assert current_revision(engine) == fixture.removeprefix("rev").removesuffix(".sqlite3")
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert _schema_diff(engine) == []
    with transaction(engine, readonly=True) as conn:
        assert conn.execute(text("SELECT name FROM handler WHERE active")).scalar() == "Sandbox"
        assert conn.execute(text("SELECT sum(sent) FROM history")).scalar() == 1234
        # 0003 backfilled the daily rollup from the hourly rows.
        day = conn.execute(text("SELECT day, sent, packets FROM history_day")).one()
        assert tuple(day) == (490000 // 24, 1234, 7)
        assert conn.execute(text("SELECT balance FROM account")).scalar() == 5_000_000_000
    assert _integrity(engine) == "ok"
    engine.dispose()


def test_every_revision_has_a_fixture() -> None:
    older = known_revisions()[:-1]
    assert {f"rev{r}.sqlite3" for r in older} <= {p.name for p in FIXTURES.iterdir()}


def test_downgrade_then_upgrade(engine: Engine) -> None:
    with transaction(engine) as conn:
        conn.execute(text("INSERT INTO setting (key, value) VALUES ('ui.kept', '1')"))
    for rev in reversed(known_revisions()[:-1]):
        downgrade(engine, rev)
        assert current_revision(engine) == rev
    with transaction(engine, readonly=True) as conn:  # data in surviving tables is kept
        kept = text("SELECT value FROM setting WHERE key = 'ui.kept'")
        assert conn.execute(kept).scalar() == "1"
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    downgrade(engine, "base")
    assert current_revision(engine) is None
    upgrade(engine)
    assert _schema_diff(engine) == []


def test_a_newer_database_is_refused(engine: Engine, db_path: Path) -> None:
    with transaction(engine) as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(SchemaError):
        open_store(db_path)
