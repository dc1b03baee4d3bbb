"""Never more than allowed, whatever a handler or a page does: real QtWebEngine pages, a real
handler iframe (hostile in one way per test) and a real STREAM receiver behind it.

In every case: **the receiver's own count ≤ the cap**, and **the ledger's spent + unresolved ≥
the receiver's count** (nothing paid that is not counted). The handler forwards every Prepare
to the receiver and misbehaves only after the receiver has fulfilled it — the worst case: the
money is gone, and the answer Trickle gets says otherwise or nothing.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.qt.webmonetization.conftest import page_html
from tests.qt.webmonetization.paying_handler import (
    HANDLER,
    paying_receiver,
    received_total,
    spent,
    wallet_policy,
)
from ui.wallet.context import WalletContext
from ui.wallet.indicator import MonetizationIndicator
from ui.wallet.network import NetworkStatus
from ui.wallet.pages.sites import SitesPage
from ui.wallet.qtevents import QtWalletEvents
from wallet.amounts import NumberStyle
from wallet.budgets import Reason, SitePolicy, SiteState
from wallet.events import BudgetReached
from wallet.payments import PAGE_CONNECTION_TEMPLATE
from wallet.site_state import Cause
from wallet.stream import ConnectionConfig

CAP = 300
# Short-lived Prepares and packets of at most 100 units: several packets reach the cap.
SHORT = ConnectionConfig(bytes(32), "XXX", 0, expiry=1.0, max_packet_amount=100)

HOSTILE_HANDLER = page_html(
    script="""
const params = new URLSearchParams(location.search);
const mode = params.get("mode");
const delay = Number(params.get("delay") || "0");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const b64 = (bytes) => {
  let t = "";
  for (const b of bytes) t += String.fromCharCode(b);
  return btoa(t);
};
// OER: type, length prefix (one byte, or 0x80 + its own length), then the content.
const body = (packet) => (packet[1] & 0x80 ? 2 + (packet[1] & 0x7f) : 2);
// A Prepare's content starts with its amount (UInt64): does it carry money?
const carriesMoney = (prepare) => prepare.slice(body(prepare), body(prepare) + 8).some((b) => b);
// An ILP Reject: T00, no triggeredBy, no message, no data.
const REJECT = new Uint8Array([14, 6, 84, 48, 48, 0, 0, 0]);
window.addEventListener("message", async (e) => {
  if (e.source !== parent || e.origin !== "null") return;
  const d = e.data;
  if (!d || typeof d.request !== "string") return;
  const request = Uint8Array.from(atob(d.request), (c) => c.charCodeAt(0));
  const r = await fetch("/ilp", {method: "POST", body: request,
                                 headers: {"Content-Type": "application/octet-stream"}});
  const reply = new Uint8Array(await r.arrayBuffer());
  const answer = (response) => parent.postMessage({id: d.id, response: response}, "*");
  // only money the receiver was paid: the handshake goes through untouched
  if (reply[0] !== 13 || !carriesMoney(request)) { answer(b64(reply)); return; }
  if (mode === "late") { await sleep(delay); answer(b64(reply)); }
  else if (mode === "malformed") answer("%%% this is not base64 %%%");
  else if (mode === "error") parent.postMessage({id: d.id, error: "lost", errorName: "Oops"}, "*");
  else if (mode === "reject") answer(b64(REJECT));
  else if (mode === "preimage") {
    const forged = reply.slice();
    forged.fill(0, body(reply), body(reply) + 32);  // a Fulfill's content starts with it
    answer(b64(forged));
  }
  // "silent": never answers
});
"""
)


def paying_page(env: Any, connections: int = 1, timeout_ms: int = 40000, body: str = "") -> str:
    """Monetizes ``connections`` times in a row (a page that reconnects after each failure),
    each time asking for far more than the cap; reports each attempt's outcome."""
    issued = env.server.credentials()
    secret = base64.b64encode(issued.shared_secret).decode()
    return page_html(
        body=body,
        script=f"""
        (async () => {{
          const outcomes = [];
          for (let i = 0; i < {connections}; i++) {{
            try {{
              const conn = await WebMonetization.monetize({{
                destinationAccount: "{issued.destination_account}", sharedSecret: "{secret}"}});
              const stream = conn.createStream();
              await stream.setSendMax("18446744073709551615");
              await stream.sendTotal("18446744073709551615", {timeout_ms});
              outcomes.push("resolved");
            }} catch (e) {{ outcomes.push(e.name); }}
          }}
          report("done", outcomes);
        }})();
        """,
    )


@pytest.fixture
def hostile(env: Any, qtbot: Any, sites: Any, request: Any) -> Iterator[Any]:
    mode, template = request.param
    handler = HOSTILE_HANDLER
    with paying_receiver(env, qtbot, sites, handler, template) as paying:
        paying.registry.handlers[0] = replace(
            paying.registry.handlers[0], uri=paying.registry.handlers[0].uri + "?" + mode
        )
        paying.service.set_global_policy(wallet_policy(cap_total=CAP))
        yield paying


