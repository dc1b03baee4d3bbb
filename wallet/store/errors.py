"""Storage errors: every database failure the store lets out is one of these.

Third-party exceptions (``sqlalchemy.exc.*``, ``sqlite3.*``) are wrapped at the boundary with
``raise ... from e``; engines are created with ``hide_parameters=True`` so SQL parameters (which
could carry user data) never appear in a message. A busy database is :class:`StorageBusy` — never
a budget refusal.
"""

from __future__ import annotations

from wallet.errors import WalletError


class StorageError(WalletError):
    """Base of every storage failure."""


class StorageBusy(StorageError):
    """Another process held the write lock for longer than we were willing to wait."""


class StorageCorrupt(StorageError):
    """The database file is damaged or is not a Trickle database."""


class SchemaError(StorageError):
    """The schema revision is unknown, too new, or a migration failed."""


class IntegrityViolation(StorageError):
    """A constraint (unique, check, foreign key) refused a write."""
