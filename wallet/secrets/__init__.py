"""Secrets: upstream tokens and keys, kept out of SQLite, logs, exceptions and ``repr``.

Owns the :class:`Secret` value type, the :class:`SecretStore` interface and its implementations
(the OS keyring — only backends keyring recommends and Trickle trusts —, an explicit
passphrase-encrypted file, and memory for tests), the factory that picks one without silent
fallback, and the log redaction filter.

Invariants: a secret value leaves a :class:`Secret` only through :meth:`Secret.reveal`; no error
raised here carries a value; a plain-text, ``fail`` or ``null`` keyring backend is refused with
:class:`NoSecureKeyringError`. Imports nothing from ``ui`` or PySide6.
"""

from __future__ import annotations

from wallet.secrets.encrypted_file import EncryptedFileSecretStore
from wallet.secrets.errors import (
    CorruptSecretsFileError,
    InvalidSecretNameError,
    NoSecureKeyringError,
    SecretsFileExistsError,
    SecretStoreError,
    SecretStoreUnavailableError,
    UnsupportedSecretsFileError,
    WeakPassphraseError,
    WrongPassphraseError,
)
from wallet.secrets.factory import open_secret_store
from wallet.secrets.keyring_store import (
    TRUSTED_BACKENDS,
    KeyringSecretStore,
    check_keyring_backend,
    detect_keyring_backend,
)
from wallet.secrets.redaction import RedactingFilter, install_redaction, redact
from wallet.secrets.secret import Secret
from wallet.secrets.store import MemorySecretStore, SecretStore, check_name, uplink_token_name

__all__ = [
    "TRUSTED_BACKENDS",
    "CorruptSecretsFileError",
    "EncryptedFileSecretStore",
    "InvalidSecretNameError",
    "KeyringSecretStore",
    "MemorySecretStore",
    "NoSecureKeyringError",
    "RedactingFilter",
    "Secret",
    "SecretStore",
    "SecretStoreError",
    "SecretStoreUnavailableError",
    "SecretsFileExistsError",
    "UnsupportedSecretsFileError",
    "WeakPassphraseError",
    "WrongPassphraseError",
    "check_keyring_backend",
    "check_name",
    "detect_keyring_backend",
    "install_redaction",
    "open_secret_store",
    "redact",
    "uplink_token_name",
]