def pay_and_leave(env: Any, make_tab: Any, sites: Any, qtbot: Any, connections: int = 1) -> Any:
    """Load a paying page, wait for its outcome, then navigate away (its document ends, so
    what is still held is settled). Returns the page's outcomes."""
    site, elsewhere = sites(), sites()
    site.pages["/"] = paying_page(env, connections)
    elsewhere.pages["/"] = page_html()
    tab = make_tab()
    tab.load(site.url("/"))
    outcomes = tab.wait_report("done", timeout=120000)
    tab.load(elsewhere.url("/"))
    return site, outcomes


def check_invariants(env: Any, qtbot: Any, site: Any) -> tuple[int, int, int]:
    got = received_total(env)
    assert got <= CAP, f"the receiver counted {got} against a cap of {CAP}"

    def counted() -> bool:
        sent, unresolved = spent(env, site.origin)
        return sent + unresolved >= got

    qtbot.waitUntil(counted, timeout=10000)
    sent, unresolved = spent(env, site.origin)
    assert sent + unresolved <= CAP
    return got, sent, unresolved


CASES = {
    "late-app-template": ("mode=late&delay=31000", PAGE_CONNECTION_TEMPLATE),
    "late-short-expiry": ("mode=late&delay=2000", SHORT),
    "malformed-base64": ("mode=malformed", SHORT),
    "id-error-reply": ("mode=error", SHORT),
    "reject-after-paid": ("mode=reject", SHORT),
    "silent": ("mode=silent", SHORT),
}


@pytest.mark.slow
@pytest.mark.parametrize("hostile", list(CASES.values()), ids=list(CASES), indirect=True)
def test_a_handler_that_lies_after_the_receiver_was_paid_never_gets_past_the_cap(
    hostile: Any, make_tab: Any, sites: Any, qtbot: Any
) -> None:
    site, outcomes = pay_and_leave(hostile, make_tab, sites, qtbot)
    assert outcomes == ["BudgetExceededError"]
    got, sent, unresolved = check_invariants(hostile, qtbot, site)
    assert got > 0  # the receiver was paid: the handler lied about it
    assert sent == 0  # no answer Trickle got proved a payment
    assert unresolved == got  # every unit that reached it is counted, no more


@pytest.mark.parametrize("hostile", [("mode=preimage", SHORT)], ids=["preimage"], indirect=True)
def test_a_wrong_preimage_stops_the_provider_for_the_page_even_when_it_reconnects(
    hostile: Any, make_tab: Any, sites: Any, qtbot: Any
) -> None:
    notices: list[Any] = []
    hostile.service.events.subscribe(notices.append)
    site, outcomes = pay_and_leave(hostile, make_tab, sites, qtbot, connections=3)
    # the first connection fails on the lie; the reconnections get nothing at all
    assert outcomes[1:] == ["BudgetExceededError", "BudgetExceededError"]
    got, sent, unresolved = check_invariants(hostile, qtbot, site)
    first, *again = hostile.received
    assert got == first.total_received > 0  # what was in flight when the lie came back
    assert all(conn.total_received == 0 for conn in again)
    assert (sent, unresolved) == (0, got)
    assert BudgetReached(site.origin, Reason.PROVIDER_FAILING) in notices


@pytest.fixture
def honest(env: Any, qtbot: Any, sites: Any) -> Iterator[Any]:
    with paying_receiver(env, qtbot, sites, HANDLER, SHORT) as paying:
        paying.service.set_global_policy(wallet_policy(cap_total=CAP))
        yield paying


def test_the_same_site_in_five_tabs_shares_one_cap(
    honest: Any, make_tab: Any, sites: Any, qtbot: Any
) -> None:
    site = sites()
    # each tab also holds an iframe of the same site that asks to be paid on its own
    site.pages["/"] = paying_page(honest, body='<iframe src="/frame"></iframe>')
    issued = honest.server.credentials()
    secret = base64.b64encode(issued.shared_secret).decode()
    site.pages["/frame"] = page_html(
        script=f"""WebMonetization.monetize({{destinationAccount: "{issued.destination_account}",
            sharedSecret: "{secret}"}}).then(() => report("frame", "ok"),
            (e) => report("frame", e.name));"""
    )
    tabs = [make_tab() for _ in range(5)]
    for tab in tabs:
        tab.load(site.url("/"))
    outcomes = [tab.wait_report("done", timeout=60000) for tab in tabs]
    assert all(o == ["BudgetExceededError"] for o in outcomes), outcomes
    # iframes are paid only as part of their tab (draft 4: the API is the top document's)
    assert [tab.wait_report("frame") for tab in tabs] == ["NotAllowedError"] * 5
    got, sent, unresolved = check_invariants(honest, qtbot, site)
    assert got == sent == CAP and unresolved == 0  # honest: every unit confirmed


