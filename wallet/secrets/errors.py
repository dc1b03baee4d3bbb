"""Secret-store errors: every failure :mod:`wallet.secrets` lets out is one of these.

Invariant: no message, ``args`` or attribute of these errors ever holds a secret value. Messages
name the secret (``uplink-token:<profile>``), the backend or the file, and say in words what the
user can do. Third-party exceptions (``keyring``, ``secretstorage``, ``jeepney``,
``cryptography``, ``OSError``) are wrapped at the boundary with ``raise ... from e``; their text is
passed through the redactor before it is quoted.
"""

from __future__ import annotations

from wallet.errors import WalletError


class SecretStoreError(WalletError):
    """Base of every secret-store failure."""


class InvalidSecretNameError(SecretStoreError, ValueError):
    """A secret name that is empty, too long or has characters outside the allowed set."""


class NoSecureKeyringError(SecretStoreError):
    """No keyring backend that keyring recommends (and Trickle trusts) is available.

    Attributes:
        reasons: one line per backend that was considered and why it was refused.
    """

    ADVICE = (
        "No secure keyring (Secret Service / KWallet) is running; install/start gnome-keyring, "
        "or choose an encrypted secrets file with a passphrase."
    )

    def __init__(self, reasons: tuple[str, ...] = ()) -> None:
        self.reasons = reasons
        detail = "; ".join(reasons)
        super().__init__(f"{self.ADVICE} ({detail})" if detail else self.ADVICE)


class SecretStoreUnavailableError(SecretStoreError):
    """The secret store exists but failed: keyring locked, daemon gone, D-Bus error, I/O error."""


class WrongPassphraseError(SecretStoreError):
    """The passphrase does not open the encrypted secrets file."""


class CorruptSecretsFileError(SecretStoreError):
    """The encrypted secrets file is damaged, altered, truncated or not a Trickle secrets file."""


class UnsupportedSecretsFileError(CorruptSecretsFileError):
    """The secrets file was written by a newer Trickle (unknown format version or KDF)."""


class SecretsFileExistsError(SecretStoreError):
    """Asked to create an encrypted secrets file where one already exists."""


class WeakPassphraseError(SecretStoreError, ValueError):
    """A new passphrase for an encrypted secrets file is too short."""
