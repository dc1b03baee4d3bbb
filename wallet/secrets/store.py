"""The :class:`SecretStore` interface, secret names, and the in-memory store for tests.

A secret store maps a *name* to a :class:`~wallet.secrets.secret.Secret`. Names are not secret
(they may appear in SQLite, logs and messages); values are. Names look like
``uplink-token:<profile-id>`` — see :func:`uplink_token_name`.

Invariants every implementation keeps: ``get`` returns ``None`` for a missing name (never raises
for it); ``delete`` of a missing name is a no-op; failures are
:class:`~wallet.secrets.errors.SecretStoreError` subclasses whose messages never carry a value.
"""

from __future__ import annotations

import re
import threading
from typing import Final, Protocol, runtime_checkable

from wallet.secrets.errors import InvalidSecretNameError
from wallet.secrets.secret import Secret

_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+-]{0,254}")
NAME_RULE: Final = (
    "a secret name is 1 to 255 characters: letters, digits and . _ : @ / + -, "
    "starting with a letter or digit"
)


def check_name(name: str) -> str:
    """``name`` if it is a valid secret name.

    Raises:
        InvalidSecretNameError: otherwise. The message does not echo the name, in case a caller
            passed a value where a name belongs.
    """
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        raise InvalidSecretNameError(f"Invalid secret name: {NAME_RULE}.")
    return name


def uplink_token_name(profile_id: str) -> str:
    """The name under which the upstream connector token of uplink profile ``profile_id`` lives."""
    return check_name(f"uplink-token:{profile_id}")


@runtime_checkable
class SecretStore(Protocol):
    """Where Trickle keeps secrets. Implementations: keyring, encrypted file, memory (tests)."""

    def get(self, name: str) -> Secret | None:
        """The secret stored under ``name``, or ``None``.

        Raises:
            InvalidSecretNameError, SecretStoreError.
        """
        ...

    def set(self, name: str, secret: Secret) -> None:
        """Store ``secret`` under ``name``, replacing any earlier one.

        Raises:
            InvalidSecretNameError, SecretStoreError.
        """
        ...

    def delete(self, name: str) -> None:
        """Forget the secret under ``name``; nothing happens if there is none.

        Raises:
            InvalidSecretNameError, SecretStoreError.
        """
        ...


class MemorySecretStore:
    """A :class:`SecretStore` in a dict, for tests of other parts. Never persisted."""

    def __init__(self, initial: dict[str, Secret] | None = None) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, Secret] = {}
        for name, secret in (initial or {}).items():
            self.set(name, secret)

    def get(self, name: str) -> Secret | None:
        check_name(name)
        with self._lock:
            return self._items.get(name)

    def set(self, name: str, secret: Secret) -> None:
        check_name(name)
        if not isinstance(secret, Secret):
            raise TypeError("SecretStore.set takes a Secret; wrap the value in Secret(...)")
        with self._lock:
            self._items[name] = secret

    def delete(self, name: str) -> None:
        check_name(name)
        with self._lock:
            self._items.pop(name, None)

    def names(self) -> list[str]:
        """The stored names, sorted (names are not secret)."""
        with self._lock:
            return sorted(self._items)

    def __repr__(self) -> str:
        return f"MemorySecretStore(<{len(self._items)} secrets>)"
