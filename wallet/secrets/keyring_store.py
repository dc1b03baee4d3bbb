"""The OS keyring as a :class:`~wallet.secrets.store.SecretStore`, through ``keyring``.

Owns the rule for which keyring backends Trickle trusts. A backend is accepted only if

1. it is one of keyring's own OS-keyring backends (Secret Service, libsecret, KWallet, macOS
   Keychain, Windows Credential Locker) — listed in :data:`TRUSTED_BACKENDS` by qualified class
   name, exact type, no subclasses — so ``keyrings.alt``'s plain-text/"encrypted" files,
   ``keyring.backends.fail`` and ``keyring.backends.null`` and any third-party plugin are refused
   whatever priority they claim; and
2. keyring recommends it right now: its ``priority`` is computed without error (for the Secret
   Service that means the daemon answers on D-Bus) and is ``>= 1`` (``keyring.core.recommended``).

A ``ChainerBackend`` is never used as such (it would fall through to the next backend when one
fails, possibly a plain-text one): the first trusted backend it chains is used directly, and a
chainer that wraps only untrusted ones is refused. Refusal is
:class:`~wallet.secrets.errors.NoSecureKeyringError`, which says in words what to do; there is no
fallback.

Every exception from the backend is wrapped (``raise ... from e``) in a
:class:`~wallet.secrets.errors.SecretStoreError`; messages name the secret, never its value.
"""

from __future__ import annotations

import logging
from typing import Final

from keyring.backend import KeyringBackend
from keyring.backends.chainer import ChainerBackend
from keyring.core import load_config, load_env
from keyring.errors import PasswordDeleteError

from wallet.secrets.errors import NoSecureKeyringError, SecretStoreUnavailableError
from wallet.secrets.redaction import redact
from wallet.secrets.secret import Secret
from wallet.secrets.store import check_name

log = logging.getLogger(__name__)

DEFAULT_SERVICE: Final = "Trickle"

#: keyring's OS-keyring backends, by ``module.QualName``; the only ones Trickle will use.
TRUSTED_BACKENDS: Final = frozenset(
    {
        "keyring.backends.SecretService.Keyring",
        "keyring.backends.libsecret.Keyring",
        "keyring.backends.kwallet.DBusKeyring",
        "keyring.backends.kwallet.DBusKeyringKWallet4",
        "keyring.backends.macOS.Keyring",
        "keyring.backends.Windows.WinVaultKeyring",
    }
)

#: Candidates for detection, best first when priorities tie.
_DETECT_ORDER: Final = (
    "keyring.backends.SecretService.Keyring",
    "keyring.backends.kwallet.DBusKeyring",
    "keyring.backends.kwallet.DBusKeyringKWallet4",
    "keyring.backends.libsecret.Keyring",
    "keyring.backends.macOS.Keyring",
    "keyring.backends.Windows.WinVaultKeyring",
)


def _qualified(cls: type[object]) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _describe(exc: BaseException) -> str:
    text = redact(str(exc))
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _refusal(backend: KeyringBackend) -> str | None:
    """Why ``backend`` (not a chainer) is refused, or ``None`` if it is trusted and recommended."""
    name = _qualified(type(backend))
    if name not in TRUSTED_BACKENDS:
        return f"{name} is not an OS keyring Trickle trusts"
    try:
        priority = float(type(backend).priority)
    except Exception as e:  # noqa: BLE001 - keyring signals "not viable here" by raising anything
        return f"{name} is not available: {_describe(e)}"
    if priority < 1:
        return f"{name} is not recommended by keyring (priority {priority:g})"
    return None


def check_keyring_backend(backend: KeyringBackend) -> KeyringBackend:
    """The backend to use for ``backend``: itself, or for a chainer its first trusted member.

    Raises:
        NoSecureKeyringError: ``backend`` (or every backend it chains) is refused.
    """
    if isinstance(backend, ChainerBackend):
        try:
            members: list[KeyringBackend] = list(backend.backends)
        except Exception as e:  # third-party backends may fail in any way
            raise NoSecureKeyringError((f"the keyring chain failed: {_describe(e)}",)) from e
        reasons: list[str] = []
        for member in members:
            why = _refusal(member)
            if why is None:
                return member
            reasons.append(why)
        reasons.append(f"{_qualified(type(backend))} chains no trusted keyring")
        raise NoSecureKeyringError(tuple(reasons))
    why = _refusal(backend)
    if why is not None:
        raise NoSecureKeyringError((why,))
    return backend


