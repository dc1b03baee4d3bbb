"""A full STREAM payment from a page: site → bridge → Python STREAM client → handler iframe →
fetch (ILP-over-HTTP, sync mode) → a Python STREAM receiver on loopback, and back."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from tests.qt.webmonetization.conftest import page_html
from tests.qt.webmonetization.paying_handler import (
    HANDLER,
    paying_page,
    paying_receiver,
    spent,
    wallet_policy,
)


@pytest.fixture
def paying(env: Any, qtbot: Any, sites: Any) -> Iterator[Any]:
    with paying_receiver(env, qtbot, sites, HANDLER):
        yield env


def test_a_page_pays_a_receiver_through_the_handler(
    paying: Any, make_tab: Any, sites: Any, qtbot: Any
) -> None:
    site = sites()
    site.pages["/"] = paying_page(
        paying.server.credentials(), 1000, then='await stream.send("ping");'
    )
    tab = make_tab()
    tab.load(site.url("/"))
    result = tab.wait_report("paid", timeout=30000)
    assert "error" not in result, result
    assert result["streamTotalSent"] == "1000"
    assert result["connTotalSent"] == "1000"
    assert result["outgoing"] == "1000"
    assert result["source"] == ["XRP", 9]
    [receiver] = paying.received
    qtbot.waitUntil(lambda: receiver.total_received == 1000, timeout=10000)
    assert result["delivered"] == str(receiver.total_received)
    qtbot.waitUntil(lambda: b"".join(paying.data) == b"ping", timeout=10000)
    assert spent(paying, site.origin) == (1000, 0)
    assert spent(paying) == (1000, 0)  # all of it attributed to the site


def _site_paying(sites: Any, paying: Any, body: str) -> Any:
    issued = paying.server.credentials()
    site = sites()
    site.pages["/"] = page_html(
        script=f"""
        window.open_connection = async () => {{
          const conn = await WebMonetization.monetize({{
            destinationAccount: "{issued.destination_account}",
            sharedSecret: "{base64.b64encode(issued.shared_secret).decode()}"}});
          return [conn, conn.createStream()];
        }};
        {body}
        """
    )
    return site


def test_set_send_max_of_2_64_minus_1_spends_no_more_than_the_allowance(
    paying: Any, make_tab: Any, sites: Any, qtbot: Any
) -> None:
    paying.service.set_global_policy(wallet_policy(cap_total=300))
    site = _site_paying(
        sites,
        paying,
        """(async () => {
          const [conn, stream] = await window.open_connection();
          await stream.setSendMax("18446744073709551615");
          try {
            await stream.sendTotal("18446744073709551615", 20000);
            report("cap", "resolved");
          } catch (e) {
            report("cap", {name: e.name, open: stream.isOpen(), sent: stream.totalSent});
          }
        })().catch((e) => reportError("cap", e));""",
    )
    tab = make_tab()
    tab.load(site.url("/"))
    result = tab.wait_report("cap", timeout=30000)
    assert result["name"] == "BudgetExceededError"
    assert result["open"] is True
    assert spent(paying) == (300, 0)  # the cap is declared only once nothing is in flight
    assert result["sent"] == "300"
    [receiver] = paying.received
    assert receiver.total_received == 300


def test_a_hidden_tab_pays_nothing_until_shown(
    paying: Any, make_tab: Any, sites: Any, qtbot: Any
) -> None:
    site = _site_paying(
        sites,
        paying,
        """(async () => {
          const [conn, stream] = await window.open_connection();
          window.stream = stream;
          try { await stream.sendTotal("500", 1500); report("hidden", "resolved"); }
          catch (e) { report("hidden", {name: e.name, sent: stream.totalSent}); }
        })().catch((e) => reportError("hidden", e));
        window.phase2 = () => window.stream.sendTotal("500", 20000).then(
            () => report("shown", window.stream.totalSent), (e) => reportError("shown", e));""",
    )
    tab = make_tab()
    tab.tab.set_visible(False)
    tab.load(site.url("/"))
    result = tab.wait_report("hidden", timeout=30000)
    assert result == {"name": "TimeoutError", "sent": "0"}
    assert spent(paying) == (0, 0)
    tab.tab.set_visible(True)
    tab.js("window.phase2(), true")
    assert tab.wait_report("shown", timeout=30000) == "500"
    [receiver] = paying.received
    qtbot.waitUntil(lambda: receiver.total_received == 500, timeout=10000)
