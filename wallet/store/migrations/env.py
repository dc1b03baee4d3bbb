"""Alembic environment: runs migrations on the connection :mod:`wallet.store.migrate` passes.

There is no ``alembic.ini`` and no URL here: the caller hands over an open SQLAlchemy connection
(with the store's pragmas and ``BEGIN IMMEDIATE`` discipline) in ``config.attributes``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from wallet.store.models import Base

config = context.config
connection = config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("wallet.store migrations run only through wallet.store.migrate")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    transactional_ddl=True,
    # One transaction for the whole upgrade: a crash mid-way leaves the old schema intact.
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