def _configured_backend() -> KeyringBackend | None:
    """The backend the user chose for keyring (``PYTHON_KEYRING_BACKEND`` or ``keyringrc.cfg``).

    Raises:
        NoSecureKeyringError: a backend is configured but cannot be loaded.
    """
    try:
        return load_env() or load_config()
    except Exception as e:  # import errors, RuntimeError from priority, ...
        raise NoSecureKeyringError(
            (f"the configured keyring cannot be used: {_describe(e)}",)
        ) from e


def detect_keyring_backend() -> KeyringBackend:
    """The best trusted, recommended keyring backend available now, detected afresh.

    A backend the user configured for keyring is honoured only if it is trusted; otherwise
    Trickle refuses rather than silently picking another. Without configuration, each of
    :data:`TRUSTED_BACKENDS` is probed (keyring's own cached detection is not used: it may have
    run before the keyring daemon was up).

    Raises:
        NoSecureKeyringError: nothing suitable is available.
    """
    configured = _configured_backend()
    if configured is not None:
        return check_keyring_backend(configured)
    reasons: list[str] = []
    best: tuple[float, KeyringBackend] | None = None
    for name in _DETECT_ORDER:
        module_name, _, class_name = name.rpartition(".")
        try:
            module = __import__(module_name, fromlist=[class_name])
            cls: type[KeyringBackend] = getattr(module, class_name)
            backend = cls()
        except Exception as e:  # noqa: BLE001 - platform modules fail to import elsewhere
            reasons.append(f"{name} cannot be loaded: {_describe(e)}")
            continue
        why = _refusal(backend)
        if why is not None:
            reasons.append(why)
            continue
        priority = float(type(backend).priority)
        if best is None or priority > best[0]:
            best = (priority, backend)
    if best is None:
        raise NoSecureKeyringError(tuple(reasons))
    return best[1]


class KeyringSecretStore:
    """Secrets in the OS keyring, each under (``service``, name).

    Every call is a blocking D-Bus round trip (a few ms, more if the keyring must unlock); from
    asyncio code call it in a worker thread (``asyncio.to_thread``).

    Raises (constructor):
        NoSecureKeyringError: ``backend`` is not a trusted, recommended keyring.
    """

    def __init__(self, backend: KeyringBackend, *, service: str = DEFAULT_SERVICE) -> None:
        self._backend = check_keyring_backend(backend)
        self._service = service

    @classmethod
    def detect(cls, *, service: str = DEFAULT_SERVICE) -> KeyringSecretStore:
        """The store on :func:`detect_keyring_backend`'s backend.

        Raises:
            NoSecureKeyringError: nothing suitable is available.
        """
        return cls(detect_keyring_backend(), service=service)

    @property
    def backend_name(self) -> str:
        """The backend's qualified class name, for the settings page and logs."""
        return _qualified(type(self._backend))

    def get(self, name: str) -> Secret | None:
        check_name(name)
        try:
            value = self._backend.get_password(self._service, name)
        except Exception as e:  # wrap everything the backend raises
            raise SecretStoreUnavailableError(
                f"The keyring could not read the secret {name!r} ({_describe(e)}). "
                "Check that the keyring is running and unlocked."
            ) from e
        if not value:
            return None
        return Secret(value)

    def set(self, name: str, secret: Secret) -> None:
        check_name(name)
        if not isinstance(secret, Secret):
            raise TypeError("SecretStore.set takes a Secret; wrap the value in Secret(...)")
        try:
            self._backend.set_password(self._service, name, secret.reveal())
        except Exception as e:  # wrap everything the backend raises
            raise SecretStoreUnavailableError(
                f"The keyring could not store the secret {name!r} ({_describe(e)}). "
                "Check that the keyring is running and unlocked."
            ) from e
        log.debug("stored secret %r in %s", name, self.backend_name)

    def delete(self, name: str) -> None:
        check_name(name)
        try:
            self._backend.delete_password(self._service, name)
        except PasswordDeleteError as e:
            # keyring reports "no such password" this way; deleting nothing is a no-op for us.
            if self.get(name) is not None:
                raise SecretStoreUnavailableError(
                    f"The keyring could not delete the secret {name!r} ({_describe(e)})."
                ) from e
        except Exception as e:  # wrap everything the backend raises
            raise SecretStoreUnavailableError(
                f"The keyring could not delete the secret {name!r} ({_describe(e)}). "
                "Check that the keyring is running and unlocked."
            ) from e

    def __repr__(self) -> str:
        return f"KeyringSecretStore({self.backend_name}, service={self._service!r})"
