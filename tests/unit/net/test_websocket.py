"""The WebSocket client on real loopback sockets: against aiohttp's server (an independent
implementation), over TLS, and against scripted servers for what aiohttp will not send."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.certs import self_signed
from tests.unit.manual_loop import ManualLoop
from tests.unit.net.raw_http import aiohttp_site, run
from wallet.net.errors import (
    ConnectError,
    DisconnectedError,
    TlsError,
    WebSocketError,
    WebSocketHandshakeError,
)
from wallet.net.websocket import WebSocket, connect

# RFC 6455 5.2 opcodes and 7.4.1 status codes, as the scripted servers below speak them.
CLOSE, PING, PONG = 0x8, 0x9, 0xA
PROTOCOL_ERROR = 1002
READ_SIZE = 64 * 1024


def accept_for(key: bytes) -> bytes:
    """[4.2.2] Sec-WebSocket-Accept: base64(SHA-1(key + the GUID))."""
    guid = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
    return base64.b64encode(hashlib.sha1(key + guid).digest())


def mask(data: bytes, key: bytes) -> bytes:
    return bytes(b ^ key[i % 4] for i, b in enumerate(data))


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def aiohttp_server(handler: Handler, context: Any = None) -> AsyncIterator[int]:
    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    async with aiohttp_site(app, context) as port:
        yield port


async def echo(request: web.Request) -> web.WebSocketResponse:
    """Echo binary messages; ``text`` first sends a text message; ``close-4001`` closes."""
    ws = web.WebSocketResponse(autoping=False, max_msg_size=0)
    await ws.prepare(request)
    async for msg in ws:
        if msg.type is aiohttp.WSMsgType.BINARY:
            if msg.data == b"text":
                await ws.send_str("not for BTP")
            if msg.data == b"ping":
                await ws.ping(b"are you there")
                continue
            if msg.data == b"close-4001":
                await ws.close(code=4001, message=b"bye")
                break
            await ws.send_bytes(msg.data)
        elif msg.type is aiohttp.WSMsgType.PONG:
            await ws.send_bytes(b"pong:" + msg.data)
    return ws


def test_messages_of_every_length_form_echo_through_aiohttp() -> None:
    sizes = [0, 1, 125, 126, 65535, 65536, READ_SIZE * 3 + 7]  # the last spans many reads

    async def main() -> None:
        async with aiohttp_server(echo) as port:
            ws = await connect(f"ws://127.0.0.1:{port}/btp?x=1")
            for size in sizes:
                payload = bytes(i % 253 for i in range(size))
                await ws.send(payload)
                assert await ws.receive() == payload
            # Many messages in one write come back in order, to a listener.
            got: list[bytes] = []
            ws.listen(got.append)
            for i in range(200):
                await ws.send(i.to_bytes(2, "big"))
            while len(got) < 200:
                await asyncio.sleep(0)
            assert got == [i.to_bytes(2, "big") for i in range(200)]
            await ws.close()
            assert not ws.open

    run(main())


def test_text_is_dropped_pings_are_answered_and_the_server_may_close() -> None:
    async def main() -> None:
        async with aiohttp_server(echo) as port:
            ws = await connect(f"ws://127.0.0.1:{port}/")
            await ws.send(b"text")  # the server sends a text message, then echoes
            assert await ws.receive() == b"text"
            await ws.send(b"ping")  # the server pings; our pong comes back to us as a message
            assert await ws.receive() == b"pong:are you there"
            await ws.send(b"close-4001")
            await ws.wait_closed()
            assert ws.close_code == 4001
            with pytest.raises(DisconnectedError):
                await ws.send(b"too late")
            with pytest.raises(DisconnectedError):
                await ws.receive()

    run(main())


def test_our_close_is_a_clean_close_for_the_server() -> None:
    closes: asyncio.Queue[tuple[int | None, str]] = asyncio.Queue()

    async def record(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for _ in ws:
            pass
        await closes.put((ws.close_code, ws.exception().__class__.__name__))
        return ws

    async def main() -> None:
        async with aiohttp_server(record) as port:
            ws = await connect(f"ws://127.0.0.1:{port}/")
            await ws.close()
            assert await closes.get() == (1000, "NoneType")

    run(main())


def test_a_refused_upgrade_names_its_status() -> None:
    async def refuse(request: web.Request) -> web.Response:
        return web.Response(status=401, text="who are you")

    async def main() -> None:
        async with aiohttp_server(refuse) as port:
            with pytest.raises(WebSocketHandshakeError) as info:
                await connect(f"ws://127.0.0.1:{port}/")
            assert info.value.status == 401

    run(main())


def test_nobody_listening_is_a_connect_error() -> None:
    async def main() -> None:
        async with aiohttp_server(echo) as port:
            pass  # the port is free again
        with pytest.raises(ConnectError):
            await connect(f"ws://127.0.0.1:{port}/")

    run(main())


def test_tls(tmp_path: Path) -> None:
    server, client = self_signed(tmp_path)

    async def main() -> None:
        async with aiohttp_server(echo, server) as port:
            with pytest.raises(TlsError):
                await connect(f"wss://127.0.0.1:{port}/")  # the system's trust store
            ws = await connect(f"wss://127.0.0.1:{port}/", ssl_context=client)
            await ws.send(b"over TLS")
            assert await ws.receive() == b"over TLS"
            await ws.close()

    run(main())


# -- scripted servers ---------------------------------------------------------------------

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def scripted(script: Script) -> AsyncIterator[int]:
    server = await asyncio.start_server(script, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


async def accept(reader: asyncio.StreamReader, *, accept_value: bytes | None = None) -> bytes:
    """Read the client's handshake; the 101 answer to write (``accept_value`` if given)."""
    head = await reader.readuntil(b"\r\n\r\n")
    key = next(
        line.split(b":", 1)[1].strip()
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"sec-websocket-key:")
    )
    value = accept_value if accept_value is not None else accept_for(key)
    return (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Accept: " + value + b"\r\n\r\n"
    )


