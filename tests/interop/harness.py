"""Start the npm Interledger peers of tests/interop/harness/*.js on loopback and talk to them.

Every script prints JSON lines on stdout (``{"event": "ready", ...}`` first) and exits when its
stdin closes, so a crashed test run never leaves a node process behind. Their stderr goes to a
log file, shown when a test fails to start one.

Use from tests (see tests/interop/README.md)::

    with Connector.start({"accounts": {"alice": {"transport": "btp", "token": "t"}}}) as c:
        port = c.account("alice")["port"]
"""

from __future__ import annotations

import json
import os
import queue
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

INTEROP_DIR = Path(__file__).parent
HARNESS_DIR = INTEROP_DIR / "harness"
NODE_MODULES = INTEROP_DIR / "node_modules"
START_TIMEOUT = 30.0
# WIRE-NOTES §5, the FX profile: USD/9 -> EUR/6 forwards at 0.000792 (rates[src] / rates[dst] *
# 10^(6 - 9)). Use with a USD/9 sender account and an EUR/6 receiver account.
FX_PROFILE_RATES = {"USD": 1, "EUR": 1 / 0.792}


class HarnessError(RuntimeError):
    """A node peer failed to start or answer."""


def node_binary() -> str:
    node = shutil.which("node")
    if node is None:
        raise HarnessError("node is not installed: run scripts/setup test")
    if not (NODE_MODULES / "ilp-connector").is_dir():
        raise HarnessError("tests/interop/node_modules is missing: run scripts/setup test")
    return node


def _ephemeral_range() -> tuple[int, int]:
    """The ports the kernel hands to outgoing connections (Linux; a common default elsewhere)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now, and outside the kernel's ephemeral range.

    A port from ``bind(0)`` is an ephemeral one: a fixture that keeps it for several tests
    (one receiver after another on the same port) can find it taken in between by any
    outgoing connection on the machine — CI saw ``EADDRINUSE`` that way. Ports below the
    ephemeral range are only ever taken by listeners, and ``bind`` checks those.
    """
    low, _high = _ephemeral_range()
    floor = 10000 if low > 12000 else 1024
    for _attempt in range(200):
        port = random.randrange(floor, low)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise HarnessError(f"no free port between {floor} and {low}")


class NodeProcess:
    """One harness script: its JSON lines arrive on a queue read by a thread."""

    def __init__(
        self,
        script: str,
        args: list[str],
        env: dict[str, str] | None = None,
        command: list[str] | None = None,
    ) -> None:
        """Runs ``node harness/SCRIPT ARGS``, or ``COMMAND ARGS`` (``script`` then names it)."""
        self.script = script
        self.args = args
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self.ready: dict[str, Any] = {}
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the process
            prefix=f"trickle-{Path(script).stem}-", suffix=".log", delete=False
        )
        self.proc = subprocess.Popen(
            [*(command or [node_binary(), str(HARNESS_DIR / script)]), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            cwd=INTEROP_DIR,
            env={**os.environ, **(env or {})},
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            try:
                self.lines.put(json.loads(raw))
            except ValueError:
                continue
        self.lines.put({"event": "exit", "code": self.proc.wait()})

    def stderr_tail(self, n: int = 4000) -> str:
        try:
            return Path(self.log.name).read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def wait_for(
        self,
        event: str,
        timeout: float = START_TIMEOUT,
        where: Callable[[dict[str, Any]], bool] = lambda _line: True,
    ) -> dict[str, Any]:
        """The next line with ``"event": event`` (and ``where``), skipping others.

        Raises:
            HarnessError: the process exited, reported an error, or the timeout passed.
        """
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise HarnessError(
                    f"{self.script}: no {event!r} line in {timeout}s\n{self.stderr_tail()}"
                )
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append(line)
            if line.get("event") == event and where(line):
                return line
            if line.get("event") in ("exit", "error") and event not in ("exit", "error"):
                raise HarnessError(f"{self.script}: {line}\n{self.stderr_tail()}")

    def command(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode() + b"\n")
        self.proc.stdin.flush()

    def kill(self) -> None:
        """SIGKILL: the peer vanishes without closing anything (fault tests)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        """Close stdin (the script exits on its own), then make sure it is gone."""
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
                self.proc.wait(3)
            except (OSError, subprocess.TimeoutExpired):
                self.kill()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.log.close()
        with_log = os.environ.get("TRICKLE_KEEP_HARNESS_LOGS")
        if not with_log:
            Path(self.log.name).unlink(missing_ok=True)


class Connector:
    """An ilp-connector started by harness/connector.js from a config dict."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = json.loads(json.dumps(config))
        self.proc: NodeProcess | None = None
        self.ready: dict[str, Any] = {}

    @classmethod
    @contextmanager
    def start(cls, config: dict[str, Any]) -> Iterator[Connector]:
        connector = cls(config)
        connector.launch()
        try:
            yield connector
        finally:
            connector.stop()

    def launch(self) -> dict[str, Any]:
        self.proc = NodeProcess("connector.js", [json.dumps(self.config)])
        try:
            self.ready = self.proc.wait_for("ready")
        except HarnessError:
            self.proc.stop()
            raise
        # Pin the ports, so restart() brings the connector back where the uplinks look.
        for name, info in self.ready["accounts"].items():
            if info.get("port"):
                self.config["accounts"][name]["port"] = info["port"]
        return self.ready

    @property
    def address(self) -> str:
        return str(self.ready["address"])

    def account(self, name: str) -> dict[str, Any]:
        return dict(self.ready["accounts"][name])

    def url(self, name: str) -> str:
        """The account's URL as an uplink sees it: http://… or btp+ws://…"""
        info = self.account(name)
        if info["transport"] == "http":
            return str(info["url"])
        return f"btp+ws://127.0.0.1:{info['port']}/"

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.stop()

    def restart(self) -> dict[str, Any]:
        """Start again on the same ports (after :meth:`kill`)."""
        return self.launch()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()
            self.proc = None


@contextmanager
def node_script(script: str, *args: str, ready: str = "ready") -> Iterator[NodeProcess]:
    """Run another harness script (stream_receiver.js, stream_sender.js, bench_driver.js)."""
    proc = NodeProcess(script, list(args))
    try:
        if ready:
            proc.ready = proc.wait_for(ready)
        yield proc
    finally:
        proc.stop()
