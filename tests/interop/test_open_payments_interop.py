"""Open Payments against peers no one here wrote (npm, pinned in tests/interop/package.json):

* every request Trickle's client makes passes Rafiki's own checks — the signature and
  Content-Digest with @interledger/http-signature-utils, the request with @interledger/openapi
  against the official OpenAPI files — and the same checks refuse a wrong key, a changed body
  and a stale ``created``;
* the official @interledger/open-payments client (response validation on) runs the whole
  incoming-payment flow against the sandbox as a directed-identity client;
* money that Trickle's STREAM client pays to an incoming payment whose credentials come from
  @interledger/stream-receiver (Rafiki's receiver) behind the sandbox's ILP path: the receiver's
  own total = the incoming payment's receivedAmount = what the client says it delivered.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from tests.interop.harness import NodeProcess
from tests.interop.op_peers import CheckerSlot, NodeReceiverBackend, RequestChecker
from tests.op_support import OpSandbox, op_sandbox, pay
from wallet.net.link import Link
from wallet.openpayments.models import Amount
from wallet.openpayments.receiver import (
    open_payment_target,
    read_received_amount,
)
from wallet.openpayments.signing import ClientKey, compact_json, sign_request

pytestmark = pytest.mark.interop
WALLETS = ["alice", "bob"]


async def _with_checker(tmp: Path, body: Any, **options: Any) -> RequestChecker:
    slot = CheckerSlot()
    async with op_sandbox(tmp, middlewares=(slot.middleware,), **options) as sandbox:
        with RequestChecker.start(sandbox.server, WALLETS) as checker:
            slot.checker = checker
            await body(sandbox, checker)
    return checker


def test_trickles_requests_pass_rafikis_checks(tmp_path: Path) -> None:
    async def body(sandbox: OpSandbox, checker: RequestChecker) -> None:
        async with sandbox.client() as (client, _transport):
            wallet = await client.get_wallet_address(sandbox.wallet("alice"))
            grant = await client.request_incoming_payment_grant(wallet)
            payment = await client.create_incoming_payment(
                wallet, grant, incoming_amount=Amount(10**9, "USD", 9), metadata={"note": "café ☕"}
            )
            await client.get_incoming_payment(payment.id, grant)
            await client.complete_incoming_payment(payment.id, grant)
            await client.cancel_grant(grant)
            assert await client.get_public_received_amount(payment.id) == Amount(0, "USD", 9)

    checker = asyncio.run(_run(_with_checker(tmp_path, body)))
    assert checker.refused() == []
    operations = [v["operation"] for v in checker.verdicts]
    assert operations == [
        "wallet GET /",
        "auth POST /",
        "resource POST /incoming-payments",
        "resource GET /incoming-payments/{id}",
        "resource POST /incoming-payments/{id}/complete",
        "auth DELETE /continue/{id}",
        "resource GET /incoming-payments/{id}",
    ]
    unsigned = [v["operation"] for v in checker.verdicts if v["signature"].get("unsigned")]
    assert unsigned == ["wallet GET /", "resource GET /incoming-payments/{id}"]


def test_the_same_checks_refuse_a_wrong_key_a_changed_body_and_a_stale_created(
    tmp_path: Path,
) -> None:
    async def body(sandbox: OpSandbox, checker: RequestChecker) -> None:
        async with sandbox.client() as (client, transport):
            wallet = await client.get_wallet_address(sandbox.wallet("bob"))
            key = ClientKey.generate()
            grant_body = compact_json(
                {
                    "access_token": {
                        "access": [
                            {
                                "type": "incoming-payment",
                                "actions": ["create"],
                                "identifier": wallet.id,
                            }
                        ]
                    },
                    "client": {"jwk": key.public_jwk()},
                }
            )
            now = int(client.now().timestamp())

            async def send(signer: ClientKey, sent: bytes, created: int) -> int:
                headers = sign_request(
                    signer,
                    "POST",
                    wallet.auth_server,
                    body=grant_body,
                    created=created,
                    extra_headers={"accept": "application/json"},
                )
                return (await transport.request("POST", wallet.auth_server, headers, sent)).status

            assert await send(key, grant_body, now) == 200  # the control: right key, body, time
            impostor = ClientKey.from_seed(os.urandom(32), key.kid)
            assert await send(impostor, grant_body, now) == 400
            changed = grant_body.replace(b'"create"', b'"cre8te"')
            assert len(changed) == len(grant_body)
            assert await send(key, changed, now) == 400
            assert await send(key, grant_body, now - 3600) == 400

    checker = asyncio.run(_run(_with_checker(tmp_path, body, check_openapi=False)))
    verdicts = [v for v in checker.verdicts if v["method"] == "POST"]
    assert [v["signature"]["ok"] for v in verdicts] == [True, False, False, False]
    assert "verify" in verdicts[1]["signature"]["error"]
    assert "Content-Digest" in verdicts[2]["signature"]["error"]
    assert "old" in verdicts[3]["signature"]["error"]


def test_the_official_client_runs_the_incoming_payment_flow_on_the_sandbox(tmp_path: Path) -> None:
    async def body(sandbox: OpSandbox, checker: RequestChecker) -> None:
        proc = NodeProcess(
            "op_official_flow.js",
            ["--wallet", sandbox.wallet("alice"), "--incoming-amount", "5000"],
            env={"NODE_EXTRA_CA_CERTS": str(sandbox.ca_file)},
        )
        try:
            lines: dict[str, Any] = {}
            for step in (
                "wallet",
                "grant",
                "created",
                "fetched",
                "public",
                "completed",
                "cancelled",
                "done",
            ):
                lines[step] = await asyncio.to_thread(proc.wait_for, step, 60)
        finally:
            proc.stop()
        wallet = lines["wallet"]["result"]
        assert wallet["id"] == sandbox.wallet("alice")
        assert wallet["authServer"] == sandbox.server.auth_server
        assert lines["grant"]["result"]["hasToken"] and lines["grant"]["result"]["expiresIn"] == 600
        created = lines["created"]["result"]
        (method,) = created["methods"]
        assert method["type"] == "ilp" and method["ilpAddress"].startswith("test.sandbox.op.")
        assert "=" not in method["sharedSecret"] and "+" not in method["sharedSecret"]
        assert created["incomingAmount"] == {"value": "5000", "assetCode": "USD", "assetScale": 9}
        assert lines["fetched"]["result"]["id"] == created["id"]
        assert lines["public"]["result"]["receivedAmount"]["value"] == "0"
        assert lines["completed"]["result"]["completed"] is True

    checker = asyncio.run(_run(_with_checker(tmp_path, body)))
    # The checker accepts the official client too (it is not merely strict).
    assert checker.refused() == [] and len(checker.verdicts) == 7


def test_money_lands_at_rafikis_stream_receiver(tmp_path: Path) -> None:
    async def main() -> None:
        with NodeReceiverBackend.start("test.sandbox.op") as receiver:

            def backend(_: Link, address: str) -> NodeReceiverBackend:
                assert address == "test.sandbox.op"
                return receiver

            async with (
                op_sandbox(tmp_path, backend=backend) as sandbox,
                sandbox.client() as (client, transport),
            ):
                try:
                    target = await open_payment_target(
                        client, sandbox.wallet("alice"), transport=transport
                    )
                    assert target.incoming_payment_url is not None
                    delivered = await pay(
                        sandbox.network,
                        target.destination_account,
                        target.shared_secret,
                        2_500_000,
                        max_packet_amount=300_000,
                    )
                    received = await read_received_amount(client, target)
                    tag = target.incoming_payment_url.rsplit("/", 1)[-1]
                    own = await asyncio.to_thread(receiver.totals)
                    assert delivered == 2_500_000
                    assert received == Amount(2_500_000, "USD", 9)
                    assert own == {tag: 2_500_000}
                    money = [line for line in receiver.proc.seen if line.get("event") == "money"]
                    # Packets of at most 300 000, each accepted by the receiver for this tag.
                    assert len(money) >= 9 and {line["tag"] for line in money} == {tag}
                    assert sum(int(line["amount"]) for line in money) == 2_500_000
                finally:
                    await receiver.aclose()

    asyncio.run(_run(main()))


async def _run(coro: Any) -> Any:
    async with asyncio.timeout(120):
        return await coro
