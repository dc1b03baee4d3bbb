"""The handler host: a hidden trickle: page, one handler iframe per link, postMessage rules."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QEvent

from tests.qt.webmonetization.conftest import page_html
from ui.webmonetization.handler_host import HandlerHost, HandlerLink
from wallet.ilp import Fulfill, Prepare, Reject
from wallet.net.link import OutcomeUnknownError

FULFILLMENT = bytes(range(32))
CONDITION = hashlib.sha256(FULFILLMENT).digest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def prepare(seconds: float = 30.0, amount: int = 10) -> Prepare:
    return Prepare(
        amount=amount,
        expires_at=datetime.now(UTC) + timedelta(seconds=seconds),
        execution_condition=CONDITION,
        destination="test.receiver.abc",
        data=b"hello",
    )


def answering_handler(response: str) -> str:
    """A handler page that records each {id, request} and answers {id, response}."""
    return page_html(
        script=f"""
        window.received = [];
        window.addEventListener("message", (e) => {{
          if (e.source !== parent || !e.data || typeof e.data.request !== "string") return;
          window.received.push(e.data.request);
          parent.postMessage({{id: e.data.id, response: "{response}"}}, "*");
        }});
        """
    )


@pytest.fixture
def host(env: Any, qtbot: Any) -> Iterator[HandlerHost]:
    h = HandlerHost(env.profile, env.asyncs)
    loaded: list[bool] = []
    h.page.loadFinished.connect(loaded.append)
    qtbot.waitUntil(lambda: h._ready, timeout=10000)
    yield h
    h.page.deleteLater()
    h.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def run(env: Any, qtbot: Any, coro: Any, timeout: int = 10000) -> Any:
    future = env.asyncs.submit(coro)
    qtbot.waitUntil(future.done, timeout=timeout)
    return future.result()


def open_link(env: Any, qtbot: Any, host: HandlerHost, url: str) -> HandlerLink:
    return run(env, qtbot, host.link_for(url))  # type: ignore[no-any-return]


def test_handler_answers_and_send_gets_the_fulfill(
    env: Any, qtbot: Any, host: HandlerHost, sites: Any
) -> None:
    site = sites()
    site.pages["/handler"] = answering_handler(b64(Fulfill(FULFILLMENT, b"ok").to_bytes()))
    link = open_link(env, qtbot, host, site.url("/handler"))
    p = prepare()
    reply = run(env, qtbot, link.send(p))
    assert reply == Fulfill(FULFILLMENT, b"ok")
    # the handler got exactly the Prepare's bytes, base64 (draft 4: "Base64 encoded ILP prepare")
    frame = host.page.findFrameByName(link._key)
    box: list[Any] = []
    frame.runJavaScript("JSON.stringify(window.received)", 0, box.append)
    qtbot.waitUntil(lambda: bool(box))
    assert box[0] == f'["{b64(p.to_bytes())}"]'
    run(env, qtbot, link.close())


def test_handler_gets_no_referrer(env: Any, qtbot: Any, host: HandlerHost, sites: Any) -> None:
    site = sites()
    site.pages["/handler"] = answering_handler("")
    link = open_link(env, qtbot, host, site.url("/handler"))
    frame = host.page.findFrameByName(link._key)
    box: list[Any] = []
    frame.runJavaScript("document.referrer", 0, box.append)
    qtbot.waitUntil(lambda: bool(box))
    assert box[0] == ""
    run(env, qtbot, link.close())


def test_a_wrong_fulfillment_goes_to_stream_and_errors_or_garbage_are_of_unknown_outcome(
    env: Any, qtbot: Any, host: HandlerHost, sites: Any
) -> None:
    site = sites()
    site.pages["/bad"] = answering_handler(b64(Fulfill(bytes(32)).to_bytes()))
    site.pages["/err"] = page_html(
        script="""window.addEventListener("message", (e) => parent.postMessage(
            {id: e.data.id, error: "no money", errorName: "InsufficientFunds"}, "*"));"""
    )
    site.pages["/garbage"] = answering_handler("bm90IGEgcGFja2V0")
    # STREAM verifies fulfillments itself (and the payment layer stops a lying provider)
    bad = run(env, qtbot, open_link(env, qtbot, host, site.url("/bad")).send(prepare()))
    assert bad == Fulfill(bytes(32))
    # an error or garbage may follow a payment the handler made: the outcome is unknown
    with pytest.raises(OutcomeUnknownError, match="InsufficientFunds"):
        run(env, qtbot, open_link(env, qtbot, host, site.url("/err")).send(prepare()))
    with pytest.raises(OutcomeUnknownError, match="bad packet"):
        run(env, qtbot, open_link(env, qtbot, host, site.url("/garbage")).send(prepare()))


def test_replies_from_the_wrong_window_or_origin_are_ignored(
    env: Any, qtbot: Any, host: HandlerHost, sites: Any
) -> None:
    handler, other = sites(), sites()
    fulfill = b64(Fulfill(FULFILLMENT).to_bytes())
    # a frame of another origin, and a nested frame of the handler's own origin, both answer
    # with the right id — neither is the handler iframe's window.
    nested = page_html(
        script=f"""window.addEventListener("message", (e) => {{
            window.top.postMessage({{id: e.data.id, response: "{fulfill}"}}, "*");
            window.parent.parent.postMessage({{id: e.data.id, response: "{fulfill}"}}, "*");
        }});"""
    )
    other.pages["/nested"] = nested
    handler.pages["/nested"] = nested
    handler.pages["/handler"] = page_html(
        body=f"""<iframe id="x" src="{other.url("/nested")}"></iframe>
                 <iframe id="y" src="{handler.url("/nested")}"></iframe>""",
        script="""window.addEventListener("message", (e) => {
            if (e.source !== parent) return;
            document.getElementById("x").contentWindow.postMessage({id: e.data.id}, "*");
            document.getElementById("y").contentWindow.postMessage({id: e.data.id}, "*");
        });""",
    )
    link = open_link(env, qtbot, host, handler.url("/handler"))
    with pytest.raises(OutcomeUnknownError, match="did not answer"):
        run(env, qtbot, link.send(prepare(seconds=1.5)))


def test_no_reply_by_expiry_is_of_unknown_outcome(
    env: Any, qtbot: Any, host: HandlerHost, sites: Any
) -> None:
    site = sites()
    site.pages["/silent"] = page_html()
    link = open_link(env, qtbot, host, site.url("/silent"))
    with pytest.raises(OutcomeUnknownError, match="did not answer before expiry"):
        run(env, qtbot, link.send(prepare(seconds=0.3)))


def test_incoming_prepare_is_answered(env: Any, qtbot: Any, host: HandlerHost, sites: Any) -> None:
    site = sites()
    p = prepare()
    site.pages["/handler"] = page_html(
        script=f"""
        window.answers = [];
        window.addEventListener("message", (e) => {{
          if (e.source === parent && e.data.id === "in-1") window.answers.push(e.data.response);
        }});
        const msg = {{id: "in-1", request: "{b64(p.to_bytes())}"}};
        setTimeout(() => parent.postMessage(msg, "*"), 0);
        """
    )
    seen: list[Prepare] = []

    async def incoming(prepare_in: Prepare) -> Fulfill | Reject:
        seen.append(prepare_in)
        return Fulfill(FULFILLMENT)

    # the handler posts its Prepare right after loading; set the receiver before that
    link_future = env.asyncs.submit(host.link_for(site.url("/handler")))
    qtbot.waitUntil(link_future.done, timeout=10000)
    link = link_future.result()
    link.set_incoming_handler(incoming)
    frame = host.page.findFrameByName(link._key)
    # the first Prepare may have raced the receiver (then answered F02); post another
    frame.runJavaScript(
        f'parent.postMessage({{id: "in-1", request: "{b64(p.to_bytes())}"}}, "*")', 0
    )
    box: list[Any] = []

    def answered() -> bool:
        box.clear()
        frame.runJavaScript("JSON.stringify(window.answers)", 0, box.append)
        qtbot.waitUntil(lambda: bool(box))
        return b64(Fulfill(FULFILLMENT).to_bytes()) in box[0]

    qtbot.waitUntil(answered, timeout=10000)
    assert seen[-1].to_bytes() == p.to_bytes()


def test_a_handler_that_fails_to_load_is_unavailable(
    env: Any, qtbot: Any, host: HandlerHost, sites: Any
) -> None:
    site = sites()
    url = site.url("/handler")
    site.close()  # connection refused
    future = env.asyncs.submit(host.link_for(url))
    qtbot.waitUntil(future.done, timeout=20000)
    with pytest.raises(Exception) as info:
        future.result()
    assert getattr(type(info.value), "js_name", None) == "HandlerUnavailableError"
