"""Trickle's client for the user's own wallet against the sandbox's wallet side on loopback
(https with a test CA, every exchange checked against the official OpenAPI files): the
interactive grant (finish hash, continue, polling with ``wait`` and ``too_fast``), rotation and
revocation, quotes and outgoing payments that really move money over STREAM into the site's
incoming payment, grant limits per interval, and each refusal as its own named error."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
import hashlib
import itertools
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.op_support import OpSandbox, answer_consent, op_sandbox
from wallet.openpayments.client import OpenPaymentsClient
from wallet.openpayments.errors import (
    AccessDeniedError,
    GrantExhaustedError,
    GrantRejectedError,
    GrantRevokedError,
    GrantTimeoutError,
    InsufficientFundsError,
    InteractionHashError,
    InvalidReceiverError,
    NotSentError,
    PaymentOutcomeUnknownError,
    QuoteTooSmallError,
    ServerRefusedError,
    SignatureError,
    TokenInactiveError,
    TooFastError,
)
from wallet.openpayments.models import Amount, Grant, WalletAddress
from wallet.openpayments.outgoing_models import (
    GrantLimits,
    InteractionFinish,
    OutgoingPaymentState,
    PendingGrant,
    monthly_interval,
)
from wallet.openpayments.signing import ClientKey
from wallet.openpayments.user_wallet import UserWalletClient
from wallet.secrets import Secret

FINISH = "https://trickle.invalid/op-finish"
USD = ("USD", 9)


def usd(value: int) -> Amount:
    return Amount(value, *USD)


class Clock:
    """The test's time, shared by the sandbox and the client; ``sleep`` moves it on."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)
        await asyncio.sleep(0.005)


@dataclass
class Setup:
    sandbox: OpSandbox
    base: OpenPaymentsClient
    user: UserWalletClient
    wallet: WalletAddress
    key: ClientKey


@asynccontextmanager
async def user_wallet(
    tmp: Path,
    *,
    balance: int = 10**12,
    clock: Clock | None = None,
    **options: Any,
) -> AsyncIterator[Setup]:
    """The sandbox with a site wallet ``blog`` and a funded user wallet ``me`` at which the
    user registered Trickle's key."""
    options.setdefault("grant_wait_seconds", 0)
    async with (
        op_sandbox(
            tmp, wallets=("blog",), user_wallets={"me": balance}, clock=clock, **options
        ) as sandbox,
        sandbox.client(clock) as (base, _transport),
    ):
        key = ClientKey.generate()
        sandbox.server.register_client_key("me", key.public_jwk())
        sleep: Callable[[float], Awaitable[None]] = clock.sleep if clock else asyncio.sleep
        user = UserWalletClient(base, key, sleep=sleep)
        wallet = await base.get_wallet_address(sandbox.wallet("me"))
        yield Setup(sandbox, base, user, wallet, key)


async def connected(s: Setup, limits: GrantLimits) -> Grant:
    """Request, accept at the consent page, check the hash, continue."""
    pending = await s.user.request_grant(s.wallet, limits, finish_uri=FINISH)
    location = await answer_consent(s.sandbox.ca_file, pending.redirect_url, accept=True)
    assert location is not None and location.startswith(FINISH + "?")
    finish = InteractionFinish.from_redirect(location)
    pending.verify_finish(finish)
    grant = await s.user.continue_grant(pending, interact_ref=finish.interact_ref)
    assert isinstance(grant, Grant)
    return grant


async def site_incoming_payment(s: Setup) -> str:
    site = await s.base.get_wallet_address(s.sandbox.wallet("blog"))
    grant = await s.base.request_incoming_payment_grant(site)
    payment = await s.base.create_incoming_payment(site, grant)
    return payment.id


def monthly(value: int, start: dt.datetime) -> GrantLimits:
    return GrantLimits(debit_amount=usd(value), interval=monthly_interval(start))


