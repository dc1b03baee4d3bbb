"""The one-origin HTTP/1.1 connection pool against raw asyncio servers on 127.0.0.1 that script
every byte (chunked bodies, ``Connection: close``, a server closing an idle connection,
responses cut short)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.certs import self_signed
from tests.unit.net.raw_http import OK, Conn, Peer, answering, raw_peer
from wallet.net.errors import ConnectError, DisconnectedError, HttpProtocolError, TlsError
from wallet.net.http_client import HttpClient, RequestHead
from wallet.net.origin import Origin, parse_origin

CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n"
)


def run(coro: Coroutine[Any, Any, None]) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(30):
            await coro

    asyncio.run(bounded())


@asynccontextmanager
async def client_for(url: str, **options: Any) -> AsyncIterator[HttpClient]:
    client = HttpClient(url, **options)
    try:
        yield client
    finally:
        await client.close()


def head(client: HttpClient, token: str = "secret-token") -> RequestHead:
    return client.head({"Authorization": f"Bearer {token}", "Content-Type": "x/y"})


def sent(peer: Peer) -> list[tuple[int, bytes]]:
    """(connection, body) of every request the peer read."""
    return [(conn, body) for conn, _, body in peer.requests]


# -- the client ----------------------------------------------------------------------------


def test_keep_alive_reuses_one_connection_and_sends_the_head() -> None:
    async def main() -> None:
        async with raw_peer(answering()) as peer, client_for(peer.url) as client:
            h = head(client)
            for body in (b"a", b"bc", b""):
                response = await client.request(h, body)
                assert (response.status, response.body) == (200, b"ok")
            assert client.connections == 1 and client.idle_connections == 1
            assert "secret-token" not in repr(h) + repr(client)
        assert len(peer.conns) == 1
        assert [body for _, _, body in peer.requests] == [b"a", b"bc", b""]
        port = peer.url.split(":")[2].split("/")[0]
        assert (
            peer.requests[1][1]
            == (
                f"POST /ilp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                "Authorization: Bearer secret-token\r\nContent-Type: x/y\r\n"
                "Content-Length: 2\r\n\r\n"
            ).encode()
        )

    run(main())


def test_chunked_response() -> None:
    async def main() -> None:
        async with raw_peer(answering(CHUNKED)) as peer, client_for(peer.url) as client:
            assert (await client.request(head(client), b"x")).body == b"hello world"
            assert (await client.request(head(client), b"x")).body == b"hello world"
        assert len(peer.conns) == 1

    run(main())


def test_a_get_has_no_content_length_and_headers_come_lower_cased_and_joined() -> None:
    answer = (
        b"HTTP/1.1 100 Continue\r\n\r\n"  # interim (RFC 9110 15.2): the final one follows
        b"HTTP/1.1 201 Created\r\nX-Dup: 1\r\nx-dup: 2\r\nContent-Length: 2\r\n\r\nok"
    )

    async def main() -> None:
        async with raw_peer(answering(answer)) as peer, client_for(peer.url) as client:
            response = await client.request(client.head({"Accept": "a/b"}, "/q?x", "GET"))
            assert (response.status, response.body) == (201, b"ok")
            assert response.headers == {"x-dup": "1, 2", "content-length": "2"}
            assert (await client.request(client.head({}, "/q", "DELETE"))).status == 201
            assert client.connections == 1
        port = peer.url.split(":")[2].split("/")[0]
        assert peer.requests[0][1] == (
            f"GET /q?x HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: a/b\r\n\r\n".encode()
        )

    run(main())


def test_a_body_larger_than_max_body_is_a_protocol_error() -> None:
    big = b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n" + b"x" * 20

    async def main() -> None:
        async with (
            raw_peer(answering(big)) as peer,
            client_for(peer.url, max_body=10) as client,
        ):
            with pytest.raises(HttpProtocolError, match="too large"):
                await client.request(head(client), b"x")
            await peer.conns[0].closed.wait()

    run(main())


def test_connection_close_opens_a_new_connection_each_time() -> None:
    close = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"

    async def script(conn: Conn, peer: Peer) -> None:
        await peer.next_request(conn)
        conn.send(close)
        await conn.until_closed()

    async def main() -> None:
        async with raw_peer(script) as peer, client_for(peer.url) as client:
            for _ in range(3):
                assert (await client.request(head(client), b"x")).body == b"ok"
            for conn in peer.conns:
                await conn.closed.wait()  # we closed each one ourselves
            assert client.connections == 0
        assert len(peer.conns) == 3

    run(main())


def test_body_until_close_and_http_1_0() -> None:
    async def script(conn: Conn, peer: Peer) -> None:
        await peer.next_request(conn)
        if conn.index == 0:
            conn.send(b"HTTP/1.1 200 OK\r\n\r\nto the end")
        else:
            conn.send(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await conn.until_closed()

    async def main() -> None:
        async with raw_peer(script) as peer, client_for(peer.url) as client:
            assert (await client.request(head(client), b"x")).body == b"to the end"
            assert (await client.request(head(client), b"x")).body == b"ok"
            await peer.conns[1].closed.wait()
        assert len(peer.conns) == 2

    run(main())


def test_server_closing_an_idle_connection_loses_no_request() -> None:
    async def script(conn: Conn, peer: Peer) -> None:
        await peer.next_request(conn)
        conn.send(OK)
        if conn.index == 0:
            await conn.writer.drain()
            conn.writer.close()  # the server's keep-alive timeout, while we are idle

    async def main() -> None:
        async with raw_peer(script) as peer, client_for(peer.url) as client:
            await client.request(head(client), b"1")
            await peer.conns[0].closed.wait()
            await asyncio.sleep(0)  # our side sees the FIN
            assert (await client.request(head(client), b"2")).body == b"ok"
        assert sent(peer) == [(0, b"1"), (1, b"2")]

    run(main())


def test_reused_connection_closing_before_any_response_byte_is_retried_once() -> None:
    """The server closed the idle connection just as our request went out: sent again."""

    async def script(conn: Conn, peer: Peer) -> None:
        await peer.next_request(conn)
        if conn.index == 0:
            conn.send(OK)
            await peer.next_request(conn)  # ... and closes without an answer
        else:
            conn.send(OK)

    async def main() -> None:
        async with raw_peer(script) as peer, client_for(peer.url) as client:
            await client.request(head(client), b"1")
            assert (await client.request(head(client), b"2")).body == b"ok"
        assert sent(peer) == [(0, b"1"), (0, b"2"), (1, b"2")]

    run(main())


def test_retry_happens_once_only() -> None:
    async def script(conn: Conn, peer: Peer) -> None:
        await peer.next_request(conn)
        if conn.index == 0:
            conn.send(OK)
            await peer.next_request(conn)

    async def main() -> None:
        async with raw_peer(script) as peer, client_for(peer.url) as client:
            await client.request(head(client), b"1")
            with pytest.raises(DisconnectedError):
                await client.request(head(client), b"2")
        assert sent(peer) == [(0, b"1"), (0, b"2"), (1, b"2")]

    run(main())


def test_cancelling_the_retry_retires_the_new_connection() -> None:
    async def script(conn: Conn, peer: Peer) -> None:
        await peer.next_request(conn)
        if conn.index == 0:
            conn.send(OK)
            await peer.next_request(conn)
        else:
            await conn.until_closed()

    async def main() -> None:
        async with raw_peer(script) as peer, client_for(peer.url) as client:
            await client.request(head(client), b"1")
            task = asyncio.create_task(client.request(head(client), b"2"))
            while len(peer.requests) < 3:
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await peer.conns[1].closed.wait()

    run(main())


def test_closing_while_connecting() -> None:
    async def main() -> None:
        async with raw_peer(answering()) as peer:
            client = HttpClient(peer.url)
            task = asyncio.create_task(client.request(head(client), b"x"))
            await asyncio.sleep(0)  # the task is inside create_connection now
            await client.close()
            with pytest.raises(DisconnectedError):
                await task
            assert client.connections == 0

    run(main())


def test_fresh_connection_closing_before_the_response_is_not_retried() -> None:
    async def script(conn: Conn, peer: Peer) -> None:
        await peer.next_request(conn)

    async def main() -> None:
        async with raw_peer(script) as peer, client_for(peer.url) as client:
            with pytest.raises(DisconnectedError):
                await client.request(head(client), b"1")
        assert len(peer.requests) == 1

    run(main())


@pytest.mark.parametrize("first_reused", [False, True])
def test_partial_response_then_drop_is_not_retried(first_reused: bool) -> None:
    async def script(conn: Conn, peer: Peer) -> None:
        if first_reused:
            await peer.next_request(conn)
            conn.send(OK)
        await peer.next_request(conn)
        conn.send(OK[:20])

    async def main() -> None:
        async with raw_peer(script) as peer, client_for(peer.url) as client:
            if first_reused:
                await client.request(head(client), b"1")
            with pytest.raises(DisconnectedError) as e:
                await client.request(head(client), b"2")
            assert "closed" in str(e.value)
        assert len(peer.requests) == (2 if first_reused else 1)

    run(main())


@pytest.mark.parametrize("idle", [True, False], ids=["while-idle", "same-packet"])
def test_unexpected_bytes_retire_the_connection(idle: bool) -> None:
    answered = asyncio.Event()

    async def script(conn: Conn, peer: Peer) -> None:
        while await peer.next_request(conn):
            if idle:
                conn.send(OK)
                await answered.wait()
                conn.send(b"HTTP/1.1 408 Request Timeout\r\n\r\n")
            else:
                conn.send(OK + OK)  # bytes after the response, in the same packet

    async def main() -> None:
        async with raw_peer(script) as peer, client_for(peer.url) as client:
            first = await client.request(head(client), b"1")
            assert first.headers == {"content-length": "2"}  # nothing of what came after
            answered.set()
            await peer.conns[0].closed.wait()
            assert (await client.request(head(client), b"2")).body == b"ok"
        assert [conn for conn, _, _ in peer.requests] == [0, 1]

    run(main())


def test_invalid_response_is_a_protocol_error_and_closes() -> None:
    async def main() -> None:
        async with (
            raw_peer(answering(b"SPDY/3 200 OK\r\n\r\n")) as peer,
            client_for(peer.url) as client,
        ):
            with pytest.raises(HttpProtocolError):
                await client.request(head(client), b"x")
            await peer.conns[0].closed.wait()

    run(main())


def test_deadline_times_out_and_retires_the_connection() -> None:
    async def script(conn: Conn, peer: Peer) -> None:
        while await peer.next_request(conn):
            if peer.requests[-1][2] == b"hold":
                await conn.until_closed()
                return
            conn.send(OK)

    async def main() -> None:
        async with raw_peer(script) as peer, client_for(peer.url) as client:
            loop = asyncio.get_running_loop()
            # A far deadline first: the connection's timer must be moved earlier for the next.
            await client.request(head(client), b"ok", loop.time() + 30)
            with pytest.raises(TimeoutError):
                await client.request(head(client), b"hold", loop.time() + 0.1)
            await peer.conns[0].closed.wait()
            assert client.connections == 0
            assert (await client.request(head(client), b"ok", loop.time() + 30)).body == b"ok"

    run(main())


def test_an_earlier_requests_timer_does_not_cut_off_a_later_request() -> None:
    async def script(conn: Conn, peer: Peer) -> None:
        while await peer.next_request(conn):
            if peer.requests[-1][2] == b"slow":
                await asyncio.sleep(0.6)  # outlives the first request's deadline
            conn.send(OK)

    async def main() -> None:
        async with raw_peer(script) as peer, client_for(peer.url) as client:
            loop = asyncio.get_running_loop()
            await client.request(head(client), b"fast", loop.time() + 0.3)
            response = await client.request(head(client), b"slow", loop.time() + 30)
            assert response.body == b"ok"
            assert len(peer.conns) == 1

    run(main())


def test_cancelled_request_retires_its_connection() -> None:
    async def script(conn: Conn, peer: Peer) -> None:
        await peer.next_request(conn)
        await conn.until_closed()

    async def main() -> None:
        async with raw_peer(script) as peer, client_for(peer.url) as client:
            task = asyncio.create_task(client.request(head(client), b"x"))
            while not peer.requests:
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await peer.conns[0].closed.wait()

    run(main())


def test_idle_connections_expire_by_the_injected_clock() -> None:
    now = [100.0]

    async def main() -> None:
        async with (
            raw_peer(answering()) as peer,
            client_for(peer.url, keepalive_timeout=3.0, monotonic=lambda: now[0]) as client,
        ):
            await client.request(head(client), b"1")
            now[0] += 2.9
            await client.request(head(client), b"2")
            assert len(peer.conns) == 1
            now[0] += 3.0
            await client.request(head(client), b"3")
            assert len(peer.conns) == 2
            await peer.conns[0].closed.wait()

    run(main())


def test_idle_connections_are_swept() -> None:
    now = [0.0]
    go = [asyncio.Event(), asyncio.Event()]

    async def script(conn: Conn, peer: Peer) -> None:
        while await peer.next_request(conn):
            await go[conn.index].wait()
            conn.send(OK)

    async def main() -> None:
        async with (
            raw_peer(script) as peer,
            client_for(peer.url, keepalive_timeout=0.05, monotonic=lambda: now[0]) as client,
        ):
            h = head(client)
            first = asyncio.create_task(client.request(h, b"1"))
            while len(peer.requests) < 1:
                await asyncio.sleep(0.01)
            second = asyncio.create_task(client.request(h, b"2"))
            while len(peer.requests) < 2:
                await asyncio.sleep(0.01)
            go[0].set()
            await first
            now[0] = 0.04
            go[1].set()
            await second
            assert client.idle_connections == 2
            now[0] = 0.06  # the first has been idle long enough, the second not yet
            await peer.conns[0].closed.wait()
            assert client.idle_connections == 1
            now[0] = 1.0
            await peer.conns[1].closed.wait()
            assert client.idle_connections == 0 and client.connections == 0

    run(main())


def test_max_connections_queues_requests_on_one_connection() -> None:
    release = asyncio.Event()

    async def script(conn: Conn, peer: Peer) -> None:
        while await peer.next_request(conn):
            if peer.requests[-1][2] == b"0":
                await release.wait()
            conn.send(OK)

    async def main() -> None:
        async with raw_peer(script) as peer, client_for(peer.url, max_connections=1) as client:
            h = head(client)
            tasks = [asyncio.create_task(client.request(h, str(i).encode())) for i in range(4)]
            while not peer.requests:
                await asyncio.sleep(0.01)
            tasks[1].cancel()  # gives up while waiting for the connection
            await asyncio.sleep(0)
            release.set()
            with pytest.raises(asyncio.CancelledError):
                await tasks[1]
            for i in (0, 2, 3):
                assert (await tasks[i]).body == b"ok"
            # A request that cannot get the connection by its deadline times out.
            loop = asyncio.get_running_loop()
            held = asyncio.create_task(client.request(h, b"0"))
            release.clear()
            while len(peer.requests) < 4:
                await asyncio.sleep(0.01)
            with pytest.raises(TimeoutError):
                await client.request(h, b"late", loop.time() + 0.05)
            release.set()
            await held
        assert len(peer.conns) == 1
        assert [body for _, _, body in peer.requests] == [b"0", b"2", b"3", b"0"]

    run(main())


def test_a_waiting_request_opens_a_connection_when_one_closes() -> None:
    async def script(conn: Conn, peer: Peer) -> None:
        await peer.next_request(conn)
        conn.send(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
        await conn.until_closed()

    async def main() -> None:
        async with raw_peer(script) as peer, client_for(peer.url, max_connections=1) as client:
            h = head(client)
            replies = await asyncio.gather(*(client.request(h, b"x") for _ in range(3)))
            assert [r.body for r in replies] == [b"ok"] * 3
        assert len(peer.conns) == 3

    run(main())


def test_connection_refused() -> None:
    async def main() -> None:
        async with raw_peer(answering()) as peer:
            url = peer.url
        async with client_for(url, max_connections=1) as client:
            with pytest.raises(ConnectError) as e:
                await client.request(head(client), b"x")
            assert isinstance(e.value.__cause__, ConnectionRefusedError)
            assert client.connections == 0
            with pytest.raises(ConnectError):
                await client.request(head(client), b"x")  # the failed attempt freed its slot

    run(main())


def test_close_fails_requests_in_flight_and_later_ones() -> None:
    async def script(conn: Conn, peer: Peer) -> None:
        await peer.next_request(conn)
        await conn.until_closed()

    async def main() -> None:
        async with raw_peer(script) as peer:
            client = HttpClient(peer.url, max_connections=1)
            h = head(client)
            pending = [asyncio.create_task(client.request(h, b"x")) for _ in range(2)]
            while not peer.requests:
                await asyncio.sleep(0.01)
            await client.close()
            for task in pending:
                with pytest.raises(DisconnectedError):
                    await task
            with pytest.raises(DisconnectedError):
                await client.request(h, b"x")
            await peer.conns[0].closed.wait()

    run(main())


def test_heads_and_targets() -> None:
    async def main() -> None:
        client = HttpClient("http://[::1]:80/base?q=1")
        assert client.path == "/base?q=1"
        prefix = client.head({"A": "b"}, "/other").prefix
        assert prefix == b"POST /other HTTP/1.1\r\nHost: [::1]\r\nA: b\r\n"
        for bad in ({"A": "b\r\nEvil: 1"}, {"A b": "c"}, {"A": "\x00"}, {"A": "€"}):
            with pytest.raises(ValueError):
                client.head(bad)
        for path in ("http://elsewhere/", "/a b", "/a\r\n"):
            with pytest.raises(ValueError):
                client.head({}, path)
        with pytest.raises(ValueError):
            client.head({}, method="HEAD")  # llhttp cannot be told its answer has no body
        assert client.target("http://[::1]/cb?x=1") == "/cb?x=1"
        assert client.target("http://[::1]:80") == "/"
        assert client.target("https://[::1]/cb") is None
        assert client.target("http://[::1]:81/cb") is None
        secure = HttpClient("https://Example.COM:8443")
        assert secure.head({}).prefix.startswith(b"POST / HTTP/1.1\r\nHost: example.com:8443\r\n")
        assert secure.target("https://example.com:8443/x") == "/x"
        with pytest.raises(ValueError):
            HttpClient("ftp://example.com/")

    run(main())


# -- TLS -----------------------------------------------------------------------------------


def test_https_with_a_trusted_certificate_and_an_untrusted_one(tmp_path: Path) -> None:
    server_context, client_context = self_signed(tmp_path)

    async def main() -> None:
        async with raw_peer(answering(CHUNKED), server_context) as peer:
            async with client_for(peer.url, ssl_context=client_context) as client:
                for _ in range(2):
                    assert (await client.request(head(client), b"x")).body == b"hello world"
            assert len(peer.conns) == 1
            async with client_for(peer.url) as client:
                with pytest.raises(TlsError) as e:
                    await client.request(head(client), b"x")
                assert str(e.value) == "SSLCertVerificationError"

    run(main())


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://example.com/ilp", Origin("example.com", 80, "example.com", "/ilp", False)),
        ("https://example.com:443", Origin("example.com", 443, "example.com", "/", True)),
        ("HTTP://h:8080/a?b=1#f", Origin("h", 8080, "h:8080", "/a?b=1", False)),
        ("wss://[::1]:9000/btp", Origin("::1", 9000, "[::1]:9000", "/btp", True)),
        ("ws://[::1]/", Origin("::1", 80, "[::1]", "/", False)),
    ],
)
def test_origins_of_urls(url: str, origin: Origin) -> None:
    schemes = ("ws", "wss") if url.startswith("ws") else ("http", "https")
    assert parse_origin(url, schemes) == origin


def test_an_origin_needs_one_of_the_schemes_and_a_host() -> None:
    with pytest.raises(ValueError, match="ws:// or wss://"):
        parse_origin("http://example.com/", ("ws", "wss"))
    with pytest.raises(ValueError, match="with a host"):
        parse_origin("https:///path", ("http", "https"))
