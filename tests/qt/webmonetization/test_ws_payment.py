"""A full STREAM payment through the WebSocket handler: site → bridge → Python STREAM client →
handler iframe → one WebSocket (ws_paying_handler's framing) → a Python STREAM receiver on
loopback, and back; IL-DCP goes the same way."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from tests.qt.webmonetization.paying_handler import (
    NoReturnLink,
    ildcp_fulfill,
    paying_page,
    paying_through,
    spent,
)
from tests.qt.webmonetization.ws_paying_handler import WS_HANDLER, WS_PATH, ws_endpoint
from wallet.ilp import Fulfill, Prepare, Reject, is_ildcp_request
from wallet.net.stream_api import IlpConnection
from wallet.net.stream_server import StreamServer


@pytest.fixture
def ws_paying(env: Any, qtbot: Any) -> Iterator[Any]:
    loop = env.asyncs.loop
    received: list[IlpConnection] = []
    ildcp: list[Prepare] = []

    async def start() -> tuple[StreamServer, web.AppRunner, int]:
        server = StreamServer(
            NoReturnLink(),
            base_address="test.receiver",
            asset_code="XRP",
            asset_scale=9,
            on_connection=received.append,
        )

        async def answer(prepare: Prepare) -> Fulfill | Reject:
            if is_ildcp_request(prepare):
                ildcp.append(prepare)
                return ildcp_fulfill()
            return await server.handle(prepare)

        async def handler_page(_request: web.Request) -> web.Response:
            return web.Response(text=WS_HANDLER, content_type="text/html", charset="utf-8")

        app = web.Application()
        app.router.add_get("/handler", handler_page)
        app.router.add_get(WS_PATH, ws_endpoint(answer))
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return server, runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    server, runner, port = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    origin = f"http://127.0.0.1:{port}"
    env.server = server
    env.received = received
    env.ildcp = ildcp
    with paying_through(env, qtbot, origin, origin + "/handler"):
        yield env
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)


def test_a_page_pays_a_receiver_through_the_websocket_handler(
    ws_paying: Any, make_tab: Any, sites: Any, qtbot: Any
) -> None:
    site = sites()
    site.pages["/"] = paying_page(ws_paying.server.credentials(), 5000)
    tab = make_tab()
    tab.load(site.url("/"))
    result = tab.wait_report("paid", timeout=30000)
    assert "error" not in result, result
    assert result["streamTotalSent"] == result["outgoing"] == "5000"
    assert result["source"] == ["XRP", 9]
    assert ws_paying.ildcp  # the client's address came over the same socket
    [receiver] = ws_paying.received
    qtbot.waitUntil(lambda: receiver.total_received == 5000, timeout=10000)
    assert spent(ws_paying) == (5000, 0)