def test_connect_then_pay_both_ways_into_the_sites_incoming_payment(tmp_path: Path) -> None:
    async def main() -> None:
        async with user_wallet(tmp_path) as s:
            pending = await s.user.request_grant(
                s.wallet, monthly(10**9, s.base.now()), finish_uri=FINISH
            )
            assert pending.redirect_url.startswith(s.sandbox.server.origin + "/auth/interact/")
            location = await answer_consent(s.sandbox.ca_file, pending.redirect_url, accept=True)
            assert location is not None
            finish = InteractionFinish.from_redirect(location)
            # The hash as GNAP §4.2.3 defines it, computed here independently of both sides.
            assert pending.client_nonce is not None and pending.finish_nonce is not None
            data = "\n".join(
                [
                    pending.client_nonce,
                    pending.finish_nonce,
                    finish.interact_ref,
                    s.wallet.auth_server,
                ]
            )
            expected = base64.b64encode(hashlib.sha256(data.encode()).digest()).decode()
            assert finish.hash == expected
            pending.verify_finish(finish)
            forged = dataclasses.replace(finish, hash=base64.b64encode(b"x" * 32).decode())
            with pytest.raises(InteractionHashError):
                pending.verify_finish(forged)
            other_ref = dataclasses.replace(finish, interact_ref="not-the-ref")
            with pytest.raises(InteractionHashError):
                pending.verify_finish(other_ref)
            grant = await s.user.continue_grant(pending, interact_ref=finish.interact_ref)
            assert isinstance(grant, Grant) and grant.expires_in == 600
            assert [a["type"] for a in grant.access] == ["quote", "outgoing-payment"]

            receiver = await site_incoming_payment(s)
            direct = await s.user.pay(s.wallet, grant, receiver, usd(1_500_000))
            assert s.user.direct_payments_supported(s.wallet) is True
            assert direct.grant_spent_debit_amount == usd(1_500_000)
            done = await s.user.wait_for_outgoing_payment(
                direct, grant, timeout=dt.timedelta(seconds=20), interval=0.02
            )
            assert done.state is OutgoingPaymentState.COMPLETED
            quote = await s.user.create_quote(s.wallet, grant, receiver, debit_amount=usd(700))
            assert quote.receive_amount == usd(700) and quote.receiver == receiver
            quoted = await s.user.create_outgoing_payment(s.wallet, grant, quote)
            assert quoted.quote_id == quote.id
            second = await s.user.wait_for_outgoing_payment(
                quoted, grant, timeout=dt.timedelta(seconds=20), interval=0.02
            )
            sent = done.sent_amount.value + second.sent_amount.value
            assert sent == 1_500_700
            # The money arrived at the site's incoming payment over STREAM, and left the user.
            received = await s.base.get_public_received_amount(receiver)
            assert received == usd(sent)
            assert s.sandbox.server.balance("me") == 10**12 - sent
            spent = await s.user.get_grant_spent_amounts(s.wallet, grant)
            assert spent is not None and spent.debit_amount == usd(sent)
            listed = await s.user.get_outgoing_payment(direct.id, grant)
            assert listed.sent_amount == usd(1_500_000)

    asyncio.run(main())


def test_polling_honours_wait_and_too_fast(tmp_path: Path) -> None:
    clock = Clock()

    async def main() -> None:
        async with user_wallet(tmp_path, clock=clock, grant_wait_seconds=5) as s:
            pending = await s.user.request_grant(s.wallet, monthly(10**9, clock.now))
            assert pending.wait == 5 and pending.client_nonce is None
            with pytest.raises(TooFastError):
                await s.user.continue_grant(pending)
            clock.now += dt.timedelta(seconds=5)
            still = await s.user.continue_grant(pending)
            assert isinstance(still, PendingGrant) and still.wait == 5
            assert still.redirect_url == pending.redirect_url
            polls: list[dt.datetime] = []
            real_sleep = clock.sleep

            async def user_answers_during_the_wait(seconds: float) -> None:
                polls.append(clock.now)
                await real_sleep(seconds)
                if len(polls) == 2:
                    assert (
                        await answer_consent(s.sandbox.ca_file, pending.redirect_url, accept=True)
                        is None
                    )

            s.user._sleep = user_answers_during_the_wait
            grant = await s.user.wait_for_grant(still, timeout=dt.timedelta(minutes=1))
            assert isinstance(grant, Grant)
            assert [(b - a).total_seconds() for a, b in itertools.pairwise(polls)] == [5.0]
            # A grant with a finish redirect is not polled (Rafiki: "grant cannot be polled").
            finishing = await s.user.request_grant(
                s.wallet, monthly(10**9, clock.now), finish_uri=FINISH
            )
            clock.now += dt.timedelta(seconds=5)
            with pytest.raises(ServerRefusedError, match="cannot be polled"):
                await s.user.continue_grant(finishing)
            # Nobody answers: the wait ends in words.
            ignored = await s.user.request_grant(s.wallet, monthly(10**9, clock.now))
            s.user._sleep = clock.sleep
            with pytest.raises(GrantTimeoutError):
                await s.user.wait_for_grant(ignored, timeout=dt.timedelta(seconds=30))

    asyncio.run(main())


