"""Uplink settings, tokens from the secret store, and TLS failures."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from aiohttp import web

from tests.certs import self_signed
from tests.unit.net.raw_http import aiohttp_site
from wallet.ilp import Prepare, Reject
from wallet.net.btp_uplink import BtpUplink
from wallet.net.config import (
    Transport,
    UplinkSettings,
    build_uplink,
    load_token,
    split_credentials,
)
from wallet.net.errors import UplinkConfigError, UplinkProtocolError, UplinkTlsError
from wallet.net.http_uplink import HttpUplink
from wallet.secrets import MemorySecretStore, Secret


def test_settings_hold_no_secret_and_pick_transport() -> None:
    s = UplinkSettings.from_url("https://connector.example/ilp", profile_id="p1")
    assert s.transport is Transport.HTTP
    assert s.token_name == "uplink-token:p1"
    b = UplinkSettings.from_url("btp+wss://connector.example/", account="alice")
    assert b.transport is Transport.BTP
    with pytest.raises(UplinkConfigError) as e:
        UplinkSettings.from_url("btp+ws://alice:hunter2@h.example/")
    assert "hunter2" not in str(e.value)
    with pytest.raises(UplinkConfigError):
        UplinkSettings.from_url("gopher://h.example/")
    with pytest.raises(UplinkConfigError):
        UplinkSettings(Transport.HTTP, "btp+ws://h.example/")


def test_split_credentials() -> None:
    url, user, token = split_credentials("btp+ws://alice:s%40cret@127.0.0.1:7768/x")
    assert (url, user) == ("btp+ws://127.0.0.1:7768/x", "alice")
    assert token is not None and token.reveal() == "s@cret"
    assert split_credentials("https://h.example/") == ("https://h.example/", "", None)
    _, user, token = split_credentials("btp+ws://:tok@[::1]:7768")
    assert user == "" and token is not None and token.reveal() == "tok"


def test_build_uplink_takes_the_token_from_the_store() -> None:
    store = MemorySecretStore({"uplink-token:default": Secret("the-token")})
    http = build_uplink(UplinkSettings.from_url("http://127.0.0.1:1/"), store)
    assert isinstance(http, HttpUplink)
    btp = build_uplink(UplinkSettings.from_url("btp+ws://127.0.0.1:1/", account="a"), store)
    assert isinstance(btp, BtpUplink)
    assert "the-token" not in repr(http) + repr(btp)
    with pytest.raises(UplinkConfigError):
        load_token(UplinkSettings.from_url("http://127.0.0.1:1/", profile_id="none"), store)


@asynccontextmanager
async def tls_server(context: ssl.SSLContext) -> AsyncIterator[int]:
    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="OK")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", ok)
    async with aiohttp_site(app, context) as port:
        yield port


def test_untrusted_certificate_is_a_tls_error(tmp_path: Path) -> None:
    context = self_signed(tmp_path)[0]
    prepare = Prepare(
        1,
        dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5),
        hashlib.sha256(bytes(32)).digest(),
        "test.x.y",
    )

    async def main() -> None:
        async with tls_server(context) as port:
            http = HttpUplink(f"https://127.0.0.1:{port}/", Secret("tls-test-token"))
            await http.connect()
            with pytest.raises(UplinkTlsError) as e:
                await http.send(prepare)
            assert "certificate" in str(e.value)
            await http.close()
            btp = BtpUplink(f"btp+wss://127.0.0.1:{port}/", Secret("tls-test-token"))
            with pytest.raises(UplinkTlsError):
                await btp.connect()
            await btp.close()

    asyncio.run(main())


def test_an_extra_ca_file_in_the_settings_is_trusted(tmp_path: Path) -> None:
    context = self_signed(tmp_path)[0]
    store = MemorySecretStore({"uplink-token:default": Secret("tls-test-token")})
    prepare = Prepare(
        1,
        dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5),
        hashlib.sha256(bytes(32)).digest(),
        "test.x.y",
    )
    ca_file = str(tmp_path / "cert.pem")

    async def main() -> None:
        async with tls_server(context) as port:
            # Trusted now: the server is no connector, but the TLS handshake succeeds.
            http = build_uplink(
                UplinkSettings.from_url(f"https://127.0.0.1:{port}/", ca_file=ca_file), store
            )
            await http.connect()
            reply = await http.send(prepare)
            assert isinstance(reply, Reject) and reply.code == "T00"
            assert isinstance(http.last_error, UplinkProtocolError)  # {"OK"} is no ILP reply
            await http.close()
            btp = build_uplink(
                UplinkSettings.from_url(f"btp+wss://127.0.0.1:{port}/", ca_file=ca_file), store
            )
            with pytest.raises(UplinkProtocolError, match="HTTP 200"):  # no upgrade, but TLS
                await btp.connect()
            await btp.close()
        missing = UplinkSettings.from_url("https://127.0.0.1:1/", ca_file=str(tmp_path / "x"))
        with pytest.raises(UplinkConfigError, match="CA file"):
            build_uplink(missing, store)

    asyncio.run(main())
