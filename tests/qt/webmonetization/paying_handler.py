"""A paying handler and its receiver's pieces, shared by test_payment.py and
benchmarks/browser_path_bench.py.

``HANDLER`` is a Web Monetization handler page (what a provider serves): it forwards each
``{id, request}`` from the handler host with ``fetch`` to its own origin's ``/ilp`` (ILP over
HTTP, sync mode) and posts back ``{id, response}``. Like any careful handler it checks where a
message comes from (``source``, then ``origin``: the host page's origin is opaque, ``"null"``)
before it reads ``data``; in Chromium that order also matters for speed: reading the ``data`` of
a cross-origin message before its ``origin`` costs about 1.6 ms per message here (Blink's
MaskDeserializationTimeForCrossOriginMessages; see benchmarks/browser_path_bench.py). It keeps
the time it took for each Fulfill in ``window.handlerMs``.

The receiver behind ``/ilp`` answers IL-DCP with ``ildcp_fulfill()`` and everything else with a
``wallet.net.stream_server.StreamServer`` whose way back to the client is a ``NoReturnLink``.
"""

from __future__ import annotations

import asyncio
import base64
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QCoreApplication, QEvent

from tests.qt.webmonetization.conftest import page_html
from ui.webmonetization.handler_host import HandlerHost
from ui.webmonetization.protocols import RegisteredHandler
from wallet.budgets import Asset, Defaults, GlobalPolicy
from wallet.ilp import (
    ErrorCode,
    Fulfill,
    IldcpResponse,
    Prepare,
    Reject,
    is_ildcp_request,
    parse_prepare,
)
from wallet.net.link import IncomingHandler
from wallet.net.stream_api import IlpConnection
from wallet.net.stream_server import StreamServer
from wallet.payments import Payments
from wallet.service import WalletService
from wallet.stream import ConnectionConfig

CLIENT_ADDRESS = "test.wallet.client"
ASSET_CODE = "XRP"
ASSET_SCALE = 9


class NoReturnLink:
    """The receiver's way back to the client: not needed for paying, so it refuses."""

    async def send(self, prepare: Prepare) -> Fulfill | Reject:
        return Reject(ErrorCode.F02_UNREACHABLE.value, "", "no way back in this test")

    def set_incoming_handler(self, handler: IncomingHandler | None) -> None:
        pass

    async def close(self) -> None:
        pass


def ildcp_fulfill() -> Fulfill:
    """The receiver's answer to IL-DCP (``peer.config``): the client's address and asset."""
    return IldcpResponse(CLIENT_ADDRESS, ASSET_SCALE, ASSET_CODE).to_fulfill()


HANDLER = page_html(
    script="""
window.handlerMs = [];  // per Fulfill: request received to reply posted (for the benchmark)
window.addEventListener("message", async (e) => {
  if (e.source !== parent || e.origin !== "null") return;
  if (!e.data || typeof e.data.request !== "string") return;
  const started = performance.now();
  const bytes = Uint8Array.from(atob(e.data.request), (c) => c.charCodeAt(0));
  const r = await fetch("/ilp", {method: "POST", body: bytes,
                                 headers: {"Content-Type": "application/octet-stream"}});
  const reply = new Uint8Array(await r.arrayBuffer());
  let text = "";
  for (const b of reply) text += String.fromCharCode(b);
  parent.postMessage({id: e.data.id, response: btoa(text)}, "*");
  if (reply[0] === 13) window.handlerMs.push(performance.now() - started);  // a Fulfill
});
"""
)


# Budgets in the handler's asset; pay accrues fast enough never to limit a test by itself.
FAST_RATE = 3_600_000_000_000


def wallet_policy(**defaults: Any) -> GlobalPolicy:
    """A global policy in the handler's asset, with these defaults for every site."""
    return GlobalPolicy(
        budget_asset=Asset(ASSET_CODE, ASSET_SCALE),
        defaults=Defaults(**{"rate_per_hour": FAST_RATE, "cap_month": None, **defaults}),
    )


def spent(env: Any, site: str | None = None) -> tuple[int, int]:
    """(sent, unresolved) in the wallet's history, after a group commit."""
    env.service.flush()
    totals = env.service.site_totals(site=site)
    return sum(t.sent for t in totals), sum(t.unresolved for t in totals)


