"""The passphrase-encrypted secrets file: round trip, wrong passphrase, tampering, format."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import stat
import struct
from pathlib import Path

import pytest

from wallet.secrets import (
    CorruptSecretsFileError,
    EncryptedFileSecretStore,
    SecretsFileExistsError,
    SecretStoreUnavailableError,
    UnsupportedSecretsFileError,
    WeakPassphraseError,
    WrongPassphraseError,
    open_secret_store,
)
from wallet.secrets import Secret as S
from wallet.secrets.encrypted_file import MAGIC

PASS = S("correct horse battery staple")
NAME = "uplink-token:profile-1"


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "profile" / "secrets.trk"


def test_round_trip_and_reopen(path: Path) -> None:
    store = EncryptedFileSecretStore.create(path, PASS)
    assert store.get(NAME) is None
    store.set(NAME, S("token-one"))
    store.set("uplink-token:p2", S("token-two"))
    store.set(NAME, S("token-one-b"))
    store.delete("uplink-token:p2")
    store.delete("uplink-token:absent")
    again = EncryptedFileSecretStore.open(path, S("correct horse battery staple"))
    assert again.get(NAME) == S("token-one-b")
    assert again.get("uplink-token:p2") is None
    assert again.names() == [NAME]
    # the first object sees writes made through the second
    again.set("uplink-token:p3", S("t3"))
    assert store.get("uplink-token:p3") == S("t3")


def test_file_format_perms_and_no_leftovers(path: Path) -> None:
    store = EncryptedFileSecretStore.create(path, PASS)
    store.set(NAME, S("FILE-CANARY-73a9"))
    data = path.read_bytes()
    assert data.startswith(MAGIC) and data[8] == 1 and data[9] == 1
    assert (data[10], data[11], data[12]) == (15, 8, 1)  # scrypt n=2**15, r=8, p=1
    assert b"FILE-CANARY" not in data and NAME.encode() not in data
    assert b"correct horse" not in data
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert sorted(p.name for p in path.parent.iterdir()) == ["secrets.trk", "secrets.trk.lock"]
    salt = data[13:29]
    store.set(NAME, S("other"))
    data2 = path.read_bytes()
    assert data2[13:29] == salt and data2[61:73] != data[61:73]  # same salt, fresh nonce


def test_wrong_passphrase(path: Path) -> None:
    EncryptedFileSecretStore.create(path, PASS).set(NAME, S("tok"))
    with pytest.raises(WrongPassphraseError, match="passphrase does not open") as info:
        EncryptedFileSecretStore.open(path, S("not the passphrase"))
    assert "not the passphrase" not in str(info.value)


def test_create_refuses_existing_and_weak(path: Path) -> None:
    EncryptedFileSecretStore.create(path, PASS)
    with pytest.raises(SecretsFileExistsError):
        EncryptedFileSecretStore.create(path, PASS)
    with pytest.raises(WeakPassphraseError):
        EncryptedFileSecretStore.create(path.with_name("other"), S("short"))
    with pytest.raises(SecretStoreUnavailableError, match="no secrets file"):
        EncryptedFileSecretStore.open(path.with_name("missing"), PASS)


@pytest.mark.parametrize(
    "where",
    [
        pytest.param(10, id="kdf-log2n"),
        pytest.param(20, id="salt"),
        pytest.param(40, id="key-check"),
        pytest.param(65, id="nonce"),
        pytest.param(80, id="ciphertext"),
        pytest.param(-20, id="tag"),
        pytest.param(-1, id="checksum"),
    ],
)
def test_damage_is_detected(path: Path, where: int) -> None:
    EncryptedFileSecretStore.create(path, PASS).set(NAME, S("tok"))
    data = bytearray(path.read_bytes())
    data[where] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptSecretsFileError, match="damaged"):
        EncryptedFileSecretStore.open(path, PASS)


def _fix_checksum(data: bytes) -> bytes:
    body = data[:-32]
    return body + hashlib.sha256(body).digest()


def test_deliberate_tamper_with_fixed_checksum(path: Path) -> None:
    EncryptedFileSecretStore.create(path, PASS).set(NAME, S("tok"))
    good = path.read_bytes()
    # ciphertext altered, checksum recomputed: the GCM tag still catches it
    bad = bytearray(good)
    bad[80] ^= 0x01
    path.write_bytes(_fix_checksum(bytes(bad)))
    with pytest.raises(CorruptSecretsFileError, match="altered"):
        EncryptedFileSecretStore.open(path, PASS)
    # the nonce is part of the authenticated header
    bad = bytearray(good)
    bad[65] ^= 0x01
    path.write_bytes(_fix_checksum(bytes(bad)))
    with pytest.raises(CorruptSecretsFileError, match="altered"):
        EncryptedFileSecretStore.open(path, PASS)
    # truncated, and a file that is something else entirely
    path.write_bytes(good[:50])
    with pytest.raises(CorruptSecretsFileError, match="truncated"):
        EncryptedFileSecretStore.open(path, PASS)
    path.write_bytes(b'{"secrets": {}}')
    with pytest.raises(CorruptSecretsFileError, match="not a Trickle secrets file"):
        EncryptedFileSecretStore.open(path, PASS)


def test_newer_version_and_hostile_kdf_params(path: Path) -> None:
    EncryptedFileSecretStore.create(path, PASS)
    good = path.read_bytes()
    newer = bytearray(good)
    newer[8] = 2
    path.write_bytes(_fix_checksum(bytes(newer)))
    with pytest.raises(UnsupportedSecretsFileError, match="newer Trickle"):
        EncryptedFileSecretStore.open(path, PASS)
    huge = bytearray(good)
    huge[10:13] = struct.pack(">BBB", 24, 64, 1)  # 2**24 * 64 * 128 bytes: refused, not run
    path.write_bytes(_fix_checksum(bytes(huge)))
    with pytest.raises(CorruptSecretsFileError, match="out-of-range"):
        EncryptedFileSecretStore.open(path, PASS)


def test_change_passphrase(path: Path) -> None:
    store = EncryptedFileSecretStore.create(path, PASS)
    store.set(NAME, S("tok"))
    old_salt = path.read_bytes()[13:29]
    other = EncryptedFileSecretStore.open(path, PASS)
    store.change_passphrase(S("a brand new passphrase"))
    assert path.read_bytes()[13:29] != old_salt
    assert store.get(NAME) == S("tok")
    with pytest.raises(WrongPassphraseError):
        EncryptedFileSecretStore.open(path, PASS)
    with pytest.raises(WrongPassphraseError, match="re-encrypted"):
        other.get(NAME)
    assert EncryptedFileSecretStore.open(path, S("a brand new passphrase")).get(NAME) == S("tok")


def test_factory_opens_explicit_file(path: Path) -> None:
    with pytest.raises(ValueError):
        open_secret_store(encrypted_file=path)
    store = open_secret_store(encrypted_file=path, passphrase=PASS, create=True)
    store.set(NAME, S("tok"))
    assert open_secret_store(encrypted_file=path, passphrase=PASS).get(NAME) == S("tok")


def _writer(path: str, index: int) -> None:
    store = EncryptedFileSecretStore.open(Path(path), PASS)
    for i in range(5):
        store.set(f"uplink-token:w{index}-{i}", S(f"value-{index}-{i}"))


def test_processes_do_not_lose_each_others_writes(path: Path) -> None:
    EncryptedFileSecretStore.create(path, PASS)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(path), i)) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    names = EncryptedFileSecretStore.open(path, PASS).names()
    assert len(names) == 20
    assert not [n for n in os.listdir(path.parent) if n.endswith(".tmp")]
