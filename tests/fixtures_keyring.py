"""A real, private Secret Service for tests: ``secret_service``.

Starts a private D-Bus session bus (``dbus-daemon --session --nofork --print-address=1``) and an
unlocked ``gnome-keyring-daemon --foreground --unlock --components=secrets`` (the keyring password
on stdin) with ``HOME`` and ``XDG_*`` in a temporary directory, points this process's
``DBUS_SESSION_BUS_ADDRESS`` at the bus (and ``XDG_CONFIG_HOME`` at the temporary directory, so a
developer's ``keyringrc.cfg`` cannot interfere; ``PYTHON_KEYRING_BACKEND`` is unset), waits until
``org.freedesktop.secrets`` is owned on the bus, and yields a :class:`SecretServiceSession`.
Everything is torn down afterwards. Setup takes about 0.1 s.

Use it from any test package::

    from tests.fixtures_keyring import secret_service  # noqa: F401  (registers the fixture)

    def test_token(secret_service):
        store = wallet.secrets.open_secret_store()   # finds the Secret Service
        ...

No mocks: the store talks to the real daemon over a real bus. Requires the Debian packages
``dbus`` and ``gnome-keyring`` (``scripts/setup test`` installs them); without them the fixture
fails with a message saying so rather than skipping.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

KEYRING_PASSWORD = "trickle-test-keyring-password"
_START_TIMEOUT = 10.0
SECRETS_BUS_NAME = "org.freedesktop.secrets"


@dataclass
class SecretServiceSession:
    """A running private bus + unlocked gnome-keyring.

    Attributes:
        address: the bus address (also in ``os.environ["DBUS_SESSION_BUS_ADDRESS"]``).
        home: the temporary HOME; the daemon writes ``home/.local/share/keyrings``.
        env: the environment the daemons run with.
    """

    address: str
    home: Path
    env: dict[str, str]
    _bus: subprocess.Popen[bytes] = field(repr=False)
    _keyring: subprocess.Popen[bytes] = field(repr=False)

    @property
    def keyrings_dir(self) -> Path:
        return Path(self.env["XDG_DATA_HOME"]) / "keyrings"

    def files(self) -> list[Path]:
        """Every regular file under the temporary HOME (keyring files, sockets excluded)."""
        return sorted(p for p in self.home.rglob("*") if p.is_file())

    def close(self) -> None:
        """Stop the keyring, then the bus. Also how tests simulate "the keyring went away".

        The keyring is stopped together with its bus on purpose: with the bus alive, a client's
        next call would make dbus-daemon activate a fresh (locked) gnome-keyring from
        ``/usr/share/dbus-1/services``; anything the bus did activate exits with the bus.
        """
        _stop(self._keyring)
        _stop(self._bus)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def _read_line(proc: subprocess.Popen[bytes], deadline: float) -> str:
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buf = b""
    while not buf.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or proc.poll() is not None:
            raise RuntimeError(f"dbus-daemon printed no address (exit code {proc.poll()})")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                raise RuntimeError("dbus-daemon closed its output without an address")
            buf += chunk
    return buf.decode().strip()


def _name_has_owner(address: str, name: str) -> bool:
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import open_dbus_connection

    with open_dbus_connection(bus=address) as conn:
        reply = conn.send_and_get_reply(message_bus.NameHasOwner(name), timeout=2)
    return bool(reply.body[0])


def start_secret_service(base: Path) -> SecretServiceSession:
    """Start the bus and the keyring under ``base`` (a fresh directory). Caller must ``close()``."""
    missing = [b for b in ("dbus-daemon", "gnome-keyring-daemon") if shutil.which(b) is None]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: install the Debian packages dbus and gnome-keyring "
            "(scripts/setup test)",
            pytrace=False,
        )
    home = base / "home"
    runtime = base / "run"
    for d in (home, runtime):
        d.mkdir(mode=0o700, parents=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(runtime),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "LANG": "C.UTF-8",
    }
    bus = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    keyring: subprocess.Popen[bytes] | None = None
    try:
        deadline = time.monotonic() + _START_TIMEOUT
        address = _read_line(bus, deadline)
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        keyring = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        assert keyring.stdin is not None
        keyring.stdin.write(KEYRING_PASSWORD.encode())
        keyring.stdin.close()
        while not _name_has_owner(address, SECRETS_BUS_NAME):
            if keyring.poll() is not None:
                raise RuntimeError(f"gnome-keyring-daemon exited with code {keyring.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("gnome-keyring-daemon did not claim org.freedesktop.secrets")
            time.sleep(0.02)
    except BaseException:
        if keyring is not None:
            _stop(keyring)
        _stop(bus)
        raise
    return SecretServiceSession(address=address, home=home, env=env, _bus=bus, _keyring=keyring)


@pytest.fixture
def secret_service(monkeypatch: pytest.MonkeyPatch) -> Iterator[SecretServiceSession]:
    """A real Secret Service on a private bus, unlocked, in a temporary HOME; torn down after."""
    # A short base path: tmp_path can be long, and the bus may put its socket under it.
    base = Path(tempfile.mkdtemp(prefix="trickle-ss-"))
    session = start_secret_service(base)
    try:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session.address)
        monkeypatch.setenv("XDG_CONFIG_HOME", session.env["XDG_CONFIG_HOME"])
        monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
        yield session
    finally:
        session.close()
        with contextlib.suppress(OSError):
            shutil.rmtree(base)
