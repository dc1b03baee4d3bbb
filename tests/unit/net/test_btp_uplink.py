"""BTP uplink behaviour against a scripted in-process WebSocket peer on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp import web

from wallet.ilp import Fulfill, Prepare, Reject, parse_prepare, parse_reply
from wallet.net.btp_codec import (
    BtpError,
    Message,
    ProtocolData,
    Response,
    Transfer,
    ilp_message,
    ilp_response,
    parse_frame,
)
from wallet.net.btp_uplink import BtpUplink, websocket_url
from wallet.net.errors import (
    UplinkAuthError,
    UplinkClosedError,
    UplinkConfigError,
    UplinkDisconnectedError,
)
from wallet.secrets import Secret

ZERO = bytes(32)
TOKEN = "btp-token-123"
WS = aiohttp.web.WebSocketResponse
Script = Callable[[WS, "Peer"], Awaitable[None]]


def prepare(seconds: float = 5.0, amount: int = 1) -> Prepare:
    return Prepare(
        amount,
        datetime.now(UTC) + timedelta(seconds=seconds),
        hashlib.sha256(ZERO).digest(),
        "test.peer.x",
    )


class Peer:
    """A BTP server that authenticates and then runs ``script`` for each connection."""

    def __init__(self, script: Script, token: str = TOKEN) -> None:
        self.script = script
        self.token = token
        self.connections = 0
        self.auth_frames: list[Message] = []
        self.sockets: list[WS] = []

    async def handle(self, request: web.Request) -> WS:
        ws = WS()
        await ws.prepare(request)
        self.connections += 1
        self.sockets.append(ws)
        msg = await ws.receive()
        auth = parse_frame(msg.data)
        assert isinstance(auth, Message)
        self.auth_frames.append(auth)
        if auth.get("auth_token") != self.token.encode():
            err = BtpError(auth.request_id, "F00", "NotAcceptedError", "x", b"invalid auth token")
            await ws.send_bytes(err.to_bytes())
            await ws.close()
            return ws
        await ws.send_bytes(Response(auth.request_id).to_bytes())
        await self.script(ws, self)
        return ws


@asynccontextmanager
async def serve(peer: Peer) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_get("/", peer.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"btp+ws://127.0.0.1:{port}/"
    finally:
        await runner.cleanup()


async def fulfil_all(ws: WS, peer: Peer) -> None:
    async for msg in ws:
        frame = parse_frame(msg.data)
        assert isinstance(frame, Message)
        await ws.send_bytes(ilp_response(frame.request_id, Fulfill(ZERO).to_bytes()))


def run(coro: Awaitable[None]) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(30):
            await coro

    asyncio.run(bounded())


def test_urls() -> None:
    assert websocket_url("btp+ws://127.0.0.1:7768") == "ws://127.0.0.1:7768/"
    assert websocket_url("btp+wss://h.example/btp") == "wss://h.example/btp"
    assert websocket_url("wss://h.example/") == "wss://h.example/"
    with pytest.raises(UplinkConfigError) as e:
        websocket_url("btp+ws://alice:very-secret@127.0.0.1:1")
    assert "very-secret" not in str(e.value)
    with pytest.raises(UplinkConfigError):
        websocket_url("http://127.0.0.1:1")


def test_auth_first_then_packets() -> None:
    async def main() -> None:
        peer = Peer(fulfil_all)
        async with serve(peer) as url:
            link = BtpUplink(url, Secret(TOKEN), username="alice")
            await link.connect()
            assert await link.send(prepare()) == Fulfill(ZERO)
            await link.close()
        auth = peer.auth_frames[0]
        assert [e.name for e in auth.protocol_data] == ["auth", "auth_username", "auth_token"]
        assert auth.get("auth_username") == b"alice"
        assert TOKEN not in repr(link) and TOKEN not in repr(auth)

    run(main())


def test_auth_error_is_final() -> None:
    async def main() -> None:
        peer = Peer(fulfil_all, token="other")
        async with serve(peer) as url:
            link = BtpUplink(url, Secret(TOKEN))
            with pytest.raises(UplinkAuthError) as e:
                await link.connect()
            assert "invalid auth token" in str(e.value)
            assert TOKEN not in str(e.value)
            background = BtpUplink(url, Secret(TOKEN), backoff_base=0.01)
            background.start()
            with pytest.raises(UplinkAuthError):
                await background.wait_connected(5)
            await asyncio.sleep(0.1)
            assert peer.connections == 2  # one each, no retries
            with pytest.raises(UplinkAuthError):
                await background.send(prepare())
            await background.close()
            await link.close()

    run(main())


class HangUpAtAuth(Peer):
    """Takes the WebSocket, then closes it instead of answering the auth message."""

    async def handle(self, request: web.Request) -> WS:
        ws = WS()
        await ws.prepare(request)
        await ws.receive()
        await ws.close()
        return ws


def test_a_connection_closed_during_auth_is_named() -> None:
    async def main() -> None:
        async with serve(HangUpAtAuth(fulfil_all)) as url:
            link = BtpUplink(url, Secret(TOKEN))
            with pytest.raises(UplinkDisconnectedError, match="during authentication"):
                await link.connect()
            await link.close()

    run(main())


def test_out_of_order_replies_and_unreadable_frames() -> None:
    async def reversed_replies(ws: WS, peer: Peer) -> None:
        held: list[Message] = []
        async for msg in ws:
            frame = parse_frame(msg.data)
            assert isinstance(frame, Message)
            held.append(frame)
            if len(held) == 10:
                await ws.send_bytes(b"\x01garbage")  # unreadable: ignored
                await ws.send_bytes(Response(12345).to_bytes())  # unexpected: ignored
                for m in reversed(held):
                    p = parse_prepare(m.get("ilp") or b"")
                    reject = Reject("F99", "test.peer", str(p.amount))
                    await ws.send_bytes(ilp_response(m.request_id, reject.to_bytes()))

    async def main() -> None:
        async with serve(Peer(reversed_replies)) as url:
            link = BtpUplink(url, Secret(TOKEN))
            await link.connect()
            replies = await asyncio.gather(*(link.send(prepare(amount=i)) for i in range(10)))
            await link.close()
        assert [r.message for r in replies if isinstance(r, Reject)] == [str(i) for i in range(10)]

    run(main())


def test_drop_resolves_pending_at_once_then_reconnects() -> None:
    async def drop_once(ws: WS, peer: Peer) -> None:
        if peer.connections == 1:
            count = 0
            async for _msg in ws:
                count += 1
                if count == 3:
                    await ws.close()
                    return
        else:
            await fulfil_all(ws, peer)

    async def main() -> None:
        peer = Peer(drop_once)
        async with serve(peer) as url:
            link = BtpUplink(url, Secret(TOKEN), backoff_base=0.01, backoff_cap=0.05)
            await link.connect()
            started = time.monotonic()
            replies = await asyncio.gather(*(link.send(prepare(seconds=20)) for _ in range(3)))
            assert time.monotonic() - started < 5
            assert all(isinstance(r, Reject) and r.code == "T01" for r in replies)
            await link.wait_connected(5)
            assert await link.send(prepare()) == Fulfill(ZERO)
            assert link.connections == 2
            await link.close()

    run(main())


def test_expiry_and_btp_errors() -> None:
    async def answer(ws: WS, peer: Peer) -> None:
        async for msg in ws:
            frame = parse_frame(msg.data)
            assert isinstance(frame, Message)
            p = parse_prepare(frame.get("ilp") or b"")
            if p.amount == 1:
                continue  # never answer
            if p.amount == 2:
                err = BtpError(frame.request_id, "T00", "UnreachableError", "x", b"busy")
                await ws.send_bytes(err.to_bytes())
            if p.amount == 3:
                await ws.send_bytes(Response(frame.request_id).to_bytes())
            if p.amount == 4:
                wrong = Fulfill(b"\x01" * 32).to_bytes()
                await ws.send_bytes(ilp_response(frame.request_id, wrong))

    async def main() -> None:
        async with serve(Peer(answer)) as url:
            link = BtpUplink(url, Secret(TOKEN))
            await link.connect()
            started = time.monotonic()
            timed_out = await link.send(prepare(seconds=0.3, amount=1))
            assert isinstance(timed_out, Reject) and timed_out.code == "R00"
            assert time.monotonic() - started < 2
            busy = await link.send(prepare(amount=2))
            assert isinstance(busy, Reject) and busy.code == "T00" and "busy" in busy.message
            empty = await link.send(prepare(amount=3))
            assert isinstance(empty, Reject) and empty.code == "T00"
            wrong = await link.send(prepare(amount=4))
            assert isinstance(wrong, Reject) and wrong.code == "F05"
            # The caller's own cancellation is not an expiry: it propagates, nothing is left.
            waiting = asyncio.ensure_future(link.send(prepare(seconds=5, amount=1)))
            await asyncio.sleep(0.05)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            assert not link._pending
            await link.close()
            with pytest.raises(UplinkClosedError):
                await link.send(prepare())

    run(main())


def test_incoming_prepares_and_transfers() -> None:
    got: asyncio.Queue[bytes] = asyncio.Queue()

    async def push(ws: WS, peer: Peer) -> None:
        await ws.send_bytes(ilp_message(77, prepare(amount=5).to_bytes()))
        await ws.send_bytes(Transfer(78, 100).to_bytes())
        extra = Message(79, (ProtocolData("custom", 0, b""),))
        await ws.send_bytes(extra.to_bytes())
        async for msg in ws:
            await got.put(msg.data)

    async def main() -> None:
        seen: list[int] = []

        async def handler(p: Prepare) -> Fulfill | Reject:
            seen.append(p.amount)
            return Fulfill(ZERO, b"hi")

        async with serve(Peer(push)) as url:
            link = BtpUplink(url, Secret(TOKEN))
            link.set_incoming_handler(handler)
            await link.connect()
            frames = {}
            for _ in range(3):
                frame = parse_frame(await asyncio.wait_for(got.get(), 5))
                frames[frame.request_id] = frame
            await link.close()
        response = frames[77]
        assert isinstance(response, Response)
        assert parse_reply(response.get("ilp") or b"") == Fulfill(ZERO, b"hi")
        assert seen == [5]
        assert isinstance(frames[78], BtpError) and frames[78].code == "F00"
        assert isinstance(frames[79], BtpError)

    run(main())


def test_unreachable_first_connect_and_background_retry() -> None:
    async def main() -> None:
        async with serve(Peer(fulfil_all)) as url:
            pass
        link = BtpUplink(url, Secret(TOKEN), backoff_base=0.01, backoff_cap=0.02)
        with pytest.raises(Exception) as e:
            await link.connect()
        assert "Cannot reach" in str(e.value)
        link.start()
        while link.reconnect_attempts < 3:  # retries go on, with backoff
            await asyncio.sleep(0.01)
        reply = await link.send(prepare())
        assert isinstance(reply, Reject) and reply.code == "T01"
        await link.close()

    run(main())


def test_close_resolves_pending_sends() -> None:
    async def silent(ws: WS, peer: Peer) -> None:
        async for _msg in ws:
            pass

    async def main() -> None:
        async with serve(Peer(silent)) as url:
            link = BtpUplink(url, Secret(TOKEN))
            await link.connect()
            pending = asyncio.create_task(link.send(prepare(seconds=20)))
            await asyncio.sleep(0.1)
            started = time.monotonic()
            await link.close()
            reply = await asyncio.wait_for(pending, 5)
            assert isinstance(reply, Reject) and reply.code == "T01"
            assert time.monotonic() - started < 3

    run(main())
