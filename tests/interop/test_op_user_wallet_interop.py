"""Paying from the user's own wallet, against peers no one here wrote:

* the official @interledger/open-payments client (response validation on) drives every call of
  the sandbox's wallet side: an interactive grant accepted at the consent page (finish hash
  checked by the script, ``too_fast`` before ``wait``, continue with ``interact_ref``), a polled
  grant, quote, outgoing payments from the quote and straight from the incoming payment, get,
  list, the grant's spent amounts, a payment past the grant's limit refused, token rotation (old
  token refused), revocation, cancel — and the money really arrives at the site over STREAM;
* every request Trickle's client makes in this flow passes Rafiki's own checks (the signature
  with @interledger/http-signature-utils, the request with @interledger/openapi), and so do the
  official client's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.interop.harness import NodeProcess
from tests.interop.op_peers import CheckerSlot, RequestChecker
from tests.op_support import OpSandbox, answer_consent, op_sandbox
from wallet.openpayments.models import Amount, Grant
from wallet.openpayments.outgoing_models import GrantLimits, InteractionFinish, monthly_interval
from wallet.openpayments.signing import ClientKey
from wallet.openpayments.user_wallet import UserWalletClient

pytestmark = pytest.mark.interop
BALANCE = 10**12
FINISH = "https://trickle.invalid/op-finish"


class OffsetClock:
    """Real time plus what the test moved it on by (the sandbox's clock: the node client signs
    with real time, so the offset stays well inside the 5-minute freshness window)."""

    def __init__(self) -> None:
        self.offset = dt.timedelta(0)

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset


async def _with_checker(
    tmp: Path,
    body: Callable[[OpSandbox, RequestChecker], Awaitable[None]],
    **options: Any,
) -> RequestChecker:
    slot = CheckerSlot()
    async with op_sandbox(
        tmp,
        wallets=("blog",),
        user_wallets={"me": BALANCE},
        middlewares=(slot.middleware,),
        **options,
    ) as sandbox:
        with RequestChecker.start(sandbox.server, ["blog", "me"]) as checker:
            slot.checker = checker
            await body(sandbox, checker)
    return checker


def test_trickles_user_wallet_requests_pass_rafikis_checks(tmp_path: Path) -> None:
    async def body(sandbox: OpSandbox, checker: RequestChecker) -> None:
        key = ClientKey.generate()
        sandbox.server.register_client_key("me", key.public_jwk())
        await asyncio.to_thread(checker.register_jwks, sandbox.wallet("me"), [key.public_jwk()])
        async with sandbox.client() as (base, _transport):
            user = UserWalletClient(base, key)
            me = await base.get_wallet_address(sandbox.wallet("me"))
            site = await base.get_wallet_address(sandbox.wallet("blog"))
            receiver = (
                await base.create_incoming_payment(
                    site, await base.request_incoming_payment_grant(site)
                )
            ).id
            limits = GrantLimits(
                debit_amount=Amount(10**9, "USD", 9), interval=monthly_interval(base.now())
            )
            pending = await user.request_grant(
                me, limits, finish_uri=FINISH, actions=("create", "read", "list")
            )
            location = await answer_consent(sandbox.ca_file, pending.redirect_url, accept=True)
            assert location is not None
            finish = InteractionFinish.from_redirect(location)
            pending.verify_finish(finish)
            grant = await user.continue_grant(pending, interact_ref=finish.interact_ref)
            assert isinstance(grant, Grant)
            direct = await user.pay(me, grant, receiver, Amount(4_000, "USD", 9))
            quote = await user.create_quote(me, grant, receiver, debit_amount=Amount(1, "USD", 9))
            quoted = await user.create_outgoing_payment(me, grant, quote)
            timeout = dt.timedelta(seconds=20)
            for payment in (direct, quoted):
                await user.wait_for_outgoing_payment(payment, grant, timeout=timeout, interval=0.05)
            page = await user.list_outgoing_payments(me, grant)
            assert {p.id for p in page.payments} == {direct.id, quoted.id}
            spent = await user.get_grant_spent_amounts(me, grant)
            assert spent is not None and spent.debit_amount == Amount(4_001, "USD", 9)
            rotated = await user.rotate_token(grant)
            await user.revoke_token(rotated)
            # A polled grant, then Disconnect.
            polled = await user.request_grant(me, limits)
            assert await answer_consent(sandbox.ca_file, polled.redirect_url, accept=True) is None
            second = await user.wait_for_grant(polled, timeout=timeout)
            await user.cancel_grant(second)
            await user.cancel_grant(grant)
            assert await base.get_public_received_amount(receiver) == Amount(4_001, "USD", 9)

    checker = asyncio.run(_run(_with_checker(tmp_path, body, grant_wait_seconds=0)))
    assert checker.refused() == []
    operations = [v["operation"] for v in checker.verdicts]
    for expected in (
        "auth POST /",
        "auth POST /continue/{id}",
        "resource POST /outgoing-payments",
        "resource POST /quotes",
        "resource GET /outgoing-payments/{id}",
        "resource GET /outgoing-payments",
        "resource GET /outgoing-payment-grant",
        "auth POST /token/{id}",
        "auth DELETE /token/{id}",
        "auth DELETE /continue/{id}",
    ):
        assert expected in operations, (expected, operations)
    signed = [v for v in checker.verdicts if not v["signature"].get("unsigned")]
    assert len(signed) >= 15


def test_the_official_client_pays_from_the_sandbox_users_wallet(tmp_path: Path) -> None:
    clock = OffsetClock()

    async def body(sandbox: OpSandbox, checker: RequestChecker) -> None:
        proc = NodeProcess(
            "op_official_wallet.js",
            [
                "--user",
                sandbox.wallet("me"),
                "--site",
                sandbox.wallet("blog"),
                "--limit",
                "6000",
                "--amounts",
                "3000,2000",
                "--over",
                "1001",
            ],
            env={"NODE_EXTRA_CA_CERTS": str(sandbox.ca_file)},
        )

        async def step(name: str) -> dict[str, Any]:
            return await asyncio.to_thread(proc.wait_for, name, 60)

        def tell(command: dict[str, Any]) -> None:
            proc.command(json.dumps(command))

        def wait_passes() -> None:
            clock.offset += dt.timedelta(seconds=60)
            tell({"cmd": "go"})

        try:
            jwk = (await step("key"))["jwk"]
            sandbox.server.register_client_key("me", jwk)
            await asyncio.to_thread(checker.register_jwks, sandbox.wallet("me"), [jwk])
            tell({"cmd": "registered"})
            incoming = (await step("incoming"))["result"]
            pending = await step("pending")
            assert pending["wait"] == 60
            location = await answer_consent(sandbox.ca_file, pending["redirect"], accept=True)
            tell({"cmd": "finished", "url": location})
            assert (await step("hash"))["ok"] is True
            too_fast = (await step("too-fast"))["result"]
            assert too_fast["refused"] and too_fast["status"] == 400
            assert too_fast["code"] == "too_fast"
            wait_passes()
            granted = await step("granted")
            assert granted["expiresIn"] == 600
            assert granted["access"][1]["limits"]["debitAmount"]["value"] == "6000"
            polled = await step("polled-pending")
            poll_too_fast = (await step("poll-too-fast"))["result"]
            assert poll_too_fast["status"] == 400 and poll_too_fast["code"] == "too_fast"
            wait_passes()
            assert (await step("poll-still"))["pending"] is True
            assert await answer_consent(sandbox.ca_file, polled["redirect"], accept=True) is None
            wait_passes()
            assert (await step("poll-granted"))["hasToken"] is True
            await step("poll-cancelled")
            quote = (await step("quote"))["result"]
            assert quote["debitAmount"]["value"] == "3000" and quote["receiver"] == incoming["id"]
            from_quote = (await step("from-quote"))["result"]
            assert from_quote["quoteId"] == quote["id"]
            assert from_quote["grantSpentDebitAmount"]["value"] == "3000"
            direct = (await step("direct"))["result"]
            assert direct["grantSpentDebitAmount"]["value"] == "5000"
            settled = (await step("settled"))["result"]
            assert [p["sentAmount"]["value"] for p in settled] == ["3000", "2000"]
            assert not any(p["failed"] for p in settled)
            listed = (await step("list"))["result"]
            assert {p["id"] for p in listed["result"]} == {from_quote["id"], direct["id"]}
            spent = (await step("spent"))["result"]
            assert spent["spentDebitAmount"]["value"] == "5000"
            over = (await step("over-limit"))["result"]
            assert over["refused"] and over["status"] == 403
            assert over["description"] == "unauthorized"
            assert (await step("rotated"))["changed"] is True
            old = (await step("old-token"))["result"]
            assert old["status"] == 403 and old["description"] == "Inactive Token"
            assert (await step("new-token"))["ok"] is True
            revoked = (await step("revoked-token"))["result"]
            assert revoked["status"] == 403
            await step("cancelled")
            await step("done")
        finally:
            proc.stop()
        # The money went over STREAM from the user's account into the site's incoming payment.
        async with sandbox.client() as (base, _transport):
            received = await base.get_public_received_amount(incoming["id"])
        assert received == Amount(5000, "USD", 9)
        assert sandbox.server.balance("me") == BALANCE - 5000

    checker = asyncio.run(_run(_with_checker(tmp_path, body, clock=clock, grant_wait_seconds=60)))
    # The checker accepts the official client's requests too.
    assert checker.refused() == [], checker.refused()


async def _run(coro: Awaitable[Any]) -> Any:
    async with asyncio.timeout(180):
        return await coro