def test_declined_grants_are_named_errors(tmp_path: Path) -> None:
    async def main() -> None:
        async with user_wallet(tmp_path) as s:
            pending = await s.user.request_grant(
                s.wallet, monthly(10**9, s.base.now()), finish_uri=FINISH
            )
            location = await answer_consent(s.sandbox.ca_file, pending.redirect_url, accept=False)
            assert location is not None and "result=grant_rejected" in location
            with pytest.raises(GrantRejectedError):
                InteractionFinish.from_redirect(location)
            polled = await s.user.request_grant(s.wallet, monthly(10**9, s.base.now()))
            assert (
                await answer_consent(s.sandbox.ca_file, polled.redirect_url, accept=False) is None
            )
            with pytest.raises(GrantRejectedError):
                await s.user.wait_for_grant(polled, timeout=dt.timedelta(seconds=30))
            with pytest.raises(InteractionHashError):
                InteractionFinish.from_redirect(FINISH + "?interact_ref=abc")

    asyncio.run(main())


def test_a_key_the_user_did_not_register_is_refused(tmp_path: Path) -> None:
    async def main() -> None:
        async with user_wallet(tmp_path) as s:
            stranger = UserWalletClient(s.base, ClientKey.generate())
            with pytest.raises(SignatureError):
                await stranger.request_grant(s.wallet, monthly(10, s.base.now()))
            with pytest.raises(ValueError, match="exactly one"):
                GrantLimits(debit_amount=usd(1), receive_amount=usd(1))

    asyncio.run(main())


def test_rotation_revocation_and_expiry(tmp_path: Path) -> None:
    clock = Clock()

    async def main() -> None:
        async with user_wallet(
            tmp_path, clock=clock, access_token_lifetime=dt.timedelta(seconds=30)
        ) as s:
            grant = await connected(s, monthly(10**9, clock.now))
            receiver = await site_incoming_payment(s)
            paid = await s.user.pay(s.wallet, grant, receiver, usd(1000))
            assert grant.expires_in == 30 and not grant.expired(clock.now)
            clock.now += dt.timedelta(seconds=31)
            assert grant.expired(clock.now)
            with pytest.raises(TokenInactiveError):
                await s.user.get_outgoing_payment(paid.id, grant)
            rotated = await s.user.rotate_token(grant)
            assert rotated.access_token.reveal() != grant.access_token.reveal()
            assert rotated.manage_url != grant.manage_url
            assert rotated.continue_uri == grant.continue_uri
            assert (await s.user.get_outgoing_payment(paid.id, rotated)).id == paid.id
            with pytest.raises(TokenInactiveError):  # the old token is refused
                await s.user.get_outgoing_payment(paid.id, grant)
            with pytest.raises(GrantRevokedError):  # and its manage URL is gone
                await s.user.rotate_token(grant)
            await s.user.revoke_token(rotated)
            with pytest.raises(TokenInactiveError):
                await s.user.pay(s.wallet, rotated, receiver, usd(1000))
            with pytest.raises(GrantRevokedError):
                await s.user.rotate_token(rotated)
            # Disconnect: the whole grant is cancelled.
            again = await connected(s, monthly(10**9, clock.now))
            await s.user.cancel_grant(again)
            with pytest.raises(TokenInactiveError):
                await s.user.get_outgoing_payment(paid.id, again)
            with pytest.raises(GrantRevokedError):
                await s.user.rotate_token(again)
            with pytest.raises(GrantRevokedError):
                await s.user.cancel_grant(again)
            # Nothing secret in what a log could show.
            for shown in (repr(rotated), repr(grant), str(again)):
                for token in (rotated, grant, again):
                    assert token.access_token.reveal() not in shown
                    assert token.continue_token.reveal() not in shown

    asyncio.run(main())


