"""Sandbox top-up: add play money to the built-in sandbox account, atomically.

Owns nothing but this one write. It adds to the balance in one ``BEGIN IMMEDIATE``
transaction (``balance = balance + amount``), so a lease the ledger takes at the same moment
is never overwritten. Only the ``sandbox`` network can be topped up: real money comes from the
upstream connector, never from a button.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine

from wallet.errors import WalletError
from wallet.store import repo
from wallet.store.engine import write_txn
from wallet.store.repo import AccountInfo

SANDBOX = "sandbox"


class TopUpError(WalletError):
    """The top-up was refused (no sandbox account, not a positive amount)."""


def top_up_sandbox(engine: Engine, amount: int, now: datetime) -> AccountInfo:
    """Add ``amount`` (units of the sandbox account's asset) to its balance.

    Raises:
        TopUpError: no sandbox account yet, or ``amount`` is not positive.
        StorageError: the database failed (``StorageBusy`` after its deadline).
    """
    if amount <= 0:
        raise TopUpError("a top-up must be a positive amount")

    def txn(conn: Connection) -> AccountInfo:
        acct = repo.get_account(conn, SANDBOX)
        if acct is None:
            raise TopUpError("there is no sandbox account yet")
        repo.adjust_balance(conn, acct.id, amount, now)
        got = repo.get_account(conn, SANDBOX)
        assert got is not None
        return got

    return write_txn(engine, txn)
