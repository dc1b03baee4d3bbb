"""The OS keyring store against a real Secret Service, and the backends Trickle refuses.

The refused backends are real ``keyring`` backends: ``fail.Keyring``, ``null.Keyring``, a chainer,
and plain-text file backends defined here the way ``keyrings.alt`` defines its
``PlaintextKeyring`` (a ``KeyringBackend`` subclass writing a file, priority 0.5) — one of them
lying about its priority. ``keyrings.alt`` itself is deliberately not a dependency.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import keyring.backend
import keyring.backends.fail
import keyring.backends.null
import keyring.backends.SecretService
import pytest
from keyring.backends.chainer import ChainerBackend

from tests.fixtures_keyring import SecretServiceSession
from wallet.errors import WalletError
from wallet.secrets import (
    InvalidSecretNameError,
    KeyringSecretStore,
    NoSecureKeyringError,
    Secret,
    SecretStore,
    SecretStoreError,
    SecretStoreUnavailableError,
    open_secret_store,
    uplink_token_name,
)


class PlaintextFileKeyring(keyring.backend.KeyringBackend):
    """Like keyrings.alt.file.PlaintextKeyring: passwords in a file, in the clear."""

    priority: ClassVar[float] = 0.5  # keyrings.alt's PlaintextKeyring
    path: ClassVar[Path] = Path("/nonexistent/plaintext-keyring.json")

    def _load(self) -> dict[str, str]:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}/{username}"] = password
        self.path.write_text(json.dumps(data))

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        data.pop(f"{service}/{username}", None)
        self.path.write_text(json.dumps(data))


class BoastfulPlaintextKeyring(PlaintextFileKeyring):
    """A plain-text backend that claims to be the best keyring there is."""

    priority: ClassVar[float] = 20


class FakeSecretService(keyring.backends.SecretService.Keyring):
    """A subclass of a trusted backend is not the trusted backend."""


# KeyringBackendMeta registers every subclass for keyring's own detection; keep ours out of it.
for _cls in (PlaintextFileKeyring, BoastfulPlaintextKeyring, FakeSecretService):
    keyring.backend.KeyringBackend._classes.discard(_cls)

NAME = uplink_token_name("profile-7")


@pytest.fixture
def plaintext_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "plaintext-keyring.json"
    monkeypatch.setattr(PlaintextFileKeyring, "path", path)
    return path


# -- the real Secret Service ---------------------------------------------------------------------


def test_store_get_delete_through_secret_service(secret_service: SecretServiceSession) -> None:
    store = open_secret_store()
    assert isinstance(store, KeyringSecretStore)
    assert isinstance(store, SecretStore)
    assert store.backend_name == "keyring.backends.SecretService.Keyring"
    assert store.get(NAME) is None
    store.set(NAME, Secret("token-A"))
    assert store.get(NAME) == Secret("token-A")
    store.set(NAME, Secret("token-B"))  # replaces
    assert store.get(NAME) == Secret("token-B")
    # a second store object (another process would be the same) sees it: it lives in the daemon
    assert KeyringSecretStore.detect().get(NAME) == Secret("token-B")
    # services are separate namespaces
    assert KeyringSecretStore.detect(service="Trickle-other").get(NAME) is None
    store.delete(NAME)
    assert store.get(NAME) is None
    store.delete(NAME)  # deleting nothing is a no-op
    assert "token" not in repr(store)


def test_secret_service_items_are_labelled_by_name(secret_service: SecretServiceSession) -> None:
    import secretstorage

    store = open_secret_store()
    store.set(NAME, Secret("token-A"))
    conn = secretstorage.dbus_init()
    try:
        items = list(
            secretstorage.get_default_collection(conn).search_items({"service": "Trickle"})
        )
        assert [i.get_attributes()["username"] for i in items] == [NAME]
    finally:
        conn.close()


def test_invalid_names_rejected(secret_service: SecretServiceSession) -> None:
    store = open_secret_store()
    for bad in ("", "has space", "x" * 300, ":leading", "new\nline"):
        with pytest.raises(InvalidSecretNameError):
            store.get(bad)
    with pytest.raises(TypeError):
        store.set(NAME, "not a Secret")  # type: ignore[arg-type]


def test_keyring_going_away_is_a_named_error(secret_service: SecretServiceSession) -> None:
    store = open_secret_store()
    store.set(NAME, Secret("token-A"))
    secret_service.close()
    with pytest.raises(SecretStoreUnavailableError, match="could not read the secret") as info:
        store.get(NAME)
    assert isinstance(info.value, WalletError)
    assert info.value.__cause__ is not None
    with pytest.raises(SecretStoreUnavailableError, match="could not store"):
        store.set(NAME, Secret("token-B"))
    with pytest.raises(SecretStoreUnavailableError, match="could not delete"):
        store.delete(NAME)
    with pytest.raises(NoSecureKeyringError, match="is not available"):
        open_secret_store()


# -- refusals ------------------------------------------------------------------------------------


def _refused(backend: keyring.backend.KeyringBackend) -> NoSecureKeyringError:
    with pytest.raises(NoSecureKeyringError) as info:
        KeyringSecretStore(backend)
    err = info.value
    assert isinstance(err, SecretStoreError) and isinstance(err, WalletError)
    assert str(err).startswith(
        "No secure keyring (Secret Service / KWallet) is running; install/start gnome-keyring, "
        "or choose an encrypted secrets file with a passphrase."
    )
    return err


def test_plaintext_backend_refused(plaintext_file: Path) -> None:
    err = _refused(PlaintextFileKeyring())
    assert "PlaintextFileKeyring is not an OS keyring Trickle trusts" in str(err)
    err = _refused(BoastfulPlaintextKeyring())
    assert "BoastfulPlaintextKeyring is not an OS keyring" in str(err)
    assert not plaintext_file.exists()


def test_fail_null_and_subclass_refused(secret_service: SecretServiceSession) -> None:
    assert "fail.Keyring" in str(_refused(keyring.backends.fail.Keyring()))
    assert "null.Keyring" in str(_refused(keyring.backends.null.Keyring()))
    assert "FakeSecretService" in str(_refused(FakeSecretService()))


def _chainer(members: list[keyring.backend.KeyringBackend]) -> ChainerBackend:
    """A real ChainerBackend with its chain pinned (``backends`` is normally global detection)."""
    cls: type[ChainerBackend] = type("PinnedChainer", (ChainerBackend,), {"backends": members})
    keyring.backend.KeyringBackend._classes.discard(cls)
    return cls()


def test_chainer_of_only_untrusted_refused(plaintext_file: Path) -> None:
    chain = _chainer([BoastfulPlaintextKeyring(), keyring.backends.fail.Keyring()])
    err = _refused(chain)
    assert "chains no trusted keyring" in str(err)


def test_chainer_uses_its_trusted_member_directly(
    secret_service: SecretServiceSession, plaintext_file: Path
) -> None:
    chain = _chainer([BoastfulPlaintextKeyring(), keyring.backends.SecretService.Keyring()])
    store = KeyringSecretStore(chain)
    assert store.backend_name == "keyring.backends.SecretService.Keyring"
    store.set(NAME, Secret("via-chain"))
    assert store.get(NAME) == Secret("via-chain")
    assert not plaintext_file.exists()


def test_configured_plaintext_backend_is_refused_not_overridden(
    secret_service: SecretServiceSession, plaintext_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The user told keyring to use a plain-text backend: Trickle says no, even though a Secret
    # Service is running, rather than silently picking something else.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", f"{__name__}.PlaintextFileKeyring")
    with pytest.raises(NoSecureKeyringError, match="PlaintextFileKeyring is not an OS keyring"):
        open_secret_store()
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    with pytest.raises(NoSecureKeyringError, match=r"fail\.Keyring"):
        open_secret_store()
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "no.such.Backend")
    with pytest.raises(NoSecureKeyringError, match="configured keyring cannot be used"):
        open_secret_store()
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.SecretService.Keyring")
    assert open_secret_store().get(NAME) is None
    assert not plaintext_file.exists()


def test_no_keyring_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    with pytest.raises(NoSecureKeyringError) as info:
        open_secret_store()
    assert "install/start gnome-keyring" in str(info.value)
    assert any("SecretService.Keyring is not available" in r for r in info.value.reasons)