def test_the_grant_limit_holds_per_interval(tmp_path: Path) -> None:
    clock = Clock()

    async def main() -> None:
        async with user_wallet(tmp_path, clock=clock) as s:
            start = clock.now
            grant = await connected(s, monthly(10_000, start))
            receiver = await site_incoming_payment(s)
            first = await s.user.pay(s.wallet, grant, receiver, usd(6_000))
            with pytest.raises(GrantExhaustedError) as refused:
                await s.user.pay(s.wallet, grant, receiver, usd(4_001))
            assert refused.value.status == 403
            exact = await s.user.pay(s.wallet, grant, receiver, usd(4_000))
            with pytest.raises(GrantExhaustedError):
                await s.user.pay(s.wallet, grant, receiver, usd(1))
            spent = await s.user.get_grant_spent_amounts(s.wallet, grant)
            assert spent is not None and spent.debit_amount == usd(10_000)
            for payment in (first, exact):
                await s.user.wait_for_outgoing_payment(
                    payment, grant, timeout=dt.timedelta(seconds=20), interval=0.02
                )
            # Next month the budget renews; the incoming payment still takes money.
            clock.now = start + dt.timedelta(days=31, hours=1)
            grant = await s.user.rotate_token(grant)  # a month later the token has expired
            fresh = await site_incoming_payment(s)
            renewed = await s.user.pay(s.wallet, grant, fresh, usd(9_000))
            assert renewed.grant_spent_debit_amount == usd(9_000)
            spent = await s.user.get_grant_spent_amounts(s.wallet, grant)
            assert spent is not None and spent.debit_amount == usd(9_000)
            # A limit on what arrives instead of what is debited, without an interval.
            by_receipt = await connected(s, GrantLimits(receive_amount=usd(5_000)))
            await s.user.pay(s.wallet, by_receipt, fresh, usd(5_000))
            with pytest.raises(GrantExhaustedError):
                await s.user.pay(s.wallet, by_receipt, fresh, usd(1))

    asyncio.run(main())


def test_refusals_are_told_apart(tmp_path: Path) -> None:
    async def main() -> None:
        async with user_wallet(tmp_path, balance=5_000, min_send_amount=1_000) as s:
            grant = await connected(s, monthly(10**9, s.base.now()))
            receiver = await site_incoming_payment(s)
            with pytest.raises(QuoteTooSmallError) as small:
                await s.user.create_quote(s.wallet, grant, receiver, debit_amount=usd(10))
            assert small.value.min_send_amount == usd(1_000)
            with pytest.raises(QuoteTooSmallError) as direct_small:
                await s.user.pay(s.wallet, grant, receiver, usd(10))
            assert direct_small.value.min_send_amount is None
            # Not enough money: the wallet cancels the payment (Rafiki's operator does).
            broke = await s.user.pay(s.wallet, grant, receiver, usd(6_000))
            with pytest.raises(InsufficientFundsError) as poor:
                await s.user.wait_for_outgoing_payment(
                    broke, grant, timeout=dt.timedelta(seconds=5)
                )
            assert poor.value.payment is not None
            assert s.sandbox.server.balance("me") == 5_000
            with pytest.raises(InvalidReceiverError):
                await s.user.pay(s.wallet, grant, receiver + "-gone", usd(1_000))
            # A token without quote access.
            site = await s.base.get_wallet_address(s.sandbox.wallet("blog"))
            incoming_only = await s.base.request_incoming_payment_grant(site)
            with pytest.raises(AccessDeniedError):
                await s.user.create_quote(s.wallet, incoming_only, receiver, debit_amount=usd(1))

    asyncio.run(main())


def test_an_older_wallet_gets_quote_then_payment_and_no_spent_amounts(tmp_path: Path) -> None:
    async def main() -> None:
        async with user_wallet(tmp_path, legacy=True) as s:
            grant = await connected(s, monthly(10**9, s.base.now()))
            receiver = await site_incoming_payment(s)
            assert s.user.direct_payments_supported(s.wallet) is None
            first = await s.user.pay(s.wallet, grant, receiver, usd(2_000))
            assert s.user.direct_payments_supported(s.wallet) is False
            assert first.quote_id is not None
            second = await s.user.pay(s.wallet, grant, receiver, usd(3_000))
            for payment in (first, second):
                await s.user.wait_for_outgoing_payment(
                    payment, grant, timeout=dt.timedelta(seconds=20), interval=0.02
                )
            assert await s.user.get_grant_spent_amounts(s.wallet, grant) is None
            assert await s.base.get_public_received_amount(receiver) == usd(5_000)
            # One refused direct attempt, then quotes only.
            direct = [c for c in s.sandbox.openapi.checked if "outgoing-payments -> 400" in c]
            assert len(direct) == 1

    asyncio.run(main())


