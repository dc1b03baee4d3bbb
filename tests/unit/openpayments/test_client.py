"""Trickle's Open Payments client against the sandbox's Open Payments server (https with a test
CA, every exchange checked against the official OpenAPI files), and against servers that fail."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

from tests.certs import self_signed
from tests.op_support import op_sandbox
from wallet.openpayments.client import OpenPaymentsClient
from wallet.openpayments.errors import (
    GrantRefusedError,
    IncomingPaymentExpiredError,
    InsecureUrlError,
    InvalidResponseError,
    NotFoundError,
    NotJsonError,
    RequestTimeoutError,
    ServerRefusedError,
    TlsError,
    UnreachableError,
)
from wallet.openpayments.models import Amount, IncomingPayment
from wallet.openpayments.receiver import open_payment_target
from wallet.openpayments.transport import EXTRA_CA_ENV, HttpTransport


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def test_the_whole_incoming_payment_flow(tmp_path: Path) -> None:
    async def main() -> None:
        async with (
            op_sandbox(tmp_path) as sandbox,
            sandbox.client() as (client, _transport),
        ):
            wallet = await client.get_wallet_address(sandbox.wallet("alice"))
            assert wallet.public_name == "Alice's sandbox wallet"
            # Rafiki tenants: the servers come from the document, not from the URL.
            assert wallet.auth_server == sandbox.server.auth_server
            assert not wallet.auth_server.startswith(wallet.id)
            grant = await client.request_incoming_payment_grant(wallet)
            assert grant.expires_in == 600
            payment = await client.create_incoming_payment(
                wallet, grant, incoming_amount=Amount(5000, "USD", 9), metadata={"a": "ü"}
            )
            assert payment.received_amount == Amount(0, "USD", 9)
            assert payment.expires_at is not None
            lifetime = payment.expires_at - client.now()
            assert dt.timedelta(minutes=9) < lifetime <= dt.timedelta(minutes=10)
            assert payment.metadata == {"a": "ü"}
            credentials = payment.require_credentials(client.now())
            assert credentials.ilp_address.startswith("test.sandbox.op.")
            assert len(credentials.shared_secret) == 32
            fetched = await client.get_incoming_payment(payment.id, grant)
            assert fetched.id == payment.id and fetched.credentials == credentials
            done = await client.complete_incoming_payment(payment.id, grant)
            assert done.completed and not done.is_open(client.now())
            await client.cancel_grant(grant)
            with pytest.raises(ServerRefusedError) as refused:
                await client.get_incoming_payment(payment.id, grant)
            # Rafiki: a cancelled grant's token is inactive (403 "Inactive Token").
            assert refused.value.status == 403 and "Inactive Token" in str(refused.value)
            assert grant.access_token.reveal() not in str(refused.value)
            checked = [
                line.split(" ")[0] + " " + line.split(" -> ")[1] for line in sandbox.openapi.checked
            ]
            assert checked == [
                "GET 200",
                "POST 200",
                "POST 201",
                "GET 200",
                "POST 200",
                "DELETE 204",
                "GET 403",
            ]

    asyncio.run(main())


def test_expiry_and_renewal_follow_the_clock(tmp_path: Path) -> None:
    clock = Clock()

    async def main() -> None:
        async with (
            op_sandbox(tmp_path, clock=clock) as sandbox,
            sandbox.client(clock) as (client, _transport),
        ):
            wallet = await client.get_wallet_address(sandbox.wallet("bob"))
            grant = await client.request_incoming_payment_grant(wallet)
            payment = await client.create_incoming_payment(wallet, grant)
            assert not payment.renewal_due(clock.now)
            clock.now += dt.timedelta(minutes=9, seconds=1)
            assert payment.renewal_due(clock.now) and payment.is_open(clock.now)
            clock.now += dt.timedelta(minutes=1)
            with pytest.raises(IncomingPaymentExpiredError):
                payment.require_credentials(clock.now)
            # The server agrees: no methods any more. (Grants last 10 minutes: a new one,
            # with the same key, since only the client that made a payment may read it.)
            other = await client.request_incoming_payment_grant(wallet)
            with pytest.raises(NotFoundError):
                await client.get_incoming_payment(payment.id, other)
            grant = await client.request_incoming_payment_grant(wallet, key=grant.key)
            expired = await client.get_incoming_payment(payment.id, grant)
            assert expired.credentials is None and not expired.is_open(clock.now)
            with pytest.raises(IncomingPaymentExpiredError):
                expired.require_credentials(clock.now)

    asyncio.run(main())


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _serve(tmp: Path, handler: Handler) -> tuple[web.AppRunner, str]:
    server_tls, _ = self_signed(tmp)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_tls).start()
    return runner, f"https://127.0.0.1:{runner.addresses[0][1]}"


async def _html(_: web.Request) -> web.Response:
    return web.Response(text="<html><body>Welcome</body></html>", content_type="text/html")


async def _broken_json(_: web.Request) -> web.Response:
    return web.Response(text='{"id": ', content_type="application/json")


async def _plain_text(_: web.Request) -> web.Response:
    return web.Response(text="hello")


async def _wrong_shape(_: web.Request) -> web.Response:
    return web.json_response({"id": "https://x.example/a", "assetCode": "USD"})


async def _http_ids(_: web.Request) -> web.Response:
    return web.json_response(
        {
            "id": "http://x.example/a",
            "assetCode": "USD",
            "assetScale": 2,
            "authServer": "http://x.example/auth",
            "resourceServer": "http://x.example/rs",
        }
    )


async def _missing(_: web.Request) -> web.Response:
    return web.json_response({"error": {"code": "not_found", "description": "x"}}, status=404)


@pytest.mark.parametrize(
    ("handler", "error"),
    [
        (_missing, NotFoundError),
        (_html, NotJsonError),
        (_broken_json, NotJsonError),
        (_plain_text, NotJsonError),
        (_wrong_shape, InvalidResponseError),
        (_http_ids, InvalidResponseError),
    ],
)
def test_bad_wallet_addresses_are_named_errors(
    tmp_path: Path, handler: Handler, error: type[Exception]
) -> None:
    async def main() -> None:
        runner, origin = await _serve(tmp_path, handler)
        transport = HttpTransport(extra_ca_file=tmp_path / "cert.pem")
        try:
            with pytest.raises(error):
                await OpenPaymentsClient(transport).get_wallet_address(origin + "/alice")
        finally:
            await transport.close()
            await runner.cleanup()

    asyncio.run(main())


def test_a_slow_server_times_out(tmp_path: Path) -> None:
    release = asyncio.Event()

    async def slow(_: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({})

    async def main() -> None:
        runner, origin = await _serve(tmp_path, slow)
        transport = HttpTransport(extra_ca_file=tmp_path / "cert.pem", timeout=0.3)
        try:
            with pytest.raises(RequestTimeoutError):
                await OpenPaymentsClient(transport).get_wallet_address(origin + "/alice")
        finally:
            release.set()
            await transport.close()
            await runner.cleanup()

    asyncio.run(main())


def test_http_urls_are_refused_before_any_request() -> None:
    async def main() -> None:
        transport = HttpTransport()
        client = OpenPaymentsClient(transport)
        for url in (
            "http://127.0.0.1:9/alice",
            "ftp://x.example/a",
            "/alice",
            "https://u:p@x.example/a",
        ):
            with pytest.raises(InsecureUrlError):
                await client.get_wallet_address(url)
        await transport.close()

    asyncio.run(main())


def test_trust_is_the_system_store_plus_the_extra_ca(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def main() -> None:
        runner, origin = await _serve(tmp_path, _missing)
        try:
            plain = HttpTransport()
            with pytest.raises(TlsError):
                await OpenPaymentsClient(plain).get_wallet_address(origin + "/alice")
            await plain.close()
            monkeypatch.setenv(EXTRA_CA_ENV, str(tmp_path / "cert.pem"))
            from_env = HttpTransport()
            with pytest.raises(NotFoundError):  # TLS passed: the server's 404 came through
                await OpenPaymentsClient(from_env).get_wallet_address(origin + "/alice")
            await from_env.close()
        finally:
            await runner.cleanup()

    asyncio.run(main())
    with pytest.raises(TlsError):
        HttpTransport(extra_ca_file=tmp_path / "no-such-ca.pem")


def test_a_refused_grant_and_one_that_wants_interaction(tmp_path: Path) -> None:
    answers = [
        web.json_response({"error": {"code": "invalid_client", "description": "nope"}}, status=400),
        web.json_response(
            {
                "interact": {"redirect": "https://x.example/i", "finish": "n"},
                "continue": {"access_token": {"value": "c"}, "uri": "https://x.example/c"},
            }
        ),
    ]

    async def handler(request: web.Request) -> web.StreamResponse:
        if request.method == "GET":
            origin = f"https://{request.host}"
            return web.json_response(
                {
                    "id": origin + "/alice",
                    "assetCode": "USD",
                    "assetScale": 2,
                    "authServer": origin + "/auth",
                    "resourceServer": origin + "/rs",
                }
            )
        return answers.pop(0)

    async def main() -> None:
        runner, origin = await _serve(tmp_path, handler)
        transport = HttpTransport(extra_ca_file=tmp_path / "cert.pem")
        client = OpenPaymentsClient(transport)
        try:
            wallet = await client.get_wallet_address(origin + "/alice")
            with pytest.raises(GrantRefusedError) as refused:
                await client.request_incoming_payment_grant(wallet)
            assert refused.value.code == "invalid_client" and refused.value.status == 400
            with pytest.raises(GrantRefusedError, match="approve"):
                await client.request_incoming_payment_grant(wallet)
        finally:
            await transport.close()
            await runner.cleanup()

    asyncio.run(main())


def test_incoming_payment_parsing_takes_base64url_secrets() -> None:
    doc = {
        "id": "https://rs.example/t/incoming-payments/1",
        "walletAddress": "https://w.example/alice",
        "completed": False,
        "receivedAmount": {"value": "7", "assetCode": "USD", "assetScale": 2},
        "createdAt": "2026-01-01T00:00:00.000Z",
        "expiresAt": "2026-01-01T00:10:00.000Z",
        "methods": [
            {
                "type": "ilp",
                "ilpAddress": "test.w.x",
                "sharedSecret": "1c7eaXa4rd2fFOBl1iydvCT1tV5TbM3RW1WLCafu_JA",
            }
        ],
    }
    payment = IncomingPayment.parse(doc)
    assert payment.credentials is not None and len(payment.credentials.shared_secret) == 32
    assert "sharedSecret" not in repr(payment) and "1c7ea" not in repr(payment)
    for bad in (
        {**doc, "receivedAmount": {"value": "-1", "assetCode": "USD", "assetScale": 2}},
        {**doc, "methods": [{"type": "ilp", "ilpAddress": "nope", "sharedSecret": "AA"}]},
        {**doc, "expiresAt": "yesterday"},
    ):
        with pytest.raises(InvalidResponseError):
            IncomingPayment.parse(bad)


def test_tokens_keys_and_secrets_stay_out_of_reprs(tmp_path: Path) -> None:
    async def main() -> None:
        async with (
            op_sandbox(tmp_path) as sandbox,
            sandbox.client() as (client, transport),
        ):
            wallet = await client.get_wallet_address(sandbox.wallet("alice"))
            grant = await client.request_incoming_payment_grant(wallet)
            payment = await client.create_incoming_payment(wallet, grant)
            target = await open_payment_target(client, wallet.id, transport=transport)
            ledger = sandbox.server.ledger
            objects = (target, grant, grant.key, payment, ledger.grants, ledger.payments)
            shown = " ".join(repr(x) for x in objects)
            for token in (grant.access_token.reveal(), grant.continue_token.reveal()):
                assert token not in shown
            for secret in (
                target.shared_secret,
                payment.require_credentials(client.now()).shared_secret,
            ):
                assert secret.hex() not in shown and str(secret) not in shown
            assert payment.credentials is not None
            assert base64.urlsafe_b64encode(secret).decode().rstrip("=") not in shown

    asyncio.run(main())


def test_a_wallet_server_that_stops_is_unreachable(tmp_path: Path) -> None:
    async def main() -> None:
        async with (
            op_sandbox(tmp_path) as sandbox,
            sandbox.client() as (client, _transport),
        ):
            wallet = await client.get_wallet_address(sandbox.wallet("alice"))
            await sandbox.server.close()
            with pytest.raises(UnreachableError) as caught:
                await client.request_incoming_payment_grant(wallet)
            assert not isinstance(caught.value, RequestTimeoutError | TlsError)

    asyncio.run(main())
