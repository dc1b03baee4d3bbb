"""ILP-over-HTTP edge cases against small in-process aiohttp peers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.unit.net.raw_http import OK, Conn, Peer, answering, raw_peer
from wallet.ilp import Fulfill, Prepare, Reject, parse_prepare, parse_reply
from wallet.net.errors import (
    PacketTooLargeError,
    UplinkAuthError,
    UplinkClosedError,
    UplinkConfigError,
    UplinkDisconnectedError,
    UplinkProtocolError,
    UplinkUnreachableError,
)
from wallet.net.http_uplink import HttpUplink
from wallet.secrets import Secret

ZERO = bytes(32)
TOKEN = "tok-1234567890"


def prepare(seconds: float = 5.0, preimage: bytes = ZERO, data: bytes = b"") -> Prepare:
    return Prepare(
        10,
        datetime.now(UTC) + timedelta(seconds=seconds),
        hashlib.sha256(preimage).digest(),
        "test.peer.x",
        data,
    )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def peer(handler: Handler) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/ilp"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def uplink(url: str, **options: Any) -> AsyncIterator[HttpUplink]:
    link = HttpUplink(url, Secret(TOKEN), **options)
    await link.connect()
    try:
        yield link
    finally:
        await link.close()


def fulfilling(
    content_type: str = "application/octet-stream", seen: list[Any] | None = None
) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        if seen is not None:
            seen.append((dict(request.headers), await request.read()))
        return web.Response(body=Fulfill(ZERO, b"ok").to_bytes(), content_type=content_type)

    return handle


def status(code: int, text: str = "") -> Handler:
    async def handle(request: web.Request) -> web.Response:
        return web.Response(status=code, text=text)

    return handle


def run(coro: Awaitable[None]) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(30):
            await coro

    asyncio.run(bounded())


@pytest.mark.parametrize(
    "content_type", ["application/octet-stream", "application/ilp+octet-stream"]
)
def test_sync_fulfill_both_content_types(content_type: str) -> None:
    async def main() -> None:
        seen: list[Any] = []
        async with peer(fulfilling(content_type, seen)) as url, uplink(url) as link:
            reply = await link.send(prepare())
            assert reply == Fulfill(ZERO, b"ok")
        headers, body = seen[0]
        assert headers["Authorization"] == f"Bearer {TOKEN}"
        assert headers["Content-Type"] == "application/octet-stream"
        assert "Prefer" not in headers
        assert parse_prepare(body).amount == 10

    run(main())


def test_connection_is_reused() -> None:
    async def main() -> None:
        peers: set[Any] = set()

        async def handle(request: web.Request) -> web.Response:
            peers.add(request.transport.get_extra_info("peername") if request.transport else None)
            return web.Response(body=Fulfill(ZERO).to_bytes())

        async with peer(handle) as url, uplink(url) as link:
            for _ in range(5):
                assert isinstance(await link.send(prepare()), Fulfill)
        assert len(peers) == 1

    run(main())


def test_reject_is_a_200_and_passes_unchanged() -> None:
    reject = Reject("F99", "test.peer", "nope", b"\x00\x01")

    async def handle(request: web.Request) -> web.Response:
        return web.Response(body=reject.to_bytes())

    async def main() -> None:
        async with peer(handle) as url, uplink(url) as link:
            assert await link.send(prepare()) == reject

    run(main())


def test_401_raises_auth_error_once_and_never_retries() -> None:
    async def main() -> None:
        calls = 0

        async def handle(request: web.Request) -> web.Response:
            nonlocal calls
            calls += 1
            return web.Response(status=401, text="invalid authorization")

        async with peer(handle) as url, uplink(url) as link:
            with pytest.raises(UplinkAuthError) as first:
                await link.send(prepare())
            with pytest.raises(UplinkAuthError):
                await link.send(prepare())
            assert calls == 1
            link.set_token(Secret("new-token"))
            with pytest.raises(UplinkAuthError):
                await link.send(prepare())
            assert calls == 2
        assert TOKEN not in str(first.value) and TOKEN not in repr(first.value)

    run(main())


def test_413_is_a_local_final_reject() -> None:
    async def main() -> None:
        async with peer(status(413, "request entity too large")) as url, uplink(url) as link:
            reply = await link.send(prepare())
            assert isinstance(reply, Reject) and reply.code == "F00"
            assert "too large" in reply.message
            assert isinstance(link.last_error, PacketTooLargeError)

    run(main())


@pytest.mark.parametrize(("code", "ilp_code"), [(500, "T00"), (502, "T01"), (404, "T00")])
def test_http_errors_become_local_rejects(code: int, ilp_code: str) -> None:
    async def main() -> None:
        async with peer(status(code, "failed to fetch")) as url, uplink(url) as link:
            reply = await link.send(prepare())
            assert isinstance(reply, Reject)
            assert reply.code == ilp_code
            assert str(code) in reply.message

    run(main())


def test_unreachable_is_t01() -> None:
    async def main() -> None:
        async with peer(status(200)) as url:
            pass  # the port is closed again now
        async with uplink(url) as link:
            reply = await link.send(prepare())
            assert isinstance(reply, Reject) and reply.code == "T01"
            assert isinstance(link.last_error, UplinkUnreachableError)
            assert "Cannot reach" in reply.message

    run(main())


def test_slow_peer_times_out_at_expiry() -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(10)
        return web.Response(body=Fulfill(ZERO).to_bytes())

    async def main() -> None:
        async with peer(slow) as url, uplink(url) as link:
            started = time.monotonic()
            reply = await link.send(prepare(seconds=0.3))
            assert isinstance(reply, Reject) and reply.code == "R00"
            assert time.monotonic() - started < 2
            expired = await link.send(prepare(seconds=-1))
            assert isinstance(expired, Reject) and expired.code == "R00"

    run(main())


def test_wrong_fulfillment_and_garbage_become_local_rejects() -> None:
    async def wrong(request: web.Request) -> web.Response:
        return web.Response(body=Fulfill(b"\x01" * 32).to_bytes())

    async def garbage(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    async def main() -> None:
        async with peer(wrong) as url, uplink(url) as link:
            reply = await link.send(prepare())
            assert isinstance(reply, Reject) and reply.code == "F05"
        async with peer(garbage) as url, uplink(url) as link:
            reply = await link.send(prepare())
            assert isinstance(reply, Reject) and reply.code == "T00"
            assert isinstance(link.last_error, UplinkProtocolError)

    run(main())


def test_async_mode_202_then_callback() -> None:
    async def main() -> None:
        session = aiohttp.ClientSession()
        seen: dict[str, str] = {}

        async def later(callback: str, request_id: str) -> None:
            await asyncio.sleep(0.05)
            headers = {"Request-Id": request_id, "Authorization": f"Bearer {TOKEN}"}
            async with session.post(
                callback, data=Fulfill(ZERO, b"async").to_bytes(), headers=headers
            ) as r:
                assert r.status == 200
            # A second reply for the same id is refused.
            async with session.post(callback, data=b"x", headers=headers) as r:
                seen["second"] = str(r.status)

        async def handle(request: web.Request) -> web.Response:
            seen.update(request.headers)
            asyncio.get_running_loop().create_task(
                later(request.headers["Callback-Url"], request.headers["Request-Id"])
            )
            return web.Response(status=202)

        async with peer(handle) as url, uplink(url, listen_port=0, async_mode=True) as link:
            reply = await link.send(prepare())
            assert reply == Fulfill(ZERO, b"async")
            await asyncio.sleep(0.1)
        await session.close()
        assert seen["Prefer"] == "respond-async"
        assert seen["Callback-Url"].endswith("/ilp/callback")
        assert len(seen["Request-Id"]) == 36
        assert seen["second"] == "400"

    run(main())


def test_async_mode_falls_back_to_sync_answer() -> None:
    async def main() -> None:
        seen: list[Any] = []
        async with (
            peer(fulfilling(seen=seen)) as url,
            uplink(url, listen_port=0, async_mode=True) as link,
        ):
            assert await link.send(prepare()) == Fulfill(ZERO, b"ok")
        assert seen[0][0]["Prefer"] == "respond-async"

    run(main())


def test_async_mode_needs_a_server_and_urls_without_credentials() -> None:
    with pytest.raises(UplinkConfigError):
        HttpUplink("http://127.0.0.1:1/", Secret(TOKEN), async_mode=True)
    with pytest.raises(UplinkConfigError) as e:
        HttpUplink("http://user:pw-secret@127.0.0.1:1/", Secret(TOKEN))
    assert "pw-secret" not in str(e.value)
    with pytest.raises(UplinkConfigError):
        HttpUplink("ftp://127.0.0.1:1/", Secret(TOKEN))


def test_closed_uplink_refuses_and_repr_hides_token() -> None:
    async def main() -> None:
        link = HttpUplink("http://127.0.0.1:1/ilp", Secret(TOKEN))
        assert TOKEN not in repr(link)
        with pytest.raises(UplinkClosedError):
            await link.send(prepare())
        await link.connect()
        await link.close()
        with pytest.raises(UplinkClosedError):
            await link.send(prepare())

    run(main())


# -- server side -------------------------------------------------------------------------


@asynccontextmanager
async def served(
    handler: Callable[[Prepare], Awaitable[Fulfill | Reject]] | None,
    url: str = "http://127.0.0.1:1/ilp",
) -> AsyncIterator[tuple[HttpUplink, aiohttp.ClientSession, str]]:
    link = HttpUplink(url, Secret(TOKEN), listen_port=0)
    link.set_incoming_handler(handler)
    await link.connect()
    session = aiohttp.ClientSession()
    try:
        assert link.incoming_url is not None
        yield link, session, link.incoming_url
    finally:
        await session.close()
        await link.close()


async def _fulfill(p: Prepare) -> Fulfill | Reject:
    return Fulfill(ZERO, p.data)


def test_server_auth_and_sync_reply() -> None:
    async def main() -> None:
        async with served(_fulfill) as (_link, session, url):
            body = prepare(data=b"hi").to_bytes()
            async with session.get(url) as r:
                assert await r.text() == "OK"
            async with session.post(url, data=body) as r:
                assert r.status == 401
                assert await r.text() == "invalid authorization"
            async with session.post(url, data=body, headers={"Authorization": "Bearer wrong"}) as r:
                assert r.status == 401
            for auth in (f"Bearer {TOKEN}", TOKEN):
                headers = {"Authorization": auth, "Content-Type": "application/ilp+octet-stream"}
                async with session.post(url, data=body, headers=headers) as r:
                    assert r.status == 200
                    assert r.headers["Content-Type"] == "application/octet-stream"
                    assert await r.read() == Fulfill(ZERO, b"hi").to_bytes()
            bearer = {"Authorization": f"Bearer {TOKEN}"}
            async with session.post(url, data=b"\x0c\x01", headers=bearer) as r:
                assert r.status == 400
            async with session.post(url, data=bytes(50_000), headers=bearer) as r:
                assert r.status == 413

    run(main())


def test_server_handler_failures_are_answered() -> None:
    async def boom(p: Prepare) -> Fulfill | Reject:
        raise RuntimeError("bug")

    async def main() -> None:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        body = prepare().to_bytes()
        async with (
            served(boom) as (_link, session, url),
            session.post(url, data=body, headers=auth) as r,
        ):
            reply = parse_reply(await r.read())
            assert isinstance(reply, Reject) and reply.code == "T00"
        async with (
            served(None) as (_link, session, url),
            session.post(url, data=body, headers=auth) as r,
        ):
            reply = parse_reply(await r.read())
            assert isinstance(reply, Reject) and reply.code == "F02"

    run(main())


def test_server_answers_async_requests_at_the_callback() -> None:
    async def main() -> None:
        got: asyncio.Future[tuple[str, bytes]] = asyncio.get_running_loop().create_future()

        async def callback(request: web.Request) -> web.Response:
            assert request.headers["Authorization"] == f"Bearer {TOKEN}"
            got.set_result((request.headers["Request-Id"], await request.read()))
            return web.Response(status=200)

        async with peer(callback) as peer_url, served(_fulfill, peer_url) as (_link, session, url):
            headers = {
                "Authorization": f"Bearer {TOKEN}",
                "Prefer": "respond-async",
                "Request-Id": "42ee09c8-a6de-4ae3-8a47-4732b0cbb07b",
                "Callback-Url": peer_url.replace("/ilp", "/incoming/ilp"),
            }
            async with session.post(url, data=prepare(data=b"a").to_bytes(), headers=headers) as r:
                assert r.status == 202
            request_id, body = await asyncio.wait_for(got, 5)
            assert request_id == headers["Request-Id"]
            assert body == Fulfill(ZERO, b"a").to_bytes()
            # A callback to anywhere but the connector is not made: answered in sync mode.
            headers["Callback-Url"] = "http://127.0.0.2:9/steal"
            async with session.post(url, data=prepare(data=b"b").to_bytes(), headers=headers) as r:
                assert r.status == 200

    run(main())


def test_close_resolves_pending_async_sends_as_local_rejects() -> None:
    async def accept_only(request: web.Request) -> web.Response:
        return web.Response(status=202)  # the callback never comes

    async def main() -> None:
        async with peer(accept_only) as url:
            link = HttpUplink(url, Secret(TOKEN), listen_port=0, async_mode=True)
            await link.connect()
            pending = asyncio.create_task(link.send(prepare(seconds=20)))
            await asyncio.sleep(0.2)
            await link.close()
            reply = await asyncio.wait_for(pending, 5)
            assert isinstance(reply, Reject) and reply.code.startswith("T")

    run(main())


# -- the hand-written HTTP client underneath ------------------------------------------------


def test_403_is_an_auth_error_and_echoed_tokens_are_masked() -> None:
    async def main() -> None:
        async with peer(status(403, f"forbidden: {TOKEN}")) as url, uplink(url) as link:
            with pytest.raises(UplinkAuthError) as e:
                await link.send(prepare())
        assert "403" in str(e.value) and "***" in str(e.value)
        assert TOKEN not in str(e.value)
        async with peer(status(500, f"token {TOKEN} broke")) as url, uplink(url) as link:
            reply = await link.send(prepare())
        assert isinstance(reply, Reject) and reply.code == "T00"
        assert TOKEN not in reply.message and "***" in reply.message

    run(main())


def test_chunked_reply_and_peer_name() -> None:
    async def chunked(request: web.Request) -> web.StreamResponse:
        seen.append(request.headers.get("ILP-Peer-Name", ""))
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        response.content_type = "application/ilp+octet-stream"
        await response.prepare(request)
        body = Fulfill(ZERO, b"chunks").to_bytes()
        await response.write(body[:10])
        await response.write(body[10:])
        await response.write_eof()
        return response

    seen: list[str] = []

    async def main() -> None:
        async with peer(chunked) as url, uplink(url, peer_name="trickle") as link:
            assert await link.send(prepare()) == Fulfill(ZERO, b"chunks")
        assert seen == ["trickle"]

    run(main())


def test_partial_reply_then_drop_is_a_local_t01() -> None:
    async def script(conn: Conn, peer: Peer) -> None:
        await peer.next_request(conn)
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n\x0d")

    async def main() -> None:
        async with raw_peer(script) as server, uplink(server.url) as link:
            reply = await link.send(prepare())
            assert isinstance(reply, Reject) and reply.code == "T01"
            assert isinstance(link.last_error, UplinkDisconnectedError)
        assert len(server.requests) == 1

    run(main())


def test_invalid_http_is_a_local_t00() -> None:
    async def main() -> None:
        bad = answering(b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n")
        async with raw_peer(bad) as server, uplink(server.url) as link:
            reply = await link.send(prepare())
            assert isinstance(reply, Reject) and reply.code == "T00"
            assert isinstance(link.last_error, UplinkProtocolError)

    run(main())


def test_idle_connection_closed_by_the_server_loses_no_packet() -> None:
    body = Fulfill(ZERO).to_bytes()
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)

    async def script(conn: Conn, peer: Peer) -> None:
        await peer.next_request(conn)
        conn.send(reply)
        if conn.index == 0:
            # Close the kept-alive connection as the next request arrives, without a word.
            await peer.next_request(conn)

    async def main() -> None:
        async with raw_peer(script) as server, uplink(server.url) as link:
            assert isinstance(await link.send(prepare()), Fulfill)
            assert isinstance(await link.send(prepare()), Fulfill)
        assert [conn for conn, _, _ in server.requests] == [0, 0, 1]

    run(main())


def test_token_that_would_break_the_header_is_refused_unsent() -> None:
    async def main() -> None:
        calls: list[Any] = []
        async with peer(fulfilling(seen=calls)) as url:
            link = HttpUplink(url, Secret("zq-secret\r\nX-Evil: 1"))
            await link.connect()
            with pytest.raises(UplinkConfigError) as e:
                await link.send(prepare())
            assert "zq-secret" not in str(e.value) and "Evil" not in str(e.value)
            link.set_token(Secret(TOKEN))
            assert isinstance(await link.send(prepare()), Fulfill)
            await link.close()
        assert len(calls) == 1

    run(main())


def test_async_mode_error_status_is_a_local_reject() -> None:
    async def main() -> None:
        async with (
            peer(status(503, "busy")) as url,
            uplink(url, listen_port=0, async_mode=True) as link,
        ):
            reply = await link.send(prepare())
            assert isinstance(reply, Reject) and reply.code == "T01"
            assert isinstance(link.last_error, UplinkDisconnectedError)

    run(main())


def test_async_reply_is_retried_until_a_2xx() -> None:
    """RFC 35: "retry sending the request" on a 5xx or no response at all."""
    answers = [b"", b"HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n", OK]

    async def script(conn: Conn, peer: Peer) -> None:
        while answers and await peer.next_request(conn):
            answer = answers.pop(0)
            if not answer:
                return  # no response: the connection just closes
            conn.send(answer)

    async def main() -> None:
        async with (
            raw_peer(script) as connector,
            served(_fulfill, connector.url) as (_link, session, url),
        ):
            headers = {
                "Authorization": f"Bearer {TOKEN}",
                "Request-Id": "42ee09c8-a6de-4ae3-8a47-4732b0cbb07b",
                "Callback-Url": connector.url.replace("/ilp", "/cb"),
            }
            async with session.post(url, data=prepare(data=b"a").to_bytes(), headers=headers) as r:
                assert r.status == 202
            while answers:
                await asyncio.sleep(0.01)
        assert [body for _, _, body in connector.requests] == [Fulfill(ZERO, b"a").to_bytes()] * 3
        assert all(b"POST /cb HTTP/1.1" in head for _, head, _ in connector.requests)

    run(main())


def test_async_reply_with_an_unsendable_token_is_dropped(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        async with raw_peer(answering(OK)) as connector:
            link = HttpUplink(
                connector.url, Secret("bad\ntoken"), incoming_token=Secret(TOKEN), listen_port=0
            )
            link.set_incoming_handler(_fulfill)
            await link.connect()
            assert link.incoming_url is not None
            headers = {
                "Authorization": f"Bearer {TOKEN}",
                "Request-Id": "42ee09c8-a6de-4ae3-8a47-4732b0cbb07b",
                "Callback-Url": connector.url,
            }
            async with (
                aiohttp.ClientSession() as session,
                session.post(link.incoming_url, data=prepare().to_bytes(), headers=headers) as r,
            ):
                assert r.status == 202
            while "not sent" not in caplog.text:
                await asyncio.sleep(0.01)
            await link.close()
        assert connector.requests == []
        assert "bad" not in caplog.text.replace("bad header", "")

    run(main())
