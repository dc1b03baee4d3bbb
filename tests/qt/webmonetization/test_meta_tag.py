"""The Coil-era tag in a real QtWebEngine page: ``<meta name="monetization" content="$pointer">``
is paid over SPSP (the sandbox's SPSP wallet address) to ``ilp-protocol-stream``'s server (npm,
the library Coil-era receivers ran) through the real payment layer and wallet, and the page's
``document.monetization`` sees ``state`` and the ``monetizationpending`` / ``start`` /
``progress`` / ``stop`` events with their ``detail`` fields as the Coil-era API had them. The
receiver's own total = Trickle's history = the sum of the progress amounts."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.interop.op_peers import SpspStreamReceiverBackend
from tests.qt.webmonetization.conftest import Site, Tab, page_html
from tests.qt.webmonetization.link_support import World, wait_a_while
from wallet.net.link import Link

pytestmark = pytest.mark.interop

COIL_RECORDER = """
window.coil = [];
window.progressTotal = 0n;
for (const type of ["monetizationpending", "monetizationstart", "monetizationprogress",
                    "monetizationstop"]) {
  document.monetization.addEventListener(type, (e) => {
    if (type === "monetizationprogress") window.progressTotal += BigInt(e.detail.amount);
    window.coil.push({type: e.type, state: document.monetization.state,
                      custom: e instanceof CustomEvent, detail: {...e.detail},
                      frozen: Object.isFrozen(e.detail)});
  });
}
report("initial", document.monetization.state);
"""
UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


@pytest.fixture
def receiver() -> Iterator[SpspStreamReceiverBackend]:
    with SpspStreamReceiverBackend.start("test.sandbox.op") as r:
        yield r


def meta_page(pointer: str) -> str:
    return page_html(script=COIL_RECORDER).replace(
        "<title>", f'<meta name="monetization" content="{pointer}"><title>', 1
    )


def progress_total(tab: Tab) -> int:
    return int(tab.js("String(window.progressTotal)"))


def coil_events(tab: Tab) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = tab.js("window.coil")
    return events


def test_the_meta_tag_is_paid_over_spsp_and_document_monetization_says_so(
    receiver: SpspStreamReceiverBackend,
    world_factory: Callable[..., World],
    make_tab: Callable[[], Tab],
    sites: Callable[[], Site],
) -> None:
    def backend(_: Link, address: str) -> SpspStreamReceiverBackend:
        return receiver

    # SPSP is no Open Payments exchange; a payment pointer has no port: the sandbox is
    # "wallet.test" on this test network
    w = world_factory(backend=backend, check_openapi=False, sandbox_host="wallet.test")
    site = sites()
    pointer = "$wallet.test/alice"
    site.pages["/"] = meta_page(pointer)
    tab = make_tab()
    tab.load(site.url("/"))
    assert tab.wait_report("initial") == "stopped"
    tab.qtbot.waitUntil(
        lambda: sum(e["type"] == "monetizationprogress" for e in coil_events(tab)) >= 3,
        timeout=20000,
    )
    tab.tab.set_visible(False)  # hidden: stopped, not finalized; what is in flight lands
    tab.qtbot.waitUntil(lambda: progress_total(tab) == w.history(site.origin), timeout=20000)
    total = progress_total(tab)
    assert total > 0 and sum(receiver.totals().values()) == total

    events = coil_events(tab)
    first, second, third = events[:3]
    request_id = first["detail"]["requestId"]
    assert UUID4.fullmatch(request_id)
    base = {"paymentPointer": pointer, "requestId": request_id}
    assert first == {
        "type": "monetizationpending",
        "state": "pending",
        "custom": True,
        "detail": base,
        "frozen": True,
    }
    assert second == {
        "type": "monetizationstart",
        "state": "started",
        "custom": True,
        "detail": base,
        "frozen": True,
    }
    assert third["type"] == "monetizationprogress" and third["state"] == "started"
    detail = third["detail"]
    assert set(detail) == {
        "paymentPointer",
        "requestId",
        "amount",
        "assetCode",
        "assetScale",
        "receipt",
    }
    assert detail["paymentPointer"] == pointer and detail["requestId"] == request_id
    assert detail["assetCode"] == "USD" and detail["assetScale"] == 9
    assert detail["receipt"] is None and int(detail["amount"]) > 0
    paused = next(e for e in events if e["type"] == "monetizationstop")
    assert paused["detail"] == {**base, "finalized": False} and paused["state"] == "stopped"
    assert tab.js("document.monetization.state") == "stopped"

    # shown again: the same request goes on (pending, start, progress)
    seen = len(coil_events(tab))
    tab.tab.set_visible(True)
    tab.qtbot.waitUntil(lambda: progress_total(tab) > total, timeout=20000)
    # the meta removed: stopped for good (finalized), nothing more paid
    tab.js('(document.querySelector("meta[name=monetization]").remove(), 1)')
    tab.qtbot.waitUntil(lambda: coil_events(tab)[-1]["type"] == "monetizationstop", timeout=20000)
    assert all(e["detail"]["requestId"] == request_id for e in coil_events(tab))
    assert story(coil_events(tab)) == [
        "pending",
        "start",
        "progress",
        "stop:False",
        "pending",
        "start",
        "progress",
        "stop:True",
    ]
    assert coil_events(tab)[seen]["type"] == "monetizationpending"
    assert tab.js("document.monetization.state") == "stopped"
    tab.check_clean()


def story(events: list[dict[str, Any]]) -> list[str]:
    """The events in order, runs of progress as one, and the progress of what was in flight
    when the page was hidden left out."""
    out: list[str] = []
    for e in events:
        name = e["type"].removeprefix("monetization")
        if name == "stop":
            name = f"stop:{e['detail']['finalized']}"
        if name == "progress" and out and (out[-1] == "progress" or out[-1] == "stop:False"):
            continue
        out.append(name)
    return out


def test_document_monetization_cannot_be_replaced_or_forged(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    world_factory()
    site = sites()
    site.pages["/"] = page_html(
        script="""
        const m = document.monetization;
        let redefine = "";
        try { Object.defineProperty(document, "monetization", {value: 1}); }
        catch (e) { redefine = e.name; }
        m.state = "started";  // a getter only: ignored
        document.monetization = {state: "started"};  // non-writable: ignored
        m.dispatchEvent(new CustomEvent("monetizationstart", {detail: {}}));  // no state change
        report("hardened", {
          same: document.monetization === m, state: m.state, frozen: Object.isFrozen(m),
          redefine: redefine, isTarget: m instanceof EventTarget,
        });
        """
    )
    tab = make_tab()
    tab.load(site.url("/"))
    assert tab.wait_report("hardened") == {
        "same": True,
        "state": "stopped",
        "frozen": True,
        "redefine": "TypeError",
        "isTarget": True,
    }
    tab.check_clean()


def test_a_meta_tag_the_sites_policy_refuses_sees_no_event(
    world_factory: Callable[..., World], make_tab: Callable[[], Tab], sites: Callable[[], Site]
) -> None:
    w = world_factory()
    site = sites()
    site.pages["/"] = meta_page("$wallet.test/alice")
    site.headers["/"] = [("Permissions-Policy", "camera=(), monetization=()")]
    tab = make_tab()
    tab.load(site.url("/"))
    tab.qtbot.waitUntil(lambda: bool(tab.bridge.link_reasons), timeout=10000)
    wait_a_while(tab)
    assert coil_events(tab) == [] and tab.js("document.monetization.state") == "stopped"
    assert w.history(site.origin) == 0 and w.received() == {}
    tab.page.problems[:] = [p for p in tab.page.problems if "monetization" not in p]
    tab.check_clean()
