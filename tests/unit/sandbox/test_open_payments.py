"""The sandbox's Open Payments server: money paid over STREAM to an incoming payment's
credentials shows up as its receivedAmount; requests that are not signed right are refused; the
OpenAPI check around it catches what breaks the spec."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from aiohttp import web

from tests.certs import self_signed
from tests.op_support import op_sandbox, pay
from wallet.net.spsp import parse_spsp_body
from wallet.net.stream_server import StreamServer
from wallet.openpayments.client import OpenPaymentsClient
from wallet.openpayments.errors import IncomingPaymentExpiredError
from wallet.openpayments.models import Amount
from wallet.openpayments.receiver import (
    open_payment_target,
    read_received_amount,
    renew_payment_target,
)
from wallet.openpayments.signing import ClientKey, compact_json, sign_request
from wallet.openpayments.transport import HttpTransport
from wallet.sandbox.network import SandboxNetwork
from wallet.sandbox.op_ledger import StreamServerBackend
from wallet.stream import StreamError


def test_stream_money_becomes_received_amount(tmp_path: Path) -> None:
    async def main() -> None:
        async with op_sandbox(tmp_path) as sandbox, sandbox.client() as (client, transport):
            target = await open_payment_target(client, sandbox.wallet("alice"), transport=transport)
            assert target.incoming_payment_url is not None
            delivered = await pay(
                sandbox.network, target.destination_account, target.shared_secret, 1_234_567
            )
            assert delivered == 1_234_567
            assert await read_received_amount(client, target) == Amount(1_234_567, "USD", 9)
            # The receiver's own books agree (Trickle's STREAM server behind the account).
            backend = sandbox.server.ledger.backend
            assert isinstance(backend, StreamServerBackend)
            tag = target.incoming_payment_url.rsplit("/", 1)[-1]
            assert backend.received == {tag: 1_234_567}
            # The grant was cancelled right after the incoming payment was made.
            assert all(g.revoked for g in sandbox.server.ledger.grants.values())
            # The public view (unsigned GET) shows the same.
            public = await transport.request(
                "GET", target.incoming_payment_url, {"accept": "application/json"}, None
            )
            doc = json.loads(public.body)
            assert doc["receivedAmount"]["value"] == "1234567"
            assert doc["authServer"] == sandbox.server.auth_server

    asyncio.run(main())


def test_closed_incoming_payments_take_no_money(tmp_path: Path) -> None:
    class Clock:
        now = dt.datetime.now(dt.UTC)

        def __call__(self) -> dt.datetime:
            return self.now

    clock = Clock()

    async def main() -> None:
        async with (
            op_sandbox(tmp_path, clock=clock) as sandbox,
            sandbox.client(clock) as (client, transport),
        ):
            capped = await open_payment_target(client, sandbox.wallet("alice"), transport=transport)
            wallet = capped.wallet
            assert wallet is not None
            grant = await client.request_incoming_payment_grant(wallet)
            small = await client.create_incoming_payment(
                wallet, grant, incoming_amount=Amount(1000, "USD", 9)
            )
            creds = small.require_credentials(clock.now)
            delivered = await pay(
                sandbox.network, creds.ilp_address, creds.shared_secret, 1000, "p1"
            )
            assert delivered == 1000
            after = await client.get_incoming_payment(small.id, grant)
            assert after.completed and after.received_amount.value == 1000
            assert after.credentials is None  # completed: no more methods
            with pytest.raises(StreamError):  # every packet refused: no rate, no money
                await pay(sandbox.network, creds.ilp_address, creds.shared_secret, 10, "p2")
            # Renewal: a minute before the 10 minutes are up, the next incoming payment.
            clock.now += dt.timedelta(minutes=8, seconds=59)
            assert not capped.renewal_due(clock.now)
            clock.now += dt.timedelta(seconds=2)
            assert capped.renewal_due(clock.now)
            renewed = await renew_payment_target(client, capped)
            assert renewed.incoming_payment_url != capped.incoming_payment_url
            assert not renewed.renewal_due(clock.now)
            clock.now += dt.timedelta(minutes=2)
            with pytest.raises(IncomingPaymentExpiredError):
                capped.incoming_payment.require_credentials(clock.now)  # type: ignore[union-attr]
            with pytest.raises(StreamError):
                await pay(
                    sandbox.network, capped.destination_account, capped.shared_secret, 10, "p3"
                )
            assert (
                await pay(
                    sandbox.network, renewed.destination_account, renewed.shared_secret, 55, "p4"
                )
                == 55
            )
            assert await read_received_amount(client, capped) == Amount(0, "USD", 9)
            assert await read_received_amount(client, renewed) == Amount(55, "USD", 9)

    asyncio.run(main())


def test_the_sandbox_refuses_requests_not_signed_right(tmp_path: Path) -> None:
    async def main() -> None:
        async with op_sandbox(tmp_path) as sandbox, sandbox.client() as (client, transport):
            wallet = await client.get_wallet_address(sandbox.wallet("alice"))
            grant = await client.request_incoming_payment_grant(wallet)
            url = wallet.resource_server + "/incoming-payments"
            body = compact_json({"walletAddress": wallet.id})
            now = int(client.now().timestamp())
            token = grant.access_token.reveal()

            async def post(key: ClientKey, sent: bytes, created: int) -> int:
                headers = sign_request(
                    key,
                    "POST",
                    url,
                    body=body,
                    access_token=token,
                    created=created,
                    extra_headers={"accept": "application/json"},
                )
                return (await transport.request("POST", url, headers, sent)).status

            assert await post(grant.key, body, now) == 201
            impostor = ClientKey.from_seed(bytes(32), grant.key.kid)
            assert await post(impostor, body, now) == 401
            changed = compact_json({"walletAddress": sandbox.wallet("bob")})
            assert await post(grant.key, changed[: len(body)].ljust(len(body), b" "), now) in (
                400,
                401,
            )
            assert await post(grant.key, body, now - 3600) == 401
            # A token is bound to its grant's key: another client's signature does not do.
            other = ClientKey.generate()
            assert await post(other, body, now) == 401

    asyncio.run(main())


def test_the_openapi_check_catches_what_breaks_the_spec(tmp_path: Path) -> None:
    async def main() -> None:
        async with (
            op_sandbox(tmp_path, check_openapi=False) as sandbox,
            sandbox.client() as (client, transport),
        ):
            wallet = await client.get_wallet_address(sandbox.wallet("alice"))
            grant = await client.request_incoming_payment_grant(wallet)
            assert sandbox.openapi.problems == []
            url = wallet.resource_server + "/incoming-payments"
            bad = compact_json({"walletAddress": wallet.id, "incomingAmount": {"value": 5}})
            headers = sign_request(
                grant.key,
                "POST",
                url,
                body=bad,
                access_token=grant.access_token.reveal(),
                created=int(client.now().timestamp()),
                extra_headers={"accept": "application/json"},
            )
            response = await transport.request("POST", url, headers, bad)
            assert response.status == 400
            request_problem, response_problem = sandbox.openapi.problems
            assert "request" in request_problem and "InvalidRequestBody" in request_problem
            # Rafiki answers a bad request 400 too, which this operation does not declare.
            assert "response 400" in response_problem

    asyncio.run(main())


def test_a_wallet_without_open_payments_is_paid_over_spsp(tmp_path: Path) -> None:
    async def main() -> None:
        network = SandboxNetwork()
        server_tls, _ = self_signed(tmp_path)
        server = StreamServer(
            network.account("shop"),
            base_address="test.sandbox.shop",
            asset_code="USD",
            asset_scale=9,
        )

        async def spsp(_: web.Request) -> web.Response:
            issued = server.credentials()
            body = {
                "destination_account": issued.destination_account,
                "shared_secret": base64.urlsafe_b64encode(issued.shared_secret)
                .decode()
                .rstrip("="),
            }
            return web.Response(text=json.dumps(body), content_type="application/spsp4+json")

        app = web.Application()
        app.router.add_get("/shop", spsp)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_tls).start()
        url = f"https://127.0.0.1:{runner.addresses[0][1]}/shop"
        transport = HttpTransport(extra_ca_file=tmp_path / "cert.pem")
        client = OpenPaymentsClient(transport)
        try:
            target = await open_payment_target(client, url, transport=transport)
            assert target.incoming_payment is None
            assert await pay(network, target.destination_account, target.shared_secret, 777) == 777
            assert await read_received_amount(client, target) is None
        finally:
            await transport.close()
            await server.aclose()
            await runner.cleanup()

    asyncio.run(main())


def test_the_sandbox_wallet_address_also_answers_spsp(tmp_path: Path) -> None:
    async def main() -> None:
        async with (
            op_sandbox(tmp_path) as sandbox,
            sandbox.client() as (_client, transport),
        ):
            url = sandbox.wallet("bob")
            answer = await transport.request("GET", url, {"accept": "application/spsp4+json"}, None)
            assert answer.status == 200 and answer.content_type == "application/spsp4+json"
            secret = json.loads(answer.body)["shared_secret"]
            assert "=" not in secret and "+" not in secret and "/" not in secret  # base64url
            spsp = parse_spsp_body(answer.body)
            paid = await pay(sandbox.network, spsp.destination_account, spsp.shared_secret, 4321)
            assert paid == 4321
            assert sandbox.server.ledger.payments == {}  # money on the wallet, no incoming payment

    asyncio.run(main())
