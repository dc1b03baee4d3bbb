"""The HTTP client API (wallet.net.http) against aiohttp's server, an independent implementation,
on 127.0.0.1: JSON both ways, headers, statuses, redirects, timeouts, TLS with an extra CA file,
and the named errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.certs import self_signed
from tests.unit.net.raw_http import aiohttp_site, run
from wallet.net.errors import (
    ConnectError,
    HttpContentError,
    HttpRequestError,
    HttpStatusError,
    RequestTimeoutError,
    TlsError,
    TransportError,
)
from wallet.net.http import HttpSession, encode_json, request, tls_context

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def server(routes: Mapping[str, Handler], context: Any = None) -> AsyncIterator[str]:
    app = web.Application()
    for path, handler in routes.items():
        app.router.add_route("*", path, handler)
    async with aiohttp_site(app, context) as port:
        yield f"{'https' if context else 'http'}://127.0.0.1:{port}"


seen: list[tuple[str, str, dict[str, str], bytes]] = []


async def echo(request: web.Request) -> web.Response:
    """Answers with what it got, as JSON."""
    body = await request.read()
    seen.append((request.method, request.path_qs, dict(request.headers), body))
    return web.json_response(
        {"method": request.method, "query": request.query_string, "body": body.decode()},
        headers={"X-Many": "1"},
    )


async def refuse(request: web.Request) -> web.Response:
    return web.Response(status=403, text="no grant for token zq-secret")


async def not_json(request: web.Request) -> web.Response:
    return web.Response(text="<html>")


async def moved(request: web.Request) -> web.Response:
    raise web.HTTPFound(request.query.get("to", "/echo"))


async def loop(request: web.Request) -> web.Response:
    raise web.HTTPFound("/loop")


async def hang(request: web.Request) -> web.Response:
    await asyncio.sleep(30)
    return web.Response()


def test_json_both_ways_with_custom_headers_over_one_connection() -> None:
    seen.clear()

    async def main() -> None:
        async with server({"/echo": echo}) as base, HttpSession() as http:
            doc = await http.get_json(f"{base}/echo?x=1", {"Signature": "sig1=:abc:"})
            assert doc == {"method": "GET", "query": "x=1", "body": ""}
            sent = {"amount": {"value": "5", "assetScale": 2}, "note": "café"}
            doc = await http.request_json(
                "POST", f"{base}/echo", sent, {"Authorization": "GNAP t", "accept": "x/json"}
            )
            assert json.loads(doc["body"]) == sent
            signed = {"Content-Type": "x/y; v=1", "content-length": "3", "Host": "elsewhere"}
            response = await http.request("PUT", f"{base}/echo", signed, b"raw")
            assert response.ok and response.headers["x-many"] == "1"
            assert response.content_type == "application/json"
            assert response.json()["body"] == "raw"
            assert "raw" not in repr(response) and "x-many" not in repr(response)
            assert repr(http) == "HttpSession(origins=1, closed=False)"
        (get, post, put) = seen
        assert get[0] == "GET" and get[2]["Accept"] == "application/json"
        assert get[2]["Signature"] == "sig1=:abc:" and "Content-Length" not in get[2]
        assert post[2]["Content-Type"] == "application/json" and post[2]["Accept"] == "x/json"
        assert post[3] == encode_json(sent)  # the exact bytes a signer digests
        assert put[3] == b"raw" and put[2]["Content-Length"] == "3"  # sent once
        assert put[2]["Host"] == base.removeprefix("http://")

    run(main())


def test_statuses_and_bodies_that_are_not_json_are_named() -> None:
    async def main() -> None:
        async with server({"/refuse": refuse, "/html": not_json}) as base, HttpSession() as http:
            with pytest.raises(HttpStatusError) as e:
                await http.get_json(f"{base}/refuse")
            assert e.value.status == 403 and "no grant" in e.value.text
            assert "zq-secret" not in str(e.value)  # the body is in .text, not the message
            response = await http.request("GET", f"{base}/refuse")  # any status is an answer
            assert (response.status, response.ok) == (403, False)
            with pytest.raises(HttpContentError):
                await http.get_json(f"{base}/html")

    run(main())


def test_redirects_only_when_asked_for_get_and_never_to_plain_http() -> None:
    async def main() -> None:
        routes = {"/moved": moved, "/loop": loop, "/echo": echo}
        async with server(routes) as base, HttpSession() as http:
            assert (await http.request("GET", f"{base}/moved")).status == 302
            followed = await http.request("GET", f"{base}/moved", redirects=1)
            assert followed.status == 200 and followed.json()["method"] == "GET"
            assert (await http.request("GET", f"{base}/loop", redirects=3)).status == 302
            assert (await http.request("POST", f"{base}/moved", redirects=1)).status == 302

    run(main())


def test_timeouts_unreachable_and_bad_requests_are_named() -> None:
    async def main() -> None:
        async with server({"/hang": hang}) as base, HttpSession(timeout=0.2) as http:
            with pytest.raises(RequestTimeoutError):
                await http.request("GET", f"{base}/hang")
            with pytest.raises(TimeoutError):  # it is one, too
                await http.request("GET", f"{base}/hang", timeout=0.1)
            for bad in (
                {"A": "b\r\nEvil: 1"},
                {"A b": "c"},
                {"A": "€"},
                {"Content-Length": "2"},
                {"Transfer-Encoding": "chunked"},
            ):
                with pytest.raises(HttpRequestError):
                    await http.request("POST", f"{base}/hang", bad, b"x")
            with pytest.raises(HttpRequestError):
                await http.request("HEAD", f"{base}/hang")
            with pytest.raises(HttpRequestError):
                await http.request("GET", "ftp://127.0.0.1/")
        with pytest.raises(ConnectError):
            await request("GET", f"{base}/hang")  # the server is gone
        with pytest.raises(HttpRequestError):
            await http.request("GET", f"{base}/hang")  # the session is closed

    run(main())


def test_tls_with_an_extra_ca_file(tmp_path: Path) -> None:
    server_context, _ = self_signed(tmp_path)

    async def main() -> None:
        async with server({"/echo": echo, "/moved": moved}, server_context) as base:
            with pytest.raises(TlsError) as e:
                await request("GET", f"{base}/echo")  # the system's trust store only
            assert isinstance(e.value, TransportError)
            trusting = tls_context(tmp_path / "cert.pem")
            async with HttpSession(ssl_context=trusting) as http:
                assert (await http.get_json(f"{base}/echo"))["method"] == "GET"
                downgrade = f"{base}/moved?to=http://127.0.0.1:1/"
                assert (await http.request("GET", downgrade, redirects=1)).status == 302
        with pytest.raises(FileNotFoundError):
            tls_context(tmp_path / "missing.pem")

    run(main())