async def read_client_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One frame from the client, checked to be masked and final, unmasked."""
    first, second = await reader.readexactly(2)
    assert first & 0x80 and second & 0x80, "client frames are final and masked"
    length = second & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", await reader.readexactly(2))
    elif length == 127:
        (length,) = struct.unpack("!Q", await reader.readexactly(8))
    key = await reader.readexactly(4)
    return first & 0x0F, mask(await reader.readexactly(length), key)


def test_frames_sent_with_the_handshake_answer_are_kept_in_order() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        answer = await accept(reader)
        # The answer and three messages in one segment: they must not be lost between the
        # handshake and whoever listens next.
        writer.write(answer + b"\x82\x01a\x82\x01b\x82\x01c")
        await reader.read()

    async def main() -> None:
        async with scripted(script) as port:
            ws = await connect(f"ws://127.0.0.1:{port}/")
            assert await ws.receive() == b"a"
            got: list[bytes] = []
            ws.listen(got.append)
            while len(got) < 2:
                await asyncio.sleep(0)
            assert got == [b"b", b"c"]
            await ws.close()

    run(main())


def test_a_wrong_accept_value_fails_the_handshake() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await accept(reader, accept_value=b"not-the-hash="))
        await reader.read()

    async def main() -> None:
        async with scripted(script) as port:
            with pytest.raises(WebSocketHandshakeError):
                await connect(f"ws://127.0.0.1:{port}/")

    run(main())


def test_an_endless_handshake_answer_is_refused() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\n" + b"X-Filler: 0123456789\r\n" * 2000)
        await reader.read()

    async def main() -> None:
        async with scripted(script) as port:
            with pytest.raises(WebSocketError, match="not valid HTTP"):
                await connect(f"ws://127.0.0.1:{port}/")

    run(main())


def test_a_server_that_closes_mid_handshake() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 101 Switching")
        writer.close()

    async def main() -> None:
        async with scripted(script) as port:
            with pytest.raises(DisconnectedError):
                await connect(f"ws://127.0.0.1:{port}/")

    run(main())


def test_a_protocol_error_from_the_server_fails_the_connection_with_1002() -> None:
    bad_frame = b"\x88\x01\x03"  # a Close whose status code is one byte (RFC 6455 5.5.1)

    seen: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue()

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await accept(reader) + b"\x82\x02ok" + bad_frame)
        await seen.put(await read_client_frame(reader))
        assert await reader.read() == b""  # then the client closes the connection

    async def main() -> None:
        async with scripted(script) as port:
            ws = await connect(f"ws://127.0.0.1:{port}/")
            assert await ws.receive() == b"ok"  # what came whole before the bad frame is kept
            with pytest.raises(DisconnectedError):
                await ws.receive()
            await ws.wait_closed()
            assert not ws.open
            opcode, payload = await seen.get()
            assert opcode == CLOSE and struct.unpack("!H", payload[:2])[0] == PROTOCOL_ERROR

    run(main())


def test_backpressure_waits_for_the_server_to_read() -> None:
    release = asyncio.Event()
    received: list[int] = []

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await accept(reader))
        await release.wait()
        while True:
            opcode, payload = await read_client_frame(reader)
            if opcode == CLOSE:
                break
            received.append(len(payload))

    async def main() -> None:
        async with scripted(script) as port:
            ws = await connect(f"ws://127.0.0.1:{port}/")
            sent = 0
            while True:  # the kernel's buffers fill, then the transport's: a send waits
                sending = asyncio.ensure_future(ws.send(bytes(60_000)))
                sent += 1
                for _ in range(100):  # turns of the loop, not time
                    await asyncio.sleep(0)
                if not sending.done():
                    break
                assert sent < 2000, "the send buffer never filled"
            release.set()
            await sending
            await ws.close()
            while len(received) < sent:
                await asyncio.sleep(0.01)
            assert received == [60_000] * sent

    run(main())


# -- the heartbeat, on a loop whose clock the test moves ---------------------------------


class HeartbeatPeer:
    """A scripted server that answers pings only when told to."""

    def __init__(self) -> None:
        self.frames: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue()
        self.answer_pings = True
        self.writer: asyncio.StreamWriter | None = None
        self.eof = asyncio.Event()

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await accept(reader))
        self.writer = writer
        try:
            while True:
                opcode, payload = await read_client_frame(reader)
                await self.frames.put((opcode, payload))
                if opcode == PING and self.answer_pings:
                    writer.write(bytes([0x80 | PONG, len(payload)]) + payload)
        except asyncio.IncompleteReadError:
            self.eof.set()


def test_heartbeat_pings_a_silent_connection_and_drops_a_dead_one() -> None:
    loop = ManualLoop()
    peer = HeartbeatPeer()

    def until(done: Callable[[], bool]) -> None:
        """Turn the loop (real I/O; the clock stays put) until ``done()``."""
        for _ in range(100_000):
            if done():
                return
            loop.run_until_complete(asyncio.sleep(0))
        raise AssertionError("the sockets never delivered")

    async def start() -> tuple[asyncio.Server, WebSocket]:
        server = await asyncio.start_server(peer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        return server, await connect(f"ws://127.0.0.1:{port}/", heartbeat=10.0)

    server, ws = loop.run_until_complete(start())
    try:
        # Busy: the server speaks every 6 s; nothing is pinged.
        for _ in range(3):
            loop.now += 6
            assert peer.writer is not None
            peer.writer.write(b"\x82\x01x")
            assert loop.run_until_complete(ws.receive()) == b"x"
            loop.run_due()
        assert peer.frames.empty()
        # Silent for 10 s: one ping, answered; the connection stays.
        loop.now += 10
        loop.run_due()
        assert loop.run_until_complete(peer.frames.get()) == (PING, b"")
        for _ in range(100):  # the pong comes back
            loop.run_until_complete(asyncio.sleep(0))
        loop.now += 5
        loop.run_due()
        assert ws.open
        # Silent again, and the pong never comes: dropped half a period after the ping.
        peer.answer_pings = False
        loop.now += 10
        loop.run_due()
        assert loop.run_until_complete(peer.frames.get()) == (PING, b"")
        loop.now += 4.9
        loop.run_due()
        assert ws.open
        loop.now += 0.1
        loop.run_due()
        loop.run_until_complete(ws.wait_closed())
        until(peer.eof.is_set)
    finally:
        loop.run_until_complete(ws.close())
        server.close()
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()


def test_only_websocket_urls() -> None:
    with pytest.raises(ValueError, match="ws://"):
        asyncio.run(connect("http://127.0.0.1:1/"))
