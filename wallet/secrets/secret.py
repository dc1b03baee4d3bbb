"""The :class:`Secret` value type: a string that does not leak by accident.

Invariants:
- ``repr``/``str``/``format`` never show the value (``Secret('***')``); only :meth:`Secret.reveal`
  does, so every place that needs the value is greppable.
- Equality runs in constant time (``hmac.compare_digest``); secrets are unhashable (no dict keys,
  no sets) and refuse ``pickle``; ``copy`` returns the same immutable object.
- Every live ``Secret`` is known to this module's registry (weakly: a secret is forgotten when the
  last reference to it goes), so :mod:`wallet.secrets.redaction` can scrub its value from log
  records even when someone formatted ``secret.reveal()`` into a message by mistake.
"""

from __future__ import annotations

import hmac
import weakref
from typing import Any, Final, NoReturn, final

HIDDEN: Final = "***"


@final
class Secret:
    """An immutable, non-empty secret string (a token, a key, a passphrase).

    Raises:
        TypeError: the value is not a ``str``.
        ValueError: the value is empty.
    """

    __slots__ = ("__weakref__", "_value")
    _value: str

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"a Secret holds a str, not {type(value).__name__}")
        if not value:
            raise ValueError("a Secret must not be empty")
        object.__setattr__(self, "_value", value)
        _registry.add(self)

    def reveal(self) -> str:
        """The secret value. Call it only where the value leaves for its one legitimate use."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({HIDDEN!r})"

    def __str__(self) -> str:
        return HIDDEN

    def __format__(self, format_spec: str) -> str:
        return HIDDEN

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    # Hashing would make secrets dict keys, whose lookups compare in variable time.
    __hash__ = None  # type: ignore[assignment]

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("Secret is immutable")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError("Secret is immutable")

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise TypeError("a Secret cannot be pickled; keep it in a SecretStore")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self


class _Registry:
    """The live secrets, held weakly and keyed by identity (``Secret`` is unhashable).

    No lock: ``dict`` stores, ``pop`` and ``copy`` are atomic under the GIL, and the weakref
    callback only pops its own key.
    """

    def __init__(self) -> None:
        self._refs: dict[int, weakref.ref[Secret]] = {}

    def add(self, secret: Secret) -> None:
        key = id(secret)
        refs = self._refs
        self._refs[key] = weakref.ref(secret, lambda _ref: refs.pop(key, None))

    def values(self) -> list[str]:
        """The live secret values, longest first (so a secret inside another is no problem)."""
        found = {s._value for r in self._refs.copy().values() if (s := r()) is not None}
        return sorted(found, key=len, reverse=True)


_registry: Final = _Registry()


def live_secret_values() -> list[str]:
    """The values of every live :class:`Secret`, longest first. For the redactor only."""
    return _registry.values()
