"""Servers on 127.0.0.1 for client tests: a raw HTTP/1.1 peer whose scripts write every byte
themselves, and an aiohttp site (an independent implementation)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@dataclass
class Conn:
    """One accepted connection, as the scripts see it."""

    index: int
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    async def request(self) -> tuple[bytes, bytes] | None:
        """The next request's head and body; ``None`` when the client closed."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return head, await self.reader.readexactly(length)

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    async def until_closed(self) -> None:
        """Wait until the client closes its side."""
        while await self.reader.read(1024):
            pass


Script = Callable[[Conn, "Peer"], Awaitable[None]]


@dataclass
class Peer:
    script: Script
    url: str = ""
    conns: list[Conn] = field(default_factory=list)
    requests: list[tuple[int, bytes, bytes]] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Conn(len(self.conns), reader, writer)
        self.conns.append(conn)
        try:
            await self.script(conn, self)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            conn.closed.set()

    async def next_request(self, conn: Conn) -> bool:
        got = await conn.request()
        if got is None:
            return False
        self.requests.append((conn.index, *got))
        return True


@asynccontextmanager
async def raw_peer(
    script: Script, ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[Peer]:
    peer = Peer(script)
    server = await asyncio.start_server(peer.handle, "127.0.0.1", 0, ssl=ssl_context)
    port = server.sockets[0].getsockname()[1]
    peer.url = f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}/ilp"
    try:
        yield peer
    finally:
        server.close()
        for conn in peer.conns:
            conn.writer.close()
        await server.wait_closed()


def answering(response: bytes = OK) -> Script:
    """Answer every request on every connection with ``response``."""

    async def script(conn: Conn, peer: Peer) -> None:
        while await peer.next_request(conn):
            conn.send(response)

    return script


def run(coro: Coroutine[Any, Any, None], seconds: float = 30) -> None:
    """Run ``coro`` on a fresh event loop, failing it after ``seconds``."""

    async def bounded() -> None:
        async with asyncio.timeout(seconds):
            await coro

    asyncio.run(bounded())


@asynccontextmanager
async def aiohttp_site(
    app: web.Application, ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[int]:
    """Serve ``app`` on 127.0.0.1 (over TLS with ``ssl_context``); yields the port."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    try:
        yield site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    finally:
        await runner.cleanup()