BLOB_PAGE = """
const html = `<script>
  window.WebMonetization.monetize({destinationAccount: "%(dest)s", sharedSecret: "%(secret)s"})
    .then((c) => c.createStream().sendTotal("1000", 5000))
    .then(() => console.info('TEST:{"tag":"blob","value":"paid"}'),
          (e) => console.info('TEST:' + JSON.stringify({tag: "blob", value: e.name})));
<\\/script>`;
location.href = URL.createObjectURL(new Blob([html], {type: "text/html"}));
"""


def test_a_blocked_site_stays_blocked_in_its_blob_and_about_blank_documents(
    honest: Any, make_tab: Any, sites: Any, qtbot: Any
) -> None:
    notices: list[Any] = []
    honest.service.events.subscribe(notices.append)
    site = sites()
    honest.service.set_site_policy(SitePolicy(site.origin, state=SiteState.BLOCKED))
    issued = honest.server.credentials()
    secret = base64.b64encode(issued.shared_secret).decode()
    site.pages["/"] = page_html(
        script=BLOB_PAGE % {"dest": issued.destination_account, "secret": secret}
    )
    tab = make_tab()
    tab.load(site.url("/"))
    assert tab.wait_report("blob", timeout=20000) == "BudgetExceededError"
    assert tab.page.url().scheme() == "blob"
    assert BudgetReached(site.origin, Reason.BLOCKED) in notices  # the real site, not "null"

    # about:blank, entered from the site: it is the site's document too
    site.pages["/blank"] = page_html(script='location.href = "about:blank";')
    tab.load(site.url("/blank"))
    qtbot.waitUntil(lambda: tab.page.url().toString() == "about:blank", timeout=10000)
    assert tab.js("self.origin") == site.origin
    tab.js(
        f"""void WebMonetization.monetize({{destinationAccount: "{issued.destination_account}",
            sharedSecret: "{secret}"}}).then((c) => c.createStream().sendTotal("1000", 5000))
            .then(() => console.info('TEST:{{"tag":"blank","value":"paid"}}'),
                  (e) => console.info('TEST:' + JSON.stringify({{tag: "blank", value: e.name}})))"""
    )
    assert tab.wait_report("blank", timeout=20000) == "BudgetExceededError"
    assert received_total(honest) == 0
    assert honest.service.site_totals() == []  # nothing for "null" or anyone else


def test_a_data_document_is_refused(honest: Any, make_tab: Any, qtbot: Any) -> None:
    issued = honest.server.credentials()
    secret = base64.b64encode(issued.shared_secret).decode()
    tab = make_tab()
    html = page_html(
        script=f"""WebMonetization.monetize({{destinationAccount: "{issued.destination_account}",
            sharedSecret: "{secret}"}}).then(() => report("data", "ok"),
            (e) => report("data", e.name));"""
    )
    tab.load("data:text/html;base64," + base64.b64encode(html.encode()).decode())
    assert tab.wait_report("data", timeout=20000) == "NotAllowedError"
    assert received_total(honest) == 0


@pytest.mark.parametrize("hostile", [("mode=preimage", SHORT)], ids=["preimage"], indirect=True)
def test_a_lying_provider_reads_provider_failing_in_every_wallet_view(
    hostile: Any, make_tab: Any, sites: Any, qtbot: Any
) -> None:
    """The state table's "provider failing" row (tests/qt/wallet/test_state_table.py has the
    others): a provider that proves a payment with a wrong preimage reads "Provider failing"
    in the indicator, the popover and the Sites table — the same words."""
    env = hostile
    service = env.service
    handler = env.registry.handlers[0]
    service.register_handler(handler.origin, handler.name, handler.uri)  # the wallet's provider
    events = QtWalletEvents(service.events)
    ctx = WalletContext(
        service=service,
        history=service.history_reader(),
        events=events,
        network=NetworkStatus(),
        secrets=None,
        tz=ZoneInfo("UTC"),
        clock=lambda: datetime.now(UTC),
        style=NumberStyle(),
    )
    states = ctx.site_states()
    states.follow(events)
    env.services.on_monetize = lambda tab: states.set_monetized(tab, True)
    indicator = MonetizationIndicator(ctx, states)
    sites_page = SitesPage(ctx)
    site = sites()
    site.pages["/"] = paying_page(env, connections=3)
    tab = make_tab()
    states.begin_visit(tab.tab, site.origin)
    states.set_visible(tab.tab, True)
    states.set_current(tab.tab)
    tab.load(site.url("/"))
    tab.wait_report("done", timeout=120000)
    qtbot.waitUntil(lambda: states.status(site.origin).cause is Cause.PROVIDER_FAILING)
    words = states.words(states.status(site.origin))
    assert words.label == "Provider failing" and words.fix is None
    assert indicator.text() == words.label
    assert words.sentence() in indicator.accessibleDescription()
    indicator.popover.show_site(site.origin)
    assert indicator.popover.status.text() == words.label
    assert indicator.popover.explanation.text() == words.explanation
    assert indicator.popover.fix.isHidden()
    sites_page.refresh()
    row = sites_page.sites().index(site.origin)
    assert sites_page.table.item(row, 1).text() == words.label  # type: ignore[union-attr]
    indicator.deleteLater()
    sites_page.deleteLater()
    events.close()
