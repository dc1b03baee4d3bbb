"""One Trickle per profile: a second launch hands its URLs to the running one and exits.

The running instance listens on a local socket named after a hash of the profile path
(``socket_name``), in ``$XDG_RUNTIME_DIR`` when there is one (owner-only), with
``UserAccessOption`` so no other user can connect. A launch first tries to connect: if
someone answers, it sends ``{"urls": [...]}`` as one JSON line, waits for ``ok`` and is done.
If nobody answers, it becomes the server; a socket file left by a crashed instance
(``kill -9``) answers nobody and is removed first.

Signals (``InstanceServer``):
    urls_received(list): the command-line texts of a later launch (maybe empty).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_MS = 500
REPLY_TIMEOUT_MS = 1500
MAX_MESSAGE = 1 << 20
_SUN_PATH_MAX = 100  # sockaddr_un.sun_path is 108 bytes on Linux


def socket_name(profile_dir: Path) -> str:
    digest = hashlib.sha256(str(profile_dir.resolve()).encode()).hexdigest()[:24]
    name = f"trickle-{digest}"
    runtime = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    path = str(Path(runtime) / name)
    return path if len(path.encode()) <= _SUN_PATH_MAX else name


def hand_off(name: str, texts: Sequence[str]) -> bool:
    """Give ``texts`` to the instance listening on ``name``; False if none answers."""
    sock = QLocalSocket()
    sock.connectToServer(name)
    if not sock.waitForConnected(CONNECT_TIMEOUT_MS):
        return False
    sock.write(json.dumps({"urls": list(texts)}).encode() + b"\n")
    sock.flush()
    answered = False
    while sock.waitForReadyRead(REPLY_TIMEOUT_MS):
        if b"\n" in bytes(sock.peek(64).data()):
            answered = bytes(sock.readLine().data()).strip() == b"ok"
            break
    sock.disconnectFromServer()
    return answered


class InstanceServer(QObject):
    urls_received = Signal(list)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_connection)

    def listen(self) -> bool:
        if self._server.listen(self.name):
            return True
        # A socket file nobody answers on: left by an instance that was killed.
        QLocalServer.removeServer(self.name)
        ok = self._server.listen(self.name)
        if not ok:
            log.warning(
                "single instance: cannot listen on %s: %s", self.name, self._server.errorString()
            )
        return ok

    def close(self) -> None:
        self._server.close()

    def _on_connection(self) -> None:
        while (sock := self._server.nextPendingConnection()) is not None:
            sock.readyRead.connect(lambda s=sock: self._read(s))
            sock.disconnected.connect(sock.deleteLater)

    def _read(self, sock: QLocalSocket) -> None:
        if not sock.canReadLine():
            if sock.bytesAvailable() > MAX_MESSAGE:
                sock.abort()
            return
        line = bytes(sock.readLine().data())
        try:
            message = json.loads(line)
            texts = [t for t in message["urls"] if isinstance(t, str)]
        except (ValueError, KeyError, TypeError):
            log.warning("single instance: a malformed message was ignored")
            sock.abort()
            return
        sock.write(b"ok\n")
        sock.flush()
        self.urls_received.emit(texts)


def hand_off_launch(profile_arg: str | None, texts: Sequence[str]) -> bool:
    """Called by ``trickle`` before the browser is imported (``ui.app`` takes a second or
    two to import): True if a running instance took ``texts``. ``profile_arg`` is the
    ``--profile`` value; without it, the default profile directory, as ``ui.app`` finds it."""
    if profile_arg:
        profile_dir = Path(profile_arg).expanduser().resolve()
    else:
        import platformdirs

        profile_dir = Path(platformdirs.user_data_dir("trickle", appauthor=False))
    return hand_off(socket_name(profile_dir), texts)


def claim(profile_dir: Path, texts: Sequence[str]) -> InstanceServer | None:
    """Become the profile's instance (the server), or hand ``texts`` over and return None."""
    name = socket_name(profile_dir)
    if hand_off(name, texts):
        return None
    server = InstanceServer(name)
    server.listen()
    return server