@contextmanager
def paying_receiver(
    env: Any, qtbot: Any, sites: Any, handler_page: str, template: ConnectionConfig | None = None
) -> Iterator[Any]:
    """``env`` paying through ``handler_page`` (served at ``/handler`` of a provider site whose
    ``/ilp`` is ILP over HTTP to a Python STREAM receiver): ``env.server`` issues credentials,
    ``env.received`` has the receiver's connections, ``env.data`` the data they got."""
    loop = env.asyncs.loop
    received: list[IlpConnection] = []
    data: list[bytes] = []

    def on_connection(api: IlpConnection) -> None:
        received.append(api)
        api.on("stream", lambda stream: stream.on("data", data.append))

    async def make_server() -> StreamServer:
        return StreamServer(
            NoReturnLink(),
            base_address="test.receiver",
            asset_code=ASSET_CODE,
            asset_scale=ASSET_SCALE,
            on_connection=on_connection,
        )

    server = asyncio.run_coroutine_threadsafe(make_server(), loop).result(5)

    def ilp_over_http(body: bytes) -> bytes:
        prepare = parse_prepare(body)
        if is_ildcp_request(prepare):
            return ildcp_fulfill().to_bytes()
        reply = asyncio.run_coroutine_threadsafe(server.handle(prepare), loop).result(40)
        return reply.to_bytes()

    provider = sites()
    provider.pages["/handler"] = handler_page
    provider.posts["/ilp"] = ilp_over_http
    env.server = server
    env.received = received
    env.data = data
    with paying_through(env, qtbot, provider.origin, provider.url("/handler"), template):
        yield env


def received_total(env: Any) -> int:
    """What the receiver itself counted, over all its connections."""
    return sum(api.total_received for api in env.received)


@contextmanager
def paying_through(
    env: Any,
    qtbot: Any,
    origin: str,
    handler_url: str,
    template: ConnectionConfig | None = None,
) -> Iterator[HandlerHost]:
    """``env`` wired to pay through the handler at ``handler_url``: a real handler host, the
    real payment layer over a real wallet (SQLite in a temporary profile) with room for
    everything (``env.service.set_global_policy(wallet_policy(cap_total=...))`` to cap it);
    all goes away afterwards."""
    host = HandlerHost(env.profile, env.asyncs)
    qtbot.waitUntil(lambda: host._ready, timeout=10000)
    env.registry.handlers.append(RegisteredHandler(origin, "P", handler_url))
    with tempfile.TemporaryDirectory() as profile:
        env.service = WalletService.open(Path(profile), tz=ZoneInfo("UTC"))
        env.service.set_global_policy(wallet_policy())
        env.payments = Payments(env.service, env.asyncs.loop, template=template)
        env.services.payments = env.payments
        env.services.links = host
        try:
            yield host
        finally:
            host.page.deleteLater()
            host.deleteLater()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            env.service.close()


def paying_page(issued: Any, amount: int, *, then: str = "") -> str:
    """A page that monetizes with the receiver's ``issued`` credentials, sends ``amount`` on
    one stream, runs the JS ``then``, and reports "paid": the stream's and the connection's
    totals, the sum of its ``outgoing_money`` events and the source asset."""
    secret = base64.b64encode(issued.shared_secret).decode()
    return page_html(
        script=f"""
        (async () => {{
          const conn = await WebMonetization.monetize({{
            destinationAccount: "{issued.destination_account}", sharedSecret: "{secret}"}});
          const stream = conn.createStream();
          let outgoing = 0n;
          stream.addEventListener("outgoing_money", (e) => {{ outgoing += BigInt(e.amount); }});
          await stream.sendTotal("{amount}", 20000);
          {then}
          report("paid", {{
            streamTotalSent: stream.totalSent, connTotalSent: conn.totalSent,
            outgoing: String(outgoing), delivered: conn.totalDelivered,
            source: [conn.sourceAssetCode, conn.sourceAssetScale],
          }});
        }})().catch((e) => reportError("paid", e));
        """
    )
