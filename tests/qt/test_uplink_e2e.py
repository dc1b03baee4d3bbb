"""End to end with real peers: a QtWebEngine page registers the built-in provider, then a
monetizing page pays through the built-in provider → our BTP uplink → ilp-connector (npm) →
an ilp-protocol-stream receiver (npm). The receiver's own count equals Trickle's history to
the unit, and the site's cap stops payment exactly at the cap.

The uplink token is stored in a real Secret Service (gnome-keyring on a private D-Bus)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.fixtures_keyring import secret_service  # noqa: F401  (registers the fixture)
from tests.interop.harness import Connector, free_port, node_script
from tests.qt.conftest import run_js
from tests.qt.flows import WAIT, load, register_builtin_provider, running_app
from ui.app import LaunchOptions
from ui.wallet.context import HELD_AT_CONNECTOR
from ui.wallet.pages.account import AccountPage
from ui.wallet.pages.overview import OverviewPage
from wallet.budgets import SitePolicy
from wallet.net.btp_uplink import BtpUplink
from wallet.net.config import UplinkSettings
from wallet.secrets import KeyringSecretStore, Secret

pytestmark = pytest.mark.interop

CAP = 3_000_000
PAGE = """<!doctype html><meta charset="utf-8"><title>paying</title><body>
<p id="out">starting</p>
<script>
const q = new URLSearchParams(location.search)
let sent = 0n
window.WebMonetization.monetize({destinationAccount: q.get('d'), sharedSecret: q.get('s')})
  .then((conn) => {
    const stream = conn.createStream()
    stream.addEventListener('outgoing_money', (e) => {
      sent += BigInt(e.amount); document.body.dataset.sent = String(sent)
    })
    return stream.sendTotal('18446744073709551615')
  })
  .catch((e) => { document.body.dataset.error = e.name })
</script>"""


@pytest.mark.usefixtures("secret_service")
@pytest.mark.allow_qt_messages(r"This plugin does not support propagateSizeHints\(\)")
def test_pays_an_npm_receiver_through_the_connector_up_to_the_cap(
    qtbot: Any,
    tmp_path: Path,
    http_site: Any,
) -> None:
    receiver_port = free_port()
    config = {
        "address": "test.harness",
        "accounts": {
            "trickle": {"transport": "btp", "token": "trickle-token", "maxPacketAmount": 100_000},
            "receiver": {
                "transport": "http",
                "token": "receiver-token",
                "outgoingUrl": f"http://127.0.0.1:{receiver_port}/",
            },
        },
    }
    with Connector.start(config) as connector:
        uplink_url = f"btp+ws://127.0.0.1:{connector.account('trickle')['port']}/"
        KeyringSecretStore.detect().set(
            UplinkSettings.from_url(uplink_url).token_name, Secret("trickle-token")
        )
        args = ["--uplink", connector.url("receiver"), "--token", "receiver-token"]
        args += ["--incoming-port", str(receiver_port), "--quiet"]
        with node_script("stream_receiver.js", *args) as receiver:
            creds = receiver.ready
            page = http_site.add("/monetized.html", PAGE)
            site = f"http://127.0.0.1:{page.port()}"
            options = LaunchOptions(profile_dir=tmp_path / "profile", uplink=uplink_url)
            with running_app(qtbot, options) as app:
                assert app.wiring.runtime is not None
                runtime = app.wiring.runtime.result(timeout=20)
                assert runtime.provider.account.client_address == "test.harness.trickle"
                app.service.set_site_policy(
                    SitePolicy(site, rate_per_hour=36 * 10**9, cap_total=CAP)
                )
                welcome = app.window.new_tab()
                load(qtbot, welcome, "trickle://wallet/")
                register_builtin_provider(qtbot, app, welcome)

                tab = app.window.new_tab()
                query = f"?d={quote(creds['destinationAccount'])}&s={quote(creds['sharedSecret'])}"
                load(qtbot, tab, page.toString() + query)
                qtbot.waitUntil(
                    lambda: (
                        run_js(qtbot, tab, "document.body.dataset.error || ''")
                        == "BudgetExceededError"
                    ),
                    timeout=60_000,
                )
                sent = int(run_js(qtbot, tab, "document.body.dataset.sent || '0'"))
                assert sent == CAP
                receiver.command("totals")
                totals = receiver.wait_for("totals")
                assert totals["total"] == str(CAP)

                def history() -> int:
                    app.service.flush()
                    return sum(t.sent for t in app.service.site_totals(site=site))

                qtbot.waitUntil(lambda: history() == CAP, timeout=WAIT)
                hist = app.service.site_totals(site=site)
                assert [(t.site, t.sent, t.delivered) for t in hist] == [(site, CAP, CAP)]


@pytest.mark.usefixtures("secret_service")
@pytest.mark.allow_qt_messages(
    r"This plugin does not support (propagateSizeHints|raise|grabbing the keyboard).*"
)
def test_every_view_shows_the_uplinks_account(qtbot: Any, tmp_path: Path) -> None:
    """On a real uplink the Account page, the Overview and the site popover find the account
    the uplink started (``uplink:<url>``, as its link names itself): its address and asset, and
    for the balance that it is held at the connector — never "No account yet"."""
    config = {
        "address": "test.harness",
        "accounts": {"trickle": {"transport": "btp", "token": "trickle-token"}},
    }
    with Connector.start(config) as connector:
        uplink_url = connector.url("trickle")
        KeyringSecretStore.detect().set(
            UplinkSettings.from_url(uplink_url).token_name, Secret("trickle-token")
        )
        options = LaunchOptions(profile_dir=tmp_path / "profile", uplink=uplink_url)
        with running_app(qtbot, options) as app:
            assert app.wiring.runtime is not None
            runtime = app.wiring.runtime.result(timeout=20)
            uplink = runtime.provider.uplink
            assert isinstance(uplink, BtpUplink)
            started = app.service.account(f"uplink:{uplink.display_url}")
            assert started is not None and started.address == "test.harness.trickle"
            wallet = app.startup.wallet
            assert wallet is not None
            window = wallet.ui.open_wallet(app.window)
            account = window.show_page("account")
            assert isinstance(account, AccountPage)
            qtbot.waitUntil(lambda: account.address.text() == "test.harness.trickle", timeout=WAIT)
            assert account.asset.text() == started.asset.code
            assert account.balance.text() == HELD_AT_CONNECTOR
            overview = window.show_page("overview")
            assert isinstance(overview, OverviewPage)
            overview.refresh()
            assert overview.balance.text() == HELD_AT_CONNECTOR
            popover = app.window.wallet_indicator.popover  # type: ignore[attr-defined]
            popover.show_site("https://blog.example")
            assert popover.balance.text() == HELD_AT_CONNECTOR
            window.close()
