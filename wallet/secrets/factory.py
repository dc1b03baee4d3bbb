"""Choosing the secret store: the OS keyring, or the encrypted file the user chose explicitly.

Invariant: there is no silent fallback. Without an explicit encrypted-file choice the keyring is
used or :class:`~wallet.secrets.errors.NoSecureKeyringError` is raised, whose words tell the user
to start a keyring or choose an encrypted secrets file; ``ui`` shows them and offers the choice.
"""

from __future__ import annotations

from pathlib import Path

from wallet.secrets.encrypted_file import EncryptedFileSecretStore
from wallet.secrets.keyring_store import DEFAULT_SERVICE, KeyringSecretStore
from wallet.secrets.secret import Secret
from wallet.secrets.store import SecretStore


def open_secret_store(
    *,
    encrypted_file: Path | None = None,
    passphrase: Secret | None = None,
    create: bool = False,
    service: str = DEFAULT_SERVICE,
) -> SecretStore:
    """The secret store to use.

    Args:
        encrypted_file: the user's explicit choice of a passphrase-encrypted file instead of the
            keyring; ``None`` (the default) means the OS keyring.
        passphrase: the file's passphrase; required with ``encrypted_file``.
        create: create the file if it does not exist yet.
        service: the keyring service name the secrets are filed under.

    Raises:
        NoSecureKeyringError: keyring chosen, but no trusted, recommended keyring is available.
        WrongPassphraseError, CorruptSecretsFileError, SecretStoreUnavailableError,
        WeakPassphraseError: from opening or creating the encrypted file.
        ValueError: ``encrypted_file`` without ``passphrase``.
    """
    if encrypted_file is None:
        return KeyringSecretStore.detect(service=service)
    if passphrase is None:
        raise ValueError("an encrypted secrets file needs a passphrase")
    path = Path(encrypted_file)
    if create:
        return EncryptedFileSecretStore.open_or_create(path, passphrase)
    return EncryptedFileSecretStore.open(path, passphrase)
