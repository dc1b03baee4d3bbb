"""A passphrase-encrypted file as a :class:`~wallet.secrets.store.SecretStore`.

The explicit alternative for machines without a keyring: the user chooses it and types a
passphrase; Trickle never falls back to it silently.

File format, version 1 (all integers big-endian; the whole header is the AEAD's associated data,
so no header byte can be changed without detection)::

    offset  size  field
    0       8     magic  b"TRKSEC\\r\\n"   (the CR LF catches text-mode mangling, as PNG does)
    8       1     format version = 1
    9       1     KDF id = 1 (scrypt)
    10      1     log2(n)  (15 when written)
    11      1     r        (8)
    12      1     p        (1)
    13      16    salt     (random per file, new on passphrase change)
    29      32    key check: bytes 32..64 of the 64-byte scrypt output
    61      12    nonce    (random per write)
    73      ...   AES-256-GCM(key = scrypt bytes 0..32) of UTF-8 JSON {"secrets": {name: value}},
                  with its 16-byte tag
    -32     32    SHA-256 of everything before it (unkeyed: detects accidental damage only)

Reading checks, in order: magic and version, the SHA-256 trailer (damage →
:class:`CorruptSecretsFileError`), the key check (→ :class:`WrongPassphraseError`), the GCM tag
(a deliberate change that fixed up the trailer → :class:`CorruptSecretsFileError`). The key check
costs an attacker nothing they did not already have: testing a guess against it needs the same
scrypt run as testing it against the tag.

Invariants: the plaintext never touches the disk; each write goes to a fresh 0600 temporary file
in the same directory, is fsynced and ``os.replace``\\ d over the old one (then the directory is
fsynced), so a crash leaves the old file or the new one, never a mix; writers in several
processes are serialised by ``flock`` on ``<file>.lock``; every read re-reads the file, so
processes see each other's writes. KDF parameters read from a file are bounded (memory at most
256 MiB) so a crafted file cannot exhaust memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets as _random
import struct
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from wallet.secrets.errors import (
    CorruptSecretsFileError,
    SecretsFileExistsError,
    SecretStoreUnavailableError,
    UnsupportedSecretsFileError,
    WeakPassphraseError,
    WrongPassphraseError,
)
from wallet.secrets.secret import Secret
from wallet.secrets.store import check_name

if sys.platform != "win32":
    import fcntl

MAGIC: Final = b"TRKSEC\r\n"
FORMAT_VERSION: Final = 1
KDF_SCRYPT: Final = 1
SCRYPT_LOG2_N: Final = 15
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
MIN_PASSPHRASE_CHARS: Final = 8

_HEADER: Final = struct.Struct(">8sBBBBB16s32s12s")
_MAX_SCRYPT_MEMORY: Final = 256 * 1024 * 1024
_TAG_BYTES: Final = 16
_DIGEST_BYTES: Final = 32


@dataclass(frozen=True, slots=True)
class _KdfParams:
    log2_n: int
    r: int
    p: int
    salt: bytes


def _derive(passphrase: Secret, params: _KdfParams) -> tuple[bytes, bytes]:
    """(AES key, key check) from the passphrase."""
    n = 1 << params.log2_n
    out = Scrypt(salt=params.salt, length=64, n=n, r=params.r, p=params.p).derive(
        passphrase.reveal().encode("utf-8")
    )
    return out[:32], out[32:]


class EncryptedFileSecretStore:
    """Secrets in one passphrase-encrypted file. Use :meth:`create` or :meth:`open`.

    Opening runs scrypt (about 0.1 s, 32 MiB) and every call does file I/O; from asyncio code call
    them in a worker thread (``asyncio.to_thread``).
    """

    def __init__(self, path: Path, params: _KdfParams, key: bytes, check: bytes) -> None:
        """Internal: use :meth:`create` or :meth:`open`."""
        self._path = path
        self._params = params
        self._key = key
        self._check = check
        self._lock = threading.Lock()

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def create(cls, path: Path, passphrase: Secret) -> EncryptedFileSecretStore:
        """Create a new, empty secrets file at ``path`` (its directory is made 0700 if missing).

        Raises:
            SecretsFileExistsError: a file is already there.
            WeakPassphraseError: the passphrase has fewer than 8 characters.
            SecretStoreUnavailableError: the file cannot be written.
        """
        _check_new_passphrase(passphrase)
        path = Path(path)
        params = _KdfParams(SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P, _random.token_bytes(16))
        key, check = _derive(passphrase, params)
        store = cls(path, params, key, check)
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as e:
            raise SecretStoreUnavailableError(
                f"Cannot create the folder for the secrets file {str(path)!r}: {e.strerror}."
            ) from e
        with store._locked():
            if path.exists():
                raise SecretsFileExistsError(
                    f"A secrets file already exists at {str(path)!r}; open it with its passphrase "
                    "or choose another place."
                )
            store._write({})
        return store

    @classmethod
    def open(cls, path: Path, passphrase: Secret) -> EncryptedFileSecretStore:
        """Open the existing secrets file at ``path``.

        Raises:
            WrongPassphraseError: the passphrase does not open it.
            CorruptSecretsFileError: the file is damaged or altered
                (:class:`UnsupportedSecretsFileError` if it is from a newer Trickle).
            SecretStoreUnavailableError: the file cannot be read (missing, permissions).
        """
        path = Path(path)
        params, _, _ = _parse_header(path, _read_bytes(path))
        key, check = _derive(passphrase, params)
        store = cls(path, params, key, check)
        store._read()  # proves the passphrase and the file's integrity now, not at first use
        return store

    @classmethod
    def open_or_create(cls, path: Path, passphrase: Secret) -> EncryptedFileSecretStore:
        """:meth:`open` if ``path`` exists, else :meth:`create`."""
        return cls.open(path, passphrase) if Path(path).exists() else cls.create(path, passphrase)

    @property
    def path(self) -> Path:
        return self._path

    # -- SecretStore -------------------------------------------------------------------------

    def get(self, name: str) -> Secret | None:
        check_name(name)
        with self._locked():
            value = self._read().get(name)
        return Secret(value) if value else None

    def set(self, name: str, secret: Secret) -> None:
        check_name(name)
        if not isinstance(secret, Secret):
            raise TypeError("SecretStore.set takes a Secret; wrap the value in Secret(...)")
        with self._locked():
            items = self._read()
            items[name] = secret.reveal()
            self._write(items)

    def delete(self, name: str) -> None:
        check_name(name)
        with self._locked():
            items = self._read()
            if items.pop(name, None) is not None:
                self._write(items)

    def names(self) -> list[str]:
        """The stored names, sorted (names are not secret)."""
        with self._locked():
            return sorted(self._read())

    def change_passphrase(self, new: Secret) -> None:
        """Re-encrypt the file under ``new`` with a fresh salt.

        Raises:
            WeakPassphraseError, WrongPassphraseError, CorruptSecretsFileError,
            SecretStoreUnavailableError.
        """
        _check_new_passphrase(new)
        params = _KdfParams(SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P, _random.token_bytes(16))
        key, check = _derive(new, params)
        with self._locked():
            items = self._read()
            self._params, self._key, self._check = params, key, check
            self._write(items)

    def __repr__(self) -> str:
        return f"EncryptedFileSecretStore({str(self._path)!r})"

    # -- internals ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """This object's thread lock, then an exclusive ``flock`` shared with other processes."""
        with self._lock:
            if sys.platform == "win32":  # pragma: no cover - no flock; one process at a time
                yield
                return
            lock_path = self._path.with_name(self._path.name + ".lock")
            try:
                fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as e:
                raise SecretStoreUnavailableError(
                    f"Cannot lock the secrets file {str(self._path)!r}: {e.strerror}."
                ) from e
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # closing releases the flock

    def _read(self) -> dict[str, str]:
        data = _read_bytes(self._path)
        params, check, header_len = _parse_header(self._path, data)
        if params != self._params:
            raise WrongPassphraseError(
                f"The secrets file {str(self._path)!r} was re-encrypted with another passphrase "
                "since it was opened; open it again with the new passphrase."
            )
        if not hmac.compare_digest(check, self._check):
            raise WrongPassphraseError(
                f"The passphrase does not open the secrets file {str(self._path)!r}."
            )
        header, body = data[:header_len], data[header_len:-_DIGEST_BYTES]
        nonce = header[-12:]
        try:
            plain = AESGCM(self._key).decrypt(nonce, body, header)
        except InvalidTag as e:
            raise CorruptSecretsFileError(
                f"The secrets file {str(self._path)!r} is damaged or was altered (it fails its "
                "integrity check); restore it from a backup or create a new one."
            ) from e
        try:
            doc = json.loads(plain.decode("utf-8"))
            items = doc["secrets"]
            if not isinstance(items, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in items.items()
            ):
                raise TypeError("secrets is not a str-to-str object")
        except (ValueError, KeyError, TypeError):
            # Never chain e: a JSON error message quotes the decrypted text.
            raise CorruptSecretsFileError(
                f"The secrets file {str(self._path)!r} decrypts but its contents are not valid."
            ) from None
        return items

    def _write(self, items: dict[str, str]) -> None:
        nonce = _random.token_bytes(12)
        header = _HEADER.pack(
            MAGIC,
            FORMAT_VERSION,
            KDF_SCRYPT,
            self._params.log2_n,
            self._params.r,
            self._params.p,
            self._params.salt,
            self._check,
            nonce,
        )
        plain = json.dumps({"secrets": items}, sort_keys=True).encode("utf-8")
        blob = header + AESGCM(self._key).encrypt(nonce, plain, header)
        blob += hashlib.sha256(blob).digest()
        _atomic_write(self._path, blob)


