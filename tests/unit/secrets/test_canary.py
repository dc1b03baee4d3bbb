"""A canary token goes through the real keyring and is used; then it is searched for everywhere.

Issue 5, "Must show": a canary secret is stored, used, and then searched for in the SQLite file,
its WAL, the log files and every exception message: zero hits. The SQLite part stands for how the
rest of Trickle refers to a secret: by its *name* (``uplink-token:<profile>``) in a row, never by
its value. Everything runs against the real Secret Service from ``secret_service``.
"""

from __future__ import annotations

import gc
import logging
import secrets
import sqlite3
import traceback
from collections.abc import Callable
from pathlib import Path

import keyring.backends.fail
import pytest

from tests.fixtures_keyring import SecretServiceSession
from wallet.secrets import (
    CorruptSecretsFileError,
    EncryptedFileSecretStore,
    InvalidSecretNameError,
    KeyringSecretStore,
    NoSecureKeyringError,
    Secret,
    SecretStoreError,
    SecretStoreUnavailableError,
    WrongPassphraseError,
    install_redaction,
    open_secret_store,
    uplink_token_name,
)


def _encodings(value: str) -> list[bytes]:
    return [value.encode("utf-8"), value.encode("utf-16-le"), value.encode("utf-16-be")]


def _error_text(err: BaseException) -> str:
    """Everything an error shows anywhere: message, repr, args, and the whole chained traceback."""
    parts = [str(err), repr(err), repr(err.args), *traceback.format_exception(err)]
    cause: BaseException | None = err
    while cause is not None:
        parts += [str(cause), repr(cause), repr(cause.args)]
        cause = cause.__cause__ or cause.__context__
    return "\n".join(parts)


def _use_token(token: Secret) -> dict[str, str]:
    """What an uplink does with its token: puts it in an Authorization header."""
    return {"Authorization": f"Bearer {token.reveal()}"}


def test_canary_never_leaks(secret_service: SecretServiceSession, tmp_path: Path) -> None:
    # The redactor masks every live secret's value; earlier tests' dead ones (in reference
    # cycles not yet collected) must not mask the words this test reads back.
    gc.collect()
    canary = f"CANARY-{secrets.token_hex(16)}"
    name = uplink_token_name("profile-canary")

    # -- logging, as the app sets it up: a file handler on a logger, redaction installed --------
    log_file = tmp_path / "trickle.log"
    logger = logging.getLogger("trickle-canary")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logger.addHandler(handler)
    install_redaction(logger)
    net_log = logging.getLogger("trickle-canary.wallet.net")

    # -- store it in the real keyring, read it back, use it ------------------------------------
    store = open_secret_store()
    assert isinstance(store, KeyringSecretStore)
    store.set(name, Secret(canary))
    token = store.get(name)
    assert token is not None and token.reveal() == canary
    headers = _use_token(token)
    assert headers["Authorization"] == f"Bearer {canary}"

    # mistakes someone could make while logging
    logger.info("stored %r under %s", token, name)
    net_log.debug("sending with headers %s", headers)
    net_log.info(f"token is {token.reveal()}")
    try:
        raise ConnectionError(f"401 from connector for {headers['Authorization']}")
    except ConnectionError:
        net_log.exception("uplink failed")

    # -- SQLite: the rest of Trickle stores a reference (the name), never the value -----------
    db_path = tmp_path / "trickle.sqlite3"
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")  # keep the rows in the WAL file for the search
    db.execute("PRAGMA synchronous=FULL")
    db.execute(
        "CREATE TABLE uplink (profile TEXT PRIMARY KEY, url TEXT, transport TEXT, token_ref TEXT)"
    )
    with db:
        db.execute(
            "INSERT INTO uplink VALUES (?, ?, ?, ?)",
            ("profile-canary", "https://connector.example/ilp", "http", name),
        )
    (ref,) = db.execute("SELECT token_ref FROM uplink").fetchone()
    resolved = store.get(ref)  # the reference resolves through the store
    assert resolved == token

    # -- failure paths: collect every error ----------------------------------------------------
    errors: list[BaseException] = []

    def expect(kind: type[BaseException], call: Callable[[], object]) -> None:
        with pytest.raises(kind) as info:
            call()
        errors.append(info.value)
        logger.error("failure path", exc_info=info.value)

    expect(InvalidSecretNameError, lambda: store.set(f"{canary} with spaces", token))
    expect(InvalidSecretNameError, lambda: store.get(f"{canary}\n"))
    expect(NoSecureKeyringError, lambda: KeyringSecretStore(keyring.backends.fail.Keyring()))

    secrets_file = tmp_path / "secrets.trk"
    file_store = EncryptedFileSecretStore.create(secrets_file, Secret("a long passphrase"))
    file_store.set(name, token)
    expect(WrongPassphraseError, lambda: EncryptedFileSecretStore.open(secrets_file, token))
    blob = bytearray(secrets_file.read_bytes())
    blob[80] ^= 0xFF
    damaged = tmp_path / "damaged.trk"
    damaged.write_bytes(bytes(blob))
    expect(
        CorruptSecretsFileError,
        lambda: EncryptedFileSecretStore.open(damaged, Secret("a long passphrase")),
    )

    # the keyring goes away while Trickle holds the token
    secret_service.close()
    expect(SecretStoreUnavailableError, lambda: store.set(name, token))
    expect(SecretStoreUnavailableError, lambda: store.get(name))
    expect(SecretStoreUnavailableError, lambda: store.delete(name))
    expect(NoSecureKeyringError, open_secret_store)

    assert len(errors) == 9
    assert all(isinstance(e, SecretStoreError) for e in errors)
    handler.flush()
    logger.removeHandler(handler)
    handler.close()

    # -- the search ------------------------------------------------------------------------------
    wal_path = Path(f"{db_path}-wal")
    assert wal_path.exists() and wal_path.stat().st_size > 0
    haystacks: dict[str, bytes] = {
        "sqlite": db_path.read_bytes(),
        "sqlite-wal": wal_path.read_bytes(),
        "log": log_file.read_bytes(),
        "secrets-file": secrets_file.read_bytes(),
    }
    for path in secret_service.files():  # gnome-keyring's own files: encrypted at rest
        haystacks[f"keyring:{path.name}"] = path.read_bytes()
    for i, err in enumerate(errors):
        haystacks[f"error {i} {type(err).__name__}"] = _error_text(err).encode("utf-8")

    hits = [where for where, data in haystacks.items() for enc in _encodings(canary) if enc in data]
    assert hits == []

    # positive controls: the searches looked at the right things
    assert any(name.encode() in haystacks[k] for k in ("sqlite", "sqlite-wal"))
    log_text = log_file.read_text(encoding="utf-8")
    assert "sending with headers {'Authorization': 'Bearer ***'}" in log_text
    assert "token is ***" in log_text
    assert "ConnectionError: 401 from connector for Bearer ***" in log_text
    assert log_text.count("failure path") == 9
    assert any(k.startswith("keyring:") for k in haystacks)
    db.close()
