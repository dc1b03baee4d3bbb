"""monetize(): argument rules, named errors, the JS IlpConnection/IlpStream shape (through the
real bridge and handler host, with a fake STREAM side — see fakes.py), document binding and
what the bridge reports to the payment layer (site, attention, the document's end)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QEvent

from tests.qt.webmonetization.conftest import page_html
from tests.qt.webmonetization.fakes import FakeBudgetExceeded, FakePayments
from ui.webmonetization.handler_host import HandlerHost
from ui.webmonetization.protocols import RegisteredHandler

SECRET = "btoa(String.fromCharCode(...new Uint8Array(32).fill(7)))"
MONETIZE = f"""WebMonetization.monetize({{destinationAccount: "test.receiver.abc",
    sharedSecret: {SECRET}}})"""


@pytest.fixture
def wired(env: Any, qtbot: Any, sites: Any) -> Iterator[Any]:
    """env + a real handler host + a registered handler page + a fake payment layer."""
    host = HandlerHost(env.profile, env.asyncs)
    qtbot.waitUntil(lambda: host._ready, timeout=10000)
    provider = sites()
    provider.pages["/handler"] = page_html()
    env.registry.handlers.append(RegisteredHandler(provider.origin, "P", provider.url("/handler")))
    env.factory = FakePayments()
    env.services.payments = env.factory
    env.services.links = host
    env.provider = provider
    yield env
    host.page.deleteLater()
    host.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def run(env: Any, qtbot: Any, coro: Any) -> Any:
    future = env.asyncs.submit(coro)
    qtbot.waitUntil(future.done, timeout=10000)
    return future.result()


def test_bad_arguments_get_named_errors(wired: Any, make_tab: Any, sites: Any) -> None:
    site = sites()
    site.pages["/"] = page_html(
        script=f"""
        const secret = {SECRET};
        const cases = {{
          none: undefined,
          number: {{destinationAccount: 5, sharedSecret: secret}},
          address: {{destinationAccount: "not an address", sharedSecret: secret}},
          short: {{destinationAccount: "test.a.b", sharedSecret: btoa("short")}},
          notb64: {{destinationAccount: "test.a.b", sharedSecret: "%%%%"}},
        }};
        for (const [k, v] of Object.entries(cases)) {{
          WebMonetization.monetize(v).then(() => report(k, "resolved"), e => reportError(k, e));
        }}
        """
    )
    tab = make_tab()
    tab.load(site.url("/"))
    assert tab.wait_report("none")["error"] == "TypeError"
    assert tab.wait_report("number")["error"] == "TypeError"
    assert tab.wait_report("address")["error"] == "InvalidAddressError"
    assert tab.wait_report("short")["error"] == "InvalidSharedSecretError"
    assert tab.wait_report("notb64")["error"] == "InvalidSharedSecretError"
    assert wired.factory.opened == []


def test_no_handler_registered(wired: Any, make_tab: Any, sites: Any) -> None:
    wired.registry.handlers.clear()
    site = sites()
    site.pages["/"] = page_html(
        script=f'{MONETIZE}.then(() => report("m", "ok"), e => reportError("m", e));'
    )
    tab = make_tab()
    tab.load(site.url("/"))
    assert tab.wait_report("m")["error"] == "NoHandlerRegisteredError"


def test_handler_that_fails_to_load_rejects_monetize(wired: Any, make_tab: Any, sites: Any) -> None:
    wired.provider.close()  # the handler's server is gone: connection refused
    site = sites()
    site.pages["/"] = page_html(
        script=f'{MONETIZE}.then(() => report("m", "ok"), e => reportError("m", e));'
    )
    tab = make_tab()
    tab.load(site.url("/"))
    result = tab.wait_report("m", timeout=20000)
    assert result["error"] == "HandlerUnavailableError"
    assert "could not be loaded" in result["message"]


SHAPE_SCRIPT = f"""
(async () => {{
  const out = {{}};
  const conn = await {MONETIZE};
  const connFields = ["connectionTag", "lastPacketExchangeRate", "minimumAcceptableExchangeRate",
    "totalDelivered", "totalSent", "totalReceived", "sourceAssetCode", "sourceAssetScale",
    "destinationAssetCode", "destinationAssetScale"];
  const snap = (o, names) => Object.fromEntries(names.map(n => [n, o[n]]));
  out.connIsEventTarget = conn instanceof EventTarget;
  out.connFields = snap(conn, connFields);
  out.connMethods = [typeof conn.createStream, typeof conn.close, typeof conn.addEventListener];
  out.connHandlers = ["onstream", "onclose", "onerror"].map(n => n in conn && conn[n] === null);
  conn.totalSent = "999";  // sloppy mode: silently ignored (a getter without a setter)
  out.readOnly = [conn.totalSent, (() => {{ "use strict";
    try {{ conn.totalSent = "9"; return "assigned"; }} catch (e) {{ return e.name; }} }})()];
  try {{ new conn.constructor(); out.ctor = "built"; }} catch (e) {{ out.ctor = e.name; }}
  out.protoFrozen = Object.isFrozen(Object.getPrototypeOf(conn));

  const events = [];
  const stream = conn.createStream();
  const streamFields = ["id", "receiveMax", "sendMax", "totalReceived", "totalSent"];
  out.streamIsEventTarget = stream instanceof EventTarget;
  out.streamMethods = ["isOpen", "setReceiveMax", "receiveTotal", "setSendMax", "sendTotal",
    "send", "close"].map(n => typeof stream[n]);
  out.streamHandlers = ["ondata", "onmoney", "onoutgoing_money", "onclose", "onerror"]
    .map(n => n in stream && stream[n] === null);
  stream.addEventListener("outgoing_money",
    e => events.push(["outgoing_money", e.amount, typeof e.amount]));
  stream.onmoney = e => events.push(["money", e.amount, typeof e.amount]);
  stream.addEventListener("data",
    e => events.push(["data", e.data instanceof Uint8Array, Array.from(e.data)]));
  stream.onclose = () => events.push(["close"]);

  await stream.setSendMax("10");
  out.afterSetSendMax = snap(stream, streamFields);
  await stream.sendTotal("100");
  out.afterSendTotal = snap(stream, streamFields);
  out.connAfterSend = snap(conn, ["totalSent", "totalDelivered"]);
  stream.setReceiveMax("50");
  await stream.receiveTotal("50", 1000);
  out.afterReceive = snap(stream, streamFields);
  await stream.send(new Uint8Array([1, 2, 3]));
  await stream.send("hi");
  out.isOpenBefore = stream.isOpen();
  try {{ await stream.sendTotal("5000"); out.overCap = "resolved"; }}
  catch (e) {{ out.overCap = [e.name, e instanceof Error]; }}
  try {{ await stream.sendTotal("18446744073709551616"); out.tooBig = "resolved"; }}
  catch (e) {{ out.tooBig = e.name; }}
  try {{ await stream.setSendMax(1.5); out.notInt = "resolved"; }}
  catch (e) {{ out.notInt = e.name; }}
  try {{ await stream.send({{}}); out.badData = "resolved"; }} catch (e) {{ out.badData = e.name; }}

  const remote = new Promise(resolve => {{ conn.onstream = e => resolve(e.stream); }});
  const connError = new Promise(resolve => conn.addEventListener("error", e => resolve(e.error)));
  const streamError = new Promise(resolve => {{ stream.onerror = e => resolve(e.error); }});
  report("need-remote", true);
  const other = await remote;
  out.remote = [other instanceof EventTarget, other.id, other.isOpen()];
  const [ce, se] = await Promise.all([connError, streamError]);
  out.errors = [[ce instanceof Error, ce.name, ce.message], [se instanceof Error, se.name]];

  stream.close();
  await new Promise(resolve => stream.addEventListener("close", resolve));
  out.isOpenAfter = stream.isOpen();
  const closed = new Promise(resolve => conn.addEventListener("close", resolve));
  conn.close();
  await closed;
  out.events = events;
  report("shape", out);
}})().catch(e => reportError("shape", e));
"""


def test_every_field_event_and_method_has_the_spec_shape(
    wired: Any, make_tab: Any, sites: Any, qtbot: Any
) -> None:
    site = sites()
    site.pages["/"] = page_html(script=SHAPE_SCRIPT)
    tab = make_tab()
    tab.load(site.url("/"))
    tab.wait_report("need-remote")
    [conn] = wired.factory.opened
    run(wired, qtbot, _call(conn.remote_stream))

    def fail() -> None:
        conn.listener.on_error(FakeBudgetExceeded("over the limit"))
        conn.streams[0].listener.on_error(RuntimeError("secret internals"))

    run(wired, qtbot, _call(fail))
    out = tab.wait_report("shape")
    assert "error" not in out, out
    assert wired.factory.args == [("test.receiver.abc", bytes([7]) * 32)]
    assert out["connIsEventTarget"] is True
    assert out["connFields"] == {
        "connectionTag": "tag-1",
        "lastPacketExchangeRate": 2,
        "minimumAcceptableExchangeRate": 1.5,
        "totalDelivered": "0",
        "totalSent": "0",
        "totalReceived": "0",
        "sourceAssetCode": "XRP",
        "sourceAssetScale": 9,
        "destinationAssetCode": "USD",
        "destinationAssetScale": "2",
    }
    assert out["connMethods"] == ["function"] * 3
    assert out["connHandlers"] == [True] * 3
    assert out["readOnly"] == ["0", "TypeError"]
    assert out["ctor"] == "TypeError"
    assert out["protoFrozen"] is True
    assert out["streamIsEventTarget"] is True
    assert out["streamMethods"] == ["function"] * 7
    assert out["streamHandlers"] == [True] * 5
    assert out["afterSetSendMax"]["sendMax"] == "10"
    assert out["afterSetSendMax"]["id"] == "1"
    assert out["afterSendTotal"] == {
        "id": "1",
        "receiveMax": "0",
        "sendMax": "100",
        "totalReceived": "0",
        "totalSent": "100",
    }
    assert out["connAfterSend"] == {"totalSent": "100", "totalDelivered": "200"}
    assert out["afterReceive"]["totalReceived"] == "50"
    assert out["afterReceive"]["receiveMax"] == "50"
    assert out["isOpenBefore"] is True
    assert out["overCap"] == ["BudgetExceededError", True]
    assert out["tooBig"] == "RangeError"
    assert out["notInt"] == "TypeError"
    assert out["badData"] == "TypeError"
    assert out["remote"] == [True, "2", True]
    # a named wallet error keeps its name; anything else is a generic Error, no internals
    assert out["errors"] == [[True, "BudgetExceededError", "over the limit"], [True, "Error"]]
    assert out["isOpenAfter"] is False
    assert out["events"] == [
        ["outgoing_money", "100", "string"],
        ["money", "50", "string"],
        ["data", True, [3, 2, 1]],
        ["data", True, [105, 104]],
        ["close"],
    ]
    assert conn.closed
    assert conn.streams[0].sent_data == [b"\x01\x02\x03", b"hi"]


async def _call(fn: Any) -> Any:
    return fn()


def test_navigation_mid_monetize_attributes_nothing_to_the_new_page(
    wired: Any, make_tab: Any, sites: Any, qtbot: Any
) -> None:
    hold = asyncio.Event()
    wired.factory.hold = hold
    site, next_site = sites(), sites()
    site.pages["/"] = page_html(
        script=f'{MONETIZE}.then(() => report("m", "ok"), e => reportError("m", e));'
    )
    next_site.pages["/"] = page_html()
    tab = make_tab()
    tab.load(site.url("/"))
    qtbot.waitUntil(lambda: len(wired.factory.opened) == 1, timeout=10000)
    tab.load(next_site.url("/"))
    wired.asyncs.loop.call_soon_threadsafe(hold.set)
    [conn] = wired.factory.opened
    qtbot.waitUntil(lambda: conn.closed, timeout=10000)
    assert conn.document.site == site.origin
    assert conn.document.ended  # the payment layer was told: nothing more is paid for it
    assert not tab.page.has("m")


def test_the_bridge_reports_attention_and_the_documents_end(
    wired: Any, make_tab: Any, sites: Any, qtbot: Any
) -> None:
    site, next_site = sites(), sites()
    site.pages["/"] = page_html(
        script=f'{MONETIZE}.then(c => {{ window.conn = c; report("m", "ok"); }}, '
        'e => reportError("m", e));'
    )
    next_site.pages["/"] = page_html()
    tab = make_tab()
    tab.load(site.url("/"))
    assert tab.wait_report("m") == "ok"
    [doc] = wired.factory.documents
    assert (doc.site, doc.attending, doc.ended) == (site.origin, True, False)
    tab.tab.set_visible(False)
    qtbot.waitUntil(lambda: doc.attending is False)
    tab.tab.set_visible(True)
    qtbot.waitUntil(lambda: doc.attending is True)
    tab.load(next_site.url("/"))
    qtbot.waitUntil(lambda: doc.ended)
    qtbot.waitUntil(lambda: wired.factory.opened[0].closed)
