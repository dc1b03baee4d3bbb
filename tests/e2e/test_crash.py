"""Crash: the app is killed with SIGKILL mid-stream and opened again on the same profile.

The app pays an ilp-protocol-stream receiver (npm) through the built-in provider, a BTP uplink
and ilp-connector (npm). After ``kill -9``: the database passes ``integrity_check``; every unit
the receiver got is counted as spent (committed history + unresolved); nothing is counted that
the receiver did not get beyond the documented bound (the unused part of one open lease).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest

from tests.interop.harness import Connector, free_port, node_script
from wallet.budgets import SitePolicy
from wallet.net.config import UplinkSettings
from wallet.provider import BUILTIN_HANDLER_NAME, BUILTIN_HANDLER_URI
from wallet.secrets import KeyringSecretStore, Secret
from wallet.service import WalletService

pytestmark = [pytest.mark.e2e, pytest.mark.interop, pytest.mark.usefixtures("secret_service")]

RATE_PER_HOUR = 3_600_000_000  # 1,000,000 units a second of visible time
PAGE = b"""<!doctype html><meta charset="utf-8"><title>paying</title><body><script>
const q = new URLSearchParams(location.search)
window.WebMonetization.monetize({destinationAccount: q.get('d'), sharedSecret: q.get('s')})
  .then((conn) => conn.createStream().setSendMax('18446744073709551615'))
</script>"""


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args: Any) -> None:
        pass


def test_kill_9_mid_stream_loses_no_payment(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site = f"http://127.0.0.1:{server.server_address[1]}"
    receiver_port = free_port()
    config = {
        "address": "test.harness",
        "accounts": {
            "trickle": {"transport": "btp", "token": "trickle-token", "maxPacketAmount": 50_000},
            "receiver": {
                "transport": "http",
                "token": "receiver-token",
                "outgoingUrl": f"http://127.0.0.1:{receiver_port}/",
            },
        },
    }
    profile = tmp_path / "profile"
    tz = ZoneInfo("UTC")
    with Connector.start(config) as connector:
        uplink = f"btp+ws://127.0.0.1:{connector.account('trickle')['port']}/"
        KeyringSecretStore.detect().set(
            UplinkSettings.from_url(uplink).token_name, Secret("trickle-token")
        )
        # The profile already has the built-in provider and a fast rate for the site.
        service = WalletService.open(profile, tz=tz)
        service.register_handler("trickle://wallet", BUILTIN_HANDLER_NAME, BUILTIN_HANDLER_URI)
        service.set_site_policy(SitePolicy(site, rate_per_hour=RATE_PER_HOUR))
        service.set_setting("first_run_done", True)
        service.close()

        args = ["--uplink", connector.url("receiver"), "--token", "receiver-token"]
        args += ["--incoming-port", str(receiver_port)]
        with node_script("stream_receiver.js", *args) as receiver:
            creds = receiver.ready
            url = f"{site}/?d={quote(creds['destinationAccount'])}&s={quote(creds['sharedSecret'])}"
            env = {
                **os.environ,
                "QT_QPA_PLATFORM": "offscreen",
                "QTWEBENGINE_DISABLE_SANDBOX": "1",
            }
            app = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "ui.cli",
                    "--profile",
                    str(profile),
                    "--uplink",
                    uplink,
                    url,
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            try:
                # Mid-stream: after the receiver has seen a good number of packets.
                receiver.wait_for("money", timeout=60, where=lambda m: int(m["total"]) >= 2_000_000)
            finally:
                os.killpg(app.pid, signal.SIGKILL)
                app.wait(10)
            receiver.command("totals")
            received = int(receiver.wait_for("totals")["total"])
    server.shutdown()

    db = sqlite3.connect(profile / "trickle.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()
    service = WalletService.open(profile, tz=tz)  # recovers the dead process's leases
    try:
        totals = {t.site: t for t in service.site_totals()}
        spent = totals[site]
        # Every unit the receiver got is counted as spent ...
        assert spent.sent <= received <= spent.sent + spent.unresolved
        # ... and what is counted beyond it is bounded by one lease (a minute of pay here).
        assert spent.sent + spent.unresolved - received <= RATE_PER_HOUR // 60
    finally:
        service.close()