def test_a_lost_answer_is_an_unknown_outcome_never_a_second_payment(tmp_path: Path) -> None:
    cut: list[str] = []

    @web.middleware
    async def drop_the_first_answer(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        response = await handler(request)
        if request.method == "POST" and request.path.endswith("/outgoing-payments") and not cut:
            cut.append(request.path)  # the wallet made the payment; its answer never arrives
            assert request.transport is not None
            request.transport.close()
        return response

    async def main() -> None:
        async with user_wallet(tmp_path, middlewares=(drop_the_first_answer,)) as s:
            grant = await connected(s, monthly(10**9, s.base.now()))
            receiver = await site_incoming_payment(s)
            payer = s.sandbox.server.payer
            assert payer is not None
            with pytest.raises(PaymentOutcomeUnknownError) as lost:
                await s.user.pay(s.wallet, grant, receiver, usd(2_000))
            assert lost.value.payment is None
            # The payment exists (so it must be charged) and was not sent a second time.
            assert len(payer.outgoing) == 1
            # The wallet is down: nothing is sent, and that is known.
            gone = dataclasses.replace(s.wallet, resource_server="https://127.0.0.1:1/op")
            with pytest.raises(NotSentError):
                await s.user.pay(gone, grant, receiver, usd(2_000))
            assert len(payer.outgoing) == 1

    asyncio.run(main())


def test_the_finish_hash_accepts_the_grant_endpoint_with_or_without_its_trailing_slash() -> None:
    def gnap(endpoint: str, ref: str = "ref-1") -> str:
        data = f"client-nonce\nas-nonce\n{ref}\n{endpoint}".encode()
        return base64.b64encode(hashlib.sha256(data).digest()).decode()

    pending = PendingGrant(
        redirect_url="https://wallet.example/interact/1/as-nonce",
        continue_uri="https://wallet.example/continue/1",
        continue_token=Secret("continue-token"),
        wait=5,
        requested_at=dt.datetime.now(dt.UTC),
        grant_endpoint="https://wallet.example/tenant",
        key=ClientKey.generate(),
        finish_nonce="as-nonce",
        client_nonce="client-nonce",
    )
    for endpoint in ("https://wallet.example/tenant", "https://wallet.example/tenant/"):
        pending.verify_finish(InteractionFinish("ref-1", gnap(endpoint)))
    for wrong in (
        InteractionFinish("ref-2", gnap("https://wallet.example/tenant")),
        InteractionFinish("ref-1", gnap("https://wallet.example/other")),
        InteractionFinish("ref-1", gnap("https://wallet.example/tenant").lower()),
    ):
        with pytest.raises(InteractionHashError):
            pending.verify_finish(wrong)
    assert "continue-token" not in repr(pending) and "client-nonce" not in repr(pending)
    polled = dataclasses.replace(pending, client_nonce=None, finish_nonce=None)
    with pytest.raises(InteractionHashError):
        polled.verify_finish(InteractionFinish("ref-1", gnap("https://wallet.example/tenant")))


def test_the_wallets_key_page_takes_a_jwk_or_its_base64_and_refuses_anything_else(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        async with user_wallet(tmp_path) as s:
            url = s.sandbox.server.keys_page("me")
            tls = ssl.create_default_context(cafile=str(s.sandbox.ca_file))
            json_key, b64_key = ClientKey.generate(), ClientKey.generate()
            shown = base64.b64encode(json.dumps(b64_key.public_jwk()).encode()).decode()
            private = {**ClientKey.generate().public_jwk(), "d": "c2VjcmV0"}
            async with aiohttp.ClientSession() as http:

                async def add(text: str) -> tuple[int, str]:
                    async with http.post(url, data={"jwk": text}, ssl=tls) as answer:
                        return answer.status, await answer.text()

                assert (await add(json.dumps(json_key.public_jwk())))[0] == 200
                assert (await add(shown))[0] == 200
                for bad in ("not a key", "[1, 2]", json.dumps(private)):
                    status, page = await add(bad)
                    assert status == 400 and "Not added" in page
            assert set(s.sandbox.server.ledger.client_keys[s.wallet.id]) == {
                s.key.kid,
                json_key.kid,
                b64_key.kid,
            }
            # The key added on the page signs for the wallet.
            other = UserWalletClient(s.base, b64_key)
            assert (await other.request_grant(s.wallet, monthly(1, s.base.now()))).redirect_url

    asyncio.run(main())


def test_polling_rides_out_a_wallet_that_stops_answering_for_a_while(tmp_path: Path) -> None:
    dropped: list[str] = []

    @web.middleware
    async def unreachable_for_a_while(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.method == "GET" and "/outgoing-payments/" in request.path and len(dropped) < 4:
            dropped.append(request.path)
            assert request.transport is not None
            request.transport.close()  # no answer at all
        return await handler(request)

    async def main() -> None:
        async with user_wallet(tmp_path, middlewares=(unreachable_for_a_while,)) as s:
            grant = await connected(s, monthly(10**9, s.base.now()))
            receiver = await site_incoming_payment(s)
            payment = await s.user.pay(s.wallet, grant, receiver, usd(3_000))
            done = await s.user.wait_for_outgoing_payment(
                payment, grant, timeout=dt.timedelta(seconds=20), interval=0.02
            )
            assert done.state is OutgoingPaymentState.COMPLETED and len(dropped) == 4
            # Still sending when we stop waiting: the outcome is unknown, and says so.
            sending = dataclasses.replace(done, sent_amount=usd(0))
            assert sending.state is OutgoingPaymentState.SENDING
            with pytest.raises(PaymentOutcomeUnknownError) as unknown:
                await s.user.wait_for_outgoing_payment(
                    sending, grant, timeout=dt.timedelta(seconds=0)
                )
            assert unknown.value.payment is sending

    asyncio.run(main())


def test_payments_started_together_all_arrive(tmp_path: Path) -> None:
    async def main() -> None:
        async with user_wallet(tmp_path) as s:
            grant = await connected(s, monthly(10**9, s.base.now()))
            receiver = await site_incoming_payment(s)
            amounts = [1_000, 20_000, 300_000, 4_000_000]
            payments = await asyncio.gather(
                *(s.user.pay(s.wallet, grant, receiver, usd(a)) for a in amounts)
            )
            timeout = dt.timedelta(seconds=20)
            done = await asyncio.gather(
                *(
                    s.user.wait_for_outgoing_payment(p, grant, timeout=timeout, interval=0.02)
                    for p in payments
                )
            )
            assert sorted(p.sent_amount.value for p in done) == amounts
            assert await s.base.get_public_received_amount(receiver) == usd(sum(amounts))
            assert s.sandbox.server.balance("me") == 10**12 - sum(amounts)

    asyncio.run(main())


def test_quotes_of_each_kind_and_a_paged_list(tmp_path: Path) -> None:
    async def main() -> None:
        async with user_wallet(tmp_path) as s:
            limits = monthly(10**9, s.base.now())
            pending = await s.user.request_grant(
                s.wallet, limits, finish_uri=FINISH, actions=("create", "read", "list")
            )
            location = await answer_consent(s.sandbox.ca_file, pending.redirect_url, accept=True)
            assert location is not None
            finish = InteractionFinish.from_redirect(location)
            pending.verify_finish(finish)
            grant = await s.user.continue_grant(pending, interact_ref=finish.interact_ref)
            assert isinstance(grant, Grant)
            site = await s.base.get_wallet_address(s.sandbox.wallet("blog"))
            fixed = await s.base.create_incoming_payment(
                site, await s.base.request_incoming_payment_grant(site), incoming_amount=usd(7_000)
            )
            whole = await s.user.create_quote(s.wallet, grant, fixed.id)
            assert whole.debit_amount == usd(7_000) == whole.receive_amount
            part = await s.user.create_quote(s.wallet, grant, fixed.id, receive_amount=usd(500))
            assert part.debit_amount == usd(500)
            assert await s.user.get_quote(part.id, grant) == part
            with pytest.raises(ValueError):
                await s.user.create_quote(
                    s.wallet, grant, fixed.id, debit_amount=usd(1), receive_amount=usd(1)
                )
            ids = []
            for quote in (part, whole):
                ids.append((await s.user.create_outgoing_payment(s.wallet, grant, quote)).id)
            first = await s.user.list_outgoing_payments(s.wallet, grant, first=1)
            assert [p.id for p in first.payments] == ids[:1] and first.has_next_page
            rest = await s.user.list_outgoing_payments(
                s.wallet, grant, first=1, cursor=first.end_cursor
            )
            assert [p.id for p in rest.payments] == ids[1:] and rest.has_previous_page
            assert not rest.has_next_page

    asyncio.run(main())