def _check_new_passphrase(passphrase: Secret) -> None:
    if not isinstance(passphrase, Secret):
        raise TypeError("the passphrase must be a Secret")
    if len(passphrase.reveal()) < MIN_PASSPHRASE_CHARS:
        raise WeakPassphraseError(
            f"Choose a passphrase of at least {MIN_PASSPHRASE_CHARS} characters."
        )


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as e:
        raise SecretStoreUnavailableError(
            f"There is no secrets file at {str(path)!r}; create one or choose another file."
        ) from e
    except OSError as e:
        raise SecretStoreUnavailableError(
            f"Cannot read the secrets file {str(path)!r}: {e.strerror}."
        ) from e


def _parse_header(path: Path, data: bytes) -> tuple[_KdfParams, bytes, int]:
    """(KDF parameters, key check, header length).

    Raises:
        CorruptSecretsFileError, UnsupportedSecretsFileError.
    """
    where = repr(str(path))
    if not data.startswith(MAGIC):
        raise CorruptSecretsFileError(f"{where} is not a Trickle secrets file.")
    if len(data) < 9:
        raise CorruptSecretsFileError(f"The secrets file {where} is truncated.")
    if data[8] != FORMAT_VERSION:
        raise UnsupportedSecretsFileError(
            f"The secrets file {where} has format version {data[8]}, which this Trickle does not "
            "know; it was written by a newer Trickle."
        )
    if len(data) < _HEADER.size + _TAG_BYTES + _DIGEST_BYTES:
        raise CorruptSecretsFileError(f"The secrets file {where} is truncated.")
    if not hmac.compare_digest(
        hashlib.sha256(data[:-_DIGEST_BYTES]).digest(), data[-_DIGEST_BYTES:]
    ):
        raise CorruptSecretsFileError(
            f"The secrets file {where} is damaged (its checksum does not match); restore it from "
            "a backup or create a new one."
        )
    _, _, kdf, log2_n, r, p, salt, check, _ = _HEADER.unpack_from(data)
    if kdf != KDF_SCRYPT:
        raise UnsupportedSecretsFileError(
            f"The secrets file {where} uses key derivation {kdf}, which this Trickle does not know."
        )
    if not (1 <= log2_n <= 24 and 1 <= r <= 64 and 1 <= p <= 16) or (
        128 * r * (1 << log2_n) > _MAX_SCRYPT_MEMORY
    ):
        raise CorruptSecretsFileError(
            f"The secrets file {where} has out-of-range key derivation parameters."
        )
    return _KdfParams(log2_n, r, p, salt), check, _HEADER.size


def _atomic_write(path: Path, blob: bytes) -> None:
    """Replace ``path`` by ``blob`` atomically and durably, mode 0600."""
    directory = path.parent
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as e:
        raise SecretStoreUnavailableError(
            f"Cannot write the secrets file {str(path)!r}: {e.strerror}."
        ) from e
    tmp = Path(tmp_name)
    try:
        try:
            os.fchmod(fd, 0o600)
            view = memoryview(blob)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise SecretStoreUnavailableError(
            f"Cannot write the secrets file {str(path)!r}: {e.strerror}."
        ) from e
    if sys.platform != "win32":
        with contextlib.suppress(OSError):
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
